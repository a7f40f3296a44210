"""The authority's use cases: register organizations, change their status and scope,
certify and rotate their keys, and publish the signed trust list after every change.

Every change takes effect at an instant (``lifecycle.effective``): now (the next whole
second) or a later date or time, never an earlier one, so that certificates issued before
a change keep verifying and those after it do not."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.core import cose, pki, trust
from issuer.core import transparency as log_format
from issuer.core.catalogue import EDITION_2022, Occupation, level
from issuer.core.clock import end_of_china_day, start_of_china_day
from issuer.core.cose import kid_for
from issuer.core.display import level_zh
from issuer.core.errors import Conflict, InvalidInput, NotFound
from issuer.core.manifest import Manifest
from issuer.core.numbering import OrganizationCode
from issuer.core.statuslist import parse_payload
from issuer.core.transparency import TreeHead
from issuer.service import audit, lifecycle, status_lists, transparency
from issuer.service.context import Services
from issuer.service.principal import Principal, Role, require_role
from issuer.store import models as m


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


def _check_scope(svc: Services, items: Iterable[ScopeItem]) -> list[ScopeItem]:
    """Only what can be issued: occupations of the catalogue that are not licensing
    qualifications, levels of their national standard, 工种 of the catalogue at levels they
    have. Levels that no 工种 covers (家政服务员 二级 不分工种) go into an entry of their own
    without 工种, so that they can be issued without one."""
    checked: list[ScopeItem] = []
    for item in items:
        occupation = svc.catalogue.issuable(item.occupation)
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


def get_organization(session: Session, code: str) -> m.Organization:
    org = session.scalars(select(m.Organization).where(m.Organization.code == code.strip().upper())).first()
    if org is None:
        raise NotFound("organization_not_found", f"no organization {code}", f"没有机构{code}")
    return org


def _certificate_period(
    org: m.Organization, root_not_before: datetime, root_not_after: datetime, now: datetime, *, first: bool
) -> tuple[datetime, datetime]:
    """The validity of a new organization certificate: from the start of the registration
    (its first key, so that certificates dated since then verify) or from now (a later key),
    never before the root; to the end of the registration's last day, or five years on,
    never after the root."""
    start = start_of_china_day(org.registered_from) if first else lifecycle.to_second(now)
    until = org.registered_until
    end = end_of_china_day(until) if until is not None else lifecycle.to_second(now) + timedelta(days=365 * 5)
    return max(start, root_not_before), min(end, root_not_after)


def _new_key(svc: Services, session: Session, org: m.Organization, now: datetime) -> m.SigningKey:
    root_key, root = svc.authority()
    key = Ed25519PrivateKey.generate()
    not_before, not_after = _certificate_period(
        org, root.not_valid_before_utc, root.not_valid_after_utc, now, first=not org.keys
    )
    if not_after <= not_before:
        raise InvalidInput(
            "registration_outside_root",
            "the registration period lies outside the authority root certificate's validity",
            "备案有效期不在根证书有效期内",
        )
    cert = pki.create_organization_certificate(
        root_key=root_key,
        root=root,
        public_key=key.public_key(),
        org_code=OrganizationCode.parse(org.code),
        org_name=org.name,
        not_before=not_before,
        not_after=not_after,
    )
    svc.keystore.save_organization_key(key, cert)
    record = m.SigningKey(kid=kid_for(pki.der(cert)).hex(), certificate=pki.der(cert), status="active", created_at=now)
    org.keys.append(record)
    session.flush()
    _log_key_event(svc, session, org, record, "added", now)
    status_lists.publish(svc, session, org)
    return record


def _log_key_event(
    svc: Services, session: Session, org: m.Organization, key: m.SigningKey, event: str, at: datetime
) -> None:
    """A key event in the transparency log, stated by the authority root key."""
    root_key, root = svc.authority()
    statement = log_format.key_statement(org.code, bytes.fromhex(key.kid), event, at)
    entry = log_format.signed_entry("key", statement, root_key, kid_for(pki.der(root)), svc.clock())
    transparency.append(svc, session, [entry])


def register(svc: Services, principal: Principal | None, reg: Registration) -> m.Organization:
    actor = require_role(principal, Role.AUTHORITY_ADMIN)
    code = OrganizationCode.parse(reg.code_text, svc.catalogue)
    name = reg.name.strip()
    if not 2 <= len(name) <= 200:
        raise InvalidInput("invalid_name", "the registered name needs 2 to 200 characters", "机构名称应为2至200个字符")
    if reg.registered_until is not None and reg.registered_until < reg.registered_from:
        raise InvalidInput("invalid_period", "registration ends before it starts", "备案有效期结束早于开始")
    scope = _check_scope(svc, reg.scope)

    def work(session: Session) -> m.Organization:
        now = svc.clock()
        if session.scalars(select(m.Organization.id).where(m.Organization.code == str(code))).first():
            raise Conflict("organization_exists", f"organization {code} is already registered", f"机构{code}已备案")
        org = m.Organization(
            code=str(code),
            name=name,
            registered_from=reg.registered_from,
            registered_until=reg.registered_until,
            status="active",
            created_at=now,
        )
        org.status_history.append(
            m.StatusChange(status="active", since=start_of_china_day(reg.registered_from), note="备案", created_at=now)
        )
        for item in scope:
            org.scope.append(
                m.ScopeEntry(
                    occupation=item.occupation,
                    edition=item.edition,
                    levels=list(item.levels),
                    work_types=list(item.work_types),
                )
            )
        session.add(org)
        session.flush()
        key = _new_key(svc, session, org, now)
        audit.append(
            session,
            at=now,
            actor=actor.actor,
            action="organization.register",
            target=org.code,
            details={"name": org.name, "kid": key.kid, "scope": [list(s.key()) for s in scope]},
        )
        publish_trust_list(svc, session, now)
        return org

    return svc.retrying(work)


def change_status(
    svc: Services, principal: Principal | None, code: str, status: str, *, since: date | datetime | None, note: str
) -> m.Organization:
    """Suspend, resume or cancel from ``since``: now when absent (or today's date), or a
    later date or instant; never earlier, nor before the last change."""
    actor = require_role(principal, Role.AUTHORITY_ADMIN)
    if status not in trust.ORG_STATUSES:
        raise InvalidInput("invalid_status", f"unknown status {status!r}", f"未知的状态“{status}”")

    def work(session: Session) -> m.Organization:
        now = svc.clock()
        org = get_organization(session, code)
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
        org.status = status
        org.status_history.append(m.StatusChange(status=status, since=effective, note=note, created_at=now))
        audit.append(
            session,
            at=now,
            actor=actor.actor,
            action=f"organization.{status}",
            target=org.code,
            details={"since": effective.isoformat(), "note": note},
        )
        publish_trust_list(svc, session, now)
        return org

    return svc.retrying(work)


def set_scope(
    svc: Services,
    principal: Principal | None,
    code: str,
    items: Iterable[ScopeItem],
    *,
    effective: date | datetime | None,
) -> m.Organization:
    """Replace the scope from ``effective`` (now when absent). Removed entries end at that
    instant, not deleted, so certificates issued under them keep verifying."""
    actor = require_role(principal, Role.AUTHORITY_ADMIN)
    wanted = {s.key(): s for s in _check_scope(svc, items)}

    def work(session: Session) -> m.Organization:
        now = svc.clock()
        org = get_organization(session, code)
        start = lifecycle.effective(effective, now, what="a scope change", what_zh="备案范围变更")
        current = {}
        for entry in org.scope:
            if entry.valid_until is None or entry.valid_until > start:
                item = ScopeItem(entry.occupation, tuple(entry.levels), tuple(entry.work_types), entry.edition)
                current[item.key()] = entry
        for key_, entry in current.items():
            if key_ not in wanted:
                entry.valid_until = start
        for key_, item in wanted.items():
            if key_ not in current:
                org.scope.append(
                    m.ScopeEntry(
                        occupation=item.occupation,
                        edition=item.edition,
                        levels=list(item.levels),
                        work_types=list(item.work_types),
                        valid_from=start,
                    )
                )
        audit.append(
            session,
            at=now,
            actor=actor.actor,
            action="organization.scope",
            target=org.code,
            details={"effective": start.isoformat(), "scope": [list(k) for k in wanted]},
        )
        publish_trust_list(svc, session, now)
        return org

    return svc.retrying(work)


def rotate_key(svc: Services, principal: Principal | None, code: str) -> m.SigningKey:
    """A new active key; the old one is retired now and keeps verifying what it signed."""
    actor = require_role(principal, Role.AUTHORITY_ADMIN)

    def work(session: Session) -> m.SigningKey:
        now = svc.clock()
        org = get_organization(session, code)
        retired_at = lifecycle.effective(None, now, what="", what_zh="")
        for key in org.keys:
            if key.status == "active":
                key.status, key.retired_at = "retired", retired_at
                _log_key_event(svc, session, org, key, "retired", retired_at)
        new = _new_key(svc, session, org, now)
        audit.append(session, at=now, actor=actor.actor, action="key.rotate", target=org.code, details={"kid": new.kid})
        publish_trust_list(svc, session, now)
        return new

    return svc.retrying(work)


def compromise_key(
    svc: Services, principal: Principal | None, code: str, kid: str, *, compromised_at: datetime | None
) -> m.SigningKey:
    """Revoke a key as compromised from a time; if it was the active key, a new one
    replaces it so that the organization can go on issuing."""
    actor = require_role(principal, Role.AUTHORITY_ADMIN)

    def work(session: Session) -> m.SigningKey:
        now = svc.clock()
        org = get_organization(session, code)
        key = next((k for k in org.keys if k.kid == kid.lower()), None)
        if key is None:
            raise NotFound("key_not_found", f"{code} has no key {kid}", f"机构{code}没有密钥{kid}")
        if key.status == "compromised":
            raise Conflict("key_already_compromised", "the key is already revoked", "该密钥已注销")
        when = lifecycle.to_second(compromised_at or now)
        if when > now:
            raise InvalidInput("invalid_time", "a compromise time cannot be in the future", "泄露时间不能晚于当前时间")
        was_active = key.status == "active"
        key.status, key.compromised_at = "compromised", when
        _log_key_event(svc, session, org, key, "compromised", when)
        details: dict[str, Any] = {"kid": key.kid, "compromised_at": when.isoformat()}
        if was_active:
            details["replacement_kid"] = _new_key(svc, session, org, now).kid
        audit.append(session, at=now, actor=actor.actor, action="key.compromise", target=org.code, details=details)
        publish_trust_list(svc, session, now)
        return key

    return svc.retrying(work)


def list_organizations(svc: Services, principal: Principal | None) -> list[m.Organization]:
    require_role(principal, Role.AUTHORITY_ADMIN, Role.AUDITOR)
    with svc.db.reading() as session:
        orgs = list(session.scalars(select(m.Organization).order_by(m.Organization.code)))
        for org in orgs:
            _ = org.scope, org.keys, org.status_history
        return orgs


def read_organization(svc: Services, principal: Principal | None, code: str) -> m.Organization:
    p = require_role(principal, Role.AUTHORITY_ADMIN, Role.AUDITOR, Role.ORG_ISSUER)
    if p.role is Role.ORG_ISSUER and p.organization_code != code.strip().upper():
        raise NotFound("organization_not_found", f"no organization {code}", f"没有机构{code}")
    with svc.db.reading() as session:
        org = get_organization(session, code)
        _ = org.scope, org.keys, org.status_history
        return org


# --- the trust list -----------------------------------------------------------------------


def trust_entry(org: m.Organization) -> trust.OrganizationEntry:
    """The organization as the trust list states it (and as issuance checks it)."""
    return trust.OrganizationEntry(
        code=org.code,
        name=org.name,
        registered_from=org.registered_from,
        registered_until=org.registered_until,
        status_history=tuple(trust.StatusChange(c.status, c.since) for c in org.status_history),
        scope=tuple(
            trust.ScopeEntry(
                s.occupation, frozenset(s.levels), tuple(s.work_types), s.edition, s.valid_from, s.valid_until
            )
            for s in org.scope
        ),
        keys=tuple(trust.KeyEntry(k.certificate, k.status, k.compromised_at, k.retired_at) for k in org.keys),
    )


def publish_trust_list(svc: Services, session: Session, now: datetime) -> m.TrustListRecord:
    """Sign the registry as it stands in this transaction, as the next sequence number."""
    root_key, root = svc.authority()
    last = session.scalar(select(func.max(m.TrustListRecord.sequence))) or 0
    orgs = session.scalars(select(m.Organization).order_by(m.Organization.code)).all()
    tl = trust.TrustList(
        authority=pki.organization_name(root),
        issued_at=now.replace(microsecond=0),
        sequence=last + 1,
        organizations=tuple(trust_entry(o) for o in orgs),
        occupations=trust.catalogue_names(svc.catalogue),
        logs=(transparency.log_public_key(svc),),
    )
    record = m.TrustListRecord(sequence=last + 1, issued_at=now, signed=tl.sign(root_key, root))
    session.add(record)
    session.flush()
    return record


def latest_sequence(svc: Services) -> int:
    with svc.db.reading() as session:
        return int(session.scalar(select(func.max(m.TrustListRecord.sequence))) or 0)


def trust_bundle(svc: Services) -> tuple[int, dict[str, Any]]:
    """The latest trust list as a bundle, publishing a first one if there is none yet, with
    the manifest that binds its parts (signed by the log key)."""
    with svc.db.reading() as session:
        record = session.scalars(select(m.TrustListRecord).order_by(m.TrustListRecord.sequence.desc()).limit(1)).first()
    if record is None:
        record = svc.retrying(lambda s: publish_trust_list(svc, s, svc.clock()))
    root = svc.keystore.authority_certificate()
    head = transparency.latest_head(svc)
    lists = status_lists.current(svc)
    signed_head = head.signed if head else None
    manifest = Manifest.of(_published_at(record, head, lists), record.signed, signed_head, lists)
    log_key = transparency.log_public_key(svc)
    signed_manifest = manifest.sign(svc.log_key(), log_key.kid)
    bundle = trust.make_bundle(pki.der(root), record.signed, lists.values(), signed_head, signed_manifest)
    return record.sequence, bundle


def _published_at(record: m.TrustListRecord, head: TreeHead | None, lists: dict[str, bytes]) -> datetime:
    """The latest time any part was signed: the same parts give the same manifest (and ETag),
    and a newer bundle never has an older manifest."""
    times = [record.issued_at.replace(microsecond=0)]
    times += [head.timestamp] if head else []
    times += [parse_payload(cose.parse(signed).payload).issued_at for signed in lists.values()]
    return max(times)
