"""The one-pass CBOR encoder and strict decoder against the reference they replaced
(``reference_cbor``: cbor2, re-encoding to prove the deterministic form): identical bytes
out, and exactly the same inputs accepted with equal values, on random values, on random
and damaged encodings, and on every signed message of the test vectors."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issuer.core import cbor, qrtext
from issuer.core.errors import CredentialFormatError
from tests.core import reference_cbor

VECTORS = Path(__file__).parents[1] / "vectors"

_ints = st.integers(min_value=-(2**64), max_value=2**64 - 1) | st.integers(min_value=-(2**70), max_value=2**70)
_leaves = st.none() | st.booleans() | _ints | st.binary(max_size=300) | st.text(max_size=40)
_short_keys = st.integers(min_value=-24, max_value=23) | st.text(max_size=7).filter(lambda s: len(s.encode()) < 24)

signable = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_short_keys, inner, max_size=5)
    ),
    max_leaves=30,
)
"""What ``cbor.encode`` writes: maps keyed by one-byte integers or short text."""


def _hashable(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3).map(tuple)


_any_keys = st.recursive(_leaves, _hashable, max_leaves=6)
decodable = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_any_keys, inner, max_size=5),
    max_leaves=40,
)
"""What the decoder meets: maps keyed by anything hashable, integers beyond 64 bits (tags)."""


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (``[1] == (1,)`` is false anyway, but
    ``1 == True`` is not)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(k, j) and _same(a[k], b[j]) for k, j in zip(a, b, strict=True))
    if isinstance(a, cbor2.CBORTag):
        return a.tag == b.tag and _same(a.value, b.value)
    return bool(a == b)


def _outcome(decode: Any, data: bytes, tag: int | None) -> tuple[bool, Any]:
    try:
        return True, decode(data, tag=tag)
    except CredentialFormatError:
        return False, None


def assert_agree(data: bytes, tag: int | None = None) -> bool:
    """Both decoders accept ``data`` with equal values, or both refuse it; returns which."""
    fast = _outcome(cbor.decode_strict, data, tag)
    reference = _outcome(reference_cbor.decode_strict, data, tag)
    assert fast[0] == reference[0], (data.hex(), reference)
    assert _same(fast[1], reference[1]), data.hex()
    return fast[0]


@settings(max_examples=600, deadline=None)
@given(signable)
def test_the_encoder_writes_the_references_bytes(value: Any) -> None:
    assert cbor.encode(value) == reference_cbor.encode(value)


@pytest.mark.parametrize(
    ("value", "error"),
    [(1.5, ValueError), ({"a": [0.0]}, ValueError), ({24: 1}, ValueError), ({"x" * 24: 1}, ValueError)],
    ids=["float", "nested-float", "two-byte-key", "long-text-key"],
)
def test_the_encoder_refuses_what_the_reference_refuses(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        reference_cbor.encode(value)
    with pytest.raises(error):
        cbor.encode(value)


def test_a_boolean_key_sorts_as_the_reference_sorts_it() -> None:
    value = {"abc": 1, True: 2, -1: 3}  # f5 is one byte long, so it precedes "abc" (length first)
    assert cbor.encode(value) == reference_cbor.encode(value)


@settings(max_examples=600, deadline=None)
@given(decodable)
def test_every_canonical_encoding_decodes_to_the_references_value(value: Any) -> None:
    assert assert_agree(cbor2.dumps(value, canonical=True)) is all_plain(value)


def all_plain(value: Any) -> bool:
    """Whether ``value`` holds no integer beyond 64 bits (which cbor2 writes as a tag)."""
    if isinstance(value, int):
        return -(2**64) <= value < 2**64
    if isinstance(value, list | tuple):
        return all(all_plain(v) for v in value)
    if isinstance(value, dict):
        return all(all_plain(k) and all_plain(v) for k, v in value.items())
    return True


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A canonical encoding with a few bytes changed, inserted, deleted or cut off."""
    return _damage(draw, cbor2.dumps(draw(decodable), canonical=True))


def _damage(draw: st.DrawFn, encoded: bytes) -> bytes:
    data = bytearray(encoded)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "set", "insert", "delete", "cut"]))
        if action == "insert" or not data:
            data[at:at] = bytes([draw(st.integers(0, 255))])
        elif at == len(data):
            continue
        elif action == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":
            data[at] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[at]
        else:
            del data[at:]
    return bytes(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_encodings_are_accepted_exactly_when_the_reference_accepts_them(data: bytes) -> None:
    assert_agree(data)
    assert_agree(data, tag=18)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=40))
def test_random_bytes_are_accepted_exactly_when_the_reference_accepts_them(data: bytes) -> None:
    assert_agree(data)
    assert_agree(b"\xd2" + data, tag=18)


