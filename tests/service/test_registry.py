"""The authority's registry: every change is audited, published in a new signed trust
list, and never invalidates certificates issued before it."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import ANY

import pytest
from flask import Flask
from sqlalchemy import select

from issuer.core import qrtext, trust
from issuer.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from issuer.core.verify import verify
from issuer.render import Assets
from issuer.service import audit, registry
from issuer.service.principal import OPERATOR, Principal, Role
from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests import factories as f
from tests.builders import issue_request as request
from tests.conftest import ELECTRICIAN, ORG_CODE, OTHER_CODE, PROFILE, Clock, Keys, issuer_principal

_PEOPLE = itertools.count()


def _issue(svc: UseCases, **overrides: Any) -> str:
    """Issue one certificate to someone new; its QR text."""
    person = {"document_number": f.id_number(next(_PEOPLE))} | overrides
    record, _ = svc.issuing.issue(issuer_principal(svc), request(**person))
    return qrtext.encode(record.credential, svc.ctx.qr_host)


def _store(svc: UseCases) -> trust.TrustStore:
    _, bundle = svc.publishing.bundle()
    return trust.load_bundle(json.dumps(bundle))


def test_registration_publishes_a_trust_list_naming_the_organization(app: Flask, keys: Keys, svc: UseCases) -> None:
    store = _store(svc)
    org = store.organization(ORG_CODE)
    assert org is not None and org.status_on(date(2026, 11, 29)) == "active"
    assert store.trust_list.sequence == 2  # two organizations registered by the fixture


def test_registering_the_same_code_twice_is_a_conflict(app: Flask, keys: Keys, svc: UseCases) -> None:
    from tests.conftest import register

    with pytest.raises(Conflict):
        register(svc)


def test_only_the_authority_changes_organizations(app: Flask, keys: Keys, svc: UseCases) -> None:
    with pytest.raises(Forbidden):
        svc.registry.change_status(issuer_principal(svc), ORG_CODE, "suspended", since=None, note="")
    with pytest.raises(Forbidden):
        svc.registry.rotate_key(Principal(Role.AUDITOR, "a"), ORG_CODE)


def test_a_level_beyond_the_national_standard_cannot_be_registered(app: Flask, keys: Keys, svc: UseCases) -> None:
    with pytest.raises(InvalidInput) as failure:
        svc.registry.set_scope(OPERATOR, ORG_CODE, [registry.ScopeItem("4-10-01-06", (1,))], effective=None)
    assert failure.value.code == "level_not_in_standard"


def test_certificates_issued_before_a_scope_change_keep_verifying(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    qr = _issue(svc)
    clock.advance(days=1)
    svc.registry.set_scope(OPERATOR, ORG_CODE, [registry.ScopeItem("6-18-02-04", (5, 4, 3))], effective=None)
    store = _store(svc)
    assert verify(qr, store, at=clock.now).valid
    same_second = _issue(svc)  # the change takes effect at the next whole second
    clock.advance(seconds=1)
    with pytest.raises(Forbidden):
        _issue(svc)
    assert verify(same_second, store, at=clock.now).valid
    org = store.organization(ORG_CODE)
    assert org is not None
    electrician = next(s for s in org.scope if s.occupation == ELECTRICIAN)
    assert electrician.valid_until == f.china("2026-11-30 10:00:01")


class _RepeatingKeys:
    """The deployment's key ring whose generator gives ``repeats`` first (a broken random
    source), then fresh keys: everything else goes to the real ring."""

    def __init__(self, keys: Any, repeats: list[Any]) -> None:
        self._keys, self._repeats, self.made = keys, repeats, 0

    def new_organization_key(self, org_code: str) -> Any:
        self.made += 1
        return self._repeats.pop(0) if self._repeats else self._keys.new_organization_key(org_code)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._keys, name)


def _with_keys(svc: UseCases, keys: _RepeatingKeys) -> registry.Registry:
    return registry.Registry(dataclasses.replace(svc.ctx, keys=keys), svc.log, svc.publishing)


@pytest.mark.skipif(
    PROFILE == "sm2", reason="an SM2 certificate's signature is randomized: a repeated key repeats no kid"
)
def test_a_new_key_whose_kid_is_taken_is_made_again(app: Flask, keys: Keys, svc: UseCases) -> None:
    """A key made twice at one instant gets a byte-identical certificate (Ed25519 and its
    certificate serial are deterministic), so the same kid: the second is thrown away and
    another made, and the old key's file is left as it was."""
    first = svc.registry.rotate_key(OPERATOR, ORG_CODE)
    active = svc.ctx.keys.signer(ORG_CODE, first.kid).key
    folder = svc.ctx.keys.store.org_dir(ORG_CODE)  # type: ignore[attr-defined]
    stored = {p.name: p.read_bytes() for p in folder.glob("*.key.pem")}
    repeating = _RepeatingKeys(svc.ctx.keys, [active])
    second = _with_keys(svc, repeating).rotate_key(OPERATOR, ORG_CODE)
    assert repeating.made == 2 and second.kid != first.kid
    kids = [k.kid for k in svc.registry.read(OPERATOR, ORG_CODE).keys]
    assert len(kids) == len(set(kids))
    assert {p.name: p.read_bytes() for p in folder.glob("*.key.pem")} == {**stored, f"{second.kid}.key.pem": ANY}
    assert verify(_issue(svc), _store(svc), at=svc.ctx.clock()).valid


