"""The text a certificate's QR code holds: ``HTTPS://<HOST>/V/<BASE32>``.

Upper case throughout, and RFC 4648 base32 without padding, so that the whole string is
in the QR alphanumeric mode (5.5 bits a character) and a phone opens it as a URL.
"""

from __future__ import annotations

import base64
import re

from . import unicode
from .errors import CredentialFormatError, InvalidInput
from .typed import upper_ascii

PATH = "/V/"
MAX_TEXT = 4296
"""The most alphanumeric characters any QR code holds (version 40-L)."""

_HOST = re.compile(r"^[A-Z0-9]([A-Z0-9-]*[A-Z0-9])?(\.[A-Z0-9]([A-Z0-9-]*[A-Z0-9])?)*(:\d{1,5})?$")
_BASE32 = re.compile(r"^[A-Z2-7]+$")
_WHITE_SPACE = "".join(f"\\u{ord(c):04x}" for c in unicode.WHITE_SPACE)
_URL = re.compile(f"^HTTPS?://[^/{_WHITE_SPACE}]+/V/([^/?#{_WHITE_SPACE}]*)$")
"""White_Space exactly: ``\\s`` would also take U+001C–001F, which are not (docs/FORMAT.md §1)."""


def check_host(host: str) -> str:
    value = upper_ascii(host.strip())
    if not _HOST.match(value):
        raise InvalidInput(
            "invalid_host",
            f"{host!r} is not a host name (letters, digits, dots, hyphens, optional port)",
            f"“{host}”不是有效的主机名",
        )
    return value


def b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


_BASE32_DIGITS = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789abcdefghijklmnopqrstuv")


def b32decode(text: str) -> bytes:
    """RFC 4648 base32 without padding, refusing non-zero unused bits. Read as one base-32
    integer (``int(…, 32)`` runs in C; ``base64.b32decode`` is pure Python and 5× slower),
    its digits mapped by a byte table (the text is ASCII once it matches)."""
    if not _BASE32.match(text) or len(text) % 8 in (1, 3, 6):
        raise CredentialFormatError("payload is not base32", "载荷不是base32编码")
    size = len(text) * 5 // 8
    spare = len(text) * 5 - size * 8
    value = int(text.encode("ascii").translate(_BASE32_DIGITS), 32)
    if value & ((1 << spare) - 1):
        raise CredentialFormatError("payload has non-zero padding bits", "载荷末位填充位不为零")
    return (value >> spare).to_bytes(size, "big")


def encode(message: bytes, host: str) -> str:
    """``HTTPS://<HOST>/V/<BASE32>``; a ``host`` given as ``http://host:port`` (a development
    server, which speaks no TLS) makes ``HTTP://…``, which every decoder reads the same."""
    scheme, bare = split_scheme(host)
    return f"{scheme}://{check_host(bare)}{PATH}{b32encode(message)}"


def split_scheme(host: str) -> tuple[str, str]:
    """``("HTTP", "10.0.0.5:5000")`` for ``http://10.0.0.5:5000``; ``HTTPS`` for a bare host."""
    head, sep, rest = host.strip().partition("://")
    if not sep:
        return "HTTPS", host
    if head.lower() not in ("http", "https"):
        raise InvalidInput("invalid_host", f"{host!r}: the scheme is http or https", f"“{host}”：协议应为http或https")
    return head.upper(), rest.rstrip("/")


def decode(text: str) -> bytes:
    """Return the signed message in a QR text. Accepts any case, surrounding White_Space,
    ``http`` or ``https`` and any host (the host is not trusted; the signature is), or the
    bare base32 payload. Raises ``CredentialFormatError``."""
    if not isinstance(text, str) or len(text) > MAX_TEXT + 16:
        raise CredentialFormatError("text is too long for a QR code", "文本超出二维码容量")
    value = upper_ascii(unicode.strip(text))
    m = _URL.match(value)
    payload = m.group(1) if m else value
    if not payload:
        raise CredentialFormatError("no payload", "缺少载荷")
    return b32decode(payload)
