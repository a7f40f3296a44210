"""Batch issuance of one roster (10,000 rows; ``BENCH_BATCH_ROWS`` to change): the upload
answered, the whole roster validated in the background and every row issued in one
transaction, against the floor of that work (one scrypt commitment a row, on every core);
then the certificates drawn (PNG + PDF, 300 dpi) and packed by one and then two
``issuer worker`` processes fed through Redis, the peak memory of the service and of a
worker, and the archive's size."""

from __future__ import annotations

import io
import itertools
import logging
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import func, select, update

from issuer.core import identity
from issuer.service import wiring
from issuer.service.batches import Upload
from issuer.service.principal import Principal
from issuer.service.wiring import UseCases
from issuer.store import models as m

from . import report
from .deployment import (
    ELECTRICIAN,
    HOLDER_NAMES,
    PG_URL,
    another_organization,
    deploy,
    issue_request,
    photo,
    postgres_problem,
    reset_postgres,
    resident_id,
    sqlite_url,
)
from .timing import Settings

TITLE = "batch issuance: a roster uploaded, validated and issued in the background, drawn by 1 and 2 workers"
NOTE = (
    "one run per figure; a GBK CSV roster of BENCH_BATCH_ROWS rows (default 10,000), SQLite in a temporary "
    "folder; the service in a spawned process with its in-process queue: the upload is Batches.submit, "
    "validation and issue are the job's own timings (its log record), the floor is the rows' scrypt "
    "commitments (CPU time of one, measured in the same process) spread over every core; drawing = "
    "`issuer worker` processes on Redis, timed from Batches.dispatch until the batch is done (archive packed)"
)
GOAL = 1.2
"""Validation and issue of the whole roster, at most this many times the scrypt floor."""
FLOOR_SAMPLES = 200
"""Commitments timed, one after another, for the floor."""
POLL = 0.1

ROWS = 10_000
BESIDE_ROWS = 3_000
"""The roster another organization issues beside (``_beside``)."""
BESIDE_PAUSE = 0.02
BESIDE_POLL = 0.01
BESIDE_FIRST = 800_000
"""The first request number of the other organization's (its document numbers)."""
ROWS_VARIABLE = "BENCH_BATCH_ROWS"
REDIS_URL = "redis://127.0.0.1:6379/13"
"""A Redis database of its own, emptied before the run."""
WORKER_START_SECONDS = 60.0
WORKER_STOP_SECONDS = 30.0
POLL_SECONDS = 0.25
REPO = Path(__file__).resolve().parent.parent
HEADER = "姓名,证件类型,证件号码,职业编码,工种/职业方向,等级,理论知识成绩,技能操作成绩,综合评审成绩,照片"
PHOTO = "photo.jpg"
"""The one photo every row names (``photos_zip``): each row's photo is still read and checked."""
LEVELS = ("3", "四级", "初级工", "三级/高级工")
SHARED_SETTINGS = (
    "QUEUE",
    "REDIS_URL",
    "BATCH_DIR",
    "BATCH_CHUNK",
    "KEYS_DIR",
    "KEY_PASSPHRASE",
    "DATA_KEY",
    "QR_HOST",
)
"""Given to the workers as ``ISSUER_*`` variables (with ``DATABASE_URL``): as the service has them."""


def rows() -> int:
    return int(os.environ.get(ROWS_VARIABLE, ROWS))


def loadavg() -> str:
    """``/proc/loadavg`` as it reads (1, 5 and 15 minutes, runnable/all, last pid)."""
    return Path("/proc/loadavg").read_text().strip()


