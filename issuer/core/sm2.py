"""SM2 signatures with SM3 (GB/T 32918.2, as GB/T 35276 profiles them), through the system's
OpenSSL 3 ``libcrypto``: the signature suite of the 国密 profile (``suites.SM2_SM3``).

What is signed is ``e = SM3(Z ‖ M)``, where ``Z`` hashes the signer's distinguishing ID
(always ``DEFAULT_ID``, ``1234567812345678``, set explicitly: OpenSSL 3.0 would use an empty
ID otherwise), the curve and the public key. A signature is the 64 bytes ``r ‖ s`` (each
32 bytes, big-endian), the form COSE gives ECDSA signatures; OpenSSL, X.509 and GB/T 35276
write the DER ``SEQUENCE { r, s }`` instead (``to_der``, ``from_der``). A public key is the
65-byte uncompressed point ``04 ‖ x ‖ y``. A private key is kept at rest as an encrypted
PKCS#8 PEM (``to_encrypted_pem``), which the ``openssl`` command reads too.

``cryptography`` (pyca) has SM3 and SM4 but no SM2 keys, and the other Python packages
either are pure Python (hundreds of signatures a second), bundle an OpenSSL 1.1 that cannot
set the ID, or need GmSSL built from source; ``libcrypto`` is on every machine that runs
the service and signs at its native speed (about 4,000 a second here, against Ed25519's
50,000). It is loaded when first used, so a deployment of the Ed25519 profile never needs
it; a ``libcrypto`` without SM2 raises ``Sm2Unavailable``."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.exceptions import InvalidSignature

from .errors import IssuerError

DEFAULT_ID = b"1234567812345678"
"""The signer's distinguishing ID of GB/T 35276 §5.1 (the 16 ASCII digits)."""
PUBLIC_KEY_BYTES = 65
SIGNATURE_BYTES = 64
ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
"""n, the order of the SM2 curve's base point (GB/T 32918.5)."""

_KEYPAIR, _PUBLIC = 0x87, 0x86  # EVP_PKEY_KEYPAIR, EVP_PKEY_PUBLIC_KEY
_BIO_CTRL_INFO = 3  # BIO_get_mem_data is this BIO_ctrl
_PEM_CIPHERS = (b"SM4-CBC", b"AES-256-CBC")
"""The cipher of an encrypted key's PBES2, the first that this ``libcrypto`` has: SM4 is the
国密 one (GB/T 32907); AES-256-CBC is what ``cryptography`` writes for Ed25519 keys."""
ENCRYPTED_PEM_LABEL = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"


class Sm2Unavailable(IssuerError):
    """This machine's ``libcrypto`` cannot make or check SM2 signatures."""

    kind = "unavailable"

    def __init__(self, why: str) -> None:
        super().__init__(
            "sm2_unavailable",
            f"SM2 signatures need OpenSSL 3 with SM2 (libcrypto.so.3): {why}",
            f"SM2签名需要支持SM2的OpenSSL 3（libcrypto.so.3）：{why}",
        )


class Sm2KeyError(IssuerError):
    """Bytes that are not an SM2 key: a point not on the curve, a scalar out of range."""

    kind = "invalid_input"

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__("invalid_sm2_key", message, message_zh)


class Sm2KeyFileError(Sm2KeyError):
    """An encrypted key file that cannot be opened: a wrong passphrase, damaged bytes, or not
    an encrypted PKCS#8 PEM. (A file that opens but holds another kind of key raises
    ``Sm2KeyError``.)"""

    def __init__(self) -> None:
        super().__init__(
            "cannot decrypt the SM2 private key: wrong passphrase, or not an intact encrypted PKCS#8 PEM",
            "无法解密SM2私钥：口令错误，或不是完好的加密PKCS#8 PEM",
        )


