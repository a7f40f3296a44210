"""Text a spreadsheet would run: a cell whose text begins with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is taken by Excel, WPS and LibreOffice for a formula when it
is typed, pasted or opened from CSV (formula or CSV injection). The service writes every
text cell as a string, and refuses such text where a person's name or a 工种 comes in, so
that what it stores can be copied into any spreadsheet safely."""

from __future__ import annotations

from .errors import FormulaLikeText
from .unicode import strip

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    """Whether ``text``, as given or trimmed of white space, begins like a formula."""
    return text.startswith(FORMULA_STARTS) or strip(text).startswith(FORMULA_STARTS)


def refuse_formula(text: str, field: str, what_en: str, what_zh: str) -> None:
    """Raise ``FormulaLikeText`` (``formula_like_value``, naming ``field``) if ``text``
    looks like a formula."""
    if looks_like_formula(text):
        raise FormulaLikeText(field, what_en, what_zh)
