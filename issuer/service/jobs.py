"""Background work: drawing a batch's certificates, a chunk of items per job.

Two queues, chosen by ``ISSUER_QUEUE``:

- ``inprocess`` (the embedded default): a thread of the service process. Nothing else to
  run; unfinished batches are picked up again when the service starts (``resume``).
- ``redis``: worker processes (``issuer worker``) fed through Redis by dramatiq's Redis
  broker. A message is acknowledged only when its job returns; when a worker dies, its
  heartbeat stops and another worker puts the message it held back on the queue.

Jobs may run twice (a redelivery, or ``resume`` beside a queue that still holds them):
``batch_output`` makes every step safe to repeat."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select, update

from issuer.config import ConfigError
from issuer.core.errors import IssuerError
from issuer.render import RenderError
from issuer.service import batch_output
from issuer.service.context import Services
from issuer.store import models as m

log = logging.getLogger(__name__)

QUEUE_NAME = "issuer-render"
ACTOR_NAME = "render_batch_chunk"
ATTEMPTS = 3
"""In-process: tries of a job that raised something unexpected before its batch is failed."""


@dataclass(frozen=True)
class Chunk:
    batch_id: str
    first: int
    count: int


class JobQueue(Protocol):
    def send(self, chunk: Chunk) -> None: ...


def run_chunk(svc: Services, chunk: Chunk) -> None:
    """Draw one chunk. What no retry can mend (a layout, a font or an image the deployment
    cannot draw) fails the batch with its message; anything else is raised to be retried."""
    try:
        batch_output.render_chunk(svc, chunk.batch_id, chunk.first, chunk.count)
    except (RenderError, IssuerError) as e:
        log.error("batch %s failed: %s", chunk.batch_id, e)
        fail(svc, chunk.batch_id, f"{e.code}: {e.message_zh} / {e.message}")


def fail(svc: Services, batch_id: str, error: str) -> None:
    with svc.transaction() as session:
        session.execute(
            update(m.Batch)
            .where(m.Batch.id == batch_id, m.Batch.status == "rendering")
            .values(status="failed", error=error[:2000], finished_at=svc.clock())
        )


def chunks(svc: Services, batch_id: str) -> list[Chunk]:
    """The chunks of a batch that still have items to draw."""
    size = svc.batch_chunk
    with svc.db.reading() as session:
        positions = session.scalars(
            select(m.BatchItem.position).where(m.BatchItem.batch_id == batch_id, m.BatchItem.rendered_at.is_(None))
        )
        firsts = sorted({p - p % size for p in positions})
    return [Chunk(batch_id, first, size) for first in firsts]


def dispatch(svc: Services, batch_id: str) -> None:
    """Queue a batch's drawing and note when. A batch whose queueing failed (Redis down)
    keeps ``dispatched_at`` empty and is queued again by a retried upload."""
    assert svc.jobs is not None
    todo = chunks(svc, batch_id)
    for chunk in todo:
        svc.jobs.send(chunk)
    if not todo:  # every item drawn already: only the archive is missing
        svc.jobs.send(Chunk(batch_id, 0, 0))
    with svc.transaction() as session:
        session.execute(update(m.Batch).where(m.Batch.id == batch_id).values(dispatched_at=svc.clock()))


def resume(svc: Services) -> list[str]:
    """Queue again every batch still being drawn (after the in-process service restarted,
    or by hand with ``issuer batch resume``). Returns their ids."""
    with svc.db.reading() as session:
        ids = list(session.scalars(select(m.Batch.id).where(m.Batch.status == "rendering")))
    for batch_id in ids:
        dispatch(svc, batch_id)
    return ids


class InProcessQueue:
    """One thread drawing chunks in order. A job that raises is tried again; after
    ``ATTEMPTS`` its batch is failed, so that a batch never waits forever."""

    def __init__(self, run: Callable[[Chunk], None], *, retry_delay: float = 1.0) -> None:
        self._run = run
        self._retry_delay = retry_delay
        self._queue: queue.Queue[Chunk] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.on_failure: Callable[[Chunk, str], None] | None = None

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
                    if self.on_failure is not None:
                        self.on_failure(chunk, f"{type(e).__name__}: {e}")
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
        run: Callable[[Chunk], None] | None = None,
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


def make_queue(config: Mapping[str, Any], svc: Services, *, worker: bool = False) -> JobQueue:
    """The queue ``ISSUER_QUEUE`` names, running ``run_chunk`` with ``svc`` where jobs run."""
    kind = config["QUEUE"]
    if kind == "inprocess":
        if worker:
            raise ConfigError("ISSUER_QUEUE=inprocess: the service draws batches itself, no worker is needed")
        q = InProcessQueue(lambda chunk: run_chunk(svc, chunk))
        q.on_failure = lambda chunk, error: fail(svc, chunk.batch_id, error)
        return q
    if kind == "redis":
        if not config["REDIS_URL"]:
            raise ConfigError("ISSUER_QUEUE=redis needs ISSUER_REDIS_URL")
        return RedisQueue(
            config["REDIS_URL"],
            heartbeat_ms=int(config["QUEUE_HEARTBEAT_MS"]),
            maintenance_chance=int(config["QUEUE_MAINTENANCE"]),
            run=(lambda chunk: run_chunk(svc, chunk)) if worker else None,
        )
    raise ConfigError(f"ISSUER_QUEUE must be inprocess or redis, not {kind!r}")
