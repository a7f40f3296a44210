"""Batch issuance of one roster (10,000 rows; ``BENCH_BATCH_ROWS`` to change): the whole
roster validated, every row issued in one transaction, the certificates drawn (PNG + PDF,
300 dpi) and packed by one and then two ``issuer worker`` processes fed through Redis, the
peak memory of the service and of a worker, and the archive's size."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import func, select, update

from issuer.service import wiring
from issuer.service.batches import Upload
from issuer.service.principal import Principal
from issuer.service.wiring import UseCases
from issuer.store import models as m

from . import report
from .deployment import ELECTRICIAN, HOLDER_NAMES, deploy, resident_id, sqlite_url
from .timing import Settings

TITLE = "batch issuance: a roster validated, issued in one transaction, drawn by 1 and 2 workers"
NOTE = (
    "one run per figure; a GBK CSV roster of BENCH_BATCH_ROWS rows (default 10,000), SQLite in a temporary "
    "folder; validation = Batches.check, issuance = Batches._issue in one unit of work (submit without "
    "its dispatch), both in a spawned process; drawing = `issuer worker` processes on Redis, timed from "
    "Batches.dispatch until the batch is done (archive packed)"
)

ROWS = 10_000
ROWS_VARIABLE = "BENCH_BATCH_ROWS"
REDIS_URL = "redis://127.0.0.1:6379/13"
"""A Redis database of its own, emptied before the run."""
WORKER_START_SECONDS = 60.0
WORKER_STOP_SECONDS = 30.0
POLL_SECONDS = 0.25
REPO = Path(__file__).resolve().parent.parent
HEADER = "姓名,证件类型,证件号码,职业编码,工种/职业方向,等级,理论知识成绩,技能操作成绩,综合评审成绩"
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


def run(settings: Settings) -> dict[str, Any]:
    count, load = rows(), os.getloadavg()[0]
    report.heading(f"{count:,} rows; load average before the run: {load:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="issuer-bench-batch-") as tmp:
        folder = Path(tmp)
        deployment = deploy(sqlite_url(folder), folder)
        deployment.close()
        config = {**deployment.config, "QUEUE": "redis", "REDIS_URL": REDIS_URL, "BATCH_DIR": str(folder / "batches")}
        roster = roster_csv(count)
        figures: dict[str, Any] = {"rows": count, "roster_bytes": len(roster), "load_average_before": round(load, 2)}
        figures["service"] = _service(config, folder, deployment.principal, roster)
        problem = _empty_redis()
        if problem is None:
            service = figures["service"]
            figures["drawing"] = _drawing(config, folder, service["batch_id"], service["issued"])
        else:
            report.heading(f"drawing: skipped, {problem}")
            figures["drawing"] = {"skipped": problem}
    figures["load_average_after"] = round(os.getloadavg()[0], 2)
    report.heading(f"load average after the run: {figures['load_average_after']:.2f} (other work skews these)")
    return figures


def roster_csv(count: int) -> bytes:
    """``count`` valid rows, each a different person (electricians, levels 5 to 2, the
    level written in its several forms), in GBK as Excel on Chinese Windows saves a CSV."""
    lines = [HEADER]
    for i in range(count):
        level, review = ("2", "88") if i % 7 == 6 else (LEVELS[i % 4], "")
        practical = f"{60 + i % 37}{'.5' if i % 2 else ''}"
        name = HOLDER_NAMES[i % len(HOLDER_NAMES)]
        lines.append(f"{name},居民身份证,{resident_id(i)},{ELECTRICIAN},--,{level},{60 + i % 40},{practical},{review}")
    return "\r\n".join([*lines, ""]).encode("gbk")


def peak_rss(pid: int | str = "self") -> int:
    """The process's peak resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


# Validation and issuance, in a process of their own ----------------------------------------


def _issue_roster(config: dict[str, Any], folder: str, principal: Principal, roster: bytes) -> dict[str, Any]:
    """Runs in a spawned process: what ``Batches.submit`` does, each step timed, without
    queueing the drawing (the workers are not running yet)."""
    use = wiring.build(config, folder)
    try:
        upload = Upload(roster=roster, filename="名单.csv")
        started = perf_counter()
        checked = use.batches.check(principal, upload)
        validated = perf_counter()
        if checked.problems:
            raise RuntimeError(f"the roster has {len(checked.problems)} problems, the first: {checked.problems[0]}")
        with use.ctx.units() as uow:
            batch_id = use.batches._issue(uow, principal, checked, None, upload)
            issued = list(uow.batches.lines(batch_id))
            uow.commit()
        finished = perf_counter()
    finally:
        use.close()
    return {
        "batch_id": batch_id,
        "issued": len(issued),
        "validation_seconds": validated - started,
        "issuance_seconds": finished - validated,
        "peak_rss": peak_rss(),
    }


def _service(config: dict[str, Any], folder: Path, principal: Principal, roster: bytes) -> dict[str, Any]:
    report.heading("service (one spawned process): Batches.check, then Batches._issue in one transaction")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        got = pool.apply(_issue_roster, (config, str(folder), principal, roster))
    count, validation, issuance = got["issued"], got["validation_seconds"], got["issuance_seconds"]
    ms_per_row, per_second = 1000 * validation / count, count / issuance
    report.row("validation of the whole roster", f"{validation:.1f} s", f"{ms_per_row:.2f} ms per row")
    report.row("issuance (one transaction)", f"{issuance:.1f} s", f"{per_second:,.0f} certificates/s")
    report.row("peak RSS of the service process", _mb(got["peak_rss"]), "VmHWM, imports included")
    return {
        "batch_id": got["batch_id"],
        "issued": count,
        "validation": {"seconds": round(validation, 2), "ms_per_row": round(ms_per_row, 3)},
        "issuance": {"seconds": round(issuance, 2), "per_second": round(per_second, 1)},
        "peak_rss_bytes": got["peak_rss"],
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
    use.drawing.archive_path(batch_id).unlink()


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
        one = _draw(use, batch_id, issued, 1, env, folder)
        _reset(use, batch_id)  # the same batch again, not issued anew
        two = _draw(use, batch_id, issued, 2, env, folder, base=one["per_second"])
        archive = _archive(use, batch_id, issued)
    finally:
        use.close()
    speed_up = round(two["per_second"] / one["per_second"], 2)
    return {"chunk": int(config["BATCH_CHUNK"]), "workers_1": one, "workers_2": two, "speed_up": speed_up, **archive}
