"""Deterministic CBOR (RFC 8949 §4.2.1) for the structures we sign, and a strict decoder.

Everything we encode uses maps whose keys are small integers (one byte) or text strings
shorter than 24 bytes, and no floats; for such data the length-first ordering of the
canonical form equals RFC 8949's bytewise ordering of encoded keys, which ``encode``
asserts. ``decode_strict`` accepts only bytes that are the deterministic encoding of
what they decode to, so one value has exactly one encoding, and only the kinds of data
this format signs: integers, byte and text strings, arrays, maps, false, true and null —
no float, no tag (but the one around a whole COSE_Sign1 message) and no other simple value.

Both run in one pass: the decoder checks the deterministic form while it reads (shortest
heads, definite lengths, map keys in length-first order and distinct, nothing left over),
rather than decoding with a general library and re-encoding to compare. Tests hold them
to that reference (``tests/core/reference_cbor.py``): the same bytes out, the same values
accepted.
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

_FALSE, _TRUE, _NULL = 0xF4, 0xF5, 0xF6
_SIMPLE = {_FALSE: False, _TRUE: True, _NULL: None}
_HEAD_BYTES = {24: 1, 25: 2, 26: 4, 27: 8}
"""Additional information 24–27: the argument follows in this many bytes."""
_SHORTEST = {24: 24, 25: 1 << 8, 26: 1 << 16, 27: 1 << 32}
"""The least argument each width may carry; a smaller one has a shorter head."""


def is_uint(value: Any) -> bool:
    """A CBOR unsigned integer (major type 0): never negative, never a bool, a float or a
    tag (a bignum decodes to an int of 2**64 or more)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _INTEGER_LIMIT


_TINY_HEADS = tuple(tuple(bytes((major << 5 | n,)) for n in range(24)) for major in range(8))
"""The one-byte heads: major type, then an argument below 24."""


def head(major: int, argument: int) -> bytes:
    """The shortest head of a data item of ``major`` type with ``argument`` (RFC 8949 §3)."""
    if argument < 24:
        return _TINY_HEADS[major][argument]
    if argument < 1 << 8:
        return bytes((major << 5 | 24, argument))
    if argument < 1 << 16:
        return bytes((major << 5 | 25,)) + argument.to_bytes(2, "big")
    if argument < 1 << 32:
        return bytes((major << 5 | 26,)) + argument.to_bytes(4, "big")
    return bytes((major << 5 | 27,)) + argument.to_bytes(8, "big")


_INTEGER_KEYS = {n: _TINY_HEADS[0][n] if n >= 0 else _TINY_HEADS[1][-1 - n] for n in range(-24, 24)}


def _key(key: Any) -> bytes:
    kind = type(key)
    if kind is int and -24 <= key < 24:
        return _INTEGER_KEYS[key]
    if kind is str:
        data: bytes = key.encode()
        if len(data) < 24:
            return _TINY_HEADS[3][len(data)] + data
    return _other_key(key)


def _other_key(key: Any) -> bytes:
    if isinstance(key, int):
        if not -24 <= key < 24:
            raise ValueError(f"map key {key} is not a one-byte integer")
    elif not (isinstance(key, str) and len(key.encode()) < 24):
        raise ValueError(f"map key {key!r} is not a short text string")
    out: list[bytes] = []
    _write(key, out)
    return b"".join(out)


def _write_map(mapping: Mapping[Any, Any], out: list[bytes]) -> None:
    """Keys in length-first, then bytewise order: the canonical order of RFC 7049 §3.9 that
    cbor2 writes. A map built in that order (the claims, a protected header) is written as
    it comes; any other is sorted first."""
    out.append(head(5, len(mapping)))
    mark, previous = len(out), b""
    for key, value in mapping.items():
        encoded = _key(key)
        if len(encoded) < len(previous) or (len(encoded) == len(previous) and encoded <= previous):
            del out[mark:]
            _write_sorted(mapping, out)
            return
        previous = encoded
        out.append(encoded)
        _write(value, out)


def _write_sorted(mapping: Mapping[Any, Any], out: list[bytes]) -> None:
    # Distinct keys have distinct encodings, so the values are never compared.
    items = sorted((len(key), key, value) for key, value in zip(map(_key, mapping), mapping.values(), strict=True))
    for _, key, value in items:
        out.append(key)
        _write(value, out)


