"""Records into response dictionaries, formatted as a Chinese reader expects."""

from __future__ import annotations

import base64
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from issuer.core import cose, qrtext, statuslist
from issuer.core.clock import format_instant
from issuer.core.display import date_zh, level_zh
from issuer.core.explain import RECORD_DAMAGED
from issuer.core.transparency import LogFormatError, decode_entry
from issuer.service.batches import has_result
from issuer.service.certificates import assessment_of, document_number
from issuer.service.context import Context
from issuer.service.principal import Principal, Role
from issuer.service.verifying import LiveVerdict, LookedUp
from issuer.store.records import BatchRecord, CertificateRecord, OrganizationRecord

STATUS_ZH = {"valid": "有效", "revoked": "已撤销", "not_valid": "无效", "unknown": "无法判断"}


def _occupation_name(ctx: Context, code: str) -> str:
    occ = ctx.catalogue.occupations.get(code)
    return occ.name if occ else ""


def organization(ctx: Context, org: OrganizationRecord) -> dict[str, Any]:
    return {
        "code": org.code,
        "name": org.name,
        "status": org.status,
        "layout": org.layout,
        "has_background": org.has_background,
        "has_logo": org.has_logo,
        "has_seal": org.has_seal,
        "registered_from": org.registered_from,
        "registered_until": org.registered_until,
        "status_history": [{"status": c.status, "since": c.since, "note": c.note} for c in org.status_history],
        "scope": [
            {
                "occupation": s.occupation,
                "occupation_name": _occupation_name(ctx, s.occupation),
                "edition": s.edition,
                "levels": s.levels,
                "work_types": s.work_types,
                "valid_from": s.valid_from,
                "valid_until": s.valid_until,
            }
            for s in org.scope
        ],
        "keys": [
            {
                "kid": k.kid,
                "status": k.status,
                "certificate_pem": x509.load_der_x509_certificate(k.certificate).public_bytes(Encoding.PEM).decode(),
                "created_at": k.created_at,
                "retired_at": k.retired_at,
                "compromised_at": k.compromised_at,
            }
            for k in org.keys
        ],
    }


def certificate(ctx: Context, record: CertificateRecord, viewer: Principal) -> dict[str, Any]:
    owner = viewer.role is Role.ORG_ISSUER and viewer.organization_id == record.organization_id
    return {
        "number": record.number,
        "status": "revoked" if record.revoked_at else "valid",
        "holder_name": record.holder_name,
        "document_type": record.document_type,
        "document_type_name": ctx.document_types.name_zh(record.document_type),
        "document_number": document_number(ctx, record) if owner else record.document_number_masked,
        "occupation": record.occupation,
        "occupation_name": _occupation_name(ctx, record.occupation),
        "occupation_edition": record.occupation_edition,
        "work_type": record.work_type or "--",
        "level": record.level,
        "level_label": level_zh(record.level),
        "issue_date": record.issue_date,
        "issue_date_zh": date_zh(record.issue_date),
        "issued_at": record.issued_at,
        "organization": {"code": record.organization_code, "name": record.organization_name},
        **assessment(ctx, record),
        "qr_text": qrtext.encode(record.credential, ctx.qr_host),
        "status_index": record.status_index,
        "created_at": record.created_at,
        "revoked_at": record.revoked_at,
        "revocation_reason": record.revocation_reason,
        "revocation_note": record.revocation_note,
        "replaces": record.replaces,
        "replaced_by": record.replaced_by,
        "has_photo": record.has_photo,
        "log_index": record.log_index,
    }


def assessment(ctx: Context, record: CertificateRecord) -> dict[str, Any]:
    """The method, the scores by component and every component as judged with its date
    (``results``)."""
    method, results = assessment_of(ctx, record)
    names = {c.key: c for c in method.components}
    tiers = {t.key: t for t in method.tiers}
    return {
        "method": {"key": method.key, "code": method.code, "name": method.name_zh, "name_en": method.name_en},
        "scores": {
            "theory": record.score_theory,
            "practical": record.score_practical,
            "review": record.score_review,
            **{r.component: r.score for r in results if r.component in ("performance", "process")},
        },
        "results": [
            {
                "component": r.component,
                "name": names[r.component].name_zh if r.component in names else r.component,
                "name_en": names[r.component].name_en if r.component in names else r.component,
                "score": r.score,
                "passed_on": r.passed_on,
                "tier": r.placing.tier if r.placing else None,
                "tier_name": tiers[r.placing.tier].name_zh if r.placing and r.placing.tier in tiers else None,
                "rank": r.placing.rank if r.placing else None,
                "held_level": r.placing.held_level if r.placing else None,
            }
            for r in results
        ],
    }


