"""Normalization of what people type: full-width forms, lower case, stray spaces.

Only full-width ASCII digits and letters are folded (U+FF10–FF19, U+FF21–FF3A,
U+FF41–FF5A); NFKC is not used because it would also turn look-alikes such as ``②`` or
``²`` into digits, which should be rejected rather than guessed.
"""

from __future__ import annotations

import string

_FULL_WIDTH_OFFSET = 0xFEE0
_SPACES = " \t\r\n\u3000\u00a0"
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


_FULL_WIDTH = str.maketrans(
    {
        cp: cp - _FULL_WIDTH_OFFSET
        for first, last in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
        for cp in range(first, last + 1)
    }
)


def fold_full_width(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def upper_ascii(text: str) -> str:
    """Upper-case ``a``–``z`` only. ``str.upper`` would also turn ``ſ`` into ``S`` and
    ``ß`` into ``SS`` (changing the length), accepting look-alikes; on ASCII text it does
    the same, faster."""
    return text.upper() if text.isascii() else text.translate(_ASCII_UPPER)


def normalize_code(text: str) -> str:
    """Strip surrounding spaces (ASCII, ideographic, no-break), fold full-width letters
    and digits, and upper-case ASCII letters. Inner characters are kept so that callers
    can reject them with a position."""
    return upper_ascii(fold_full_width(text.strip(_SPACES)))
