"""The reference the fast CBOR paths of ``issuer.core.cbor`` are held to: the simple
implementation they replaced, kept for the tests only. It decodes with cbor2, then proves
the deterministic form by re-encoding and comparing, and walks the value for the kinds of
data the format signs; it encodes with cbor2's canonical mode after checking the keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cbor2

from issuer.core.errors import CredentialFormatError

_MAX_DEPTH = 16
_INTEGER_LIMIT = 1 << 64


def _plain(value: Any) -> bool:
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
    try:
        value = cbor2.loads(data, max_depth=_MAX_DEPTH)
        canonical = cbor2.dumps(value, canonical=True) == data
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError, MemoryError):
        canonical = False
        value = None
    inner = value.value if tag is not None and isinstance(value, cbor2.CBORTag) and value.tag == tag else value
    if not canonical or not _plain(inner):
        raise CredentialFormatError("not deterministic CBOR of the expected shape", "不是规定格式的确定性CBOR编码")
    return value
