"""The offline verifier: named checks, explicit time, never an unexpected exception."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.core import pki, qrtext, statuslist, trust
from issuer.core.signing import Signer
from issuer.core.verify import CHECK_NAMES, Outcome, Status, verify
from tests import factories as f

AT = f.NOW


@pytest.fixture(scope="module")
def world() -> f.World:
    return f.world()


def test_a_typical_credential_is_valid_and_every_check_passed(world: f.World) -> None:
    verdict = verify(world.qr(), world.store, at=AT)
    assert verdict.status is Status.VALID
    assert [c.name for c in verdict.checks] == list(CHECK_NAMES)
    assert all(c.outcome is Outcome.PASSED for c in verdict.checks)
    assert verdict.credential == f.credential()
    assert verdict.signer is not None and verdict.signer.organization.code == f.ORG_CODE


def test_the_first_failing_check_decides_and_the_rest_are_not_run(world: f.World) -> None:
    cred = f.credential(occupation="4-04-05-05", work_type=None)
    verdict = verify(world.qr(cred), world.store, at=AT)
    assert verdict.status is Status.NOT_VALID
    assert verdict.failed_check == "scope"
    outcomes = {c.name: c.outcome for c in verdict.checks}
    assert outcomes["registration"] is Outcome.PASSED
    assert outcomes["number"] is Outcome.NOT_RUN
    failed = next(c for c in verdict.checks if c.outcome is Outcome.FAILED)
    assert failed.detail and failed.detail_zh


def test_a_credential_dated_after_the_verification_time_is_not_valid(world: f.World) -> None:
    verdict = verify(world.qr(), world.store, at=datetime(2026, 11, 28, 12, tzinfo=UTC))
    assert verdict.failed_check == "issue_date"


def test_the_issue_date_is_compared_in_china_time(world: f.World) -> None:
    # 2026-11-28T16:00Z is already 2026-11-29 00:00 in Beijing.
    assert verify(world.qr(), world.store, at=datetime(2026, 11, 28, 16, tzinfo=UTC)).valid
    assert not verify(world.qr(), world.store, at=datetime(2026, 11, 28, 15, 59, tzinfo=UTC)).valid


def test_a_naive_verification_time_is_a_programming_error(world: f.World) -> None:
    with pytest.raises(ValueError):
        verify(world.qr(), world.store, at=datetime(2026, 11, 30))


def test_level_claim_must_match_the_number(world: f.World) -> None:
    from issuer.core import cose
    from issuer.core.credential import encode_payload

    forged = replace(f.credential(), level=4)
    text = qrtext.encode(cose.sign(encode_payload(forged), world.signer.key, world.signer.kid), f.HOST)
    assert verify(text, world.store, at=AT).failed_check == "number"


def test_registration_period_is_checked_on_the_issue_date() -> None:
    auth = f.authority()
    signer = f.org_signer(auth)
    org = replace(f.organization([signer]), registered_until=date(2026, 6, 30))
    store = f.store(auth, f.trust_list([org]))
    verdict = verify(signer.qr_text(f.credential(), f.HOST), store, at=AT)
    assert (verdict.failed_check, verdict.reason) == ("registration", "not_registered")


# --- lifecycle events take effect at an instant -----------------------------------------------

NINE_37 = f.china("2026-11-29 09:37")


def _verdict(
    *,
    status: tuple[trust.StatusChange, ...] | None = None,
    scope: tuple[trust.ScopeEntry, ...] | None = None,
    keys: tuple[trust.KeyEntry, ...] | None = None,
    registered_until: date | None = date(2030, 12, 31),
    when: date | datetime = f.ISSUED_AT,
    **cred: object,
) -> tuple[str, str | None]:
    """The status and reason of a credential issued ``when`` by an organization with this history."""
    auth = f.authority()
    signer = f.org_signer(auth)
    org = f.organization([signer], keys=keys)
    org = replace(
        org,
        status_history=status if status is not None else org.status_history,
        scope=scope if scope is not None else org.scope,
        registered_until=registered_until,
    )
    # Signed by the root: a list signed by a key retired or compromised before it is set aside.
    store = f.store(auth, f.trust_list([org]), [f.root_status_list(auth)])
    verdict = verify(signer.qr_text(f.credential(when=when, **cred), f.HOST), store, at=AT)  # type: ignore[arg-type]
    return verdict.status.value, verdict.reason


SUSPENDED_AT_9_37 = (trust.StatusChange("active", f.REGISTERED), trust.StatusChange("suspended", NINE_37))


def test_a_certificate_issued_a_minute_before_a_suspension_stays_valid() -> None:
    assert _verdict(status=SUSPENDED_AT_9_37, when=f.china("2026-11-29 09:36")) == ("valid", None)
    assert _verdict(status=SUSPENDED_AT_9_37, when=f.china("2026-11-29 09:36:59")) == ("valid", None)


def test_a_certificate_issued_at_or_after_a_suspension_is_not_valid() -> None:
    assert _verdict(status=SUSPENDED_AT_9_37, when=NINE_37) == ("not_valid", "organization_suspended")
    assert _verdict(status=SUSPENDED_AT_9_37, when=f.china("2026-11-29 09:38")) == (
        "not_valid",
        "organization_suspended",
    )


def test_a_cancellation_takes_effect_at_its_instant() -> None:
    history = (trust.StatusChange("active", f.REGISTERED), trust.StatusChange("cancelled", NINE_37))
    assert _verdict(status=history, when=f.china("2026-11-29 09:36")) == ("valid", None)
    assert _verdict(status=history, when=f.china("2026-11-29 10:00")) == ("not_valid", "organization_cancelled")


def test_a_resumed_organization_issues_validly_again_from_the_instant_it_resumes() -> None:
    history = (
        trust.StatusChange("active", f.REGISTERED),
        trust.StatusChange("suspended", f.china("2026-03-01 00:00")),
        trust.StatusChange("active", NINE_37),
    )
    assert _verdict(status=history, when=f.china("2026-11-29 09:38")) == ("valid", None)
    assert _verdict(status=history, when=f.china("2026-11-29 09:36")) == ("not_valid", "organization_suspended")


def test_a_scope_change_takes_effect_at_its_instant() -> None:
    scope = (
        trust.ScopeEntry("6-31-01-03", frozenset({3}), valid_until=NINE_37),
        trust.ScopeEntry("4-04-05-05", frozenset({3}), valid_from=NINE_37),
    )
    assert _verdict(scope=scope, when=f.china("2026-11-29 09:36")) == ("valid", None)
    assert _verdict(scope=scope, when=f.china("2026-11-29 09:38")) == ("not_valid", "out_of_scope")
    new_occupation = {"occupation": "4-04-05-05", "work_type": None}
    assert _verdict(scope=scope, when=f.china("2026-11-29 09:38"), **new_occupation) == ("valid", None)
    assert _verdict(scope=scope, when=f.china("2026-11-29 09:36"), **new_occupation) == ("not_valid", "out_of_scope")


def test_the_end_of_registration_is_the_end_of_its_last_day_in_china() -> None:
    ends = {"registered_until": date(2026, 11, 29)}
    assert _verdict(when=f.china("2026-11-29 23:59:59"), **ends) == ("valid", None)  # type: ignore[arg-type]
    late = f.credential(when=f.china("2026-11-30 00:00:01"), number="Y000123000001263000001")
    assert _verdict(when=late.issued_at, **ends) == ("not_valid", "not_registered")  # type: ignore[arg-type]


def test_a_retired_key_signs_nothing_issued_after_the_instant_it_was_retired() -> None:
    retired = (trust.KeyEntry(f.org_signer(f.authority()).certificate.der, "retired", retired_at=NINE_37),)
    assert _verdict(keys=retired, when=f.china("2026-11-29 09:36")) == ("valid", None)
    assert _verdict(keys=retired, when=f.china("2026-11-29 09:37")) == ("not_valid", "key_retired")


def test_a_compromised_key_fails_from_the_instant_of_compromise() -> None:
    compromised = (trust.KeyEntry(f.org_signer(f.authority()).certificate.der, "compromised", NINE_37),)
    assert _verdict(keys=compromised, when=f.china("2026-11-29 09:36")) == ("valid", None)
    assert _verdict(keys=compromised, when=NINE_37) == ("not_valid", "key_compromised")
    unknown_time = (trust.KeyEntry(f.org_signer(f.authority()).certificate.der, "compromised"),)
    assert _verdict(keys=unknown_time, when=f.china("2025-02-01 09:00")) == ("not_valid", "key_compromised")


# --- version-1 credentials keep their documented meaning: judged on their date --------------


def test_a_version_1_credential_is_judged_by_the_status_of_its_date() -> None:
    history = (
        trust.StatusChange("active", f.REGISTERED),
        trust.StatusChange("suspended", f.china("2026-03-01 00:00")),
        trust.StatusChange("active", f.china("2026-11-29 00:00")),
    )
    assert _verdict(status=history, when=date(2026, 11, 29)) == ("valid", None)
    assert _verdict(status=history, when=date(2026, 11, 28)) == ("not_valid", "organization_suspended")
    # A change during the day counts for the whole of it: a date cannot be ordered within it.
    assert _verdict(status=SUSPENDED_AT_9_37, when=date(2026, 11, 29)) == ("not_valid", "organization_suspended")


def test_a_version_1_credential_fails_from_the_china_date_of_a_compromise() -> None:
    # 2026-11-28T17:00Z is 2026-11-29 01:00 in Beijing: the 29th is already tainted.
    der = f.org_signer(f.authority()).certificate.der
    keys = (trust.KeyEntry(der, "compromised", datetime(2026, 11, 28, 17, tzinfo=UTC)),)
    assert _verdict(keys=keys, when=date(2026, 11, 29)) == ("not_valid", "key_compromised")
    assert _verdict(keys=keys, when=date(2026, 11, 28)) == ("valid", None)


def test_a_version_1_credential_may_be_dated_on_the_day_its_key_retired() -> None:
    der = f.org_signer(f.authority()).certificate.der
    keys = (trust.KeyEntry(der, "retired", retired_at=datetime(2026, 11, 28, 3, tzinfo=UTC)),)
    assert _verdict(keys=keys, when=date(2026, 11, 28)) == ("valid", None)
    assert _verdict(keys=keys, when=date(2026, 11, 29)) == ("not_valid", "key_retired")


def test_a_version_1_credential_is_in_scope_on_any_part_of_its_date() -> None:
    scope = (trust.ScopeEntry("6-31-01-03", frozenset({3}), valid_until=NINE_37),)
    assert _verdict(scope=scope, when=date(2026, 11, 29)) == ("valid", None)
    assert _verdict(scope=scope, when=date(2026, 11, 30), number="Y000123000001263000001") == (
        "not_valid",
        "out_of_scope",
    )


def test_a_certificate_not_issued_by_the_root_fails_the_chain_check() -> None:
    auth = f.authority()
    other = f.authority("another authority")
    signer = f.org_signer(other)
    store = f.store(auth, f.trust_list([f.organization([signer])]))
    assert verify(signer.qr_text(f.credential(), f.HOST), store, at=AT).failed_check == "certificate_chain"


def test_a_credential_dated_outside_the_certificate_validity_fails_the_chain_check() -> None:
    auth = f.authority()
    signer = f.org_signer(auth, not_after=datetime(2026, 6, 30, tzinfo=UTC))
    store = f.store(auth, f.trust_list([f.organization([signer])]))
    assert verify(signer.qr_text(f.credential(), f.HOST), store, at=AT).failed_check == "certificate_chain"


def test_flipping_any_byte_of_a_credential_makes_it_not_valid(world: f.World) -> None:
    message = qrtext.decode(world.qr())
    for i in range(len(message)):
        for mask in range(1, 256):
            tampered = bytearray(message)
            tampered[i] ^= mask
            verdict = verify(qrtext.encode(bytes(tampered), f.HOST), world.store, at=AT)
            assert verdict.status is Status.NOT_VALID, (i, mask)


def test_truncating_a_credential_at_any_length_makes_it_not_valid(world: f.World) -> None:
    message = qrtext.decode(world.qr())
    for n in range(len(message)):
        verdict = verify(qrtext.encode(message[:n], f.HOST) if n else "", world.store, at=AT)
        assert verdict.status is Status.NOT_VALID
        assert verdict.failed_check == "decodable"


def test_appending_bytes_makes_it_not_valid(world: f.World) -> None:
    message = qrtext.decode(world.qr())
    verdict = verify(qrtext.encode(message + b"\x00", f.HOST), world.store, at=AT)
    assert verdict.failed_check == "decodable"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400) | st.binary(max_size=300).map(lambda b: qrtext.encode(b, f.HOST)))
def test_hostile_text_gives_a_verdict_never_an_exception(text: str) -> None:
    verdict = verify(text, _WORLD.store, at=AT)
    assert verdict.status is Status.NOT_VALID


_WORLD = f.world()


def test_verdict_json_names_the_failed_check(world: f.World) -> None:
    verdict = verify(world.qr()[:-10], world.store, at=AT).to_json()
    assert verdict["status"] == "not_valid"
    assert verdict["failed_check"] == "decodable"
    assert verdict["credential"] is None


def test_a_ca_certificate_cannot_sign_credentials() -> None:
    """A certificate with the organization code but CA rights and no digitalSignature use."""

    auth = f.authority()
    key = f.seeded_key("sub-ca")

    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f.ORG_CODE)])
    bad = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(auth.root.subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(f.T0)
        .not_valid_after(f.T_END)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(auth.key, None)
    )
    signer = Signer.from_der(key, pki.der(bad))
    store = f.store(auth, f.trust_list([f.organization([signer])]))
    assert verify(signer.qr_text(f.credential(), f.HOST), store, at=AT).failed_check == "certificate_chain"


# --- revocation status from the organization's status list --------------------------------


def _store_with(world: f.World, status_list: bytes | None) -> trust.TrustStore:
    lists = [status_list] if status_list is not None else []
    return f.store(world.authority, f.trust_list([world.organization]), lists)


def test_a_revoked_credential_fails_offline_with_a_current_status_list(world: f.World) -> None:
    cred = f.credential()
    assert cred.status_index is not None
    store = _store_with(world, f.status_list(world.signer, [cred.status_index]))
    verdict = verify(world.qr(cred), store, at=AT)
    assert verdict.status is Status.REVOKED and verdict.failed_check == "status"
    assert "已撤销" in verdict.checks[-1].detail_zh
    neighbour = f.credential(status_index=cred.status_index + 1)
    assert verify(world.qr(neighbour), store, at=AT).status is Status.VALID


def test_a_stale_status_list_gives_unknown_never_valid_but_revoked_stays_revoked(world: f.World) -> None:
    cred = f.credential()
    assert cred.status_index is not None
    old = f.STATUS_AT - statuslist.DEFAULT_MAX_AGE - timedelta(seconds=1)
    store = _store_with(world, f.status_list(world.signer, issued_at=old))
    verdict = verify(world.qr(cred), store, at=f.STATUS_AT)
    assert verdict.status is Status.UNKNOWN
    check = verdict.checks[-1]
    assert check.outcome is Outcome.UNKNOWN and "status unknown since" in check.detail
    assert "2026年11月26日" in check.detail_zh  # the China date the list was signed
    revoked = _store_with(world, f.status_list(world.signer, [cred.status_index], issued_at=old))
    assert verify(world.qr(cred), revoked, at=f.STATUS_AT).status is Status.REVOKED  # revocation is final
    fresh_enough = f.STATUS_AT - statuslist.DEFAULT_MAX_AGE
    store = _store_with(world, f.status_list(world.signer, issued_at=fresh_enough))
    assert verify(world.qr(cred), store, at=f.STATUS_AT).status is Status.VALID


def test_no_list_is_trusted_longer_than_a_week_whatever_it_claims(world: f.World) -> None:
    long_lived = statuslist.StatusList.of(f.ORG_CODE, set(), f.STATUS_AT, max_age=timedelta(days=3650))
    store = _store_with(world, long_lived.sign(world.signer.key, world.signer.kid))
    week = statuslist.LONGEST_MAX_AGE
    assert verify(world.qr(), store, at=f.STATUS_AT + week).status is Status.VALID
    assert verify(world.qr(), store, at=f.STATUS_AT + week + timedelta(seconds=1)).status is Status.UNKNOWN


def _refused(store: trust.TrustStore) -> list[str]:
    return [p.part for p in store.problems]


def test_a_status_list_signed_by_a_key_compromised_at_an_unknown_time_is_set_aside(world: f.World) -> None:
    keys = [trust.KeyEntry(world.signer.certificate.der, "compromised")]
    store = f.store(
        world.authority, f.trust_list([f.organization([world.signer], keys=keys)]), [f.status_list(world.signer)]
    )
    assert store.status_list(f.ORG_CODE) is None and _refused(store) == ["status_list"]


def test_without_a_status_list_the_status_is_unknown(world: f.World) -> None:
    verdict = verify(world.qr(), _store_with(world, None), at=AT)
    assert verdict.status is Status.UNKNOWN and "没有该机构的状态列表" in verdict.checks[-1].detail_zh
    assert verdict.reason == "status_unknown"
    assert verify(world.qr(), _store_with(world, None), at=AT, check_status=False).status is Status.VALID


def test_a_status_list_signed_by_another_organizations_key_is_set_aside(world: f.World) -> None:
    other = f.org_signer(world.authority, code="S000044000002", name="广东某某职业技能培训中心", seed="other")
    forged = statuslist.StatusList.of(f.ORG_CODE, {104729}, f.STATUS_AT).sign(other.key, other.kid)
    orgs = [world.organization, f.organization([other], code="S000044000002", name="广东某某职业技能培训中心")]
    store = f.store(world.authority, f.trust_list(orgs), [forged, f.status_list(world.signer)])
    assert verify(world.qr(), store, at=AT).status is Status.VALID  # the forged list changes nothing
    assert [(p.part, p.organization) for p in store.problems] == [("status_list", "S000044000002")]


def test_a_status_list_signed_after_its_key_was_compromised_is_set_aside(world: f.World) -> None:
    keys = [
        trust.KeyEntry(world.signer.certificate.der, "compromised", compromised_at=f.STATUS_AT - timedelta(hours=1))
    ]
    orgs = [f.organization([world.signer], keys=keys)]
    store = f.store(world.authority, f.trust_list(orgs), [f.status_list(world.signer)])
    assert store.status_list(f.ORG_CODE) is None and _refused(store) == ["status_list"]
    earlier = f.status_list(world.signer, issued_at=f.STATUS_AT - timedelta(hours=2))
    assert f.store(world.authority, f.trust_list(orgs), [earlier]).status_list(f.ORG_CODE) is not None


def test_a_tampered_status_list_makes_only_its_organization_unknown(world: f.World) -> None:
    signed = bytearray(f.status_list(world.signer))
    signed[-70] ^= 1
    store = _store_with(world, bytes(signed))
    verdict = verify(world.qr(), store, at=AT)
    assert verdict.status is Status.UNKNOWN and verdict.reason == "status_list_unusable"
    assert "状态列表无法使用" in verdict.checks[-1].detail_zh
