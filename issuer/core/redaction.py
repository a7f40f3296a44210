"""Identity document numbers taken out of text that leaves the service as logs (request
lines, URLs, messages, tracebacks) or that it keeps from what people typed (notes, names
of files in a roster). A number is recognized by its shape wherever it stands,
not only in a named parameter, and replaced by its masked form (``identity.mask``).

Recognized (each standing alone: no ASCII letter or digit right before or after it, a
percent-encoded byte before it counting as a separator):

- 18 characters, 17 digits and a digit or X: 居民身份证, 港澳台居民居住证 and the 2023
  外国人永久居留身份证, also typed in groups of 6, 8 and 4 separated by a space, ``+``,
  ``-`` or ``%20``;
- 15 digits: the first-generation 居民身份证;
- three letters and 12 digits: the 2004 外国人永久居留身份证;
- H or M and 8 to 10 digits: 港澳居民来往内地通行证;
- E or G and 8 characters: the ordinary passports of the People's Republic of China
  (``E12345678``, ``EA1234567``, ``G12345678``).

Certificate numbers (a letter and 21 digits; legacy 16 and 13 digits) and organization
codes (a letter and 12 digits) never match: their digits run on beyond any of these
shapes. Not recognized: the 8-digit 台湾居民来往大陆通行证 (a date looks the same) and
foreign passports (any 5 to 17 letters and digits), so the values of the parameters
that carry a holder's name or document number are withheld whatever they look like. A
search (``q=``, the console's box for a name or a number) is withheld when it holds a
Chinese character (written or percent-encoded) or no digit at all (a name in pinyin):
a certificate number, an organization code or a document number (masked as above) stays."""

from __future__ import annotations

import re

from .errors import DocumentNumberInText
from .identity import mask

_DIGIT = r"[0-9０-９]"
_SEP = r"(?:[ +\-]|%20)?"
_BEFORE = r"(?:(?<=%[0-9A-Fa-f]{2})|(?<![0-9A-Za-z０-９]))"
_AFTER = r"(?![0-9A-Za-z０-９])"
_DOCUMENT = re.compile(
    _BEFORE
    + "(?:"
    + "|".join(
        (
            rf"{_DIGIT}{{6}}{_SEP}{_DIGIT}{{8}}{_SEP}{_DIGIT}{{3}}(?:{_DIGIT}|[XxＸｘ])",
            rf"{_DIGIT}{{15}}",
            r"[A-Za-z]{3}[0-9]{12}",
            r"[HMhm][0-9]{8,10}",
            r"[EGeg][0-9A-HJ-NP-Za-hj-np-z][0-9]{7}",
        )
    )
    + ")"
    + _AFTER
)
_NAMED = re.compile(r"(?<![0-9A-Za-z_])((?:document_number|holder_name|name)=)[^&\s\"']*", re.IGNORECASE)
_SEARCH = re.compile(r"(?<![0-9A-Za-z_])(q=)([^&\s\"']+)")
_NAME_LIKE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff·]|%[89A-Fa-f][0-9A-Fa-f]")
"""What a name has and a number does not: a Chinese character, written or percent-encoded
(a byte of UTF-8 beyond ASCII), or the 间隔号 of a transcribed name."""
_SEPARATORS = re.compile(r"[ +\-]|%20")
WITHHELD = "[redacted]"


def _masked(found: re.Match[str]) -> str:
    return mask(_SEPARATORS.sub("", found.group(0)))


def refuse_document_number(text: str, field: str, what_en: str, what_zh: str) -> None:
    """Raise ``DocumentNumberInText`` (naming ``field``) if ``text`` holds what looks like
    an identity document number."""
    if _DOCUMENT.search(text):
        raise DocumentNumberInText(field, what_en, what_zh)


def mask_documents(text: str) -> str:
    """``text`` with every identity document number masked (``1101**********002X``): for
    free text a person typed (a revocation note, a file name in a roster)."""
    return _DOCUMENT.sub(_masked, text)


def _search(found: re.Match[str]) -> str:
    value = found.group(2)
    if _NAME_LIKE.search(value) or not any(c.isdigit() for c in value):
        return found.group(1) + WITHHELD
    return found.group(0)


def redact(text: str) -> str:
    """A log line: ``mask_documents``, the values of ``name=``, ``holder_name=`` and
    ``document_number=`` parameters withheld, and a ``q=`` search withheld when it looks
    like a name."""
    return mask_documents(_SEARCH.sub(_search, _NAMED.sub(rf"\1{WITHHELD}", text)))