@pytest.mark.skipif(
    PROFILE == "sm2", reason="an SM2 certificate's signature is randomized: a repeated key repeats no kid"
)
def test_a_key_generator_that_only_repeats_makes_no_key(app: Flask, keys: Keys, svc: UseCases) -> None:
    first = svc.registry.rotate_key(OPERATOR, ORG_CODE)
    active = svc.ctx.keys.signer(ORG_CODE, first.kid).key
    taken = svc.registry.read(OPERATOR, ORG_CODE).keys
    repeating = _RepeatingKeys(svc.ctx.keys, [active] * registry.KID_ATTEMPTS)
    with pytest.raises(registry.KidsExhausted) as refused:
        _with_keys(svc, repeating).rotate_key(OPERATOR, ORG_CODE)
    assert refused.value.code == "key_ids_exhausted" and repeating.made == registry.KID_ATTEMPTS
    after = svc.registry.read(OPERATOR, ORG_CODE).keys
    assert [(k.kid, k.status) for k in after] == [(k.kid, k.status) for k in taken]
    assert next(k for k in after if k.kid == first.kid).status == "active"


def test_after_a_key_rotation_old_and_new_certificates_verify(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    old_qr = _issue(svc)
    clock.advance(days=2)
    new_key = svc.registry.rotate_key(OPERATOR, ORG_CODE)
    new_qr = _issue(svc)
    store = _store(svc)
    assert verify(old_qr, store, at=clock.now).valid
    new_verdict = verify(new_qr, store, at=clock.now)
    assert new_verdict.valid and new_verdict.signer is not None
    assert new_verdict.signer.entry.kid.hex() == new_key.kid


def test_a_compromised_key_invalidates_what_is_dated_from_the_compromise(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    before = _issue(svc)
    clock.advance(days=3)
    after = _issue(svc)
    org = svc.registry.read(OPERATOR, ORG_CODE)
    kid = org.keys[0].kid
    svc.registry.compromise_key(OPERATOR, ORG_CODE, kid, compromised_at=clock.now - timedelta(hours=1))
    store = _store(svc)
    assert verify(before, store, at=clock.now).valid
    assert verify(after, store, at=clock.now).failed_check == "key_status"
    replacement = _issue(svc)
    assert verify(replacement, store := _store(svc), at=clock.now).valid
    assert store.trust_list.sequence > 2


def test_a_compromise_time_in_the_future_is_refused(app: Flask, keys: Keys, svc: UseCases, clock: Clock) -> None:
    kid = svc.registry.read(OPERATOR, ORG_CODE).keys[0].kid
    with pytest.raises(InvalidInput):
        svc.registry.compromise_key(OPERATOR, ORG_CODE, kid, compromised_at=clock.now + timedelta(days=1))
    with pytest.raises(NotFound):
        svc.registry.compromise_key(OPERATOR, ORG_CODE, "00" * 8, compromised_at=None)


def test_suspension_and_resumption_are_published(app: Flask, keys: Keys, svc: UseCases, clock: Clock) -> None:
    svc.registry.change_status(OPERATOR, ORG_CODE, "suspended", since=date(2026, 11, 29), note="暂停")
    with pytest.raises(Conflict):
        svc.registry.change_status(OPERATOR, ORG_CODE, "suspended", since=None, note="")
    clock.advance(days=10)
    svc.registry.change_status(OPERATOR, ORG_CODE, "active", since=None, note="恢复")
    org = _store(svc).organization(ORG_CODE)
    assert org is not None
    assert org.status_on(date(2026, 12, 1)) == "suspended"
    assert org.status_on(date(2026, 12, 9)) == "active"


def test_every_administrative_action_is_in_an_intact_hash_chain(app: Flask, keys: Keys, svc: UseCases) -> None:
    qr = _issue(svc)
    assert qr
    svc.registry.rotate_key(OPERATOR, ORG_CODE)
    svc.revoking.revoke(issuer_principal(svc), f"{ORG_CODE}263000001", reason="data_error")
    with svc.database.read_sessions() as session:
        events = list(session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id)))
    actions = [e.action for e in events]
    assert actions.count("organization.register") == 2
    assert "key.rotate" in actions and "certificate.revoke" in actions and "apikey.create" in actions
    assert audit.first_break(events, svc.ctx.crypto_suite) is None
    events[1].details = {**events[1].details, "name": "篡改"}
    broken = audit.first_break(events, svc.ctx.crypto_suite)
    assert broken is not None and (broken.code, broken.event_id, broken.position) == (
        "audit_chain_broken",
        events[1].id,
        2,
    )


