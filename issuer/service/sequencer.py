"""When issued certificates are appended to the transparency log: issuing stores them
without their log entries and tells the ``Sequencer``, which appends them
(``TransparencyLog.sequence``) after the issuing transaction has committed.

With a delay (production), a thread of the process waits that long after the first
certificate it is told of, then appends everything stored meanwhile, by every process, under
one tree head and one manifest: issuing takes no lock that every organization shares, and
the log's signing and storing is shared by all the certificates of that moment. It also looks
every ``interval`` without being told, and so does the ``log-sequence`` upkeep job, for what a
process that stopped in between left. With no delay (tests, the command line), the
certificate is appended at once, in the caller's thread, and the caller learns its index."""

from __future__ import annotations

import logging
import os
import threading

from issuer.service.log import TransparencyLog

log = logging.getLogger(__name__)

INTERVAL = 5.0
"""Seconds between a sequencer's looks for issuances when it is told of none."""


class Sequencer:
    def __init__(self, log: TransparencyLog, *, delay: float, interval: float = INTERVAL) -> None:
        self._log = log
        self._delay = delay
        self._interval = interval
        self._told = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def issued(self) -> dict[int, int]:
        """Certificates were stored without their log entries and committed. With no delay,
        appends them now and returns certificate id → leaf index; else wakes the thread
        and returns nothing (their indexes are stored when it has appended them)."""
        if self._delay <= 0:
            return self._run_once()
        self._started().set()
        return {}

    def close(self) -> None:
        """Stop this process's thread, which appends what is still waiting as it stops (a
        process that exits leaves nothing for the next look)."""
        thread = self._thread
        if thread is None or self._pid != os.getpid():
            return
        self._stopping.set()
        self._told.set()
        thread.join(timeout=30)

    def _started(self) -> threading.Event:
        """The event that wakes this process's thread, started on first use (after a fork,
        again: a thread does not survive ``fork``)."""
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name="issuer-log-sequencer", daemon=True)
                self._thread.start()
        return self._told

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self._told.wait(self._interval):
                self._stopping.wait(self._delay)  # let the certificates of this moment join
            self._told.clear()
            self._run_once()
        self._run_once()  # what was committed while the last look ran

    def _run_once(self) -> dict[int, int]:
        """``TransparencyLog.sequence``; a failure is logged, never raised: the certificates
        are issued, and the next look, or the upkeep job, appends them."""
        try:
            logged = self._log.sequence()
        except Exception:
            log.exception("appending issued certificates to the transparency log failed; tried again later")
            return {}
        if logged:
            log.debug("appended %d issued certificate(s) to the transparency log", len(logged))
        return logged