def verification(live: LiveVerdict) -> dict[str, Any]:
    """A public verification as ``schemas.VerifyOut`` documents it, field for field and
    already in JSON's types (the API sends it without a marshmallow dump: it is the answer
    served most often; ``tests/api/test_verify.py`` holds it to the schema)."""
    verdict, explanation, revocation = live.verdict, live.explanation, live.revocation
    revoked_at = revocation.revoked_at if revocation else None
    record = live.checked.record if live.checked is not None and revoked_at else None
    signer = verdict.signer
    return {
        "status": live.status,
        "status_zh": STATUS_ZH[live.status],
        "reason": explanation.reason,
        "explanation": explanation.to_json(),
        "failed_check": verdict.failed_check,
        "signature_suite": verdict.suite,
        "checks": [
            {"name": c.name, "outcome": c.outcome.value, "detail": c.detail, "detail_zh": c.detail_zh}
            for c in verdict.checks
        ],
        "checked_at": live.checked_at.isoformat(),
        "recorded": live.recorded,
        "revoked_at": revoked_at.isoformat() if revoked_at else None,
        "revocation_reason": record.revocation_reason if record else None,
        "replaced_by": revocation.replaced_by if revocation else None,
        "certificate": verdict.credential.to_json() if verdict.credential else None,
        "organization": {"code": signer.organization.code, "name": signer.organization.name} if signer else None,
    }


def lookup(ctx: Context, found: LookedUp) -> dict[str, Any]:
    """A looked-up certificate as its signed credential states it; its status from the signed
    status list, or ``not_valid`` (``record_damaged``) when the row disagrees with them."""
    checked = found.checked
    record, signed = checked.record, checked.credential
    status = checked.status
    revocation = checked.revocation
    occupation = signed.occupation if signed else record.occupation
    work_type = signed.work_type if signed else record.work_type
    issue_date = signed.issue_date if signed else record.issue_date
    signer = checked.verdict.signer
    return {
        "status": status,
        "reason": RECORD_DAMAGED if status == "not_valid" else None,
        "number": record.number,
        "holder_name": signed.holder_name if signed else record.holder_name,
        "document_type_name": ctx.document_types.name_zh(signed.document_type if signed else record.document_type),
        "document_number": found.document_number_masked,
        "occupation": occupation,
        "occupation_name": _occupation_name(ctx, occupation),
        "work_type": work_type or "--",
        "level_label": level_zh(signed.level if signed else record.level),
        "issue_date": issue_date,
        "issue_date_zh": date_zh(issue_date),
        "organization": {
            "code": record.organization_code,
            "name": signer.organization.name if signer else record.organization_name,
        },
        "revoked_at": revocation.revoked_at if revocation else None,
        "revocation_reason": record.revocation_reason if revocation and revocation.revoked_at else None,
        "replaced_by": revocation.replaced_by if revocation else None,
    }


BATCH_STATUS_ZH = {
    "validating": "正在校验名单",
    "issuing": "正在发证",
    "rendering": "正在生成证书图片",
    "done": "已完成",
    "checked": "校验完成（试校验，未发证）",
    "rejected": "名单未通过校验，未发证",
    "failed": "处理失败",
    "expired": "压缩包已过期删除",
}


def batch(status: BatchRecord, path: str) -> dict[str, Any]:
    """A batch as the API shows it; ``path``: its own address (``/api/v1/batches/<id>``)."""
    validating = status.status in ("validating", "issuing")
    if validating:
        progress = status.checked / status.rows if status.rows else 1.0
    else:
        progress = status.rendered / status.issued if status.issued else 1.0
    return {
        "id": status.id,
        "status": status.status,
        "status_zh": BATCH_STATUS_ZH[status.status],
        "roster_name": status.roster_name,
        "dry_run": status.dry_run,
        "valid_rows_only": status.valid_rows_only,
        "rows": status.rows,
        "checked": status.checked,
        "issued": status.issued,
        "rendered": status.rendered,
        "progress": round(progress, 4),
        "formats": list(status.formats),
        "dpi": status.dpi,
        "created_at": format_instant(status.created_at),
        "created_by": status.created_by,
        "queued": status.dispatched_at is not None or not (validating or status.status == "rendering"),
        "finished_at": format_instant(status.finished_at) if status.finished_at else None,
        "error": status.error,
        "refusal": status.refusal,
        "archive": (
            {"url": f"{path}/archive", "bytes": status.archive_bytes, "sha256": status.archive_sha256}
            if status.status == "done"
            else None
        ),
        "links": {
            "self": path,
            "result": f"{path}/result" if has_result(status) else None,
            "archive": f"{path}/archive" if status.status == "done" else None,
        },
        "report": status.report,
    }


# --- status lists and the transparency log ---------------------------------------------------


def status_list(signed: bytes) -> dict[str, Any]:
    """A signed status list (as this service signed it) and what it says."""
    found = statuslist.parse_payload(cose.parse(signed).payload)
    return {
        "organization": found.organization,
        "issued_at": format_instant(found.issued_at),
        "max_age": int(found.max_age.total_seconds()),
        "expires_at": format_instant(found.expires_at),
        "bits": found.size,
        "revoked_count": sum(byte.bit_count() for byte in found.bits),
        "signed": base64.b64encode(signed).decode("ascii"),
    }


def log_entry(index: int, data: bytes) -> dict[str, Any]:
    """One entry as stored; one that cannot be read is answered as ``unreadable`` with the
    reason, so that a damaged entry does not hide the others (an auditor names it too)."""
    out: dict[str, Any] = {"index": index, "entry": base64.b64encode(data).decode("ascii"), "problem": None}
    try:
        out["type"] = decode_entry(data).type
    except LogFormatError as exc:
        out["type"] = "unreadable"
        out["problem"] = {"code": exc.code, "message": exc.message, "message_zh": exc.message_zh}
    return out