def _bignum(value: int) -> bytes:
    """Tag 2 (or 3, for -1 - n) around the magnitude's big-endian bytes: no signed structure
    holds one, and the decoder refuses it, but tests write them to see them refused."""
    tag, magnitude = (2, value) if value >= 0 else (3, -1 - value)
    data = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big")
    return head(6, tag) + head(2, len(data)) + data


def _write(value: Any, out: list[bytes]) -> None:
    """Append the encoding of ``value`` to ``out``; exact types first, subclasses (a
    ``StrEnum``, an ``IntEnum``, any ``Mapping``) as their base."""
    kind = type(value)
    if kind is int:
        if 0 <= value < _INTEGER_LIMIT:
            out.append(head(0, value))
        elif -_INTEGER_LIMIT <= value < 0:
            out.append(head(1, -1 - value))
        else:
            out.append(_bignum(value))
    elif kind is str:
        data = value.encode()
        out.append(head(3, len(data)))
        out.append(data)
    elif kind is bytes:
        out.append(head(2, len(value)))
        out.append(value)
    elif kind is dict:
        _write_map(value, out)
    elif kind is list or kind is tuple:
        out.append(head(4, len(value)))
        for item in value:
            _write(item, out)
    elif value is None:
        out.append(b"\xf6")
    elif kind is bool:
        out.append(b"\xf5" if value else b"\xf4")
    else:
        _write_other(value, out)


def _write_other(value: Any, out: list[bytes]) -> None:
    """A subclass (an ``IntEnum``, a ``StrEnum``, any ``Mapping``) written as its base."""
    if isinstance(value, int):
        _write(int(value), out)
    elif isinstance(value, str):
        _write(str.__str__(value), out)
    elif isinstance(value, bytes):
        _write(bytes(value), out)
    elif isinstance(value, list | tuple):
        _write(list(value), out)
    elif isinstance(value, Mapping):
        _write_map(value, out)
    elif isinstance(value, float):
        raise ValueError("floats are not used in signed structures")
    else:
        raise TypeError(f"{type(value).__name__} is not used in signed structures")


def encode(value: Any) -> bytes:
    """The deterministic encoding of ``value``: integers, byte and text strings, lists and
    tuples, maps keyed by one-byte integers or text strings shorter than 24 bytes, booleans
    and ``None``. Raises ``ValueError`` (a float, another key) or ``TypeError`` (anything
    else)."""
    out: list[bytes] = []
    _write(value, out)
    return b"".join(out)


class _Refused(Exception):
    """Not deterministic CBOR of the expected shape (caught in ``decode_strict``)."""


def _argument(data: bytes, pos: int, info: int) -> tuple[int, int]:
    """The argument of a head whose additional information is ``info`` (24–31), read from
    ``pos``; refused unless it is one of 24–27 and could not have been written shorter."""
    width = _HEAD_BYTES.get(info)
    if width is None:
        raise _Refused
    end = pos + width
    if end > len(data):
        raise _Refused
    argument = int.from_bytes(data[pos:end], "big")
    if argument < _SHORTEST[info]:
        raise _Refused
    return argument, end


_WHOLE: dict[int, Any] = {
    **{initial: initial for initial in range(24)},
    **{0x20 | n: -1 - n for n in range(24)},
    0x40: b"",
    0x60: "",
    **_SIMPLE,
}
"""The data items that are one immutable byte: small integers, empty strings, false, true, null."""
_NOT_WHOLE = object()


def _item(data: bytes, pos: int, level: int, frozen: bool) -> tuple[Any, int]:
    """The data item at ``pos`` and where it ends. ``frozen``: inside a map key, where
    arrays are tuples and maps ``cbor2.FrozenDict``, as cbor2 decodes them."""
    if level > _MAX_DEPTH:
        raise _Refused
    initial = data[pos]
    whole = _WHOLE.get(initial, _NOT_WHOLE)
    if whole is not _NOT_WHOLE:
        return whole, pos + 1
    major, argument = initial >> 5, initial & 31
    pos += 1
    if argument >= 24:
        argument, pos = _argument(data, pos, argument)
    if major == 2 or major == 3:
        end = pos + argument
        if end > len(data):
            raise _Refused
        return (data[pos:end] if major == 2 else data[pos:end].decode("utf-8")), end
    if major == 0:
        return argument, pos
    if major == 1:
        return -1 - argument, pos
    if major == 4:
        items = []
        for _ in range(argument):
            item, pos = _item(data, pos, level + 1, frozen)
            items.append(item)
        return (tuple(items) if frozen else items), pos
    if major == 5:
        return _map(data, pos, argument, level + 1, frozen)
    raise _Refused  # a tag, a float or a simple value other than false, true and null