def run(settings: Settings) -> dict[str, Any]:
    count = rows()
    before = loadavg()
    report.heading(f"{count:,} rows on {os.cpu_count()} CPUs; /proc/loadavg before: {before}")
    with tempfile.TemporaryDirectory(prefix="issuer-bench-batch-") as tmp:
        folder = Path(tmp)
        deployment = deploy(sqlite_url(folder), folder)
        deployment.close()
        config = {**deployment.config, "BATCH_DIR": str(folder / "batches")}
        roster = roster_csv(count)
        figures: dict[str, Any] = {"rows": count, "roster_bytes": len(roster), "loadavg_before": before}
        figures["service"] = _service(config, folder, deployment.principal, roster)
        figures["beside"] = _beside(folder / "beside")
        problem = _empty_redis()
        if problem is None:
            service = figures["service"]
            redis = {**config, "QUEUE": "redis", "REDIS_URL": REDIS_URL}
            figures["drawing"] = _drawing(redis, folder, service["batch_id"], service["issued"])
        else:
            report.heading(f"drawing: skipped, {problem}")
            figures["drawing"] = {"skipped": problem}
    figures["loadavg_after"] = loadavg()
    report.heading(f"/proc/loadavg after: {figures['loadavg_after']} (other work skews these figures)")
    return figures


def roster_csv(count: int) -> bytes:
    """``count`` valid rows, each a different person (electricians, levels 5 to 2, the
    level written in its several forms), in GBK as Excel on Chinese Windows saves a CSV."""
    lines = [HEADER]
    for i in range(count):
        level, review = ("2", "88") if i % 7 == 6 else (LEVELS[i % 4], "")
        practical = f"{60 + i % 37}{'.5' if i % 2 else ''}"
        name = HOLDER_NAMES[i % len(HOLDER_NAMES)]
        row = f"{name},居民身份证,{resident_id(i)},{ELECTRICIAN},--,{level},{60 + i % 40},{practical},{review},{PHOTO}"
        lines.append(row)
    return "\r\n".join([*lines, ""]).encode("gbk")


def photos_zip() -> bytes:
    """The photos ZIP of the roster: ``PHOTO``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(PHOTO, photo())
    return out.getvalue()


def peak_rss(pid: int | str = "self") -> int:
    """The process's peak resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


# The upload, its validation and issue, in a process of their own ----------------------------


