"""Background work: validating an uploaded roster (then issuing it), and drawing a batch's
certificates, a chunk of items per job.

Two queues, chosen by ``ISSUER_QUEUE``:

- ``inprocess`` (the embedded default): threads of the service process, one lane per kind
  of job (validations do not wait behind a batch being drawn). Nothing else to run;
  unfinished batches are picked up again when the service starts (``resume``).
- ``redis``: worker processes (``issuer worker``) fed through Redis by dramatiq's Redis
  broker, one queue per kind of job, validations first. A message is acknowledged only
  when its job returns; when a worker dies, its heartbeat stops and another worker puts
  the message it held back on the queue.

Jobs may run twice (a redelivery, or ``resume`` beside a queue that still holds them): the
jobs make every step safe to repeat. A job that cannot run yet raises ``Later`` and is
queued again after a delay, which is not a failure. A job that keeps failing is given up
and its ``fail`` handler told why. A queue is built with what runs each kind of job; the
service layer hands it in, so this module knows nothing of batches."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from issuer.config import ConfigError
from issuer.service.drawing import Chunk

log = logging.getLogger(__name__)

QUEUE_NAME = "issuer-render"
ACTOR_NAME = "render_batch_chunk"
VALIDATION_QUEUE = "issuer-validate"
VALIDATION_ACTOR = "validate_batch"
ATTEMPTS = 3
"""In-process: tries of a job that raised something unexpected before its batch is failed."""
LANE_THREADS = {"Chunk": 1, "Validation": 2}
"""In-process: threads per kind of job. Two validations run at once (two organizations'
rosters); each computes its rows' commitments on every core."""


@dataclass(frozen=True)
class Validation:
    """Validate an uploaded roster, then issue it: one background job."""

    batch_id: str


Job = Chunk | Validation


class Later(Exception):
    """The job cannot run yet (its roster waits for a validation slot, or another worker's
    lease on it has not expired): queue it again in ``delay`` seconds."""

    def __init__(self, delay: float, why: str) -> None:
        super().__init__(why)
        self.delay = delay


@dataclass(frozen=True)
class Handler:
    run: Callable[[Any], None]
    fail: Callable[[str, str], None]
    """``fail(batch_id, error)``: what to do when a job has failed for good."""


class JobQueue(Protocol):
    def send(self, job: Job) -> None: ...


