"""The authority's use cases: register organizations, change their status and scope,
certify and rotate their keys, choose their certificates' appearance; a new signed trust
list in the transaction of every change.

Every change takes effect at an instant (``lifecycle.effective``): now (the next whole
second) or a later date or time, never an earlier one, so that certificates issued before
a change keep verifying and those after it do not. A change takes the organization's row
lock before it reads the clock: an issuance under way finishes first."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cryptography import x509

from issuer.core import pki, trust
from issuer.core import transparency as log_format
from issuer.core.catalogue import EDITION_2022, Catalogue, Occupation, level
from issuer.core.clock import end_of_china_day, start_of_china_day
from issuer.core.display import level_zh
from issuer.core.errors import Conflict, InvalidInput, IssuerError, NotFound, Unavailable
from issuer.core.keys import PrivateKey
from issuer.core.numbering import OrganizationCode
from issuer.core.pki import kid_of
from issuer.render import Assets
from issuer.service import audit, lifecycle
from issuer.service.appearance import checked_appearance, sample_certificate
from issuer.service.context import Context
from issuer.service.log import TransparencyLog
from issuer.service.principal import Principal, Role, require_role
from issuer.service.publishing import Publishing
from issuer.store.organizations import Lock
from issuer.store.records import KeyRecord, OrganizationRecord
from issuer.store.uow import UnitOfWork


@dataclass(frozen=True)
class ScopeItem:
    occupation: str
    levels: tuple[int, ...]
    work_types: tuple[str, ...] = ()
    edition: int = EDITION_2022

    def key(self) -> tuple[str, int, tuple[int, ...], tuple[str, ...]]:
        return (self.occupation, self.edition, tuple(sorted(self.levels)), tuple(sorted(self.work_types)))


@dataclass(frozen=True)
class Registration:
    kind: str
    authority_code: str
    province: str
    site_code: str
    name: str
    scope: tuple[ScopeItem, ...]
    registered_from: date
    registered_until: date | None

    @property
    def code_text(self) -> str:
        return f"{self.kind}{self.authority_code}{self.province}{self.site_code}"


def check_scope(catalogue: Catalogue, items: Iterable[ScopeItem]) -> list[ScopeItem]:
    """Only what can be issued: occupations of the catalogue that are not licensing
    qualifications, levels of their national standard, 工种 of the catalogue at levels they
    have. Levels that no 工种 covers (家政服务员 二级 不分工种) go into an entry of their own
    without 工种, so that they can be issued without one. A code of the 2015 edition is
    registered as its 2022 code (``Catalogue.current``), the edition certificates carry."""
    checked: list[ScopeItem] = []
    for item in items:
        occupation = catalogue.issuable(catalogue.current(item.occupation, item.edition).code)
        item = ScopeItem(occupation.code, item.levels, item.work_types, EDITION_2022)
        levels = tuple(sorted({level(lv).code for lv in item.levels}, reverse=True))
        if not levels:
            raise InvalidInput(
                "invalid_scope", "a scope entry needs at least one level", "备案范围每项至少包含一个等级"
            )
        beyond = set(levels) - occupation.levels
        if beyond:
            raise InvalidInput(
                "level_not_in_standard",
                f"{occupation.name} has no level {sorted(beyond)} in its national standard",
                f"{occupation.name}的国家职业技能标准中没有{'、'.join(level_zh(lv) for lv in sorted(beyond))}",
            )
        work_types = tuple(dict.fromkeys(w.strip() for w in item.work_types if w.strip()))
        if not work_types:
            checked.append(ScopeItem(occupation.code, levels, (), item.edition))
            continue
        untyped = tuple(lv for lv in levels if lv in occupation.untyped_levels)
        typed = tuple(lv for lv in levels if lv not in occupation.untyped_levels)
        _check_work_types(occupation, work_types, typed)
        if typed:
            checked.append(ScopeItem(occupation.code, typed, work_types, item.edition))
        if untyped:
            checked.append(ScopeItem(occupation.code, untyped, (), item.edition))
    if not checked:
        raise InvalidInput("invalid_scope", "the scope is empty", "备案范围为空")
    return checked


def scope_problems(catalogue: Catalogue, items: Sequence[ScopeItem]) -> dict[int, IssuerError]:
    """The problem of each entry of ``items`` that ``check_scope`` refuses, by its index, so
    that a form shows each beside its row (``check_scope`` raises the first)."""
    problems: dict[int, IssuerError] = {}
    for index, item in enumerate(items):
        try:
            check_scope(catalogue, [item])
        except IssuerError as exc:
            problems[index] = exc
    return problems


def _check_work_types(occupation: Occupation, work_types: tuple[str, ...], levels: tuple[int, ...]) -> None:
    if not occupation.work_types:
        return  # the catalogue lists none for this occupation: it cannot tell
    for name in work_types:
        known = occupation.work_type(name)
        if known is None:
            listed = "、".join(w.name for w in occupation.work_types)
            raise InvalidInput(
                "unknown_work_type",
                f"{occupation.name} has no work type {name!r} (it has: {listed})",
                f"{occupation.name}没有工种/职业方向“{name}”（可选：{listed}）",
            )
        missing = [lv for lv in levels if lv not in known.levels]
        if missing:
            has = "、".join(level_zh(lv) for lv in sorted(known.levels, reverse=True))
            raise InvalidInput(
                "level_not_in_work_type",
                f"{name} has no level {missing} (its levels: {sorted(known.levels, reverse=True)}); "
                "register it in an entry of its own with the levels it has",
                f"{name}没有{'、'.join(level_zh(lv) for lv in missing)}（其等级为：{has}），"
                "请为其单列一项并只填这些等级",
            )


def _certificate_period(
    org: OrganizationRecord, root: x509.Certificate, now: datetime, *, first: bool
) -> tuple[datetime, datetime]:
    """The validity of a new organization certificate: from the start of the registration
    (its first key, so that certificates dated since then verify) or from now (a later key),
    never before the root; to the end of the registration's last day, or five years on,
    never after the root."""
    start = start_of_china_day(org.registered_from) if first else lifecycle.to_second(now)
    until = org.registered_until
    end = end_of_china_day(until) if until is not None else lifecycle.to_second(now) + timedelta(days=365 * 5)
    return max(start, root.not_valid_before_utc), min(end, root.not_valid_after_utc)


KID_ATTEMPTS = 8
"""New keys made, at most, for one whose kid no key of the trust list (the root, the log, any
organization's) has: a verifier finds a key by its kid. An Ed25519 kid is 8 bytes; an SM2
kid is 4 (FORMAT.md §2.1), which a new key shares with one of n keys about once in
2^32 / n. Past that, the key generator repeats itself, and no key is made."""


class KidsExhausted(Unavailable):
    """Every new key had a kid already in use: the key generator is broken (a 503 with
    its own code; no key is made, nothing is stored)."""

    def __init__(self, attempts: int) -> None:
        super().__init__(
            "key_ids_exhausted",
            f"{attempts} new keys in a row had a key id already in use; the key generator is not random",
            f"连续{attempts}个新密钥的密钥标识均已被占用，密钥生成器不可靠",
        )


def _not_found(code: str) -> NotFound:
    return NotFound("organization_not_found", f"no organization {code}", f"没有机构{code}")


class Registry:
    def __init__(self, ctx: Context, log: TransparencyLog, publishing: Publishing) -> None:
        self._ctx = ctx
        self._log = log
        self._publishing = publishing

    # --- reading ------------------------------------------------------------------------------

    def list(self, principal: Principal | None) -> list[OrganizationRecord]:
        require_role(principal, Role.AUTHORITY_ADMIN, Role.AUDITOR)
        with self._ctx.reading() as uow:
            return uow.organizations.all()

    def read(self, principal: Principal | None, code: str) -> OrganizationRecord:
        """One organization (authority admin, auditor, or the organization itself)."""
        p = require_role(principal, Role.AUTHORITY_ADMIN, Role.AUDITOR, Role.ORG_ISSUER)
        wanted = code.strip().upper()
        if p.role is Role.ORG_ISSUER and p.organization_code != wanted:
            raise _not_found(code)
        with self._ctx.reading() as uow:
            org = uow.organizations.get(wanted)
        if org is None:
            raise _not_found(code)
        return org

    def scope_problems(self, items: Sequence[ScopeItem]) -> dict[int, IssuerError]:
        """What ``set_scope`` and ``register`` would refuse in each entry, by its index."""
        return scope_problems(self._ctx.catalogue, items)

    def exists(self, code: str) -> bool:
        with self._ctx.reading() as uow:
            return uow.organizations.exists(code)

    def assets(self, organization_id: int) -> Assets:
        with self._ctx.reading() as uow:
            return Assets(*uow.organizations.images(organization_id))

    # --- changing -----------------------------------------------------------------------------

    def _locked(self, uow: UnitOfWork, code: str) -> OrganizationRecord:
        org = uow.organizations.get(code.strip().upper(), lock=Lock.UPDATE)
        if org is None:
            raise _not_found(code)
        return org

    def _commit(self, uow: UnitOfWork, now: datetime, code: str) -> OrganizationRecord:
        """Sign the trust list as it now stands, commit, and return the organization."""
        self._publishing.publish_trust_list(uow, now)
        org = self._reread(uow, code)
        uow.commit()
        return org

    def register(self, principal: Principal | None, reg: Registration) -> OrganizationRecord:
        actor = require_role(principal, Role.AUTHORITY_ADMIN)
        code = str(OrganizationCode.parse(reg.code_text, self._ctx.catalogue))
        name = reg.name.strip()
        if not 2 <= len(name) <= 200:
            raise InvalidInput(
                "invalid_name", "the registered name needs 2 to 200 characters", "机构名称应为2至200个字符"
            )
        if reg.registered_until is not None and reg.registered_until < reg.registered_from:
            raise InvalidInput("invalid_period", "registration ends before it starts", "备案有效期结束早于开始")
        scope = check_scope(self._ctx.catalogue, reg.scope)

        def work(uow: UnitOfWork) -> OrganizationRecord:
            now = self._ctx.clock()
            if uow.organizations.exists(code):
                raise Conflict("organization_exists", f"organization {code} is already registered", f"机构{code}已备案")
            org_id = uow.organizations.add(
                code=code,
                name=name,
                registered_from=reg.registered_from,
                registered_until=reg.registered_until,
                created_at=now,
            )
            uow.organizations.add_status_change(org_id, "active", start_of_china_day(reg.registered_from), "备案", now)
            uow.organizations.add_scope(
                org_id, [(s.occupation, s.edition, s.levels, s.work_types) for s in scope], valid_from=None
            )
            key = self._new_key(uow, code, now)
            audit.append(
                uow,
                self._log,
                at=now,
                actor=actor.actor,
                action="organization.register",
                target=code,
                details={"name": name, "kid": key.kid, "scope": [list(s.key()) for s in scope]},
            )
            return self._commit(uow, now, code)

        return self._ctx.run(work)

    def change_status(
        self, principal: Principal | None, code: str, status: str, *, since: date | datetime | None, note: str
    ) -> OrganizationRecord:
        """Suspend, resume or cancel from ``since``: now when absent (or today's date), or a
        later date or instant; never earlier, nor before the last change."""
        actor = require_role(principal, Role.AUTHORITY_ADMIN)
        if status not in trust.ORG_STATUSES:
            raise InvalidInput("invalid_status", f"unknown status {status!r}", f"未知的状态“{status}”")

        def work(uow: UnitOfWork) -> OrganizationRecord:
            org = self._locked(uow, code)
            now = self._ctx.clock()
            if org.status == "cancelled":
                raise Conflict(
                    "organization_cancelled", "a cancelled registration cannot change", "已撤销备案的机构不能再变更状态"
                )
            if org.status == status:
                raise Conflict("status_unchanged", f"the organization is already {status}", "机构已处于该状态")
            effective = lifecycle.effective(since, now, what="a status change", what_zh="状态变更")
            if org.status_history and effective < max(c.since for c in org.status_history):
                raise InvalidInput(
                    "invalid_since", "a status change cannot predate the last one", "状态变更时间不能早于上一次变更"
                )
            uow.organizations.add_status_change(org.id, status, effective, note, now)
            audit.append(
                uow,
                self._log,
                at=now,
                actor=actor.actor,
                action=f"organization.{status}",
                target=org.code,
                details={"since": effective.isoformat(), "note": note},
            )
            return self._commit(uow, now, org.code)

        return self._ctx.run(work)

    def set_scope(
        self,
        principal: Principal | None,
        code: str,
        items: Iterable[ScopeItem],
        *,
        effective: date | datetime | None,
    ) -> OrganizationRecord:
        """Replace the scope from ``effective`` (now when absent). Removed entries end at that
        instant, not deleted, so certificates issued under them keep verifying."""
        actor = require_role(principal, Role.AUTHORITY_ADMIN)
        wanted = {s.key(): s for s in check_scope(self._ctx.catalogue, items)}

        def work(uow: UnitOfWork) -> OrganizationRecord:
            org = self._locked(uow, code)
            now = self._ctx.clock()
            start = lifecycle.effective(effective, now, what="a scope change", what_zh="备案范围变更")
            current = {
                ScopeItem(e.occupation, e.levels, e.work_types, e.edition).key(): e
                for e in org.scope
                if e.valid_until is None or e.valid_until > start
            }
            for key_, entry in current.items():
                if key_ not in wanted:
                    uow.organizations.end_scope(entry.id, start)
            added = [(i.occupation, i.edition, i.levels, i.work_types) for k, i in wanted.items() if k not in current]
            uow.organizations.add_scope(org.id, added, valid_from=start)
            audit.append(
                uow,
                self._log,
                at=now,
                actor=actor.actor,
                action="organization.scope",
                target=org.code,
                details={"effective": start.isoformat(), "scope": [list(k) for k in wanted]},
            )
            return self._commit(uow, now, org.code)

        return self._ctx.run(work)

    def rotate_key(self, principal: Principal | None, code: str) -> KeyRecord:
        """A new active key; the old one is retired at the next whole second and keeps
        verifying what it signed before."""
        actor = require_role(principal, Role.AUTHORITY_ADMIN)

        def work(uow: UnitOfWork) -> KeyRecord:
            org = self._locked(uow, code)
            now = self._ctx.clock()
            retired_at = lifecycle.effective(None, now, what="", what_zh="")
            for key in org.keys:
                if key.status == "active":
                    uow.organizations.set_key_status(key.id, "retired", retired_at=retired_at)
                    self._log_key_event(uow, org.code, key.kid, "retired", retired_at)
            new = self._new_key(uow, org.code, now)
            audit.append(
                uow,
                self._log,
                at=now,
                actor=actor.actor,
                action="key.rotate",
                target=org.code,
                details={"kid": new.kid},
            )
            self._commit(uow, now, org.code)
            return new

        return self._ctx.run(work)

    def compromise_key(
        self, principal: Principal | None, code: str, kid: str, *, compromised_at: datetime | None
    ) -> KeyRecord:
        """Revoke a key as compromised from a time; if it was the active key, a new one
        replaces it so that the organization can go on issuing."""
        actor = require_role(principal, Role.AUTHORITY_ADMIN)

        def work(uow: UnitOfWork) -> KeyRecord:
            org = self._locked(uow, code)
            now = self._ctx.clock()
            key = org.key(kid)
            if key is None:
                raise NotFound("key_not_found", f"{code} has no key {kid}", f"机构{code}没有密钥{kid}")
            if key.status == "compromised":
                raise Conflict("key_already_compromised", "the key is already revoked", "该密钥已注销")
            when = lifecycle.to_second(compromised_at or now)
            if when > now:
                raise InvalidInput(
                    "invalid_time", "a compromise time cannot be in the future", "泄露时间不能晚于当前时间"
                )
            uow.organizations.set_key_status(key.id, "compromised", compromised_at=when)
            self._log_key_event(uow, org.code, key.kid, "compromised", when)
            details: dict[str, object] = {"kid": key.kid, "compromised_at": when.isoformat()}
            if key.status == "active":
                details["replacement_kid"] = self._new_key(uow, org.code, now).kid
            else:
                self._publishing.publish_status_list(uow, self._reread(uow, org.code))
            audit.append(
                uow, self._log, at=now, actor=actor.actor, action="key.compromise", target=org.code, details=details
            )
            found = self._commit(uow, now, org.code).key(kid)
            assert found is not None
            return found

        return self._ctx.run(work)

    def set_appearance(
        self,
        principal: Principal | None,
        code: str,
        *,
        layout: str,
        assets: Assets,
    ) -> OrganizationRecord:
        """Choose the layout and images the organization's certificates print with (the
        organization itself, or the authority)."""
        p = self._may_choose_appearance(principal, code)
        checked = checked_appearance(layout, assets)

        def work(uow: UnitOfWork) -> OrganizationRecord:
            org = self._locked(uow, code)
            now = self._ctx.clock()
            uow.organizations.set_appearance(org.id, layout, checked.background, checked.logo, checked.seal)
            images = {"background": checked.background, "logo": checked.logo, "seal": checked.seal}
            audit.append(
                uow,
                self._log,
                at=now,
                actor=p.actor,
                action="organization.appearance",
                target=org.code,
                details={
                    "layout": layout,
                    "images": {k: hashlib.sha256(v).hexdigest() if v else None for k, v in images.items()},
                },
            )
            found = self._reread(uow, org.code)
            uow.commit()
            return found

        return self._ctx.run(work)

    def appearance(self, principal: Principal | None, code: str) -> Assets:
        """The images the organization's certificates print with now (whoever may choose them)."""
        self._may_choose_appearance(principal, code)
        org = self.read(principal, code)
        return self.assets(org.id)

    def preview_appearance(self, principal: Principal | None, code: str, *, layout: str, assets: Assets) -> bytes:
        """A sample of the organization's certificate drawn with ``layout`` and ``assets``
        (checked as ``set_appearance`` checks them), as a PNG marked 样张 across; nothing is
        stored. Raises what ``set_appearance`` raises, or a ``RenderError`` when the
        organization's name cannot be printed on that layout."""
        self._may_choose_appearance(principal, code)
        checked = checked_appearance(layout, assets)
        return sample_certificate(self._ctx, self.read(principal, code), layout, checked)

    def _may_choose_appearance(self, principal: Principal | None, code: str) -> Principal:
        p = require_role(principal, Role.ORG_ISSUER, Role.AUTHORITY_ADMIN)
        if p.role is Role.ORG_ISSUER and p.organization_code != code.strip().upper():
            raise _not_found(code)
        return p

    # --- keys -------------------------------------------------------------------------------

    def _new_key(self, uow: UnitOfWork, code: str, now: datetime) -> KeyRecord:
        org = self._reread(uow, code)
        root_key, root = self._ctx.keys.authority()
        not_before, not_after = _certificate_period(org, root, now, first=not org.keys)
        if not_after <= not_before:
            raise InvalidInput(
                "registration_outside_root",
                "the registration period lies outside the authority root certificate's validity",
                "备案有效期不在根证书有效期内",
            )
        key, cert, kid = self._key_of_a_free_kid(uow, org, root_key, root, not_before, not_after)
        self._ctx.keys.save_organization_key(key, cert)
        record = uow.organizations.add_key(org.id, kid.hex(), pki.der(cert), now)
        self._log_key_event(uow, org.code, record.kid, "added", now)
        self._publishing.publish_status_list(uow, self._reread(uow, org.code))
        return record

    def _key_of_a_free_kid(
        self,
        uow: UnitOfWork,
        org: OrganizationRecord,
        root_key: PrivateKey,
        root: x509.Certificate,
        not_before: datetime,
        not_after: datetime,
    ) -> tuple[PrivateKey, x509.Certificate, bytes]:
        """A new key, its certificate and its kid, which no key of the trust list has."""
        taken = {kid_of(pki.der(root)), self._log.public_key().kid}
        for _ in range(KID_ATTEMPTS):
            key = self._ctx.keys.new_organization_key(org.code)
            cert = pki.create_organization_certificate(
                root_key=root_key,
                root=root,
                public_key=key.public_key(),
                org_code=OrganizationCode.parse(org.code),
                org_name=org.name,
                not_before=not_before,
                not_after=not_after,
            )
            kid = kid_of(pki.der(cert))
            if kid not in taken and not uow.organizations.kid_taken(kid.hex()):
                return key, cert, kid
        raise KidsExhausted(KID_ATTEMPTS)

    def _log_key_event(self, uow: UnitOfWork, code: str, kid: str, event: str, at: datetime) -> None:
        """A key event in the transparency log, stated by the authority root key."""
        root_key, root = self._ctx.keys.authority()
        statement = log_format.key_statement(code, bytes.fromhex(kid), event, at)
        entry = log_format.signed_entry("key", statement, root_key, kid_of(pki.der(root)), self._ctx.clock())
        self._log.append(uow, [entry])

    @staticmethod
    def _reread(uow: UnitOfWork, code: str) -> OrganizationRecord:
        found = uow.organizations.get(code)
        assert found is not None
        return found
