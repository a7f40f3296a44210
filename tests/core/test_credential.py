"""The credential's claims and their deterministic CBOR form."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.core import cbor
from issuer.core.catalogue import default_catalogue
from issuer.core.clock import china_date
from issuer.core.credential import Credential, decode_payload, encode_payload, pack_number, unpack_number
from issuer.core.errors import CredentialFormatError, InvalidInput
from issuer.core.numbering import CertificateNumber, OrganizationCode
from tests import factories as f

PROVINCES = sorted(default_catalogue().provinces)
OCCUPATIONS = sorted(default_catalogue().occupations)

numbers = st.builds(
    lambda kind, auth, prov, site, year, level, serial: CertificateNumber(
        OrganizationCode(kind, f"{auth:04d}", prov, f"{site:06d}"), year, level, serial
    ),
    st.sampled_from("YS"),
    st.integers(0, 9999),
    st.sampled_from(PROVINCES),
    st.integers(0, 999999),
    st.integers(19, 99),
    st.integers(1, 5),
    st.integers(1, 999999),
)
names = st.text(
    st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs")), min_size=1, max_size=20
).filter(lambda s: s.strip())

issue_times = st.dates(date(1970, 1, 1), date(2200, 12, 31)) | st.datetimes(
    datetime(1970, 1, 1, 8), datetime(2106, 1, 1), timezones=st.just(UTC)
)
"""A date (a version-1 credential) or an instant (version 2)."""

credentials = st.builds(
    lambda when, **fields: Credential(
        issue_date=china_date(when) if isinstance(when, datetime) else when,
        issued_at=when if isinstance(when, datetime) else None,
        **fields,
    ),
    when=issue_times,
    number=numbers,
    holder_name=names,
    document_type=st.integers(1, 23),
    document_commitment=st.binary(min_size=24, max_size=24),
    occupation=st.sampled_from(OCCUPATIONS),
    level=st.integers(1, 5),
    work_type=st.none() | names,
    occupation_edition=st.sampled_from([2015, 2022]),
    status_index=st.none() | st.integers(0, 2**32 - 1),
)


@settings(max_examples=300)
@given(credentials)
def test_claims_round_trip_through_cbor(cred: Credential) -> None:
    assert decode_payload(encode_payload(cred)) == cred


@settings(max_examples=200)
@given(numbers)
def test_the_number_packs_into_nine_bytes_and_back(number: CertificateNumber) -> None:
    packed = pack_number(number)
    assert len(packed) == 9
    assert unpack_number(packed) == number


def test_number_packing_follows_the_published_rule() -> None:
    number = CertificateNumber.parse("S000011000001251000123")
    assert int.from_bytes(pack_number(number), "big") == 2 * 0o0 + 2 * 11000001251000123 + 1


def test_the_encoding_is_deterministic_and_keys_are_in_bytewise_order() -> None:
    payload = encode_payload(f.credential())
    claims = cbor2.loads(payload)
    encoded_keys = [cbor2.dumps(k) for k in claims]
    assert encoded_keys == sorted(encoded_keys)
    assert cbor2.dumps(claims, canonical=True) == payload


def test_optional_claims_are_omitted_when_absent() -> None:
    claims = cbor2.loads(encode_payload(f.credential(work_type=None, status_index=None)))
    assert set(claims) == {-1, -2, -3, -4, -5, -6, -9, -10}


def test_a_typical_payload_is_compact() -> None:
    assert len(encode_payload(f.credential())) <= 90


def test_names_are_stored_in_nfc() -> None:
    decomposed = "e\u0301mile"
    assert f.credential(name=decomposed).holder_name == "\u00e9mile"


def test_work_type_dashes_mean_none() -> None:
    assert f.credential(work_type="--").work_type is None
    assert f.credential(work_type="  ").work_type is None


@pytest.mark.parametrize("name", ["", "   ", "张\x00三", "a" * 65])
def test_unprintable_or_empty_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        f.credential(name=name)


def _with_claims(change: dict[int, object], drop: tuple[int, ...] = ()) -> bytes:
    claims = cbor2.loads(encode_payload(f.credential()))
    claims.update(change)
    for key in drop:
        del claims[key]
    return cbor.encode(claims)


@pytest.mark.parametrize(
    "payload",
    [
        _with_claims({-1: 3}),
        _with_claims({-1: 1}),  # version 1 reads claim -10 as days: 1.8 billion is out of range
        _with_claims({-10: 2**32}),
        _with_claims({-12: 1}),
        _with_claims({}, drop=(-3,)),
        _with_claims({-3: 7}),
        _with_claims({-2: b"\x00" * 8}),
        _with_claims({-2: b"\xff" * 9}),
        _with_claims({-6: 9999999}),
        _with_claims({-9: 6}),
        _with_claims({-10: -1}),
        _with_claims({-5: b"short"}),
        cbor.encode([1, 2]),
        b"\xa0",
    ],
)
def test_malformed_claims_are_a_format_error(payload: bytes) -> None:
    with pytest.raises(CredentialFormatError):
        decode_payload(payload)


def test_version_2_carries_the_instant_of_issue_in_seconds() -> None:
    cred = f.credential(when=f.china("2026-11-29 09:36:07"))
    claims = cbor2.loads(encode_payload(cred))
    assert claims[-1] == 2 and cred.version == 2
    assert claims[-10] == int(datetime(2026, 11, 29, 1, 36, 7, tzinfo=UTC).timestamp())
    assert cred.issue_date == date(2026, 11, 29)


def test_the_issue_date_is_the_china_date_of_the_instant() -> None:
    late_evening_utc = f.credential(when=datetime(2026, 11, 28, 16, 0, tzinfo=UTC))
    assert late_evening_utc.issue_date == date(2026, 11, 29)
    with pytest.raises(InvalidInput):
        replace(late_evening_utc, issue_date=date(2026, 11, 28))


def test_an_instant_is_kept_to_the_second() -> None:
    cred = f.credential(when=datetime(2026, 11, 29, 1, 36, 7, 999_999, tzinfo=UTC))
    assert cred.issued_at == datetime(2026, 11, 29, 1, 36, 7, tzinfo=UTC)


def test_version_1_carries_the_issue_date_in_days_and_is_still_read() -> None:
    cred = f.credential(when=date(2026, 11, 29))
    claims = cbor2.loads(encode_payload(cred))
    assert claims[-1] == 1 and claims[-10] == (date(2026, 11, 29) - date(1970, 1, 1)).days
    assert decode_payload(encode_payload(cred)) == cred and cred.issued_at is None


def test_the_instant_costs_two_bytes_over_a_date() -> None:
    v1 = encode_payload(f.credential(when=date(2026, 11, 29)))
    v2 = encode_payload(f.credential())
    assert len(v2) - len(v1) == 2


def test_replace_keeps_validation() -> None:
    with pytest.raises(InvalidInput):
        replace(f.credential(), document_commitment=b"x")


@pytest.mark.parametrize(
    "change",
    [{-3: "e\u0301mile"}, {-3: "张三丰 "}, {-8: "--"}, {-7: 2022}],
    ids=["nfd-name", "trailing-space", "dash-work-type", "explicit-default-edition"],
)
def test_claims_our_encoder_would_write_differently_are_refused(change: dict[int, object]) -> None:
    with pytest.raises(CredentialFormatError):
        decode_payload(_with_claims(change))