def test_trust_list_times_are_aware_and_in_order(app: Flask, keys: Keys, svc: UseCases, clock: Clock) -> None:
    with svc.database.read_sessions() as session:
        records = list(session.scalars(select(m.TrustListRecord).order_by(m.TrustListRecord.sequence)))
    assert [r.sequence for r in records] == [1, 2]
    assert all(r.issued_at.tzinfo is not None for r in records)
    assert records[0].issued_at == clock.now


# --- registration refuses what can never be issued ----------------------------------------------


@pytest.mark.parametrize(
    ("item", "code", "words"),
    [
        (
            registry.ScopeItem("6-18-02-04", (5, 4), ("钎焊工", "铆工")),
            "unknown_work_type",
            "焊工没有工种/职业方向“铆工”",
        ),
        (
            registry.ScopeItem("6-18-02-04", (5, 4, 3, 2), ("电焊工", "气焊工")),
            "level_not_in_work_type",
            "气焊工没有二级/技师",
        ),
        (registry.ScopeItem("4-10-01-06", (1,)), "level_not_in_standard", "没有一级/高级技师"),
        (registry.ScopeItem("4-07-05-03", (5, 4, 3)), "licensed_occupation", "准入类"),
    ],
    ids=["unknown-work-type", "work-type-level-cap", "level-not-in-standard", "licensing-occupation"],
)
def test_a_scope_that_can_never_be_issued_is_refused(
    app: Flask, keys: Keys, svc: UseCases, item: registry.ScopeItem, code: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        svc.registry.set_scope(OPERATOR, ORG_CODE, [item], effective=None)
    assert refused.value.code == code and words in refused.value.message_zh
    assert refused.value.message  # and in English


def test_levels_no_work_type_covers_are_registered_without_one(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    """家政服务员: 家务服务员, 母婴护理员 and 家庭照护员 run to 三级; 二级/技师 不分工种."""
    svc.registry.set_scope(
        OPERATOR, ORG_CODE, [registry.ScopeItem("4-10-01-06", (5, 4, 3, 2), ("母婴护理员",))], effective=None
    )
    clock.advance(seconds=1)
    entries = [
        (s.levels, s.work_types) for s in svc.registry.read(OPERATOR, ORG_CODE).scope if s.occupation == "4-10-01-06"
    ]
    assert entries == [((5, 4, 3), ("母婴护理员",)), ((2,), ())]
    scores = {"theory": Decimal(80), "practical": Decimal(80), "review": Decimal(80)}
    technician = _issue(svc, occupation="4-10-01-06", level=2, work_type=None, scores=scores)
    assert verify(technician, _store(svc), at=clock.now).valid
    with pytest.raises(InvalidInput):
        _issue(svc, occupation="4-10-01-06", level=2, work_type="母婴护理员", scores=scores)
    assert verify(
        _issue(svc, occupation="4-10-01-06", level=4, work_type="母婴护理员"), _store(svc), at=clock.now
    ).valid


def test_a_licensing_occupation_cannot_be_issued_even_if_configured_in_scope(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _issue(svc, occupation="4-07-05-03", work_type=None)
    assert refused.value.code == "licensed_occupation" and "消防设施操作员" in refused.value.message_zh


def test_a_status_change_cannot_take_effect_in_the_past(app: Flask, keys: Keys, svc: UseCases, clock: Clock) -> None:
    for since in (date(2026, 11, 28), clock.now - timedelta(minutes=1)):
        with pytest.raises(InvalidInput) as refused:
            svc.registry.change_status(OPERATOR, ORG_CODE, "suspended", since=since, note="")
        assert refused.value.code == "effective_in_the_past"
    with pytest.raises(InvalidInput):
        svc.registry.set_scope(OPERATOR, ORG_CODE, [registry.ScopeItem(ELECTRICIAN, (3,))], effective=date(2026, 1, 1))


def test_a_change_scheduled_for_a_later_day_starts_at_midnight_in_china(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    svc.registry.change_status(OPERATOR, ORG_CODE, "suspended", since=date(2026, 12, 1), note="年检")
    org = _store(svc).organization(ORG_CODE)
    assert org is not None
    assert org.status_at(f.china("2026-11-30 23:59:59")) == "active"
    assert org.status_at(f.china("2026-12-01 00:00")) == "suspended"
    assert verify(_issue(svc), _store(svc), at=clock.now).valid  # still active today


def test_an_appearance_is_previewed_by_whoever_may_choose_it_and_checked_as_when_chosen(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    own = issuer_principal(svc)
    png = svc.registry.preview_appearance(own, ORG_CODE, layout="landscape", assets=Assets())
    assert png.startswith(b"\x89PNG")
    with pytest.raises(NotFound):
        svc.registry.preview_appearance(own, OTHER_CODE, layout="portrait", assets=Assets())
    with pytest.raises(InvalidInput) as bad:
        svc.registry.preview_appearance(OPERATOR, ORG_CODE, layout="portrait", assets=Assets(seal=b"GIF89a"))
    assert bad.value.code == "invalid_seal"
    assert svc.registry.read(OPERATOR, ORG_CODE).layout == "portrait", "a preview stores nothing"
