"""``cose.parse`` against the reference it replaced (``reference_cose``: the whole message
decoded by cbor2, then each part checked): the same parts or the same refusal, word for
word, for messages with every byte changed, cut or extended, for random structures around
random headers, and for every signed message of the test vectors."""

from __future__ import annotations

from typing import Any

import cbor2
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.core import cose
from issuer.core.errors import CredentialFormatError
from tests import factories as f
from tests.core import reference_cose
from tests.core.test_cbor_reference import _vector_messages, decodable


def _outcome(parse: Any, data: bytes) -> cose.Sign1 | tuple[str, str]:
    try:
        return parse(data)  # type: ignore[no-any-return]
    except CredentialFormatError as exc:
        return exc.message, exc.message_zh


def assert_agree(data: bytes) -> cose.Sign1 | tuple[str, str]:
    fast = _outcome(cose.parse, data)
    assert fast == _outcome(reference_cose.parse, data), data.hex()
    return fast


def _messages() -> list[bytes]:
    """A credential, and messages whose payload heads take one, two, three and five bytes."""
    key = f.seeded_key("parse")
    payloads = [cose.sign(bytes(n), key, bytes(8)) for n in (0, 23, 24, 255, 256, 70000)]
    return [f.world().signer.sign(f.credential()), *payloads]


MESSAGES = _messages()


def test_each_message_as_signed_is_accepted_with_its_parts() -> None:
    for message in MESSAGES:
        assert isinstance(assert_agree(message), cose.Sign1)


def test_every_byte_of_a_message_changed_to_every_value_agrees() -> None:
    message = MESSAGES[0]
    for i in range(len(message)):
        for value in range(256):
            tampered = bytearray(message)
            tampered[i] = value
            assert_agree(bytes(tampered))


def test_a_message_cut_or_extended_agrees() -> None:
    for message in MESSAGES:
        for n in range(min(len(message), 300)):
            assert_agree(message[:n])
        for extra in (b"\x00", b"\xff", message[:1]):
            assert_agree(message + extra)


_headers = st.one_of(
    st.builds(lambda kid: {1: -8, 4: kid}, st.binary(min_size=7, max_size=9)),
    st.builds(lambda kid: {True: -8, 4: kid}, st.binary(min_size=8, max_size=8)),
    st.dictionaries(st.sampled_from([1, 4, 5, -1, True]), st.sampled_from([-8, -7, b"", bytes(8), "x"]), max_size=3),
    decodable,
)


@settings(max_examples=500, deadline=None)
@given(
    _headers,
    st.sampled_from([{}, {4: b"x"}, [], b""]),
    st.binary(max_size=40) | decodable,
    st.binary(min_size=63, max_size=65),
    st.integers(0, 4),
)
def test_random_structures_agree(header: Any, unprotected: Any, payload: Any, signature: bytes, shape: int) -> None:
    try:
        protected = cbor2.dumps(header, canonical=True)
    except (ValueError, TypeError):
        return
    parts = [protected, unprotected, payload, signature]
    message = [
        cbor2.CBORTag(18, parts),
        parts,
        cbor2.CBORTag(18, parts[:3]),
        cbor2.CBORTag(17, parts),
        cbor2.CBORTag(18, [header, unprotected, payload, signature]),
    ][shape]
    assert_agree(cbor2.dumps(message, canonical=True))


def test_a_protected_header_keyed_true_is_read_as_the_reference_reads_it() -> None:
    """``{4: kid, true: -8}``: ``true`` and ``1`` are one Python key, so the reference takes it
    for ``{1: -8, 4: kid}``; the one-pass parser does too (verdicts do not change)."""
    protected = bytes.fromhex("a20448") + bytes(8) + bytes.fromhex("f527")
    assert isinstance(assert_agree(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, b"\xa0", bytes(64)]))), cose.Sign1)


def test_every_signed_message_of_the_vectors_agrees() -> None:
    for message in _vector_messages():
        assert_agree(message)