class _Library:
    """The few ``libcrypto`` functions used, with their C signatures."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        p, s, n, b = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p
        signatures: dict[str, tuple[Any, ...]] = {
            "ERR_get_error": (ctypes.c_ulong,),
            "ERR_error_string_n": (None, ctypes.c_ulong, b, s),
            "ERR_clear_error": (None,),
            "EVP_PKEY_CTX_new_from_name": (p, p, b, b),
            "EVP_PKEY_CTX_free": (None, p),
            "EVP_PKEY_keygen_init": (n, p),
            "EVP_PKEY_generate": (n, p, ctypes.POINTER(p)),
            "EVP_PKEY_free": (None, p),
            "EVP_PKEY_get_octet_string_param": (n, p, b, b, s, ctypes.POINTER(s)),
            "EVP_PKEY_get_bn_param": (n, p, b, ctypes.POINTER(p)),
            "EVP_PKEY_fromdata_init": (n, p),
            "EVP_PKEY_fromdata": (n, p, ctypes.POINTER(p), n, p),
            "EVP_PKEY_is_a": (n, p, b),
            "BN_bin2bn": (p, b, n, p),
            "BN_bn2binpad": (n, p, b, n),
            "BN_clear_free": (None, p),
            "OSSL_PARAM_BLD_new": (p,),
            "OSSL_PARAM_BLD_free": (None, p),
            "OSSL_PARAM_BLD_push_utf8_string": (n, p, b, b, s),
            "OSSL_PARAM_BLD_push_octet_string": (n, p, b, b, s),
            "OSSL_PARAM_BLD_push_BN": (n, p, b, p),
            "OSSL_PARAM_BLD_to_param": (p, p),
            "OSSL_PARAM_free": (None, p),
            "EVP_MD_CTX_new": (p,),
            "EVP_MD_CTX_free": (None, p),
            "EVP_sm3": (p,),
            "EVP_PKEY_CTX_set1_id": (n, p, b, n),
            "EVP_DigestSignInit": (n, p, ctypes.POINTER(p), p, p, p),
            "EVP_DigestVerifyInit": (n, p, ctypes.POINTER(p), p, p, p),
            "EVP_DigestSign": (n, p, b, ctypes.POINTER(s), b, s),
            "EVP_DigestVerify": (n, p, b, s, b, s),
            "i2d_PUBKEY": (n, p, ctypes.POINTER(b)),
            "CRYPTO_free": (None, p, b, n),
            "EVP_PKEY_get_utf8_string_param": (n, p, b, b, s, ctypes.POINTER(s)),
            "EVP_PKEY_set_utf8_string_param": (n, p, b, b),
            "EVP_PKEY_get0_type_name": (b, p),
            "EVP_PKEY_CTX_new_from_pkey": (p, p, p, b),
            "EVP_PKEY_check": (n, p),
            "EVP_CIPHER_fetch": (p, p, b, b),
            "EVP_CIPHER_free": (None, p),
            "BIO_s_mem": (p,),
            "BIO_new": (p, p),
            "BIO_new_mem_buf": (p, b, n),
            "BIO_ctrl": (ctypes.c_long, p, n, ctypes.c_long, p),
            "BIO_free": (n, p),
            "PEM_write_bio_PKCS8PrivateKey": (n, p, p, p, b, n, p, p),
            "PEM_read_bio_PrivateKey": (p, p, p, p, b),
        }
        for name, (result, *arguments) in signatures.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = result, arguments
            setattr(self, name, function)

    def __getattr__(self, name: str) -> Any:  # the functions set above, for the type checker
        raise AttributeError(name)

    def check(self, result: int, what: str) -> None:
        if result != 1:
            raise RuntimeError(f"libcrypto {what} failed: {self.errors()}")

    def errors(self) -> str:
        found = []
        while code := self.ERR_get_error():
            text = ctypes.create_string_buffer(256)
            self.ERR_error_string_n(code, text, 256)
            found.append(text.value.decode(errors="replace"))
        return "; ".join(found) or "no reason given"


_loaded: _Library | None = None
_loading = threading.Lock()


def _lib() -> _Library:
    global _loaded
    if _loaded is None:
        with _loading:
            if _loaded is None:
                _loaded = _load()
    return _loaded


def _load() -> _Library:
    path = ctypes.util.find_library("crypto") or "libcrypto.so.3"
    try:
        library = _Library(ctypes.CDLL(path))
    except (OSError, AttributeError) as exc:
        raise Sm2Unavailable(f"{path}: {exc}") from None
    context = library.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
    if not context:
        raise Sm2Unavailable(f"{path} has no SM2 ({library.errors()})")
    library.EVP_PKEY_CTX_free(context)
    return library


class _Key:
    """An ``EVP_PKEY`` of type SM2, freed with its owner."""

    def __init__(self, handle: int | None) -> None:
        if not handle:
            raise RuntimeError(f"libcrypto returned no key: {_lib().errors()}")
        self.handle = ctypes.c_void_p(handle)

    def __del__(self) -> None:
        if _loaded is not None and getattr(self, "handle", None):
            _loaded.EVP_PKEY_free(self.handle)

    @classmethod
    def generate(cls) -> _Key:
        lib = _lib()
        context = lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
        try:
            lib.check(lib.EVP_PKEY_keygen_init(context), "keygen")
            made = ctypes.c_void_p()
            lib.check(lib.EVP_PKEY_generate(context, ctypes.byref(made)), "keygen")
            return cls(made.value)
        finally:
            lib.EVP_PKEY_CTX_free(context)

    @classmethod
    def from_parts(cls, public: bytes, private: bytes | None) -> _Key:
        """The key of the point ``public`` (checked to be on the curve) and, for a private
        key, the scalar ``private`` (1 ≤ d ≤ n − 2)."""
        lib = _lib()
        builder, number, params = lib.OSSL_PARAM_BLD_new(), None, None
        context = lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
        try:
            lib.check(lib.OSSL_PARAM_BLD_push_utf8_string(builder, b"group", b"SM2", 0), "key parameters")
            lib.check(lib.OSSL_PARAM_BLD_push_octet_string(builder, b"pub", public, len(public)), "key parameters")
            if private is not None:
                number = lib.BN_bin2bn(private, len(private), None)
                lib.check(lib.OSSL_PARAM_BLD_push_BN(builder, b"priv", number), "key parameters")
            params = lib.OSSL_PARAM_BLD_to_param(builder)
            lib.check(lib.EVP_PKEY_fromdata_init(context), "key from data")
            made = ctypes.c_void_p()
            selection = _KEYPAIR if private is not None else _PUBLIC
            if lib.EVP_PKEY_fromdata(context, ctypes.byref(made), selection, params) != 1:
                lib.errors()
                raise Sm2KeyError("not a point of the SM2 curve", "不是SM2曲线上的点")
            return cls(made.value)
        finally:
            lib.EVP_PKEY_CTX_free(context)
            if params:
                lib.OSSL_PARAM_free(params)
            if number:
                lib.BN_clear_free(number)
            lib.OSSL_PARAM_BLD_free(builder)

    @classmethod
    def from_encrypted_pem(cls, pem: bytes, passphrase: bytes) -> _Key:
        """The SM2 key pair of an encrypted PKCS#8 PEM. Its point is made uncompressed (a PEM
        by another tool may carry it compressed, and ``Sm2PublicKey.raw`` is the 65 bytes).
        OpenSSL 3.0 may read a key on the SM2 curve as an ``EC`` key, which does not sign
        with SM2's Z: such a key is rebuilt as an SM2 one from its two parts."""
        if not pem.lstrip().startswith(ENCRYPTED_PEM_LABEL) or not _usable(passphrase):
            raise Sm2KeyFileError
        lib = _lib()
        bio = lib.BIO_new_mem_buf(pem, len(pem))
        if not bio:
            raise MemoryError("BIO_new_mem_buf")
        try:
            # No callback: OpenSSL takes the last argument as the NUL-terminated passphrase
            # (and so never asks on a terminal).
            handle = lib.PEM_read_bio_PrivateKey(bio, None, None, passphrase)
        finally:
            lib.BIO_free(bio)
        if not handle:
            lib.ERR_clear_error()
            raise Sm2KeyFileError
        key = cls(handle)
        sm2_curve = lib.EVP_PKEY_is_a(key.handle, b"EC") and key.group() == "SM2"
        if not (lib.EVP_PKEY_is_a(key.handle, b"SM2") or sm2_curve):
            kind = (lib.EVP_PKEY_get0_type_name(key.handle) or b"unknown").decode(errors="replace")
            lib.ERR_clear_error()
            raise Sm2KeyError(f"the PEM holds an {kind} key, not an SM2 key", f"该PEM中是{kind}密钥，不是SM2密钥")
        lib.check(lib.EVP_PKEY_set_utf8_string_param(key.handle, b"point-format", b"uncompressed"), "point format")
        if not lib.EVP_PKEY_is_a(key.handle, b"SM2"):
            key = cls.from_parts(key.public_point(), _private_scalar(key))
        if not key.valid():
            raise Sm2KeyFileError  # decrypted, but damaged: say a scalar that is not its point's
        return key

    def to_encrypted_pem(self, passphrase: bytes) -> bytes:
        if not _usable(passphrase):
            raise ValueError("the passphrase is 1 or more bytes, none of them NUL")
        lib = _lib()
        for name in _PEM_CIPHERS:
            cipher = lib.EVP_CIPHER_fetch(None, name, None)
            if not cipher:
                lib.ERR_clear_error()
                continue
            bio = lib.BIO_new(lib.BIO_s_mem())
            try:
                if not bio:
                    raise MemoryError("BIO_new")
                written = lib.PEM_write_bio_PKCS8PrivateKey(
                    bio, self.handle, cipher, passphrase, len(passphrase), None, None
                )
                if written == 1:
                    data = ctypes.c_void_p()
                    size = lib.BIO_ctrl(bio, _BIO_CTRL_INFO, 0, ctypes.byref(data))
                    return ctypes.string_at(data, size)
                lib.ERR_clear_error()  # this cipher cannot be PBES2's here: the next one
            finally:
                lib.EVP_CIPHER_free(cipher)
                if bio:
                    lib.BIO_free(bio)
        raise RuntimeError(f"libcrypto cannot encrypt a private key with any of {_PEM_CIPHERS}")

    def group(self) -> str:
        lib, out, size = _lib(), ctypes.create_string_buffer(64), ctypes.c_size_t()
        if lib.EVP_PKEY_get_utf8_string_param(self.handle, b"group", out, 64, ctypes.byref(size)) != 1:
            lib.ERR_clear_error()
            return ""
        return out.value.decode(errors="replace")

    def valid(self) -> bool:
        """Whether the point is on the curve, the scalar in range and the point's (OpenSSL's
        full check, a few scalar multiplications)."""
        lib = _lib()
        context = lib.EVP_PKEY_CTX_new_from_pkey(None, self.handle, None)
        if not context:
            raise RuntimeError(f"libcrypto EVP_PKEY_CTX_new_from_pkey failed: {lib.errors()}")
        try:
            good = lib.EVP_PKEY_check(context) == 1
            lib.ERR_clear_error()
            return bool(good)
        finally:
            lib.EVP_PKEY_CTX_free(context)

    def public_point(self) -> bytes:
        lib, out, size = _lib(), ctypes.create_string_buffer(PUBLIC_KEY_BYTES), ctypes.c_size_t()
        lib.check(
            lib.EVP_PKEY_get_octet_string_param(self.handle, b"pub", out, PUBLIC_KEY_BYTES, ctypes.byref(size)),
            "public key",
        )
        return out.raw[: size.value]

    def spki(self) -> bytes:
        lib, out = _lib(), ctypes.c_char_p()
        size = lib.i2d_PUBKEY(self.handle, ctypes.byref(out))
        if size <= 0:
            raise RuntimeError(f"libcrypto i2d_PUBKEY failed: {lib.errors()}")
        try:
            return ctypes.string_at(out, size)
        finally:
            lib.CRYPTO_free(ctypes.cast(out, ctypes.c_void_p), b"", 0)


