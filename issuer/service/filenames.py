"""Names of the files a person downloads or finds in a batch archive: the certificate
number first (files sort by it, and it is unique), then the holder's name, so that a clerk
looking for 张三丰's certificate finds it without opening the result sheet:
``Y000123000001263000001_张三丰.png``."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
"""What Windows, macOS or a ZIP tool refuses or reads as a folder."""


def certificate_file(number: str, holder_name: str, fmt: str) -> str:
    """``<number>_<name>.<fmt>``; characters no file system takes become ``_``."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", holder_name).strip()) or "_"
    return f"{number.upper()}_{name}.{fmt}"


def batch_pdf_file(batch_id: str) -> str:
    """``<batch id>_证书.pdf``: a batch's certificates as one PDF, for printing."""
    return f"{batch_id}_证书.pdf"


def content_disposition(kind: str, filename: str, ascii_fallback: str) -> str:
    """A ``Content-Disposition`` with the UTF-8 name (RFC 6266 / 5987 ``filename*``) and a
    plain ASCII one for clients that read only ``filename``."""
    return f"{kind}; filename=\"{ascii_fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
