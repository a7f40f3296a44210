"""Group commit: requests of one kind (one API key's issuances) that arrive while a
transaction of theirs runs are run together in the next one.

Each thread hands its request in with ``submit`` and returns when it has been run. A
thread that finds none of its kind running leads: it runs what waits (its own request
first, at most ``most``), and when that is done hands the lead to the first request that
came meanwhile, whose thread then runs the next group. Nobody waits for a timer: alone, a
request is run at once; under load, the requests of one transaction's duration share the
next. ``run`` is told a whole group and must settle every request of it (its answer or its
error) without raising."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar


class Waiting:
    """One request handed in: its thread waits on it until its group has run, or until it
    is told to lead."""

    def __init__(self) -> None:
        self._woken = threading.Event()
        self.leads = False

    def wake(self, *, lead: bool = False) -> None:
        self.leads = lead
        self._woken.set()

    def wait(self) -> None:
        self._woken.wait()


W = TypeVar("W", bound=Waiting)


class Together(Generic[W]):
    def __init__(self, run: Callable[[Sequence[W]], None], *, most: int) -> None:
        self._run = run
        self._most = most
        self._lock = threading.Lock()
        self._queues: dict[Hashable, list[W]] = {}
        """Per kind, the requests handed in and not yet taken into a group; a kind is here
        exactly while one of its groups runs or its next leader is being woken."""

    def submit(self, kind: Hashable, request: W) -> None:
        """Run ``request`` with the others of its ``kind`` that wait; returns when it has run."""
        with self._lock:
            queue = self._queues.get(kind)
            leads = queue is None
            if queue is None:
                queue = self._queues[kind] = []
            queue.append(request)
        if not leads:
            request.wait()
            if not request.leads:
                return
        self._lead(kind)

    def _lead(self, kind: Hashable) -> None:
        with self._lock:
            queue = self._queues[kind]
            group, queue[:] = queue[: self._most], queue[self._most :]
        try:
            self._run(group)
        finally:
            with self._lock:
                queue = self._queues[kind]
                if queue:
                    queue[0].wake(lead=True)
                else:
                    del self._queues[kind]
            for request in group:
                if not request.leads:
                    request.wake()
