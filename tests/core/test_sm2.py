"""SM2 signatures over SM3 with the distinguishing ID of GB/T 35276, checked by two
implementations that are not ours: the ``openssl`` command (OpenSSL 3, given the ID) and
the pure-Python ``gmssl``. A signature by either verifies with ours and the other way
round; a changed byte, another ID or another key does not."""

from __future__ import annotations

import base64
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from gmssl import func as gmssl_func
from gmssl import sm2 as gmssl_sm2
from gmssl import sm3 as gmssl_sm3
from hypothesis import given
from hypothesis import strategies as st

from issuer.core import sm2
from issuer.core.sm2 import DEFAULT_ID, ORDER, Sm2KeyError, Sm2PrivateKey, Sm2PublicKey

MESSAGE = b"\x84jSignature1M\xa2\x01:\x00\x01\x00\x00\x04D\x01\x02\x03\x04@X\x1acredential claims, 26 bytes"
KEY = Sm2PrivateKey.generate()


def _gmssl(public: bytes, private: bytes | None = None) -> gmssl_sm2.CryptSM2:
    """gmssl's SM2 on our key. Its constructor strips any leading '0' and '4' characters of
    a key given as hex, so the point is set afterwards, without the 04 prefix."""
    crypt = gmssl_sm2.CryptSM2(private_key=private.hex() if private else None, public_key="")
    crypt.public_key = public[1:].hex()
    return crypt


def _gmssl_sign(key: Sm2PrivateKey, data: bytes) -> bytes:
    # gmssl draws k with ``random``, not a secure generator: give it one from ``secrets``.
    k = f"{secrets.randbelow(ORDER - 1) + 1:064x}"
    return bytes.fromhex(_gmssl(key.public_key().raw(), key.private_raw()).sign_with_sm3(data, k))


def _pem(public: Sm2PublicKey) -> bytes:
    body = base64.encodebytes(public.spki()).replace(b"\n", b"")
    lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return b"-----BEGIN PUBLIC KEY-----\n" + lines + b"\n-----END PUBLIC KEY-----\n"


def _openssl_verifies(tmp: Path, public: Sm2PublicKey, signature: bytes, data: bytes, *, ident: bytes) -> bool:
    (tmp / "pub.pem").write_bytes(_pem(public))
    (tmp / "sig.der").write_bytes(sm2.to_der(signature))
    (tmp / "data").write_bytes(data)
    command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-digest", "sm3"]
    command += ["-pkeyopt", f"distid:{ident.decode()}", "-in", "data", "-sigfile", "sig.der"]
    return subprocess.run(command, cwd=tmp, capture_output=True, check=False).returncode == 0


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")


def test_a_signature_is_r_and_s_and_verifies_with_the_signers_key_only() -> None:
    signature = KEY.sign(MESSAGE)
    assert len(signature) == 64
    KEY.public_key().verify(signature, MESSAGE)
    with pytest.raises(InvalidSignature):
        Sm2PrivateKey.generate().public_key().verify(signature, MESSAGE)
    with pytest.raises(InvalidSignature):
        KEY.public_key().verify(signature, MESSAGE + b"!")


def test_signing_twice_gives_two_signatures_that_both_verify() -> None:
    first, second = KEY.sign(MESSAGE), KEY.sign(MESSAGE)
    assert first != second  # a fresh k each time
    for signature in (first, second):
        KEY.public_key().verify(signature, MESSAGE)


def test_the_distinguishing_id_is_part_of_what_is_signed() -> None:
    signature = KEY.sign(MESSAGE)
    with pytest.raises(InvalidSignature):
        KEY.public_key().verify(signature, MESSAGE, distinguishing_id=b"ALICE123@YAHOO.COM")
    other = KEY.sign(MESSAGE, distinguishing_id=b"")
    with pytest.raises(InvalidSignature):
        KEY.public_key().verify(other, MESSAGE)


@pytest.mark.parametrize("position", [0, 1, 31, 32, 33, 63])
def test_every_changed_signature_byte_is_refused(position: int) -> None:
    signature = bytearray(KEY.sign(MESSAGE))
    signature[position] ^= 0x01
    with pytest.raises(InvalidSignature):
        KEY.public_key().verify(bytes(signature), MESSAGE)


