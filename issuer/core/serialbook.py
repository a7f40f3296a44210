"""What an audit remembers of the certificates a log holds, in a few bytes each.

The auditor must find a number used twice, a serial missing from 1, 2, 3 …, and the status
index of a revoked certificate, over logs of millions of entries. A dictionary keyed by
number costs some 200 bytes a certificate; here each organization × year × level keeps
its serials in blocks of ``BLOCK``: per serial, the log index where it was first read
(4 bytes) and its status index (4 bytes), and one bit for "seen at all" (a forged entry
takes its number's place in the sequence without being read). A dense run of serials
costs 8 bytes a certificate; a lone serial far from the others costs one block."""

from __future__ import annotations

from array import array
from collections.abc import Iterator

BLOCK = 1024
_ABSENT = 0
"""Stored log indexes and status indexes are one more than their value: 0 is none."""


class _Block:
    __slots__ = ("first", "seen", "status")

    def __init__(self) -> None:
        self.seen = bytearray(BLOCK // 8)
        self.first = array("I", bytes(4 * BLOCK))
        self.status = array("I", bytes(4 * BLOCK))


class SerialBook:
    """The serials of one organization × year × level."""

    def __init__(self) -> None:
        self._blocks: dict[int, _Block] = {}
        self.largest = 0

    def _slot(self, serial: int) -> tuple[_Block, int]:
        number, offset = divmod(serial, BLOCK)
        block = self._blocks.get(number)
        if block is None:
            block = self._blocks[number] = _Block()
        return block, offset

    def see(self, serial: int) -> None:
        """The serial appears in the log (read or not)."""
        block, offset = self._slot(serial)
        block.seen[offset >> 3] |= 1 << (offset & 7)
        self.largest = max(self.largest, serial)

    def first_read(self, serial: int) -> int | None:
        """The log index where a certificate with this serial was first read."""
        block = self._blocks.get(serial // BLOCK)
        stored = block.first[serial % BLOCK] if block is not None else _ABSENT
        return None if stored == _ABSENT else stored - 1

    def read(self, serial: int, index: int, status_index: int | None) -> None:
        """A certificate with this serial was read at log ``index``."""
        block, offset = self._slot(serial)
        block.first[offset] = index + 1
        block.status[offset] = _ABSENT if status_index is None else status_index + 1

    def status_index(self, serial: int) -> int | None:
        """The status index of the certificate first read with this serial."""
        block = self._blocks.get(serial // BLOCK)
        if block is None or block.first[serial % BLOCK] == _ABSENT:
            return None
        stored = block.status[serial % BLOCK]
        return None if stored == _ABSENT else stored - 1

    def missing(self) -> Iterator[int]:
        """Serials from 1 to the largest seen that the log does not hold, in order."""
        full = b"\xff" * (BLOCK // 8)
        for number in range(self.largest // BLOCK + 1):
            block = self._blocks.get(number)
            if block is not None and block.seen == full:
                continue
            start, end = max(1, number * BLOCK), min(self.largest + 1, (number + 1) * BLOCK)
            for serial in range(start, end):
                offset = serial % BLOCK
                if block is None or not block.seen[offset >> 3] >> (offset & 7) & 1:
                    yield serial

    def bytes_used(self) -> int:
        return len(self._blocks) * (BLOCK // 8 + 8 * BLOCK)
