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


def fold_full_width(text: str) -> str:
    out = []
    for ch in text:
        cp = ord(ch)
        if 0xFF10 <= cp <= 0xFF19 or 0xFF21 <= cp <= 0xFF3A or 0xFF41 <= cp <= 0xFF5A:
            out.append(chr(cp - _FULL_WIDTH_OFFSET))
        else:
            out.append(ch)
    return "".join(out)


def upper_ascii(text: str) -> str:
    """Upper-case ``a``–``z`` only. ``str.upper`` would also turn ``ſ`` into ``S`` and
    ``ß`` into ``SS`` (changing the length), accepting look-alikes."""
    return text.translate(_ASCII_UPPER)


def normalize_code(text: str) -> str:
    """Strip surrounding spaces (ASCII, ideographic, no-break), fold full-width letters
    and digits, and upper-case ASCII letters. Inner characters are kept so that callers
    can reject them with a position."""
    return upper_ascii(fold_full_width(text.strip(_SPACES)))