class _Timings(logging.Handler):
    """The job's record of how long validating and issuing took."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.found: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        timing = getattr(record, "batch_timing", None)
        if timing is not None:
            self.found = dict(timing)


def scrypt_cpu_seconds(samples: int = FLOOR_SAMPLES) -> float:
    """CPU time of one identity commitment (scrypt), the median of ``samples`` in a row."""
    times = []
    for i in range(samples):
        started = time.process_time()
        identity.commit(resident_id(i))
        times.append(time.process_time() - started)
    return sorted(times)[len(times) // 2]


def _issue_roster(config: dict[str, Any], folder: str, principal: Principal, roster: bytes) -> dict[str, Any]:
    """Runs in a spawned process: the floor measured, then the roster uploaded as the API
    uploads it and followed until its job has issued it."""
    timings = _Timings()
    logging.getLogger("issuer.service.batches").addHandler(timings)
    logging.getLogger("issuer.service.batches").setLevel(logging.INFO)
    use = wiring.build(config, folder)
    try:
        scrypt = scrypt_cpu_seconds()
        cpu = time.process_time()
        started = perf_counter()
        upload = Upload(roster=roster, filename="名单.csv", photos=io.BytesIO(photos_zip()))
        batch, _ = use.batches.submit(principal, upload)
        answered = perf_counter()
        issuing_peak = peak_rss()
        while (batch := use.batches.status(principal, batch.id)).status in ("validating", "issuing"):
            issuing_peak = peak_rss()
            time.sleep(POLL)
        finished = perf_counter()
        cpu = time.process_time() - cpu
        if batch.status != "rendering":
            raise RuntimeError(f"the batch is {batch.status}: {batch.refusal or batch.error}")
        while use.log.waiting():
            time.sleep(POLL / 10)
        logged = perf_counter()
    finally:
        use.close()  # drawing is timed below, by worker processes
    return {
        "batch_id": batch.id,
        "issued": batch.issued,
        "scrypt_cpu_seconds": scrypt,
        "cpus": os.cpu_count() or 1,
        "answer_seconds": answered - started,
        "validation_seconds": timings.found["validation_seconds"],
        "issue_seconds": timings.found["issue_seconds"],
        "logged_seconds": logged - finished,
        "total_seconds": finished - started,
        "cpu_seconds": cpu,
        "issuing_peak_rss": issuing_peak,
        "peak_rss": peak_rss(),
    }


def _service(config: dict[str, Any], folder: Path, principal: Principal, roster: bytes) -> dict[str, Any]:
    report.heading("service (one spawned process): upload answered, then validated and issued by its job")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        got = pool.apply(_issue_roster, (config, str(folder), principal, roster))
    count, cpus = got["issued"], got["cpus"]
    floor = count * got["scrypt_cpu_seconds"] / cpus
    work = got["validation_seconds"] + got["issue_seconds"]
    ratio = work / floor
    report.row("upload answered (202)", f"{got['answer_seconds'] * 1000:.0f} ms", "count rows, encrypt, record")
    report.row(
        "validation", f"{got['validation_seconds']:.1f} s", f"{1000 * got['validation_seconds'] / count:.2f} ms a row"
    )
    report.row(
        "issue (one transaction)",
        f"{got['issue_seconds']:.1f} s",
        f"{count / got['issue_seconds']:,.0f} certificates/s",
    )
    report.row(
        "  in the log",
        f"{got['logged_seconds']:.2f} s",
        "later (as polled): its sequencer appended it after the commit; its transaction took no log lock",
    )
    report.row("total, upload to issued", f"{got['total_seconds']:.1f} s", "as a client polling the batch sees it")
    report.row(
        "scrypt floor",
        f"{floor:.1f} s",
        f"{count:,} × {got['scrypt_cpu_seconds'] * 1000:.2f} ms CPU ÷ {cpus} cores (measured in the same process)",
    )
    report.row("validation + issue ÷ floor", f"{ratio:.2f}", f"/proc/loadavg {loadavg()}")
    cpu_ratio = got["cpu_seconds"] / (count * got["scrypt_cpu_seconds"])
    report.row(
        "CPU time ÷ the commitments' CPU",
        f"{cpu_ratio:.2f}",
        f"{got['cpu_seconds']:.1f} s of CPU, upload to issued (other load changes it little)",
    )
    report.goal(
        f"batch: validate + issue, {count:,} rows",
        f"{ratio:.2f} × floor",
        f"floor {floor:.1f} s = rows × {got['scrypt_cpu_seconds'] * 1000:.2f} ms scrypt CPU ÷ {cpus} cores, same run",
        f"≤ {GOAL} × floor",
        ratio <= GOAL,
    )
    report.row(
        "peak RSS of the service process",
        _mb(got["issuing_peak_rss"]),
        f"VmHWM, imports included, at the last poll before the roster was issued; {_mb(got['peak_rss'])} once the "
        "in-process queue had begun drawing it (how far it got depends on the poll)",
    )
    return {
        "batch_id": got["batch_id"],
        "issued": count,
        "answer_ms": round(got["answer_seconds"] * 1000, 1),
        "validation": {
            "seconds": round(got["validation_seconds"], 2),
            "ms_per_row": round(1000 * got["validation_seconds"] / count, 3),
        },
        "issuance": {
            "seconds": round(got["issue_seconds"], 2),
            "per_second": round(count / got["issue_seconds"], 1),
            "logged_seconds_after": round(got["logged_seconds"], 2),
        },
        "total_seconds": round(got["total_seconds"], 2),
        "floor": {
            "seconds": round(floor, 2),
            "scrypt_cpu_ms": round(got["scrypt_cpu_seconds"] * 1000, 3),
            "cpus": cpus,
        },
        "ratio": round(ratio, 3),
        "cpu_seconds": round(got["cpu_seconds"], 2),
        "cpu_ratio": round(cpu_ratio, 3),
        "goal": GOAL,
        "meets_goal": ratio <= GOAL,
        "peak_rss_bytes": got["issuing_peak_rss"],
        "peak_rss_bytes_with_drawing": got["peak_rss"],
    }


# Drawing by worker processes -----------------------------------------------------------------


def _empty_redis() -> str | None:
    """Empty the bench's Redis database; why it cannot be used, or None."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).flushdb()
    except redis.RedisError as exc:
        return f"{REDIS_URL} unreachable ({exc})"
    return None


# Another organization issuing while a roster issues (PostgreSQL) ---------------------------


