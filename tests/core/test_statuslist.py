"""Status lists: a bitstring per organization, most significant bit first, gzip, signed."""

from __future__ import annotations

import gzip
import secrets
from datetime import timedelta

import pytest

from issuer.core import cbor, cose, statuslist
from issuer.core.statuslist import STATUS_LIST_BITS, StatusList, StatusListError
from tests import factories as f


def _signed_payload(payload: dict[str, object]) -> bytes:
    signer = f.org_signer(f.authority())
    return cose.sign(cbor.encode(payload), signer.key, signer.kid)


def _open(signed: bytes) -> StatusList:
    return statuslist.open_signed(signed, f.org_signer(f.authority()).certificate.public_key)


def test_bit_i_is_the_most_significant_first_and_one_means_revoked() -> None:
    listed = StatusList.of(f.ORG_CODE, {0, 9, STATUS_LIST_BITS - 1}, f.STATUS_AT)
    assert listed.bits[0] == 0x80 and listed.bits[1] == 0x40 and listed.bits[-1] == 0x01
    assert [listed.revoked(i) for i in (0, 1, 8, 9, STATUS_LIST_BITS - 1)] == [True, False, False, True, True]
    assert listed.revoked_indexes() == [0, 9, STATUS_LIST_BITS - 1]
    with pytest.raises(StatusListError):
        listed.revoked(STATUS_LIST_BITS)


def test_a_signed_list_reads_back_the_same_and_signs_to_the_same_bytes() -> None:
    signer = f.org_signer(f.authority())
    revoked = {secrets.randbelow(STATUS_LIST_BITS) for _ in range(50)}
    listed = StatusList.of(f.ORG_CODE, revoked, f.STATUS_AT, max_age=timedelta(hours=24))
    signed = listed.sign(signer.key, signer.kid)
    assert signed == listed.sign(signer.key, signer.kid)
    back = statuslist.open_signed(signed, signer.certificate.public_key)
    assert back == listed and set(back.revoked_indexes()) == revoked
    assert len(StatusList.of(f.ORG_CODE, set(), f.STATUS_AT).sign(signer.key, signer.kid)) < 1000


def _payload(**changes: object) -> dict[str, object]:
    payload = StatusList.of(f.ORG_CODE, {5}, f.STATUS_AT).to_payload()
    payload.update(changes)
    return payload


@pytest.mark.parametrize(
    "changes",
    [
        {"list": gzip.compress(bytes(STATUS_LIST_BITS // 8 + 1), mtime=0)},  # longer than stated
        {"list": gzip.compress(bytes(16 << 20), mtime=0)},  # a small file that inflates to 16 MiB
        {"list": b"not gzip"},
        {"bits": 7},
        {"version": 2},
        {"max_age": 0},
        {"issued_at": "yesterday"},
        {"extra": 1},
        {"version": True},
        {"max_age": True},
        {"bits": True},
        {"max_age": -1},
        {"max_age": 2**64},
    ],
    ids=[
        "too-long",
        "bomb",
        "not-gzip",
        "bits",
        "version",
        "max-age",
        "issued-at",
        "extra-field",
        "version-true",
        "max-age-true",
        "bits-true",
        "max-age-negative",
        "max-age-bignum",
    ],
)
def test_malformed_lists_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(StatusListError):
        _open(_signed_payload(_payload(**changes)))


def test_a_list_is_fresh_until_its_maximum_age() -> None:
    listed = StatusList.of(f.ORG_CODE, set(), f.STATUS_AT)
    assert listed.fresh_at(f.STATUS_AT + statuslist.DEFAULT_MAX_AGE)
    assert not listed.fresh_at(f.STATUS_AT + statuslist.DEFAULT_MAX_AGE + timedelta(seconds=1))


def test_a_maximum_age_beyond_what_a_duration_holds_is_read_as_the_week_it_is_capped_to() -> None:
    """uint reaches 2**64 - 1 seconds; no list vouches for more than 7 days whatever it claims."""
    listed = _open(_signed_payload(_payload(max_age=2**64 - 1)))
    assert listed.fresh_at(f.STATUS_AT + statuslist.LONGEST_MAX_AGE)
    assert not listed.fresh_at(f.STATUS_AT + statuslist.LONGEST_MAX_AGE + timedelta(seconds=1))
