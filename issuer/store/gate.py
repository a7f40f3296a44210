"""The queue SQLite's writers wait in.

SQLite lets one transaction write at a time. A writer that finds the lock taken waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 … 100 ms between looks: it
wakes on its own schedule, not when the lock comes free, so under steady writing from two
processes the lock stood free a third of the time while writers slept (measured, issue 15).

So each writing unit of work first passes this gate. Within a process, writers wait on a
lock, which hands over as soon as it is released. Across processes they take an ``flock``
on a file beside the database (``<database>-writer``), looked at every ``POLL_LEAST``, then
less often, down to every ``POLL_MOST``: the kernel frees it when its holder exits, however
it exits. Both waits are bounded (``timeout``):
one stuck transaction makes the others give up (``Unavailable``), never hang. SQLite's own
lock stays the lock: a writer that does not pass the gate (a migration, another program)
waits in the busy handler as before."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

from issuer.core.errors import Unavailable

POLL_LEAST = 0.000_1
POLL_MOST = 0.000_5
"""Seconds between looks at the file lock, doubling from the least to the most: a lock
another process frees is taken half a millisecond later at worst, for a look costing a few
microseconds."""


class WriterGate:
    """One per database file and process (``Database``)."""

    def __init__(self, database_file: Path, timeout: float) -> None:
        self._path = database_file.with_name(database_file.name + "-writer")
        self._timeout = timeout
        self._here = threading.Lock()
        self._file: int | None = None
        self._opened_by = 0

    def enter(self) -> None:
        """Wait until this writer is the only one of every process that passed the gate;
        ``Unavailable`` after ``timeout`` seconds."""
        deadline = time.monotonic() + self._timeout
        if not self._here.acquire(timeout=self._timeout):
            raise Unavailable.busy()
        try:
            self._take_file(deadline)
        except BaseException:
            self._here.release()
            raise

    def leave(self) -> None:
        assert self._file is not None
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._here.release()

    def close(self) -> None:
        with self._here:
            if self._file is not None:
                os.close(self._file)
                self._file = None

    def _take_file(self, deadline: float) -> None:
        if self._file is not None and self._opened_by != os.getpid():
            os.close(self._file)  # a forked child's copy: its lock would be its parent's
            self._file = None
        if self._file is None:
            self._file = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._opened_by = os.getpid()
        pause = POLL_LEAST
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Unavailable.busy() from None
            time.sleep(pause)
            pause = min(2 * pause, POLL_MOST)