def _beside(folder: Path) -> dict[str, Any]:
    """On PostgreSQL, where organizations would wait on one another only for the log's lock,
    which issuing no longer takes (SQLite has one writer at a time): another organization issues one certificate every
    ``BESIDE_PAUSE`` seconds while a roster of ``BESIDE_ROWS`` is validated and issued; its
    longest wait while the roster issues, against its median."""
    report.heading(f"PostgreSQL: another organization issuing while a {BESIDE_ROWS:,}-row roster issues")
    problem = postgres_problem()
    if problem is not None:
        report.row("skipped", problem)
        return {"skipped": problem}
    folder.mkdir()
    deployment = deploy(reset_postgres(PG_URL), folder)
    use = deployment.use
    try:
        other = another_organization(use, "000777", "另一家评价机构（基准测试）")
        use.issuing.issue(other, issue_request(BESIDE_FIRST - 1, 3))  # warm-up
        waits: list[tuple[float, float]] = []
        stop = threading.Event()

        def issue_beside() -> None:
            for i in itertools.count(BESIDE_FIRST):
                if stop.wait(BESIDE_PAUSE):
                    return
                started = perf_counter()
                use.issuing.issue(other, issue_request(i, 3))
                waits.append((started, perf_counter() - started))

        beside = threading.Thread(target=issue_beside, name="beside")
        beside.start()
        upload = Upload(roster=roster_csv(BESIDE_ROWS), filename="名单.csv", photos=io.BytesIO(photos_zip()))
        batch, _ = use.batches.submit(deployment.principal, upload)
        issuing_from: float | None = None
        while (batch := use.batches.status(deployment.principal, batch.id)).status in ("validating", "issuing"):
            if batch.status == "issuing" and issuing_from is None:
                issuing_from = perf_counter()
            time.sleep(BESIDE_POLL)
        issued_at = perf_counter()
        stop.set()
        beside.join()
    finally:
        deployment.close()
    if batch.status != "rendering" or issuing_from is None:
        report.row("failed", batch.status, str(batch.refusal or batch.error or "the issue stage was not seen"))
        return {"failed": batch.status}
    # a request that started just before the issue stage was seen may have waited on it
    during = [wait for started, wait in waits if issuing_from - BESIDE_POLL <= started <= issued_at]
    median = statistics.median(wait for _, wait in waits)
    longest = max(during, default=0.0)
    report.row(
        "longest wait while the roster issued",
        f"{1000 * longest:,.0f} ms",
        f"{len(during)} issued meanwhile; the roster's issue stage {issued_at - issuing_from:.1f} s "
        f"(as polled); median wait of all {len(waits)}: {1000 * median:.0f} ms, the roster validating beside",
    )
    return {
        "rows": BESIDE_ROWS,
        "issue_stage_seconds": round(issued_at - issuing_from, 2),
        "longest_wait_ms": round(1000 * longest, 1),
        "median_wait_ms": round(1000 * median, 1),
        "issued_beside": len(waits),
    }


def _worker_environment(config: dict[str, Any], folder: Path) -> dict[str, str]:
    settings = {f"ISSUER_{key}": str(config[key]) for key in SHARED_SETTINGS}
    return {**os.environ, **settings, "DATABASE_URL": config["DATABASE_URL"], "ISSUER_INSTANCE_PATH": str(folder)}


def _log_tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-2000:]


