"""Background work: drawing a batch's certificates, a chunk of items per job.

Two queues, chosen by ``ISSUER_QUEUE``:

- ``inprocess`` (the embedded default): a thread of the service process. Nothing else to
  run; unfinished batches are picked up again when the service starts (``resume``).
- ``redis``: worker processes (``issuer worker``) fed through Redis by dramatiq's Redis
  broker. A message is acknowledged only when its job returns; when a worker dies, its
  heartbeat stops and another worker puts the message it held back on the queue.

Jobs may run twice (a redelivery, or ``resume`` beside a queue that still holds them):
``drawing`` makes every step safe to repeat. A queue is built with what runs a job; the
service layer hands it in, so this module knows nothing of batches."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from issuer.config import ConfigError
from issuer.service.drawing import Chunk

log = logging.getLogger(__name__)

QUEUE_NAME = "issuer-render"
ACTOR_NAME = "render_batch_chunk"
ATTEMPTS = 3
"""In-process: tries of a job that raised something unexpected before its batch is failed."""

Run = Callable[[Chunk], None]
Fail = Callable[[str, str], None]
"""``fail(batch_id, error)``: what to do when a job has failed for good."""


class JobQueue(Protocol):
    def send(self, chunk: Chunk) -> None: ...


class InProcessQueue:
    """One thread drawing chunks in order. A job that raises is tried again; after
    ``ATTEMPTS`` its batch is failed, so that a batch never waits forever."""

    def __init__(self, run: Run, fail: Fail, *, retry_delay: float = 1.0) -> None:
        self._run = run
        self._fail = fail
        self._retry_delay = retry_delay
        self._queue: queue.Queue[Chunk] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def send(self, chunk: Chunk) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="issuer-batch-render", daemon=True)
                self._thread.start()
        self._queue.put(chunk)

    def join(self) -> None:
        """Wait until every job sent so far has run."""
        self._queue.join()

    def close(self) -> None:
        """Drop the jobs not started (``resume`` queues them again at the next start) and
        wait for the one under way."""
        self._closed = True
        thread = self._thread
        if thread is not None:
            self._queue.put(Chunk("", 0, 0))  # wakes the thread to see it is closed
            thread.join()

    def _work(self) -> None:
        while True:
            chunk = self._queue.get()
            try:
                if self._closed:
                    return
                self._attempt(chunk)
            finally:
                self._queue.task_done()

    def _attempt(self, chunk: Chunk) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                self._run(chunk)
                return
            except Exception as e:
                log.exception("batch %s chunk %s: attempt %s failed", chunk.batch_id, chunk.first, attempt)
                if attempt == ATTEMPTS:
                    self._fail(chunk.batch_id, f"{type(e).__name__}: {e}")
                    return
                time.sleep(self._retry_delay * attempt)


class RedisQueue:
    """dramatiq on Redis. The service only sends; ``issuer worker`` also runs the jobs."""

    def __init__(
        self,
        url: str,
        *,
        heartbeat_ms: int = 60_000,
        maintenance_chance: int = 100_000,
        run: Run | None = None,
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
        self._run = run
        self.actor = dramatiq.actor(
            self._perform,
            broker=self.broker,
            actor_name=ACTOR_NAME,
            queue_name=QUEUE_NAME,
            max_retries=10,
            min_backoff=1_000,
            max_backoff=60_000,
        )

    def _perform(self, batch_id: str, first: int, count: int) -> None:
        if self._run is None:
            raise RuntimeError("this process only sends jobs")
        self._run(Chunk(batch_id, first, count))

    def send(self, chunk: Chunk) -> None:
        self.actor.send(chunk.batch_id, chunk.first, chunk.count)

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


def make_queue(config: Mapping[str, Any], run: Run, fail: Fail, *, worker: bool = False) -> JobQueue:
    """The queue ``ISSUER_QUEUE`` names. ``worker``: this process runs the jobs (``issuer
    worker``); otherwise a Redis queue only sends them."""
    kind = config["QUEUE"]
    if kind == "inprocess":
        if worker:
            raise ConfigError("ISSUER_QUEUE=inprocess: the service draws batches itself, no worker is needed")
        return InProcessQueue(run, fail)
    if kind == "redis":
        if not config["REDIS_URL"]:
            raise ConfigError("ISSUER_QUEUE=redis needs ISSUER_REDIS_URL")
        return RedisQueue(
            config["REDIS_URL"],
            heartbeat_ms=int(config["QUEUE_HEARTBEAT_MS"]),
            maintenance_chance=int(config["QUEUE_MAINTENANCE"]),
            run=run if worker else None,
        )
    raise ConfigError(f"ISSUER_QUEUE must be inprocess or redis, not {kind!r}")