@pytest.mark.parametrize(
    "signature",
    [bytes(64), ORDER.to_bytes(32, "big") * 2, b"\x01" * 63, b"\x01" * 65],
    ids=["zero", "r and s equal to n", "63 bytes", "65 bytes"],
)
def test_a_signature_out_of_range_or_of_another_length_is_refused(signature: bytes) -> None:
    with pytest.raises(InvalidSignature):
        KEY.public_key().verify(signature, MESSAGE)


def test_a_key_made_from_its_bytes_signs_as_the_key_itself() -> None:
    again = Sm2PrivateKey.from_raw(KEY.private_raw(), KEY.public_key().raw())
    KEY.public_key().verify(again.sign(MESSAGE), MESSAGE)
    assert Sm2PublicKey.from_raw(KEY.public_key().raw()) == KEY.public_key()


@pytest.mark.parametrize(
    "public",
    [b"\x04" + bytes(64), b"\x04" + b"\x01" * 64, b"\x02" + bytes(32), b"\x04" + bytes(63)],
    ids=["origin", "off the curve", "compressed", "64 bytes"],
)
def test_a_point_that_is_not_a_public_key_is_refused(public: bytes) -> None:
    with pytest.raises(Sm2KeyError):
        Sm2PublicKey.from_raw(public)


@pytest.mark.parametrize("scalar", [0, ORDER - 1, ORDER], ids=["zero", "n - 1", "n"])
def test_a_private_scalar_out_of_range_is_refused(scalar: int) -> None:
    with pytest.raises(Sm2KeyError):
        Sm2PrivateKey.from_raw(scalar.to_bytes(32, "big"), KEY.public_key().raw())


@given(st.integers(1, ORDER - 1), st.integers(1, ORDER - 1))
def test_r_and_s_survive_der_and_back(r: int, s: int) -> None:
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    der = sm2.to_der(raw)
    assert sm2.from_der(der) == raw
    assert der[0] == 0x30 and der[1] == len(der) - 2


@pytest.mark.parametrize(
    "der",
    [
        bytes.fromhex("3008020200010202000a"),  # r written with a needless leading 00
        bytes.fromhex("300602010102018100"),  # a length that disagrees
        bytes.fromhex("3006020101020101") + b"\x00",  # a trailing byte
        bytes.fromhex("30060201ff020101"),  # a negative r
    ],
)
def test_der_that_is_not_minimal_or_not_whole_is_refused(der: bytes) -> None:
    with pytest.raises(ValueError):
        sm2.from_der(der)


def test_sm3_is_the_standard_hash() -> None:
    # GB/T 32905-2016, appendix A, example 1
    assert sm2.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm2.sm3(MESSAGE).hex() == gmssl_sm3.sm3_hash(gmssl_func.bytes_to_list(MESSAGE))


# --- the two independent implementations ----------------------------------------------------


@needs_openssl
def test_openssl_verifies_our_signature_with_the_standard_id_and_no_other(tmp_path: Path) -> None:
    signature = KEY.sign(MESSAGE)
    assert _openssl_verifies(tmp_path, KEY.public_key(), signature, MESSAGE, ident=DEFAULT_ID)
    assert not _openssl_verifies(tmp_path, KEY.public_key(), signature, MESSAGE, ident=b"ALICE123@YAHOO.COM")
    assert not _openssl_verifies(tmp_path, KEY.public_key(), signature, MESSAGE + b"!", ident=DEFAULT_ID)


def test_gmssl_verifies_our_signature_and_refuses_a_changed_message() -> None:
    signature = KEY.sign(MESSAGE)
    assert _gmssl(KEY.public_key().raw()).verify_with_sm3(signature.hex(), MESSAGE)
    assert not _gmssl(KEY.public_key().raw()).verify_with_sm3(signature.hex(), MESSAGE + b"!")


@needs_openssl
def test_a_gmssl_signature_verifies_with_ours_and_with_openssl(tmp_path: Path) -> None:
    signature = _gmssl_sign(KEY, MESSAGE)
    KEY.public_key().verify(signature, MESSAGE)
    assert _openssl_verifies(tmp_path, KEY.public_key(), signature, MESSAGE, ident=DEFAULT_ID)
