"""Strict CBOR: one value has one encoding, and a signed payload holds only what this format
signs (FORMAT.md §2 rule 1): integers, byte and text strings, arrays, maps, false, true and
null, at most 16 levels deep; no float, no tag but the message's own 18, no other simple value."""

from __future__ import annotations

import cbor2
import pytest

from issuer.core import cbor
from issuer.core.errors import CredentialFormatError


def _nested(levels: int, leaf: object = 1) -> object:
    for _ in range(levels):
        leaf = [leaf]
    return leaf


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1, "b": [b"x", "y", None, True, False, -3]},
        2**64 - 1,
        -(2**64),
        _nested(15),  # the leaf is the 16th level
        _nested(15, []),
        {(1, 2): 1},  # a map key that is an array: no signed map has one, and nothing reads it
    ],
    ids=["plain", "uint64-max", "nint64-min", "16-levels", "16-levels-empty", "array-key"],
)
def test_what_this_format_signs_decodes(value: object) -> None:
    assert cbor.decode_strict(cbor2.dumps(value, canonical=True)) == value


@pytest.mark.parametrize(
    "data",
    [
        "f93e00",  # 1.5, a half float in its shortest form
        "a16161f93e00",  # a float under a key nobody reads
        "c249010000000000000000",  # 2**64, a bignum (tag 2)
        "c349010000000000000000",  # -(2**64) - 1, a negative bignum (tag 3)
        "c074323031332d30332d32315432303a30343a30305a",  # tag 0, a date-time text
        "d86401",  # tag 100, a day count: cbor2 turns it into a date
        "d903e801",  # tag 1000, one cbor2 does not know
        "f7",  # undefined
        "f0",  # simple value 16
        "818181818181818181818181818181818101",  # 16 arrays around a leaf: 17 levels
    ],
    ids=[
        "float",
        "float-inside",
        "bignum",
        "negative-bignum",
        "tag-0",
        "tag-100",
        "tag-1000",
        "undefined",
        "simple-16",
        "17-levels",
    ],
)
def test_what_this_format_never_signs_does_not_decode(data: str) -> None:
    with pytest.raises(CredentialFormatError):
        cbor.decode_strict(bytes.fromhex(data))


def test_only_the_tag_asked_for_may_wrap_the_whole_item() -> None:
    message = cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"", b""]), canonical=True)
    assert cbor.decode_strict(message, tag=18).tag == 18
    with pytest.raises(CredentialFormatError):
        cbor.decode_strict(message)
    with pytest.raises(CredentialFormatError):
        cbor.decode_strict(cbor2.dumps(cbor2.CBORTag(18, [cbor2.CBORTag(18, 1)]), canonical=True), tag=18)


@pytest.mark.parametrize(
    ("value", "uint"),
    [(0, True), (2**64 - 1, True), (2**64, False), (-1, False), (True, False), (1.0, False), ("1", False)],
)
def test_uint_is_cbor_major_type_0(value: object, uint: bool) -> None:
    assert cbor.is_uint(value) is uint