@pytest.mark.parametrize(
    "data",
    [
        "1817",  # 23 in two bytes
        "190017",  # 23 in three bytes
        "1a000000ff",  # 255 in five bytes
        "1b00000000ffffffff",  # 2**32 - 1 in nine bytes
        "1bffffffffffffffff",  # 2**64 - 1
        "3bffffffffffffffff",  # -(2**64)
        "5817" + "00" * 23,  # a 23-byte string with a two-byte head
        "5f4100ff",  # an indefinite byte string
        "9f01ff",  # an indefinite array
        "bf0101ff",  # an indefinite map
        "a20101f5f4",  # keys 1 and true: one Python key
        "a2f5f40101",  # true before 1: out of order, and one Python key
        "a2020101",  # keys out of order
        "a201010102",  # a key twice
        "a2190100016001",  # 256 before "": bytewise order, not length-first
        "a2600119010001",  # "" before 256: length-first
        "a1820102a10102",  # an array as a key, a map as a value
        "a1a1010201",  # a map as a key
        "62eda080",  # a UTF-8 surrogate
        "62c080",  # an overlong UTF-8 encoding
        "1c",  # additional information 28
        "f820",  # simple value 32
        "f814",  # simple value 20 in two bytes (false written long)
        "d81201",  # tag 18 in two bytes
        "d2d201",  # tag 18 inside tag 18
        "0000",  # something after the item
        "",
        "81" * 15 + "01",  # 16 levels
        "81" * 16 + "01",  # 17 levels
        "81" * 15 + "80",  # an empty array at level 16
        "81" * 16 + "80",  # an empty array at level 17
        "a1" + "a1" * 14 + "0101" + "01" * 15,  # maps nested as keys, 16 levels
        "a1" + "a1" * 15 + "0101" + "01" * 16,  # and 17
    ],
)
def test_each_rule_agrees_with_the_reference(data: str) -> None:
    assert_agree(bytes.fromhex(data))
    assert_agree(bytes.fromhex("d2" + data), tag=18)


def _vector_messages() -> Iterator[bytes]:
    """Every signed message the vectors hold: each QR text that decodes, and each part of
    each bundle (trust list, status lists, tree head, manifest)."""
    for directory in (VECTORS, VECTORS / "v1"):
        manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
        for vector in manifest["vectors"]:
            try:
                yield qrtext.decode(vector["qr_text"])
            except CredentialFormatError:
                continue
        for path in sorted(directory.glob("bundle*.json")):
            try:
                bundle = json.loads(path.read_bytes().decode("utf-8").removeprefix("\ufeff"))
            except (UnicodeDecodeError, ValueError):
                continue
            parts = [bundle.get("trust_list"), bundle.get("tree_head"), bundle.get("manifest")]
            lists = bundle.get("status_lists")
            parts += lists if isinstance(lists, list) else []
            for part in parts:
                if isinstance(part, str):
                    yield base64.b64decode(part)


def test_every_signed_message_of_the_vectors_and_its_parts_decode_as_the_reference_decodes_them() -> None:
    messages = list(_vector_messages())
    assert len(messages) > 100
    for message in messages:
        if assert_agree(message, tag=18):
            parts = cbor.decode_strict(message, tag=18).value
            for part in parts[0], parts[2]:
                if isinstance(part, bytes):
                    assert_agree(part)


def assert_flat_agrees(data: bytes) -> bool:
    """``decode_flat_map`` gives up (``None``) or returns exactly what the reference decodes;
    returns whether it answered."""
    flat = cbor.decode_flat_map(data)
    if flat is None:
        return False
    accepted, value = _outcome(reference_cbor.decode_strict, data, None)
    assert accepted, data.hex()
    assert _same(flat, value), data.hex()
    return True


_flat_values = st.integers(0, 2**64 - 1) | st.binary(max_size=300) | st.text(max_size=40)
_flat_maps = st.dictionaries(st.integers(-24, -1), _flat_values, min_size=1, max_size=23)


@settings(max_examples=600, deadline=None)
@given(_flat_maps)
def test_a_flat_map_of_negative_keys_is_read_by_the_flat_reader_as_the_reference_reads_it(
    value: dict[int, Any],
) -> None:
    assert assert_flat_agrees(cbor2.dumps(value, canonical=True))


@st.composite
def damaged_flat(draw: st.DrawFn) -> bytes:
    """A flat map's encoding with a few bytes changed, inserted, deleted or cut off."""
    return _damage(draw, cbor2.dumps(draw(_flat_maps), canonical=True))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_flat() | decodable.map(lambda v: cbor2.dumps(v, canonical=True)) | st.binary(max_size=40))
def test_the_flat_reader_never_answers_otherwise_than_the_reference(data: bytes) -> None:
    assert_flat_agrees(data)


@pytest.mark.parametrize(
    "data",
    [
        "a1201818",  # argument 24 is the shortest head for 24
        "a220012102",  # keys in order, small values
        "a1216161",  # a one-character text
    ],
)
def test_the_flat_reader_answers_for_shortest_heads(data: str) -> None:
    assert assert_flat_agrees(bytes.fromhex(data))


@pytest.mark.parametrize(
    "data",
    [
        "a1201801",  # 1 written in two bytes
        "a2212020",  # keys out of order
        "a2202020",  # a repeated key
        "a10101",  # a positive key
        "a120f5",  # true
        "a1202101",  # a negative value
        "a12162ff",  # text that is not UTF-8
        "a1204201",  # a byte string cut short
        "a1200000",  # a byte left over
        "a0",  # empty
    ],
)
def test_the_flat_reader_leaves_anything_else_to_the_strict_decoder(data: str) -> None:
    assert cbor.decode_flat_map(bytes.fromhex(data)) is None