class _Lane:
    def __init__(self, name: str, threads: int, attempt: Callable[[Job], None]) -> None:
        self._name = name
        self._threads_wanted = threads
        self._attempt = attempt
        self.queue: queue.Queue[Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def put(self, job: Job) -> None:
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            while len(self._threads) < self._threads_wanted:
                thread = threading.Thread(target=self._work, name=f"issuer-{self._name}", daemon=True)
                thread.start()
                self._threads.append(thread)
        self.queue.put(job)

    def close(self) -> None:
        with self._lock:
            threads = list(self._threads)
        for _ in threads:
            self.queue.put(None)  # wakes a thread to see it is closed
        for thread in threads:
            thread.join()

    def _work(self) -> None:
        while True:
            job = self.queue.get()
            try:
                if job is None:
                    return
                self._attempt(job)
            finally:
                self.queue.task_done()


class InProcessQueue:
    """Threads running jobs in order, a lane per kind of job. A job that raises is tried
    again; after ``ATTEMPTS`` its batch is failed, so that a batch never waits forever."""

    def __init__(self, handlers: Mapping[type, Handler], *, retry_delay: float = 1.0) -> None:
        self._handlers = handlers
        self._retry_delay = retry_delay
        self._lanes = {
            kind: _Lane(kind.__name__, LANE_THREADS.get(kind.__name__, 1), self._attempt) for kind in handlers
        }
        self._later: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._closed = False

    def send(self, job: Job) -> None:
        if not self._closed:
            self._lanes[type(job)].put(job)

    def join(self) -> None:
        """Wait until every job sent so far has run, with the jobs they sent (a roster
        validated queues its drawing) and those put off for later."""
        while True:  # until no lane has work: a lane done may have been sent more by another
            for lane in self._lanes.values():
                lane.queue.join()
            with self._lock:
                waiting = list(self._later)
            for timer in waiting:
                timer.join()
            if not waiting and all(lane.queue.unfinished_tasks == 0 for lane in self._lanes.values()):
                return

    def close(self) -> None:
        """Drop the jobs not started (``resume`` queues them again at the next start) and
        wait for those under way."""
        self._closed = True
        with self._lock:
            waiting, self._later = list(self._later), set()
        for timer in waiting:
            timer.cancel()
        for lane in self._lanes.values():
            while True:
                try:
                    lane.queue.get_nowait()
                    lane.queue.task_done()
                except queue.Empty:
                    break
            lane.close()

    def _attempt(self, job: Job) -> None:
        if self._closed:
            return
        handler = self._handlers[type(job)]
        for attempt in range(1, ATTEMPTS + 1):
            try:
                handler.run(job)
                return
            except Later as later:
                self._send_later(job, later.delay)
                return
            except Exception as e:
                log.exception("%s: attempt %s failed", job, attempt)
                if attempt == ATTEMPTS:
                    handler.fail(job.batch_id, f"{type(e).__name__}: {e}")
                    return
                time.sleep(self._retry_delay * attempt)

    def _send_later(self, job: Job, delay: float) -> None:
        def send() -> None:
            with self._lock:
                self._later.discard(timer)
            self.send(job)

        timer = threading.Timer(delay, send)
        timer.daemon = True
        with self._lock:
            if self._closed:
                return
            self._later.add(timer)
        timer.start()


class RedisQueue:
    """dramatiq on Redis. The service only sends; ``issuer worker`` also runs the jobs."""

    def __init__(
        self,
        url: str,
        *,
        heartbeat_ms: int = 60_000,
        maintenance_chance: int = 100_000,
        handlers: Mapping[type, Handler] | None = None,
    ) -> None:
        import dramatiq
        from dramatiq.brokers.redis import RedisBroker

        self.broker = RedisBroker(
            url=url,
            namespace="issuer-jobs",
            heartbeat_timeout=heartbeat_ms,
            # Out of a million broker calls, how many also requeue the messages of workers
            # whose heartbeat stopped: high, so that a killed worker's job is not left for long.
            maintenance_chance=maintenance_chance,
        )
        self._handlers = handlers or {}
        retries = {"max_retries": 10, "min_backoff": 1_000, "max_backoff": 60_000}
        self.actor = dramatiq.actor(
            self._draw,
            broker=self.broker,
            actor_name=ACTOR_NAME,
            queue_name=QUEUE_NAME,
            priority=10,
            on_retry_exhausted=f"{ACTOR_NAME}_exhausted",
            **retries,
        )
        self.validation_actor = dramatiq.actor(
            self._validate,
            broker=self.broker,
            actor_name=VALIDATION_ACTOR,
            queue_name=VALIDATION_QUEUE,
            priority=0,  # before drawing: a roster's owner is waiting for its numbers
            on_retry_exhausted=f"{VALIDATION_ACTOR}_exhausted",
            **retries,
        )
        for name, queue_name, kind in (
            (ACTOR_NAME, QUEUE_NAME, Chunk),
            (VALIDATION_ACTOR, VALIDATION_QUEUE, Validation),
        ):
            dramatiq.actor(
                self._exhausted(kind), broker=self.broker, actor_name=f"{name}_exhausted", queue_name=queue_name
            )

    def _handler(self, kind: type) -> Handler:
        handler = self._handlers.get(kind)
        if handler is None:
            raise RuntimeError("this process only sends jobs")
        return handler

    def _draw(self, batch_id: str, first: int, count: int) -> None:
        self._run(Chunk(batch_id, first, count))

    def _validate(self, batch_id: str) -> None:
        self._run(Validation(batch_id))

    def _run(self, job: Job) -> None:
        try:
            self._handler(type(job)).run(job)
        except Later as later:
            self._send(job, delay_ms=int(later.delay * 1000))

    def _exhausted(self, kind: type) -> Callable[[dict[str, Any], dict[str, Any]], None]:
        def exhausted(message: dict[str, Any], retries: dict[str, Any]) -> None:
            trace = str(message.get("options", {}).get("traceback", "")).strip().splitlines()
            tries = int(retries.get("retries", 0)) + 1
            self._handler(kind).fail(message["args"][0], f"{trace[-1] if trace else 'failed'} ({tries} tries)")

        exhausted.__name__ = f"{kind.__name__.lower()}_exhausted"
        return exhausted

    def send(self, job: Job) -> None:
        self._send(job)

    def _send(self, job: Job, *, delay_ms: int | None = None) -> None:
        if isinstance(job, Chunk):
            self.actor.send_with_options(args=(job.batch_id, job.first, job.count), delay=delay_ms)
        else:
            self.validation_actor.send_with_options(args=(job.batch_id,), delay=delay_ms)

    def work(self, stop: threading.Event) -> None:
        """Run jobs one at a time until ``stop`` is set; a job under way is finished first."""
        from dramatiq import Worker

        worker = Worker(self.broker, worker_threads=1)
        worker.queue_prefetch = 1  # hold one message: the others stay for other workers
        worker.start()
        try:
            stop.wait()
        finally:
            worker.stop()


def make_queue(config: Mapping[str, Any], handlers: Mapping[type, Handler], *, worker: bool = False) -> JobQueue:
    """The queue ``ISSUER_QUEUE`` names, running each kind of job with its handler.
    ``worker``: this process runs the jobs (``issuer worker``); otherwise a Redis queue
    only sends them."""
    kind = config["QUEUE"]
    if kind == "inprocess":
        if worker:
            raise ConfigError("ISSUER_QUEUE=inprocess: the service runs batches itself, no worker is needed")
        return InProcessQueue(handlers)
    if kind == "redis":
        if not config["REDIS_URL"]:
            raise ConfigError("ISSUER_QUEUE=redis needs ISSUER_REDIS_URL")
        return RedisQueue(
            config["REDIS_URL"],
            heartbeat_ms=int(config["QUEUE_HEARTBEAT_MS"]),
            maintenance_chance=int(config["QUEUE_MAINTENANCE"]),
            handlers=handlers if worker else None,
        )
    raise ConfigError(f"ISSUER_QUEUE must be inprocess or redis, not {kind!r}")
