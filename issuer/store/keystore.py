"""Keys and certificates on disk under ``keys/``. Private keys are PKCS#8 PEM encrypted
with the configured passphrase and written with mode 0600; they are never logged. An Ed25519
key is written by ``cryptography`` (PBES2 with AES-256-CBC), an SM2 key of the 国密 profile
by ``libcrypto`` (PBES2 with SM4-CBC, ``Sm2PrivateKey.to_encrypted_pem``); ``openssl pkey``
reads both."""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.core import pki, suites
from issuer.core.errors import IssuerError
from issuer.core.keys import PrivateKey
from issuer.core.signing import Signer
from issuer.core.sm2 import Sm2KeyError, Sm2KeyFileError, Sm2PrivateKey, Sm2Unavailable
from issuer.core.suites import ED25519, SM2_SM3, Suite


class KeyStoreError(IssuerError):
    kind = "keystore"


def _new_key(suite: Suite) -> Ed25519PrivateKey | Sm2PrivateKey:
    return Sm2PrivateKey.generate() if suite is SM2_SM3 else Ed25519PrivateKey.generate()


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


@dataclass(frozen=True)
class KeyStore:
    root: Path
    passphrase: str

    @property
    def authority_key_path(self) -> Path:
        return self.root / "authority" / "root.key.pem"

    @property
    def authority_cert_path(self) -> Path:
        return self.root / "authority" / "root.crt.pem"

    @property
    def log_key_path(self) -> Path:
        return self.root / "log" / "log.key.pem"

    def log_key(self) -> Ed25519PrivateKey | Sm2PrivateKey:
        """The transparency log's signing key, made on first use (written with O_EXCL, so
        that two processes starting together end up with the one that was written first)."""
        if not self.log_key_path.exists():
            with contextlib.suppress(FileExistsError):
                _write_private(self.log_key_path, self._encrypt(_new_key(self.suite())))
        return self._decrypt(self.log_key_path)

    def existing_log_key(self) -> Ed25519PrivateKey | Sm2PrivateKey | None:
        """The log key if it was made; ``None`` if not (nothing is written: a probe's read)."""
        if not self.log_key_path.exists():
            return None
        return self._decrypt(self.log_key_path)

    def org_dir(self, code: str) -> Path:
        return self.root / "organizations" / code

    def _encrypt(self, key: Ed25519PrivateKey | Sm2PrivateKey) -> bytes:
        if isinstance(key, Sm2PrivateKey):
            return key.to_encrypted_pem(self.passphrase.encode())
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self.passphrase.encode()),
        )

    def _decrypt(self, path: Path) -> Ed25519PrivateKey | Sm2PrivateKey:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError("key_missing", f"no key at {path}", f"缺少密钥文件{path}") from None
        try:
            key = serialization.load_pem_private_key(data, self.passphrase.encode())
        except UnsupportedAlgorithm:
            # Decrypted, but a key cryptography does not have: an SM2 one, for libcrypto.
            return self._decrypt_sm2(path, data, decrypted=True)
        except (ValueError, TypeError):
            # A wrong passphrase, a damaged file, or SM4, a cipher cryptography does not
            # have (it cannot tell which): libcrypto tries.
            return self._decrypt_sm2(path, data, decrypted=False)
        if not isinstance(key, Ed25519PrivateKey):
            raise _not_a_signing_key(path)
        return key

    def _decrypt_sm2(self, path: Path, data: bytes, *, decrypted: bool) -> Sm2PrivateKey:
        try:
            return Sm2PrivateKey.from_encrypted_pem(data, self.passphrase.encode())
        except Sm2KeyFileError:
            pass
        except Sm2KeyError:
            raise _not_a_signing_key(path) from None
        except Sm2Unavailable:
            if decrypted:
                raise
        raise KeyStoreError(
            "key_unreadable",
            f"cannot decrypt {path.name}: wrong passphrase or damaged file",
            f"无法解密{path.name}：口令错误或文件损坏",
        ) from None

    @staticmethod
    def _pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    def has_authority(self) -> bool:
        return self.authority_key_path.exists() and self.authority_cert_path.exists()

    def new_authority_key(self, suite: Suite) -> Ed25519PrivateKey | Sm2PrivateKey:
        return _new_key(suite)

    def root_suite(self) -> Suite | None:
        """The suite of the authority root, which every key made after it follows; ``None``
        before there is a root."""
        if not self.authority_cert_path.exists():
            return None
        return suites.of_key(pki.root_public_key(self.authority_certificate()))

    def suite(self) -> Suite:
        """The suite a new key is made in: the root's (Ed25519 before there is a root)."""
        return self.root_suite() or ED25519

    def save_authority(self, key: PrivateKey, root: x509.Certificate) -> None:
        _write_private(self.authority_key_path, self._encrypt(_in_process(key)))
        self.save_authority_certificate(root)

    def save_authority_certificate(self, root: x509.Certificate) -> None:
        self.authority_cert_path.parent.mkdir(parents=True, exist_ok=True)
        self.authority_cert_path.write_bytes(self._pem(root))

    def load_authority(self) -> tuple[Ed25519PrivateKey | Sm2PrivateKey, x509.Certificate]:
        key = self._decrypt(self.authority_key_path)
        return key, self.authority_certificate()

    def authority_certificate(self) -> x509.Certificate:
        """The root certificate alone: reading it needs no passphrase."""
        try:
            return x509.load_pem_x509_certificate(self.authority_cert_path.read_bytes())
        except FileNotFoundError:
            raise KeyStoreError(
                "authority_missing",
                f"no authority root certificate at {self.authority_cert_path} (run issuer keys init-authority)",
                f"缺少根证书{self.authority_cert_path}（请先运行 issuer keys init-authority）",
            ) from None

    def new_organization_key(self, org_code: str) -> Ed25519PrivateKey | Sm2PrivateKey:
        return _new_key(self.suite())

    def save_organization_key(self, key: PrivateKey, cert: x509.Certificate) -> bytes:
        """Store an organization key and certificate; returns the kid."""
        parsed = pki.parse_organization_certificate(pki.der(cert))
        kid = pki.kid_of(parsed.der)
        _write_private(self.org_dir(parsed.org_code) / f"{kid.hex()}.key.pem", self._encrypt(_in_process(key)))
        return self.save_organization_certificate(cert)

    def save_organization_certificate(self, cert: x509.Certificate) -> bytes:
        """Store an organization certificate alone (its key is elsewhere); returns the kid."""
        parsed = pki.parse_organization_certificate(pki.der(cert))
        kid = pki.kid_of(parsed.der)
        folder = self.org_dir(parsed.org_code)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{kid.hex()}.crt.pem").write_bytes(self._pem(cert))
        return kid

    def organization_certificate(self, code: str, kid: bytes) -> x509.Certificate:
        path = self.org_dir(code) / f"{kid.hex()}.crt.pem"
        try:
            return x509.load_pem_x509_certificate(path.read_bytes())
        except FileNotFoundError:
            raise KeyStoreError("certificate_missing", f"no certificate at {path}", f"缺少证书文件{path}") from None

    def signer(self, code: str, kid: bytes) -> Signer:
        key = self._decrypt(self.org_dir(code) / f"{kid.hex()}.key.pem")
        return Signer.from_der(key, pki.der(self.organization_certificate(code, kid)))