def _map(data: bytes, pos: int, size: int, level: int, frozen: bool) -> tuple[Any, int]:
    """Entries at ``level``, their keys in strictly increasing length-first order, and
    distinct as values too (``1`` and ``true`` are one Python key)."""
    if level > _MAX_DEPTH and size:
        raise _Refused
    mapping: dict[Any, Any] = {}
    previous = b""
    for _ in range(size):
        start = pos
        key = _WHOLE.get(data[pos], _NOT_WHOLE)
        if key is _NOT_WHOLE:
            key, pos = _item(data, pos, level, True)
        else:
            pos += 1
        encoded = data[start:pos]
        if len(encoded) < len(previous) or (len(encoded) == len(previous) and encoded <= previous):
            raise _Refused
        previous = encoded
        value = _WHOLE.get(data[pos], _NOT_WHOLE)
        if value is _NOT_WHOLE:
            value, pos = _item(data, pos, level, frozen)
        else:
            pos += 1
        mapping[key] = value
    if len(mapping) != size:
        raise _Refused
    return (cbor2.FrozenDict(mapping) if frozen else mapping), pos


_FLAT_WIDTHS = (1, 2, 4, 8)


def decode_flat_map(data: bytes) -> dict[int, Any] | None:
    """What ``decode_strict`` returns for ``data``, if ``data`` is a map of fewer than 24
    entries keyed by the one-byte integers -1 to -24 in increasing order, its values unsigned
    integers, byte strings and text strings, each with its shortest head; ``None`` for
    anything else, which ``decode_strict`` then decides. The claims of a credential have
    this shape; read in one flat loop it costs a third of the general decoder."""
    try:
        size = data[0] - 0xA0
        if not 0 < size < 24:
            return None
        mapping: dict[int, Any] = {}
        previous, pos = 0x1F, 1
        for _ in range(size):
            key = data[pos]
            if not previous < key <= 0x37:
                return None
            previous = key
            initial = data[pos + 1]
            major, argument = initial >> 5, initial & 31
            pos += 2
            if argument >= 24:
                if argument > 27:
                    return None
                width = _FLAT_WIDTHS[argument - 24]
                end = pos + width
                if end > len(data):
                    return None
                argument = int.from_bytes(data[pos:end], "big")
                if argument < _SHORTEST[initial & 31]:
                    return None
                pos = end
            if major == 0:
                mapping[0x1F - key] = argument
                continue
            end = pos + argument
            if end > len(data):
                return None
            if major == 2:
                mapping[0x1F - key] = data[pos:end]
            elif major == 3:
                mapping[0x1F - key] = data[pos:end].decode("utf-8")
            else:
                return None
            pos = end
    except (IndexError, UnicodeDecodeError):
        return None
    return mapping if pos == len(data) else None


def decode_strict(data: bytes, *, tag: int | None = None) -> Any:
    """Decode ``data`` or raise ``CredentialFormatError``; never any other exception. With
    ``tag``, the whole item may be that tag (COSE_Sign1's 18), a ``cbor2.CBORTag``; no other
    tag is accepted. Arrays decode to lists and maps to dicts (tuples and
    ``cbor2.FrozenDict`` inside a map key), as cbor2 decodes them."""
    try:
        if tag is not None and data.startswith(tag_head := head(6, tag)):
            inner, end = _item(data, len(tag_head), 2, False)
            value: Any = cbor2.CBORTag(tag, inner)
        else:
            value, end = _item(data, 0, 1, False)
    except (_Refused, IndexError, UnicodeDecodeError):
        end = -1
    if end != len(data):
        raise CredentialFormatError("not deterministic CBOR of the expected shape", "不是规定格式的确定性CBOR编码")
    return value
