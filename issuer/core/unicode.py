"""The characters text claims may hold, fixed to one Unicode version.

A holder name or 工种 is NFC, has no White_Space at either end, and holds no code point of
general category C (control, format, surrogate, private use, unassigned) as the Unicode
Character Database **14.0.0** defines it. The categories come from a published table
(``data/unicode-14.0-category-c.txt``), not from the running Python's ``unicodedata``, so
every verifier, whatever its Unicode version, gives the same verdict; NFC of text that
holds only code points assigned in 14.0.0 is the same in every later version (Unicode's
normalization stability), so the canonical-form check agrees too."""

from __future__ import annotations

import bisect
import re
from functools import cache
from importlib import resources
from typing import Any

UNICODE_VERSION = "14.0.0"
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
"""The 25 code points of the Unicode White_Space property (PropList.txt)."""


@cache
def _category_c() -> tuple[tuple[int, ...], tuple[int, ...]]:
    firsts, lasts = [], []
    text = resources.files("issuer.core").joinpath("data", "unicode-14.0-category-c.txt").read_text("utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            first, last = line.split("..")
            firsts.append(int(first, 16))
            lasts.append(int(last, 16))
    return tuple(firsts), tuple(lasts)


_LAST_BMP = 0xFFFF
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@cache
def _bmp_category_c() -> re.Pattern[str]:
    """The table's ranges within the Basic Multilingual Plane as one character class, which
    ``re`` tests with a bitmap (ranges beyond it, it would try one by one)."""
    ranges = [
        f"\\u{first:04x}-\\u{min(last, _LAST_BMP):04x}"
        for first, last in zip(*_category_c(), strict=True)
        if first <= _LAST_BMP
    ]
    return re.compile(f"[{''.join(ranges)}]")


def is_category_c(char: str) -> bool:
    """Whether ``char`` is of general category C in Unicode 14.0.0."""
    firsts, lasts = _category_c()
    at = bisect.bisect_right(firsts, ord(char)) - 1
    return at >= 0 and ord(char) <= lasts[at]


def holds_category_c(text: str) -> bool:
    """Whether any character of ``text`` is of general category C in Unicode 14.0.0."""
    return _bmp_category_c().search(text) is not None or any(map(is_category_c, _ASTRAL.findall(text)))


def strip(text: str) -> str:
    """``text`` without White_Space at either end (``str.strip`` also strips U+001C–001F)."""
    return text.strip(WHITE_SPACE)


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""What no text field accepts anywhere: NUL (U+0000, which PostgreSQL can neither store nor
compare) and lone surrogates (U+D800–U+DFFF, which JSON can spell as ``"\\udc80"`` and no
encoder can write back out)."""


def has_unstorable_text(value: Any) -> bool:
    """Whether any text in ``value`` — a string, or a JSON-like value of dicts (keys too) and
    lists at any depth — matches ``UNSTORABLE``. Iterative: the value may be deep."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False
