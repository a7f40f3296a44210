"""Scheduled upkeep: what keeps the published data current and the stored data bounded, run
by a scheduler, never by a request.

Each job is a row of ``Upkeep.jobs``: a name, how often it is due, and a function that does
what is due and says what it did in one line. Every job is idempotent (it looks at the
data, not at when it last ran: run twice, the second finds nothing to do), so a job run
late, early or again is harmless. One scheduler runs each due job however many run
(``issuer scheduler`` on two machines, the development server's thread beside one): a run
starts by taking the job's row (``store/upkeep.py``), which only one scheduler can do until
the job's interval has passed again. A job that fails is logged and the others run; it is
tried again when next due.

Shapes: ``issuer scheduler`` (a process of its own, production), ``issuer scheduler
--once`` (cron, tests), and ``SchedulerThread`` in ``issuer run`` (``ISSUER_SCHEDULER``)."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from issuer.core.errors import InvalidInput, IssuerError
from issuer.service import idempotency
from issuer.service.batches import Batches
from issuer.service.context import Context
from issuer.service.log import TransparencyLog
from issuer.service.publishing import Publishing
from issuer.store.uow import UnitOfWork

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)
"""How long a scheduler holds a job it runs: one that dies mid-run lets another take the
job after this (a job runs for seconds; one still running then is run twice, harmlessly)."""
TICK = 60.0
"""Seconds between a scheduler's looks for due jobs."""
HOURLY = timedelta(hours=1)
MINUTELY = timedelta(minutes=1)


class UnknownJob(InvalidInput):
    """A job name that no row of the table has."""

    def __init__(self, unknown: Collection[str], known: Collection[str]) -> None:
        names, jobs = ", ".join(sorted(unknown)), ", ".join(sorted(known))
        super().__init__(
            "unknown_upkeep_job", f"no upkeep job {names} (the jobs: {jobs})", f"没有维护任务{names}（可选：{jobs}）"
        )


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    """Due again this long after its last run started."""
    run: Callable[[], str]
    """Does what is due; returns what it did, one line for the log."""


@dataclass(frozen=True)
class Ages:
    """When the published data counts as old, and how long stored data is kept."""

    tree_head: timedelta = timedelta(hours=24)
    trust_list: timedelta = timedelta(days=7)
    archives: timedelta | None = timedelta(days=30)
    """``None``: batch archives are kept."""


@dataclass(frozen=True)
class Outcome:
    job: str
    ran: bool
    """Whether this scheduler ran it (it was due and nobody else held it)."""
    did: str = ""
    failed: str = ""


class Upkeep:
    """The upkeep jobs, and schedulers that run them."""

    def __init__(
        self, ctx: Context, publishing: Publishing, log: TransparencyLog, batches: Batches, ages: Ages
    ) -> None:
        self._ctx = ctx
        self.jobs: tuple[Job, ...] = (
            Job("log-sequence", MINUTELY, lambda: _sequence(log)),
            Job("status-lists", HOURLY, lambda: _status_lists(publishing)),
            Job("tree-head", HOURLY, lambda: _tree_head(log, ages.tree_head)),
            Job("trust-list", HOURLY, lambda: _trust_list(publishing, ages.trust_list)),
            Job("bundle-manifest", HOURLY, lambda: _manifest(publishing)),
            Job("batch-archives", HOURLY, lambda: _archives(batches, ages.archives)),
            Job("idempotency-records", HOURLY, lambda: _idempotency(ctx)),
        )

    def scheduler(self, only: Collection[str] = ()) -> Scheduler:
        """A scheduler of every job, or of the jobs named in ``only`` (``UnknownJob``)."""
        names = {job.name for job in self.jobs}
        if set(only) - names:
            raise UnknownJob(set(only) - names, names)
        return Scheduler(self._ctx, [job for job in self.jobs if not only or job.name in only])


