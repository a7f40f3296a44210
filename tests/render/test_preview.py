"""A preview's QR code reads as a certificate's URL that holds no credential: a phone that
scans a printed preview is told it is not valid, whatever host the deployment serves."""

from __future__ import annotations

import pytest

from issuer.core import qrtext
from issuer.core.errors import CredentialFormatError
from issuer.render.preview import preview_qr_text


@pytest.mark.parametrize(
    ("host", "text"),
    [
        ("cert.hrss.example.cn", "HTTPS://CERT.HRSS.EXAMPLE.CN/V/PREVIEW"),
        ("http://10.0.0.5:5000", "HTTP://10.0.0.5:5000/V/PREVIEW"),
    ],
)
def test_a_preview_points_where_certificates_point(host: str, text: str) -> None:
    assert preview_qr_text(host) == text
    assert qrtext.encode(b"\x00", host).startswith(text.removesuffix("PREVIEW"))


def test_a_preview_holds_no_credential() -> None:
    with pytest.raises(CredentialFormatError):
        qrtext.decode(preview_qr_text("cert.hrss.example.cn"))