def _wait_ready(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = perf_counter() + WORKER_START_SECONDS
    while b"waiting for batches" not in log.read_bytes():
        if process.poll() is not None or perf_counter() > deadline:
            raise RuntimeError(f"worker {process.pid} did not start:\n{_log_tail(log)}")
        time.sleep(0.1)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def workers(count: int, env: dict[str, str], folder: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` ``issuer worker`` processes, started and waiting; stopped (SIGTERM, then
    SIGKILL) on the way out, whatever happened."""
    processes: list[subprocess.Popen[bytes]] = []
    logs = [folder / f"worker-{count}-{i}.log" for i in range(count)]
    try:
        for log in logs:
            with log.open("wb") as out:
                command = [sys.executable, "-m", "issuer.cli", "worker"]
                processes.append(subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT))
        for process, log in zip(processes, logs, strict=True):
            _wait_ready(process, log)
        yield processes
    finally:
        _stop(processes)


def _wait_done(use: UseCases, batch_id: str, processes: list[subprocess.Popen[bytes]], folder: Path) -> None:
    while True:
        with use.database.read_sessions() as session:
            batch = session.get(m.Batch, batch_id)
            assert batch is not None
            status, error = batch.status, batch.error
        if status == "done":
            return
        if status != "rendering":
            raise RuntimeError(f"batch {batch_id} is {status}: {error}")
        for process in processes:
            if process.poll() is not None:
                logs = "\n".join(_log_tail(log) for log in folder.glob("worker-*.log"))
                raise RuntimeError(f"worker {process.pid} exited with {process.returncode}:\n{logs}")
        time.sleep(POLL_SECONDS)


def _packing_seconds(use: UseCases, batch_id: str) -> float:
    """From the last certificate drawn to the batch done: building the archive."""
    with use.database.read_sessions() as session:
        last = session.scalar(select(func.max(m.BatchItem.rendered_at)).where(m.BatchItem.batch_id == batch_id))
        batch = session.get(m.Batch, batch_id)
        assert batch is not None and batch.finished_at is not None and last is not None
        return (batch.finished_at - last).total_seconds()


def _draw(
    use: UseCases, batch_id: str, issued: int, count: int, env: dict[str, str], folder: Path, *, base: float = 0.0
) -> dict[str, Any]:
    """Draw the batch with ``count`` workers; ``base``: the rate of one worker, for the speed-up."""
    with workers(count, env, folder) as processes:
        started = perf_counter()
        use.batches.dispatch(batch_id)
        _wait_done(use, batch_id, processes, folder)
        seconds = perf_counter() - started
        peaks = [peak_rss(p.pid) for p in processes]
    per_second, packing = issued / seconds, _packing_seconds(use, batch_id)
    note = f"{per_second:.2f} certificates/s" + (f", speed-up {per_second / base:.2f}×" if base else "")
    note += f"; packing {packing:.1f} s; peak RSS {', '.join(map(_mb, peaks))} (VmHWM)"
    report.row("1 worker" if count == 1 else f"{count} workers", f"{seconds:.1f} s", note)
    return {
        "seconds": round(seconds, 2),
        "per_second": round(per_second, 3),
        "packing_seconds": round(packing, 2),
        "peak_rss_bytes": peaks,
    }


def _reset(use: UseCases, batch_id: str) -> None:
    """The batch as it was before it was drawn: nothing drawn, no archive."""
    with use.database.sessions.begin() as session:
        session.execute(update(m.BatchItem).where(m.BatchItem.batch_id == batch_id).values(rendered_at=None))
        session.execute(
            update(m.Batch)
            .where(m.Batch.id == batch_id)
            .values(status="rendering", finished_at=None, archive_bytes=None, archive_sha256=None)
        )
    use.drawing.archive_path(batch_id).unlink(missing_ok=True)


def _archive(use: UseCases, batch_id: str, issued: int) -> dict[str, Any]:
    path = use.drawing.archive_path(batch_id)
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        members = len(archive.namelist())
    report.row("archive", _mb(size), f"{size / issued / 1024:,.0f} KB per certificate (PNG + PDF), {members:,} files")
    return {"archive": {"bytes": size, "bytes_per_certificate": round(size / issued), "members": members}}


def _drawing(config: dict[str, Any], folder: Path, batch_id: str, issued: int) -> dict[str, Any]:
    report.heading(f"drawing: PNG + PDF at 300 dpi by `issuer worker` processes ({REDIS_URL}, dispatch → archive)")
    use = wiring.build(config, str(folder))
    env = _worker_environment(config, folder)
    try:
        _reset(use, batch_id)  # what the service's own queue drew before it stopped is drawn again
        one = _draw(use, batch_id, issued, 1, env, folder)
        _reset(use, batch_id)  # the same batch again, not issued anew
        two = _draw(use, batch_id, issued, 2, env, folder, base=one["per_second"])
        archive = _archive(use, batch_id, issued)
    finally:
        use.close()
    speed_up = round(two["per_second"] / one["per_second"], 2)
    return {"chunk": int(config["BATCH_CHUNK"]), "workers_1": one, "workers_2": two, "speed_up": speed_up, **archive}
