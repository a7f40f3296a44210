"""``decode_payload`` and ``encode_payload`` against the reference they replaced
(``reference_credential``: decode, build through the checking constructor, encode again and
compare): on random claims, valid and not, and on every credential of the test vectors, the
same credential or the same refusal, word for word; and the same bytes out."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import cbor2
from hypothesis import event, given, reject, settings
from hypothesis import strategies as st

from issuer.core import cose, qrtext
from issuer.core.clock import china_date
from issuer.core.credential import Credential, decode_payload, encode_payload
from issuer.core.errors import CredentialFormatError, InvalidInput
from issuer.core.numbering import CertificateNumber
from tests.core import reference_cbor, reference_credential

VECTORS = Path(__file__).parents[1] / "vectors"


def _number(kind: int, authority: int, province: str, site: int, year: int, level: int, serial: int) -> bytes:
    digits = int(f"{authority:04d}{province}{site:06d}{year:02d}{level}{serial:06d}")
    return (digits * 2 + kind).to_bytes(9, "big")


_numbers = st.builds(
    _number,
    st.integers(0, 1),
    st.integers(0, 9999),
    st.sampled_from(["23", "11", "65"]),
    st.integers(0, 999_999),
    st.integers(19, 99),
    st.integers(1, 5),
    st.integers(1, 999_999),
)
_odd_numbers = st.builds(
    _number,
    st.integers(0, 1),
    st.integers(0, 9999),
    st.sampled_from(["00", "99", "23"]),
    st.integers(0, 999_999),
    st.sampled_from([0, 18, 26]),
    st.sampled_from([0, 6, 9, 3]),
    st.sampled_from([0, 1]),
) | st.binary(min_size=8, max_size=10)
_texts = st.text(
    st.sampled_from("张三丰维修电工阿卜杜·-- \u3000\u00a0\u0301\u200b\x00\U00031350\U00030000e\u0065\u0301"),
    max_size=70,
) | st.sampled_from(["张三丰", "--", " 维修电工 ", "e\u0301", "\u00e9", "", "a" * 64, "a" * 65])
_names = st.sampled_from(["张三丰", "维修电工", "阿卜杜·买买提", "\u00e9"])
_uints = st.integers(0, 2**64 - 1)
_OPTIONAL_CLAIMS: dict[int, st.SearchStrategy[Any]] = {
    -7: st.sampled_from([2015, 1999, 2999]),
    -8: _names,
    -11: st.integers(0, 2**32 - 1),
}
_ODD: dict[int, st.SearchStrategy[Any]] = {
    -1: st.sampled_from([0, 3, 4]),
    -2: _odd_numbers,
    -3: _texts,
    -4: st.sampled_from([0, 24]),
    -5: st.binary(min_size=23, max_size=25),
    -6: st.sampled_from([999999, 9000000, 1000000, 8999999]),
    -7: st.sampled_from([2022, 1998, 3000]),
    -8: _texts,
    -9: st.sampled_from([0, 6]),
    -10: st.sampled_from([0, 100_000, 100_001, 2**32 - 1, 2**32]) | _uints,
    -11: st.sampled_from([2**32, 2**64 - 1]),
    -12: st.sampled_from([0, 1, 24, 2**64 - 1]),
}
_wrong = st.booleans() | st.binary(max_size=3) | st.text(max_size=3) | st.integers(-(2**64), 2**64 - 1)


@st.composite
def claims_maps(draw: st.DrawFn) -> dict[int, Any]:
    """Valid claims, then now and then one of an odd value (at the edge of its range, an
    unclean text), of the wrong type, left out or unknown, so that every check is reached
    and many maps pass them all."""
    version = draw(st.sampled_from([2, 1, 3]))
    claims = {
        -1: version,
        -2: draw(_numbers),
        -3: draw(_names),
        -4: draw(st.integers(1, 23)),
        -5: draw(st.binary(min_size=24, max_size=24)),
        -6: draw(st.integers(1_000_000, 8_999_999)),
        -9: draw(st.integers(1, 5)),
        -10: draw(st.integers(0, 2**32 - 1) if version != 1 else st.integers(0, 100_000)),
    }
    if version == 3:
        claims[-12] = draw(st.integers(2, 23))
    claims |= {key: draw(values) for key, values in _OPTIONAL_CLAIMS.items() if draw(st.booleans())}
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        key = draw(st.sampled_from(sorted(_ODD)))
        change = draw(st.sampled_from(["odd", "odd", "odd", "odd", "wrong", "drop", "unknown"]))
        if change == "odd":
            claims[key] = draw(_ODD[key])
        elif change == "wrong":
            claims[key] = draw(_wrong)
        elif change == "drop":
            claims.pop(key, None)
        else:
            claims[draw(st.sampled_from([-12, -24, 0, 7, 23]))] = draw(_wrong)
    return claims


def _outcome(decode: Any, data: bytes) -> Credential | tuple[str, str]:
    try:
        return decode(data)  # type: ignore[no-any-return]
    except CredentialFormatError as exc:
        return exc.message, exc.message_zh


def assert_agree(data: bytes) -> Credential | tuple[str, str]:
    fast = _outcome(decode_payload, data)
    assert fast == _outcome(reference_credential.decode_payload, data), data.hex()
    if isinstance(fast, Credential):
        assert encode_payload(fast) == data
    return fast


@settings(max_examples=1500, deadline=None)
@given(claims_maps())
def test_random_claims_decode_as_the_reference_decodes_them(claims: dict[int, Any]) -> None:
    found = assert_agree(cbor2.dumps(claims, canonical=True))
    event("accepted" if isinstance(found, Credential) else found[0])


@st.composite
def credentials(draw: st.DrawFn) -> Credential:
    """Credentials as issuers build them, through the constructor that cleans names."""
    issued_at = draw(st.none() | st.datetimes(datetime(2019, 1, 1), datetime(2099, 12, 31), timezones=st.just(UTC)))
    issue_date = china_date(issued_at) if issued_at else draw(st.dates(date(2019, 1, 1), date(2099, 12, 31)))
    level = draw(st.integers(1, 5))
    serial = draw(st.integers(1, 999_999))
    number = f"{draw(st.sampled_from('YS'))}000123000001{issue_date.year % 100:02d}{level}{serial:06d}"
    try:
        return Credential(
            number=CertificateNumber.parse(number),
            holder_name=draw(_texts),
            document_type=draw(st.integers(1, 23)),
            document_commitment=draw(st.binary(min_size=24, max_size=24)),
            occupation=draw(st.sampled_from(["6-31-01-03", "6-18-02-04", "1-00-00-00", "8-99-99-99"])),
            level=level,
            issue_date=issue_date,
            work_type=draw(st.none() | _texts),
            occupation_edition=draw(st.sampled_from([2022, 2015, 1999, 2999])),
            status_index=draw(st.none() | st.integers(0, 2**32 - 1)),
            issued_at=issued_at,
            assessment_method=draw(st.sampled_from([1, 1, 2, 4, 23])),
        )
    except InvalidInput:
        reject()


@settings(max_examples=300, deadline=None)
@given(credentials())
def test_a_credential_encodes_to_the_references_bytes_and_decodes_to_itself(credential: Credential) -> None:
    data = encode_payload(credential)
    assert data == reference_cbor.encode(credential.claims())
    assert decode_payload(data) == credential == reference_credential.decode_payload(data)


def test_every_credential_of_the_vectors_decodes_as_the_reference_decodes_it() -> None:
    seen = 0
    for directory in (VECTORS, VECTORS / "v1"):
        manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
        for vector in manifest["vectors"]:
            try:
                message = cose.parse(qrtext.decode(vector["qr_text"]))
            except CredentialFormatError:
                continue
            assert_agree(message.payload)
            seen += 1
    assert seen > 50
