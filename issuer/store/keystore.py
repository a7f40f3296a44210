"""Keys and certificates on disk under ``keys/``. Private keys are PKCS#8 PEM encrypted
with the configured passphrase and written with mode 0600; they are never logged."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.core import cose, pki
from issuer.core.errors import IssuerError
from issuer.core.signing import Signer


class KeyStoreError(IssuerError):
    kind = "keystore"


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

    def log_key(self) -> Ed25519PrivateKey:
        """The transparency log's signing key, made on first use (written with O_EXCL, so
        that two processes starting together end up with the one that was written first)."""
        if not self.log_key_path.exists():
            with contextlib.suppress(FileExistsError):
                _write_private(self.log_key_path, self._encrypt(Ed25519PrivateKey.generate()))
        return self._decrypt(self.log_key_path)

    @property
    def bundle_path(self) -> Path:
        return self.root / "trust-bundle.json"

    def org_dir(self, code: str) -> Path:
        return self.root / "organizations" / code

    def _encrypt(self, key: Ed25519PrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self.passphrase.encode()),
        )

    def _decrypt(self, path: Path) -> Ed25519PrivateKey:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), self.passphrase.encode())
        except FileNotFoundError:
            raise KeyStoreError("key_missing", f"no key at {path}", f"缺少密钥文件{path}") from None
        except (ValueError, TypeError):
            raise KeyStoreError(
                "key_unreadable",
                f"cannot decrypt {path.name}: wrong passphrase or damaged file",
                f"无法解密{path.name}：口令错误或文件损坏",
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError("key_type", f"{path.name} is not an Ed25519 key", f"{path.name}不是Ed25519密钥")
        return key

    @staticmethod
    def _pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    def has_authority(self) -> bool:
        return self.authority_key_path.exists() and self.authority_cert_path.exists()

    def save_authority(self, key: Ed25519PrivateKey, root: x509.Certificate) -> None:
        _write_private(self.authority_key_path, self._encrypt(key))
        self.authority_cert_path.write_bytes(self._pem(root))

    def load_authority(self) -> tuple[Ed25519PrivateKey, x509.Certificate]:
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

    def save_organization_key(self, key: Ed25519PrivateKey, cert: x509.Certificate) -> bytes:
        """Store an organization key and certificate; returns the kid."""
        parsed = pki.parse_organization_certificate(pki.der(cert))
        kid = cose.kid_for(parsed.der)
        folder = self.org_dir(parsed.org_code)
        _write_private(folder / f"{kid.hex()}.key.pem", self._encrypt(key))
        (folder / f"{kid.hex()}.crt.pem").write_bytes(self._pem(cert))
        return kid

    def organization_certificates(self, code: str) -> list[x509.Certificate]:
        folder = self.org_dir(code)
        paths = sorted(folder.glob("*.crt.pem")) if folder.exists() else []
        return [x509.load_pem_x509_certificate(p.read_bytes()) for p in paths]

    def organization_codes(self) -> list[str]:
        base = self.root / "organizations"
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.exists() else []

    def signer(self, code: str, kid: bytes) -> Signer:
        folder = self.org_dir(code)
        key = self._decrypt(folder / f"{kid.hex()}.key.pem")
        cert = x509.load_pem_x509_certificate((folder / f"{kid.hex()}.crt.pem").read_bytes())
        return Signer.from_der(key, pki.der(cert))

    def save_organization_record(self, code: str, record: dict[str, Any]) -> None:
        path = self.org_dir(code) / "organization.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")

    def organization_record(self, code: str) -> dict[str, Any]:
        path = self.org_dir(code) / "organization.json"
        try:
            return dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise KeyStoreError(
                "organization_missing", f"no organization {code} in the key store", f"密钥库中没有机构{code}"
            ) from None