def _not_a_signing_key(path: Path) -> KeyStoreError:
    return KeyStoreError("key_type", f"{path.name} is not an Ed25519 or SM2 key", f"{path.name}不是Ed25519或SM2密钥")


def _in_process(key: PrivateKey) -> Ed25519PrivateKey | Sm2PrivateKey:
    if not isinstance(key, Ed25519PrivateKey | Sm2PrivateKey):
        raise KeyStoreError(
            "key_type", "the file key store keeps only keys made in this process", "文件密钥库只保存本进程生成的密钥"
        )
    return key


class KeyRing:
    """The key store with what it decrypts kept for the life of the process: PKCS#8
    decryption is deliberately slow, and a registry transaction signs a certificate, a key
    statement and a trust list with the root key."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._signers: dict[str, Signer] = {}
        self._authority: tuple[Ed25519PrivateKey | Sm2PrivateKey, x509.Certificate] | None = None
        self._root: x509.Certificate | None = None
        self._log_key: Ed25519PrivateKey | Sm2PrivateKey | None = None

    def signer(self, org_code: str, kid: str) -> Signer:
        with self._lock:
            if kid not in self._signers:
                self._signers[kid] = self.store.signer(org_code, bytes.fromhex(kid))
            return self._signers[kid]

    def authority(self) -> tuple[Ed25519PrivateKey | Sm2PrivateKey, x509.Certificate]:
        with self._lock:
            if self._authority is None:
                self._authority = self.store.load_authority()
            return self._authority

    def root_certificate(self) -> x509.Certificate:
        with self._lock:
            if self._root is None:
                self._root = self.store.authority_certificate()
            return self._root

    def log_key(self) -> Ed25519PrivateKey | Sm2PrivateKey:
        with self._lock:
            if self._log_key is None:
                self._log_key = self.store.log_key()
            return self._log_key

    def existing_log_key(self) -> Ed25519PrivateKey | Sm2PrivateKey | None:
        with self._lock:
            if self._log_key is None:
                self._log_key = self.store.existing_log_key()
            return self._log_key

    def new_organization_key(self, org_code: str) -> Ed25519PrivateKey | Sm2PrivateKey:
        return self.store.new_organization_key(org_code)

    def save_organization_key(self, key: PrivateKey, cert: x509.Certificate) -> bytes:
        return self.store.save_organization_key(key, cert)

    def has_authority(self) -> bool:
        return self.store.has_authority()

    def new_authority_key(self, suite: Suite) -> Ed25519PrivateKey | Sm2PrivateKey:
        return self.store.new_authority_key(suite)

    def save_authority(self, key: PrivateKey, root: x509.Certificate) -> None:
        self.store.save_authority(key, root)
