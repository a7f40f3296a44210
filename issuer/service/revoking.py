"""Revoking certificates: by the issuing organization or the authority, once, for a reason
from a fixed list; the status list is signed again and the revocation logged in the same
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from issuer.core import transparency as log_format
from issuer.core.errors import Conflict, InvalidInput
from issuer.core.redaction import mask_documents
from issuer.service import audit
from issuer.service.certificates import visible
from issuer.service.context import Context
from issuer.service.log import TransparencyLog
from issuer.service.principal import Principal, Role, require_role
from issuer.service.publishing import Publishing
from issuer.store.records import CertificateRecord, Revocation
from issuer.store.uow import UnitOfWork

REVOCATION_REASONS = {
    "issued_in_error": ("issued in error", "错误签发"),
    "fraud": ("obtained by fraud or cheating", "弄虚作假取得"),
    "data_error": ("data on the certificate is wrong", "证书信息有误"),
    "duplicate": ("issued twice", "重复发证"),
    "organization_revoked": ("the organization's evaluation was revoked", "评价结果被撤销"),
    "other": ("other", "其他"),
}
REISSUED = "reissued"
"""The reason a re-issue records on the certificate it replaces (not one a clerk picks)."""
REISSUED_WORDS = ("replaced by a new certificate", "已换发新证")
MAX_NOTE = 1000
MAX_AT_ONCE = 100
"""Certificates one request may revoke together (a page of the console's list at most)."""


def reason_words(reason: str | None) -> tuple[str, str]:
    """(English, Chinese) for a stored revocation reason."""
    if reason == REISSUED:
        return REISSUED_WORDS
    return REVOCATION_REASONS.get(reason or "", ("", ""))


class Revoking:
    def __init__(self, ctx: Context, log: TransparencyLog, publishing: Publishing) -> None:
        self._ctx = ctx
        self._log = log
        self._publishing = publishing

    def revoke(self, principal: Principal | None, number: str, *, reason: str, note: str = "") -> CertificateRecord:
        return self.revoke_many(principal, [number], reason=reason, note=note)[0]

    def revoke_many(
        self, principal: Principal | None, numbers: Sequence[str], *, reason: str, note: str = ""
    ) -> list[CertificateRecord]:
        """Revoke certificates of the principal's own with one reason and note, all or none:
        one that is not theirs (404) or already revoked (409, naming it) revokes nothing.
        Each organization's status list is signed again once."""
        p = require_role(principal, Role.ORG_ISSUER, Role.AUTHORITY_ADMIN)
        if reason not in REVOCATION_REASONS:
            raise InvalidInput(
                "invalid_reason",
                f"reason must be one of {', '.join(REVOCATION_REASONS)}",
                "撤销原因应为：" + "、".join(zh for _, zh in REVOCATION_REASONS.values()),
            )
        if len(note) > MAX_NOTE:
            raise InvalidInput("note_too_long", "the note is limited to 1000 characters", "备注不能超过1000个字符")
        wanted = list(dict.fromkeys(n.strip().upper() for n in numbers))
        if not 1 <= len(wanted) <= MAX_AT_ONCE:
            raise InvalidInput(
                "invalid_selection",
                f"choose 1 to {MAX_AT_ONCE} certificates",
                f"请选择1至{MAX_AT_ONCE}张证书",
            )

        def work(uow: UnitOfWork) -> list[CertificateRecord]:
            now = self._ctx.clock()
            records = [visible(uow, p, number) for number in wanted]
            for record in records:
                if record.revoked_at is not None:
                    raise Conflict(
                        "already_revoked",
                        f"{record.number} is already revoked",
                        f"证书{record.number}已撤销",
                        errors={"number": record.number},
                    )
            for record in records:
                self.revoke_in(uow, record, now, p, reason=reason, note=note)
            for organization_id in dict.fromkeys(r.organization_id for r in records):
                org = uow.organizations.get_by_id(organization_id)
                assert org is not None
                self._publishing.publish_status_list(uow, org)
            found = [uow.certificates.get(r.number) for r in records]
            uow.commit()
            return [f for f in found if f is not None]

        return self._ctx.run(work)

    def revoke_in(
        self,
        uow: UnitOfWork,
        record: CertificateRecord,
        now: datetime,
        principal: Principal,
        *,
        reason: str,
        note: str,
        replaced_by: str | None = None,
    ) -> None:
        """Mark ``record`` revoked in ``uow``, log it and audit it (the caller signs the
        status list again)."""
        note = mask_documents(note)  # kept, shown and audited: no document number in clear
        uow.certificates.revoke(record.number, Revocation(now, reason, note, principal.actor, replaced_by))
        self._log_revocation(uow, record, reason, now)
        details = {"reason": reason, "note": note} | ({"replaced_by": replaced_by} if replaced_by else {})
        audit.append(
            uow,
            self._log,
            at=now,
            actor=principal.actor,
            action="certificate.reissue" if replaced_by else "certificate.revoke",
            target=record.number,
            details=details,
        )

    def _log_revocation(self, uow: UnitOfWork, record: CertificateRecord, reason: str, now: datetime) -> None:
        """The revocation in the transparency log, stated by a key of the issuing organization
        (the active one; the one that signed the certificate if none is active)."""
        org = uow.organizations.get_by_id(record.organization_id)
        assert org is not None
        key = org.active_key or next(k for k in org.keys if k.id == record.signing_key_id)
        signer = self._ctx.keys.signer(org.code, key.kid)
        statement = log_format.revoke_statement(record.number, record.status_index, reason, now)
        self._log.append(uow, [log_format.signed_entry("revoke", statement, signer.key, signer.kid, now)])
