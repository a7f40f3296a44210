"""What the commands that read a trust bundle share: the root certificate pinned with
``--root``, and a warning for each part of a bundle set aside."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from issuer.cli.output import EXIT_UNKNOWN, fail

if TYPE_CHECKING:
    from issuer.core.trust import TrustStore


def warn_about(trust: TrustStore) -> None:
    """Parts of the bundle set aside: they make only their organization's verdicts unknown."""
    for problem in trust.problems:
        click.echo(f"warning: {problem.message_zh} / {problem.message}", err=True)


def load_root(path: str) -> Any:
    from cryptography import x509

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        fail(f"unreadable: cannot read {path}: {exc.strerror} / 无法读取根证书文件", EXIT_UNKNOWN)
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        fail(f"unreadable: {path} is not a certificate / 不是证书文件", EXIT_UNKNOWN)