class Scheduler:
    """Runs the due jobs of its table, each only if it takes the job's row first."""

    def __init__(self, ctx: Context, jobs: Sequence[Job], *, holder: str | None = None) -> None:
        self._ctx = ctx
        self.jobs = tuple(jobs)
        self.holder = holder or secrets.token_hex(16)

    def run_due(self, stop: threading.Event | None = None) -> list[Outcome]:
        """Every due job once, one after another (until ``stop`` is set)."""
        outcomes = []
        for job in self.jobs:
            if stop is not None and stop.is_set():
                break
            outcomes.append(self.run_if_due(job))
        return outcomes

    def run_if_due(self, job: Job) -> Outcome:
        started = self._take(job)
        if started is None:
            return Outcome(job.name, ran=False)
        try:
            did = job.run()
        except Exception as exc:  # one job's failure never stops the others, nor the scheduler
            # An expected failure (a key that cannot be read) in one line; any other with its traceback.
            log.error("upkeep %s failed: %s", job.name, exc, exc_info=not isinstance(exc, IssuerError))
            outcome = Outcome(job.name, ran=True, failed=f"{type(exc).__name__}: {exc}")
        else:
            log.info("upkeep %s: %s", job.name, did)
            outcome = Outcome(job.name, ran=True, did=did)
        self._finish(job, started)
        return outcome

    def run_forever(self, stop: threading.Event, tick: float = TICK) -> None:
        """Run the due jobs every ``tick`` seconds until ``stop`` is set (the job under way
        is finished first). A database that cannot be reached is logged and tried again."""
        while not stop.is_set():
            try:
                self.run_due(stop)
            except Exception as exc:  # the database away for a while: the next tick tries again
                log.error("upkeep could not look for due jobs: %s", exc)
            stop.wait(tick)

    def _take(self, job: Job) -> datetime | None:
        def work(uow: UnitOfWork) -> datetime | None:
            now = self._ctx.clock()
            if not uow.upkeep.take(job.name, self.holder, now, ran_before=now - job.every, expires_at=now + LEASE):
                return None
            uow.commit()
            return now

        return self._ctx.run(work)

    def _finish(self, job: Job, started: datetime) -> None:
        def work(uow: UnitOfWork) -> None:
            uow.upkeep.finish(job.name, self.holder, started, self._ctx.clock())
            uow.commit()

        self._ctx.run(work)


class SchedulerThread:
    """A scheduler on a daemon thread: the development server's own (``issuer run``)."""

    def __init__(self, scheduler: Scheduler, tick: float = TICK) -> None:
        self._scheduler = scheduler
        self._tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._scheduler.run_forever, args=(self._stop, self._tick), name="issuer-upkeep", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


# --- the jobs: each returns one line, English / Chinese --------------------------------------


def _status_lists(publishing: Publishing) -> str:
    signed = publishing.refresh()
    if not signed:
        return "every status list is less than a day old / 所有状态列表均在一天内签发"
    return f"signed again the status lists of {', '.join(signed)} / 已重新签发{len(signed)}个状态列表"


def _sequence(log: TransparencyLog) -> str:
    logged = log.sequence()
    if not logged:
        return "every issued certificate is in the log / 所有已发证书均已记入日志"
    return f"appended {len(logged)} issued certificate(s) to the log / 已将{len(logged)}张证书记入日志"


def _tree_head(log: TransparencyLog, older_than: timedelta) -> str:
    head = log.checkpoint(older_than)
    if head is None:
        return "the latest tree head is recent, or the log is empty / 树头未过期或日志为空"
    return f"signed the tree head of size {head.tree_size} again / 已重新签发树头（{head.tree_size}条）"


def _trust_list(publishing: Publishing, older_than: timedelta) -> str:
    sequence = publishing.refresh_trust_list(older_than)
    if sequence is None:
        return "the trust list is recent, or none is published / 信任列表未过期或尚未发布"
    return f"signed trust list {sequence} / 已签发信任列表{sequence}"


def _manifest(publishing: Publishing) -> str:
    if publishing.seal_missing_manifest():
        return "signed the bundle manifest / 已签发信任包清单"
    return "the bundle manifest is signed / 信任包清单已签发"


def _archives(batches: Batches, older_than: timedelta | None) -> str:
    if older_than is None:
        return "archives are kept (ISSUER_ARCHIVE_DAYS=0) / 压缩包长期保留"
    purged = batches.purge(older_than)
    return f"removed {len(purged)} archive(s) older than {older_than.days} days / 已删除{len(purged)}个过期压缩包"


def _idempotency(ctx: Context) -> str:
    purged = idempotency.purge_expired(ctx)
    return f"removed {purged} expired Idempotency-Key record(s) / 已删除{purged}条过期的幂等记录"