def _usable(passphrase: bytes) -> bool:
    """OpenSSL reads the passphrase up to its first NUL, and an empty one encrypts nothing."""
    return bool(passphrase) and b"\0" not in passphrase


def _private_scalar(key: _Key) -> bytes:
    lib, number = _lib(), ctypes.c_void_p()
    lib.check(lib.EVP_PKEY_get_bn_param(key.handle, b"priv", ctypes.byref(number)), "private key")
    try:
        out = ctypes.create_string_buffer(32)
        if lib.BN_bn2binpad(number, out, 32) != 32:
            raise RuntimeError(f"libcrypto BN_bn2binpad failed: {lib.errors()}")
        return out.raw
    finally:
        lib.BN_clear_free(number)


def _check_point(public: bytes) -> None:
    if len(public) != PUBLIC_KEY_BYTES or public[0] != 4:
        raise Sm2KeyError(
            f"an SM2 public key is the 65-byte point 04 ‖ x ‖ y, got {len(public)} bytes",
            f"SM2公钥应为65字节的点 04‖x‖y，实为{len(public)}字节",
        )


class Sm2PublicKey:
    """A public key, checking signatures as ``Ed25519PublicKey.verify`` does."""

    def __init__(self, key: _Key) -> None:
        self._key = key
        self._raw = key.public_point()

    @classmethod
    def from_raw(cls, public: bytes) -> Sm2PublicKey:
        _check_point(public)
        return cls(_Key.from_parts(public, None))

    def raw(self) -> bytes:
        """The 65-byte point ``04 ‖ x ‖ y``."""
        return self._raw

    def spki(self) -> bytes:
        """The DER SubjectPublicKeyInfo (id-ecPublicKey on curve 1.2.156.10197.1.301), as
        ``openssl`` reads it."""
        return self._key.spki()

    def verify(self, signature: bytes, data: bytes, *, distinguishing_id: bytes = DEFAULT_ID) -> None:
        """Raise ``InvalidSignature`` unless ``signature`` (``r ‖ s``) signs ``data``."""
        try:
            der = to_der(signature)
        except ValueError:
            raise InvalidSignature from None
        lib = _lib()
        with _sm3_digest(lib.EVP_DigestVerifyInit, self._key, distinguishing_id, "verify") as digest:
            good = lib.EVP_DigestVerify(digest, der, len(der), data, len(data)) == 1
            lib.ERR_clear_error()
        if not good:
            raise InvalidSignature

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sm2PublicKey) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)


