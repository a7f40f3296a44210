"""What the tests of ``deploy/`` share: where its files are, and a throw-away TLS
certificate for running nginx with the deployment's file."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
NGINX = DEPLOY / "nginx" / "issuer.conf"


def nginx_binary() -> str | None:
    """nginx, on PATH or where Debian installs it (/usr/sbin is not on every user's PATH)."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for cert.hrss.example.cn and its key, valid a day, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cert.hrss.example.cn")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def with_certificate(conf: str, certificate: Path, key: Path) -> str:
    """The nginx file ``conf`` with its TLS certificate and key replaced."""
    import re

    conf = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {certificate};", conf)
    return re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", conf)
