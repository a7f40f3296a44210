"""Deterministic CBOR (RFC 8949 §4.2.1) for the structures we sign, and a strict decoder.

Everything we encode uses maps whose keys are small integers (one byte) or text strings
shorter than 24 bytes, and no floats; for such data the length-first ordering of
``cbor2``'s canonical mode equals RFC 8949's bytewise ordering of encoded keys, which
``encode`` asserts. ``decode_strict`` accepts only bytes that re-encode to themselves,
so one value has exactly one encoding.
"""

from __future__ import annotations

from typing import Any

import cbor2

from .errors import CredentialFormatError

_MAX_DEPTH = 16


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


def decode_strict(data: bytes) -> Any:
    """Decode ``data`` or raise ``CredentialFormatError``; never any other exception."""
    try:
        # Indefinite lengths, duplicate keys and over-long heads all fail the re-encoding
        # comparison, which works alike on cbor2 5.9+ and 6.x.
        value = cbor2.loads(data, max_depth=_MAX_DEPTH)
        canonical = cbor2.dumps(value, canonical=True) == data
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError, MemoryError):
        canonical = False
        value = None
    if not canonical:
        raise CredentialFormatError("not deterministic CBOR of the expected shape", "不是规定格式的确定性CBOR编码")
    return value
