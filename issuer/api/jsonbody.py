"""What every API request's text and JSON must be, checked once for every endpoint.

Text that ``core.unicode.UNSTORABLE`` matches (NUL, lone surrogates) is refused wherever it
arrives — a JSON body (keys too), a query string, a path segment, the ``Idempotency-Key``
(``TEXT_RULE`` says so). A JSON number the service could not hold is malformed
JSON (400): an integer of more than ``MAX_INTEGER_DIGITS`` digits (Python refuses to
convert those; it would be a 500), a float that overflows to infinity, ``NaN`` and
``Infinity``; so is nesting too deep for the decoder."""

from __future__ import annotations

import json
import math
from typing import Any

TEXT_RULE = "text must not contain NUL (U+0000) or lone surrogates (U+D800-U+DFFF)"
TEXT_RULE_ZH = "文本不能包含NUL字符（U+0000）或孤立的代理码位（U+D800–U+DFFF）"
MAX_INTEGER_DIGITS = 4300
"""Python's own limit (``sys.get_int_max_str_digits``): no field needs a tenth of it."""


class UnusableJson(ValueError):
    """A body that is JSON by the grammar but holds what the service cannot take."""


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise UnusableJson(f"an integer has more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnusableJson(f"the number {text[:20]}… is too large")
    return value


def _constant(name: str) -> Any:
    raise UnusableJson(f"{name} is not a JSON number")


def loads(text: str) -> Any:
    """``json.loads`` refusing the numbers above (``UnusableJson``); ``RecursionError``
    for nesting too deep and ``json.JSONDecodeError`` for what is not JSON at all."""
    return json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
