"""SM2 private keys at rest: an encrypted PKCS#8 PEM (PBES2, SM4-CBC where libcrypto has
it) that reads back into a key signing as the original, that the ``openssl`` command reads
too (and we read its), and that refuses a wrong passphrase, damaged bytes and other keys
with our errors, not a crash."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.core import sm2
from issuer.core.sm2 import ENCRYPTED_PEM_LABEL, Sm2KeyError, Sm2KeyFileError, Sm2PrivateKey

PASSPHRASE = "口令 passphrase".encode()
MESSAGE = b"a credential's Sig_structure"
KEY = Sm2PrivateKey.generate()
PEM = KEY.to_encrypted_pem(PASSPHRASE)

SM4_CBC = bytes.fromhex("06082a811ccf55016802")  # OID 1.2.156.10197.1.104.2
AES_256_CBC = bytes.fromhex("060960864801650304012a")  # OID 2.16.840.1.101.3.4.1.42
PBES2 = bytes.fromhex("06092a864886f70d01050d")  # OID 1.2.840.113549.1.5.13

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")


def _der(pem: bytes) -> bytes:
    """The base64 body of a PEM, decoded."""
    lines = pem.strip().splitlines()
    return base64.b64decode(b"".join(lines[1:-1]))


def _openssl(tmp: Path, *arguments: str, passphrase: bytes = PASSPHRASE) -> subprocess.CompletedProcess[bytes]:
    """``openssl`` in ``tmp``, the passphrase in the file ``pass`` (``-passin file:pass``)."""
    (tmp / "pass").write_bytes(passphrase)
    return subprocess.run(["openssl", *arguments], cwd=tmp, capture_output=True, check=False)


def test_a_key_comes_back_from_its_pem_and_signs_as_the_original() -> None:
    assert PEM.startswith(ENCRYPTED_PEM_LABEL + b"\n") and PEM.endswith(b"-----END ENCRYPTED PRIVATE KEY-----\n")
    again = Sm2PrivateKey.from_encrypted_pem(PEM, PASSPHRASE)
    KEY.public_key().verify(again.sign(MESSAGE), MESSAGE)
    assert again.public_key() == KEY.public_key() and again.private_raw() == KEY.private_raw()
    assert sm2._lib().ERR_get_error() == 0


def test_each_pem_has_its_own_salt_and_iv() -> None:
    assert KEY.to_encrypted_pem(PASSPHRASE) != PEM


def test_the_pem_is_pbes2_with_sm4_where_libcrypto_has_it() -> None:
    der = _der(PEM)
    assert PBES2 in der
    has_sm4 = sm2._lib().EVP_CIPHER_fetch(None, b"SM4-CBC", None)
    sm2._lib().EVP_CIPHER_free(has_sm4)
    assert (SM4_CBC if has_sm4 else AES_256_CBC) in der


def test_the_pem_holds_no_clear_private_scalar() -> None:
    assert KEY.private_raw() not in _der(PEM)
    assert KEY.private_raw() not in PEM


def test_a_wrong_passphrase_is_refused_with_our_error_and_leaves_no_openssl_error() -> None:
    with pytest.raises(Sm2KeyFileError) as refused:
        Sm2PrivateKey.from_encrypted_pem(PEM, b"another passphrase")
    assert refused.value.code == "invalid_sm2_key" and "passphrase" in refused.value.message
    assert refused.value.message_zh
    assert sm2._lib().ERR_get_error() == 0


def _changed(pem: bytes, at: int) -> bytes:
    der = bytearray(_der(pem))
    der[at] ^= 0x01
    body = base64.encodebytes(bytes(der)).replace(b"\n", b"")
    lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return ENCRYPTED_PEM_LABEL + b"\n" + lines + b"\n-----END ENCRYPTED PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("pem", "passphrase"),
    [
        (PEM[:120] + b"\n-----END ENCRYPTED PRIVATE KEY-----\n", PASSPHRASE),
        (PEM.replace(b"M", b"!", 1), PASSPHRASE),
        (_changed(PEM, 10), PASSPHRASE),
        (_changed(PEM, len(_der(PEM)) - 1), PASSPHRASE),
        (b"", PASSPHRASE),
        (b"not a pem", PASSPHRASE),
        (PEM, b""),
        (PEM, PASSPHRASE + b"\0"),
    ],
    ids=[
        "truncated",
        "not base64",
        "a changed byte of the parameters",
        "a changed last byte",
        "empty",
        "not a pem",
        "empty passphrase",
        "passphrase with a nul",
    ],
)
def test_a_damaged_pem_is_refused(pem: bytes, passphrase: bytes) -> None:
    with pytest.raises(Sm2KeyFileError):
        Sm2PrivateKey.from_encrypted_pem(pem, passphrase)
    assert sm2._lib().ERR_get_error() == 0


def test_a_clear_pem_is_refused_a_key_at_rest_is_encrypted() -> None:
    ed25519 = Ed25519PrivateKey.generate()
    clear = ed25519.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(Sm2KeyFileError):
        Sm2PrivateKey.from_encrypted_pem(clear, PASSPHRASE)


def test_an_ed25519_key_is_refused_as_not_sm2() -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE),
    )
    with pytest.raises(Sm2KeyError, match="ED25519 key, not an SM2 key") as refused:
        Sm2PrivateKey.from_encrypted_pem(pem, PASSPHRASE)
    assert not isinstance(refused.value, Sm2KeyFileError)
    assert sm2._lib().ERR_get_error() == 0


def test_a_scalar_that_is_not_its_points_is_refused() -> None:
    mismatched = Sm2PrivateKey.from_raw(KEY.private_raw(), Sm2PrivateKey.generate().public_key().raw())
    with pytest.raises(Sm2KeyFileError):
        Sm2PrivateKey.from_encrypted_pem(mismatched.to_encrypted_pem(PASSPHRASE), PASSPHRASE)


@pytest.mark.parametrize("passphrase", [b"", b"pass\0phrase"], ids=["empty", "with a nul"])
def test_a_passphrase_openssl_cannot_read_back_is_not_written(passphrase: bytes) -> None:
    with pytest.raises(ValueError):
        KEY.to_encrypted_pem(passphrase)


# --- the openssl command ----------------------------------------------------------------------


@needs_openssl
def test_openssl_reads_the_pem_and_finds_the_same_public_key(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_bytes(PEM)
    read = _openssl(tmp_path, "pkey", "-in", "key.pem", "-passin", "file:pass", "-noout")
    assert read.returncode == 0, read.stderr
    public = _openssl(tmp_path, "pkey", "-in", "key.pem", "-passin", "file:pass", "-pubout", "-outform", "DER")
    assert public.returncode == 0 and public.stdout == KEY.public_key().spki()
    wrong = _openssl(tmp_path, "pkey", "-in", "key.pem", "-passin", "file:pass", "-noout", passphrase=b"another")
    assert wrong.returncode != 0


@needs_openssl
def test_a_clear_pem_by_openssl_holds_the_scalar_the_encrypted_one_hides(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_bytes(PEM)
    clear = _openssl(tmp_path, "pkey", "-in", "key.pem", "-passin", "file:pass")
    assert clear.returncode == 0 and clear.stdout.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert KEY.private_raw() in _der(clear.stdout)  # so the check above would see one


@needs_openssl
@pytest.mark.parametrize("cipher", ["-sm4-cbc", "-aes-256-cbc"])
def test_a_key_openssl_made_is_read_and_signs_under_openssls_public_key(tmp_path: Path, cipher: str) -> None:
    made = _openssl(tmp_path, "genpkey", "-algorithm", "SM2", cipher, "-pass", "file:pass", "-out", "key.pem")
    assert made.returncode == 0, made.stderr
    public = _openssl(tmp_path, "pkey", "-in", "key.pem", "-passin", "file:pass", "-pubout", "-outform", "DER")
    key = Sm2PrivateKey.from_encrypted_pem((tmp_path / "key.pem").read_bytes(), PASSPHRASE)
    assert key.public_key().spki() == public.stdout
    key.public_key().verify(key.sign(MESSAGE), MESSAGE)


@needs_openssl
def test_a_pem_with_a_compressed_point_gives_the_65_byte_point(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_bytes(PEM)
    steps = [
        ["ec", "-in", "key.pem", "-passin", "file:pass", "-conv_form", "compressed", "-out", "clear.pem"],
        ["pkcs8", "-topk8", "-in", "clear.pem", "-v2", "aes-256-cbc", "-passout", "file:pass", "-out", "c.pem"],
    ]
    for step in steps:
        done = _openssl(tmp_path, *step)
        assert done.returncode == 0, done.stderr
    text = _openssl(tmp_path, "pkey", "-in", "c.pem", "-passin", "file:pass", "-noout", "-text").stdout
    assert b"pub:\n    02" in text or b"pub:\n    03" in text  # openssl kept it compressed
    key = Sm2PrivateKey.from_encrypted_pem((tmp_path / "c.pem").read_bytes(), PASSPHRASE)
    assert key.public_key().raw() == KEY.public_key().raw()
    KEY.public_key().verify(key.sign(MESSAGE), MESSAGE)