class Sm2PrivateKey:
    """A private key in this process: signs as ``Ed25519PrivateKey.sign`` does."""

    def __init__(self, key: _Key) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        return cls(_Key.generate())

    @classmethod
    def from_raw(cls, private: bytes, public: bytes) -> Sm2PrivateKey:
        """The key of the 32-byte scalar ``private`` whose point is ``public`` (fixed keys
        for test vectors; OpenSSL checks that the two belong together only by use)."""
        _check_point(public)
        if len(private) != 32 or not 1 <= int.from_bytes(private, "big") <= ORDER - 2:
            raise Sm2KeyError(
                "an SM2 private key is a 32-byte scalar in [1, n − 2]", "SM2私钥应为[1, n−2]内的32字节整数"
            )
        return cls(_Key.from_parts(public, private))

    @classmethod
    def from_encrypted_pem(cls, pem: bytes, passphrase: bytes) -> Sm2PrivateKey:
        """The key of ``to_encrypted_pem``'s PEM (or of ``openssl``'s: any encrypted PKCS#8 of
        an SM2 key). ``Sm2KeyFileError`` for a wrong passphrase or a damaged PEM,
        ``Sm2KeyError`` for a PEM that holds another kind of key."""
        return cls(_Key.from_encrypted_pem(pem, passphrase))

    def to_encrypted_pem(self, passphrase: bytes) -> bytes:
        """The key as an encrypted PKCS#8 PEM (``-----BEGIN ENCRYPTED PRIVATE KEY-----``):
        PBES2 with PBKDF2-HMAC-SHA256 (OpenSSL's 2,048 iterations, as ``cryptography`` uses
        for Ed25519 keys) and SM4-CBC, or AES-256-CBC where this ``libcrypto`` has no SM4.
        ``openssl pkey -passin`` reads it. ``ValueError`` for an empty passphrase or one with
        a NUL byte."""
        return self._key.to_encrypted_pem(passphrase)

    def private_raw(self) -> bytes:
        return _private_scalar(self._key)

    def public_key(self) -> Sm2PublicKey:
        return Sm2PublicKey(self._key)

    def sign(self, data: bytes, *, distinguishing_id: bytes = DEFAULT_ID) -> bytes:
        """The 64-byte signature ``r ‖ s`` of ``data`` (a fresh random k each time, from
        OpenSSL's generator: two signatures of the same data differ)."""
        lib = _lib()
        with _sm3_digest(lib.EVP_DigestSignInit, self._key, distinguishing_id, "sign") as digest:
            size = ctypes.c_size_t(80)
            out = ctypes.create_string_buffer(80)
            lib.check(lib.EVP_DigestSign(digest, out, ctypes.byref(size), data, len(data)), "sign")
            return from_der(out.raw[: size.value])


