"""Keys in a PKCS#11 token (an HSM; SoftHSM2 in the tests): made in the token
(``CKM_EC_EDWARDS_KEY_PAIR_GEN``, sensitive, not extractable) and used there
(``CKM_EDDSA``); only public keys, the bytes to sign and signatures cross into this process.

Labels: ``issuer/root``, ``issuer/log``, ``issuer/org/<code>/<kid>``; a new organization key
is ``issuer/org/<code>/new-<id>`` until its certificate exists and names its kid.
Certificates are files in the keys folder, where the file key store keeps them: they are
public, and the root certificate is read (by ``/readyz``, ``issuer trust``) without a token
session."""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from issuer.core import pki
from issuer.core.keys import PrivateKey
from issuer.core.pki import kid_of
from issuer.core.signing import Signer
from issuer.core.suites import ED25519, Suite
from issuer.store.keystore import KeyStore, KeyStoreError
from issuer.store.pkcs11_session import Token

ROOT_LABEL = "issuer/root"
LOG_LABEL = "issuer/log"


def org_label(code: str, kid: str) -> str:
    return f"issuer/org/{code}/{kid}"


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class TokenKey:
    """A private key in the token, by its label: the bytes go in, the signature comes out."""

    token: Token
    label: str
    public: Ed25519PublicKey

    def sign(self, data: bytes) -> bytes:
        return self.token.sign(self.label, data)

    def public_key(self) -> Ed25519PublicKey:
        return self.public


class TokenKeys:
    """The ``Keys`` port over a token, certificates in ``files`` (a ``KeyStore`` that holds
    no private key)."""

    def __init__(self, files: KeyStore, token: Token) -> None:
        self.files = files
        self.token = token
        self._lock = threading.RLock()
        self._signers: dict[str, Signer] = {}
        self._found: dict[str, TokenKey] = {}
        self._root: x509.Certificate | None = None

    def _find(self, label: str) -> TokenKey | None:
        """The key labelled ``label``, looked up once: a label names one key for good (a
        network HSM answers each lookup with a round trip)."""
        with self._lock:
            if label not in self._found:
                public = self.token.find(label)
                if public is None:
                    return None
                self._found[label] = TokenKey(self.token, label, public)
            return self._found[label]

    def _key(self, label: str) -> TokenKey:
        found = self._find(label)
        if found is None:
            raise KeyStoreError("key_missing", f"no key {label} in the token", f"令牌中没有密钥{label}")
        return found

    def signer(self, org_code: str, kid: str) -> Signer:
        with self._lock:
            if kid not in self._signers:
                cert = self.files.organization_certificate(org_code, bytes.fromhex(kid))
                self._signers[kid] = Signer.from_der(self._key(org_label(org_code, kid)), pki.der(cert))
            return self._signers[kid]

    def root_certificate(self) -> x509.Certificate:
        with self._lock:
            if self._root is None:
                self._root = self.files.authority_certificate()
            return self._root

    def authority(self) -> tuple[PrivateKey, x509.Certificate]:
        root = self.root_certificate()
        key = self._key(ROOT_LABEL)
        if _raw(key.public) != _raw(pki.root_public_key(root)):
            raise KeyStoreError(
                "key_certificate_mismatch",
                f"the token's {ROOT_LABEL} is not the key of {self.files.authority_cert_path}",
                f"令牌中的{ROOT_LABEL}与根证书{self.files.authority_cert_path}不匹配",
            )
        return key, root

    def log_key(self) -> PrivateKey:
        """Made on first use, under a lock file in the keys folder, so that two processes
        starting together end up with one log key."""
        found = self.existing_log_key()
        if found is not None:
            return found
        path = self.files.root / "log" / "token.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.token.find(LOG_LABEL) is None:
                self.token.generate(LOG_LABEL)
        return self._key(LOG_LABEL)

    def existing_log_key(self) -> PrivateKey | None:
        return self._find(LOG_LABEL)

    def new_organization_key(self, org_code: str) -> PrivateKey:
        label = org_label(org_code, f"new-{os.urandom(8).hex()}")
        return TokenKey(self.token, label, self.token.generate(label))

    def save_organization_key(self, key: PrivateKey, cert: x509.Certificate) -> bytes:
        """Label the key by its kid and keep the certificate beside the file store's."""
        parsed = pki.parse_organization_certificate(pki.der(cert))
        token_key = self._ours(key, parsed.public_key)
        self.token.relabel(token_key.label, org_label(parsed.org_code, kid_of(parsed.der).hex()))
        return self.files.save_organization_certificate(cert)

    def has_authority(self) -> bool:
        return self.files.authority_cert_path.exists() and self.token.find(ROOT_LABEL) is not None

    def new_authority_key(self, suite: Suite) -> PrivateKey:
        if suite is not ED25519:
            raise KeyStoreError(
                "token_suite", "a PKCS#11 token here makes Ed25519 keys only", "PKCS#11令牌在此只能生成Ed25519密钥"
            )
        if self.token.find(ROOT_LABEL) is not None:
            raise KeyStoreError(
                "authority_incomplete",
                f"the token holds {ROOT_LABEL} but there is no {self.files.authority_cert_path}: "
                "restore the certificate, or delete the key from the token (pkcs11-tool --delete-object)",
                f"令牌中已有{ROOT_LABEL}，但缺少根证书{self.files.authority_cert_path}：请恢复证书或从令牌中删除该密钥",
            )
        return TokenKey(self.token, ROOT_LABEL, self.token.generate(ROOT_LABEL))

    def save_authority(self, key: PrivateKey, root: x509.Certificate) -> None:
        self._ours(key, pki.root_public_key(root))
        self.files.save_authority_certificate(root)

    def _ours(self, key: PrivateKey, public: Ed25519PublicKey) -> TokenKey:
        if not isinstance(key, TokenKey) or key.token is not self.token or _raw(key.public) != _raw(public):
            raise KeyStoreError(
                "key_certificate_mismatch",
                "the certificate is not of a key this token made",
                "证书不属于本令牌生成的密钥",
            )
        return key

    def close(self) -> None:
        self.token.close()
