"""Deterministic CBOR (RFC 8949 §4.2.1) for the structures we sign, and a strict decoder.

Everything we encode uses maps whose keys are small integers (one byte) or text strings
shorter than 24 bytes, and no floats; for such data the length-first ordering of
``cbor2``'s canonical mode equals RFC 8949's bytewise ordering of encoded keys, which
``encode`` asserts. ``decode_strict`` accepts only bytes that re-encode to themselves,
so one value has exactly one encoding, and only the kinds of data this format signs:
integers, byte and text strings, arrays, maps, false, true and null — no float, no tag
(but the one around a whole COSE_Sign1 message) and no other simple value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cbor2

from .errors import CredentialFormatError

_MAX_DEPTH = 16
"""Levels of data items: the outermost is level 1, an item in an array, map or tag one deeper."""
_INTEGER_LIMIT = 1 << 64
"""Major types 0 and 1 hold magnitudes below 2**64; a larger int came from a bignum (tag 2 or 3)."""


def is_uint(value: Any) -> bool:
    """A CBOR unsigned integer (major type 0): never negative, never a bool, a float or a
    tag (a bignum decodes to an int of 2**64 or more)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _INTEGER_LIMIT


def _plain(value: Any) -> bool:
    """Whether ``value`` holds only integers (major types 0 and 1), byte and text strings,
    arrays, maps, false, true and null. cbor2 turns tags into other types (a date, a
    ``Decimal``, a big int, ``CBORTag``) and simple values into ``CBORSimpleValue``, a tuple,
    so types are compared exactly."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if item is None or kind in (bool, str, bytes):
            continue
        if kind is int:
            if not -_INTEGER_LIMIT <= item < _INTEGER_LIMIT:
                return False
        elif kind in (list, tuple):
            pending.extend(item)
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        else:
            return False
    return True


def _check_keys(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, int):
                if not -24 <= key < 24:
                    raise ValueError(f"map key {key} is not a one-byte integer")
            elif not (isinstance(key, str) and len(key.encode()) < 24):
                raise ValueError(f"map key {key!r} is not a short text string")
            _check_keys(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_keys(item)
    elif isinstance(value, float):
        raise ValueError("floats are not used in signed structures")
    elif isinstance(value, cbor2.CBORTag):
        _check_keys(value.value)


def encode(value: Any) -> bytes:
    _check_keys(value)
    return cbor2.dumps(value, canonical=True)


def decode_strict(data: bytes, *, tag: int | None = None) -> Any:
    """Decode ``data`` or raise ``CredentialFormatError``; never any other exception. With
    ``tag``, the whole item may be that tag (COSE_Sign1's 18); no other tag is accepted."""
    try:
        # Indefinite lengths, duplicate keys and over-long heads all fail the re-encoding
        # comparison, which works alike on cbor2 5.9+ and 6.x.
        value = cbor2.loads(data, max_depth=_MAX_DEPTH)
        canonical = cbor2.dumps(value, canonical=True) == data
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError, MemoryError):
        canonical = False
        value = None
    inner = value.value if tag is not None and isinstance(value, cbor2.CBORTag) and value.tag == tag else value
    if not canonical or not _plain(inner):
        raise CredentialFormatError("not deterministic CBOR of the expected shape", "不是规定格式的确定性CBOR编码")
    return value