@contextmanager
def _sm3_digest(init: Any, key: _Key, distinguishing_id: bytes, what: str) -> Iterator[Any]:
    """An ``EVP_MD_CTX`` set up by ``init`` (``EVP_DigestSignInit`` or ``VerifyInit``) for SM3
    over ``key`` with ``distinguishing_id`` set after the init and before any data (Z is
    computed from it at the first update); freed on leaving."""
    lib = _lib()
    digest = lib.EVP_MD_CTX_new()
    if not digest:
        raise MemoryError("EVP_MD_CTX_new")
    try:
        context = ctypes.c_void_p()
        lib.check(init(digest, ctypes.byref(context), lib.EVP_sm3(), None, key.handle), what)
        lib.check(lib.EVP_PKEY_CTX_set1_id(context, distinguishing_id, len(distinguishing_id)), what)
        yield digest
    finally:
        lib.EVP_MD_CTX_free(digest)


def sm3(data: bytes) -> bytes:
    """SM3 (GB/T 32905) of ``data``, 32 bytes."""
    return hashlib.new("sm3", data).digest()


# r ‖ s and DER ------------------------------------------------------------------------------


def _der_integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")  # a leading 00 where the top bit is set
    return bytes((0x02, len(body))) + body


def to_der(signature: bytes) -> bytes:
    """``SEQUENCE { INTEGER r, INTEGER s }`` of the 64-byte ``r ‖ s``; ``ValueError`` unless
    0 < r, s < n."""
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("an SM2 signature is 64 bytes")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < ORDER and 0 < s < ORDER):
        raise ValueError("r or s out of range")
    body = _der_integer(r) + _der_integer(s)
    return bytes((0x30, len(body))) + body


def from_der(der: bytes) -> bytes:
    """The 64-byte ``r ‖ s`` of a DER signature, read strictly (minimal integers, no
    trailing bytes); ``ValueError`` otherwise."""
    if len(der) < 8 or der[0] != 0x30 or der[1] != len(der) - 2:
        raise ValueError("not a DER SEQUENCE of two integers")
    values, at = [], 2
    for _ in range(2):
        if at + 2 > len(der) or der[at] != 0x02:
            raise ValueError("not a DER INTEGER")
        size = der[at + 1]
        body = der[at + 2 : at + 2 + size]
        if not 1 <= size == len(body) or body[0] & 0x80 or (size > 1 and body[0] == 0 and not body[1] & 0x80):
            raise ValueError("not a minimal positive DER INTEGER")
        values.append(int.from_bytes(body, "big"))
        at += 2 + size
    if at != len(der) or not all(0 < v < ORDER for v in values):
        raise ValueError("trailing bytes, or r or s out of range")
    return b"".join(v.to_bytes(32, "big") for v in values)
