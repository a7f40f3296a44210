"""The real topology on 127.0.0.1, started as an operator starts it: PostgreSQL (a database of
the test's own), Redis (a database number of its own), ``issuer serve`` with 2 worker
processes, 2 ``issuer worker`` processes and ``issuer scheduler``. Certificates are issued
one by one and as a 500-row batch through HTTP while another process verifies without
pause; one web process and one drawing worker are killed (SIGKILL) mid-run. Then: nothing
lost or doubled, the archive holds every certificate's files exactly once, every
verification answered (but the few on the killed web process's connections), ``/readyz``
names an unreachable Redis, ``/metrics`` counts what happened."""

from __future__ import annotations

import io
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, make_url, select, text

from bench import deployment
from bench.serving import environment
from issuer.store import models as m
from tests.builders import archive_members, id17s, issued_rows, photos_zip, simple_roster
from tests.servers import Served, issuer_serve

pytestmark = pytest.mark.topology

PG_URL = os.environ.get("TEST_TOPOLOGY_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Databases 0-14 are the other tests' (tests.conftest.worker_redis: bases 0, 4, 8, 12 plus
# the xdist worker's number); with 2 workers, 15 is never theirs, and .ci/run runs this after them.
REDIS_URL = os.environ.get("TEST_TOPOLOGY_REDIS_URL", "redis://127.0.0.1:6379/15")
SINGLES = 20
ROWS = 500
CLIENTS = 4
HEARTBEAT_MS = 2000
DONE_SECONDS = 180.0
REPO = Path(__file__).resolve().parents[2]


# The services on 127.0.0.1 -------------------------------------------------------------------


def _redis_or_skip() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    return client


@pytest.fixture()
def database() -> Iterator[str]:
    """A database of the test's own, created, then dropped with whatever is connected to it."""
    import psycopg

    admin = make_url(PG_URL)
    name = f"topology_{os.getpid()}"
    connect = {"host": admin.host, "port": admin.port or 5432, "user": admin.username, "dbname": admin.database}
    try:
        with psycopg.connect(**connect, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        pytest.skip(f"no PostgreSQL at {admin.host}:{admin.port}: {str(exc).strip().splitlines()[0]}")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**connect, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture()
def redis_db() -> Iterator[Any]:
    client = _redis_or_skip()
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class Processes:
    """The processes the test started; each stopped (TERM, then KILL) at the end."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "issuer.cli", *command], cwd=REPO, env=self.env, stdout=out, stderr=out
            )
        process.log = log  # type: ignore[attr-defined]
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(poll)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _worker_ready(process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None, process.log.read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]
    return "waiting for batches" in process.log.read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = requests.get(f"{url}/metrics", timeout=30)
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): float(sample.value)
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


# The test ------------------------------------------------------------------------------------


def test_the_deployment_loses_nothing_when_a_web_process_and_a_drawing_worker_are_killed(
    database: str, redis_db: Any, tmp_path: Path
) -> None:
    report: dict[str, Any] = {}
    began = time.monotonic()
    dep = deployment.deploy(database, tmp_path)
    key = deployment.issuer_api_key(dep)
    env = environment(dep.config, tmp_path / "instance")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # issuer serve makes its own folder
    env.update(
        ISSUER_QUEUE="redis",
        ISSUER_REDIS_URL=REDIS_URL,
        ISSUER_BATCH_DIR=str(tmp_path / "batches"),
        ISSUER_SCHEDULER="0",  # issuer scheduler runs the upkeep
        ISSUER_QUEUE_HEARTBEAT_MS=str(HEARTBEAT_MS),  # a killed worker's job is back on the queue in seconds
        ISSUER_QUEUE_MAINTENANCE="1000000",  # every broker call looks for dead workers
    )
    processes = Processes(env, tmp_path)
    bearer = {"Authorization": f"Bearer {key}"}
    gunicorn_pids: set[int] = set()
    try:
        with ExitStack() as stack:
            served: Served = stack.enter_context(
                issuer_serve(env, tmp_path / "serve.log", "--workers", "2", "--threads", "4", "--timeout", "60")
            )
            url = served.url
            workers = [processes.start(f"worker-{n}", "worker") for n in range(2)]
            scheduler = processes.start("scheduler", "scheduler", "--tick", "1")
            _wait(lambda: all(_worker_ready(w) for w in workers), 60, "the issuer workers")
            gunicorn_pids |= served.workers()
            assert len(gunicorn_pids) == 2

            # Single certificates through HTTP, each with an Idempotency-Key.
            qr_texts, single_numbers = [], []
            for i in range(SINGLES):
                answer = requests.post(
                    f"{url}/api/v1/certificates",
                    json=deployment.issue_fields(i, 3),
                    headers={**bearer, "Idempotency-Key": f"single-{i}"},
                    timeout=60,
                )
                assert answer.status_code == 201, answer.text
                qr_texts.append(answer.json()["qr_text"])
                single_numbers.append(answer.json()["number"])
            (tmp_path / "qr.txt").write_text("\n".join(qr_texts), encoding="utf-8")

            # Verifications from another process, until the stop file exists.
            stop, answers_file = tmp_path / "stop", tmp_path / "verified.json"
            arguments = [url, str(tmp_path / "qr.txt"), str(answers_file), str(stop), str(CLIENTS)]
            with (tmp_path / "verifier.log").open("wb") as out:
                verifier = subprocess.Popen(
                    [sys.executable, "-m", "tests.topology.verifier", *arguments], cwd=REPO, stdout=out, stderr=out
                )
            processes.started.append(verifier)
            load_began = time.monotonic()

            # The batch, through HTTP.
            roster = simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(ROWS))])
            answer = requests.post(
                f"{url}/api/v1/batches",
                files={"roster": ("名单.csv", roster), "photos": ("照片.zip", photos_zip())},
                headers={**bearer, "Idempotency-Key": "batch-1"},
                timeout=60,
            )
            assert answer.status_code == 202, answer.text
            batch_id = answer.json()["id"]

            def batch() -> dict[str, Any]:
                for _ in range(5):  # a request on the web process being killed is asked again
                    try:
                        got = requests.get(f"{url}/api/v1/batches/{batch_id}", headers=bearer, timeout=30)
                    except requests.ConnectionError:
                        time.sleep(0.2)
                        continue
                    assert got.status_code == 200, got.text
                    body: dict[str, Any] = got.json()
                    return body
                raise AssertionError("the batch's status could not be read 5 times running")

            # Kill one web process while the verifications go on and the batch is validated.
            time.sleep(1.0)
            web_victim = min(served.workers())
            os.kill(web_victim, signal.SIGKILL)
            since = time.monotonic() - load_began
            report["web process killed"] = f"pid {web_victim} at {since:.1f} s, batch {batch()['status']}"
            respawned = lambda: web_victim not in served.workers() and len(served.workers()) == 2  # noqa: E731
            _wait(respawned, 60, "gunicorn's new worker")
            gunicorn_pids |= served.workers()

            # Kill one drawing worker while the batch is drawn, then start another.
            _wait(lambda: (b := batch())["status"] == "rendering" and b["rendered"] >= 25, 120, "drawing", 0.05)
            worker_victim = workers[0]
            worker_victim.send_signal(signal.SIGKILL)
            worker_victim.wait()
            at_kill = batch()
            report["issuer worker killed"] = (
                f"pid {worker_victim.pid} at {time.monotonic() - load_began:.1f} s, "
                f"{at_kill['rendered']}/{at_kill['issued']} drawn"
            )
            assert at_kill["status"] == "rendering" and at_kill["rendered"] < ROWS, "killed mid-batch"
            replacement = processes.start("worker-2", "worker")
            _wait(lambda: _worker_ready(replacement), 60, "the replacement worker")

            _wait(lambda: batch()["status"] != "rendering", DONE_SECONDS, "the batch to be drawn", 0.5)
            done = batch()
            assert (done["status"], done["issued"], done["rendered"]) == ("done", ROWS, ROWS), done
            report["batch done after"] = f"{time.monotonic() - load_began:.1f} s"
            time.sleep(1.0)  # verifications after the kills too
            stop.touch()
            assert verifier.wait(60) == 0
            assert (tmp_path / "verifier.log").read_text(encoding="utf-8") == "", "no client thread died"
            answers = json.loads(answers_file.read_text(encoding="utf-8"))

            # Nothing lost or doubled.
            engine = create_engine(database)
            try:
                with engine.connect() as conn:
                    numbers = conn.scalars(select(m.Certificate.number)).all()
                    assert conn.scalar(select(func.count()).select_from(m.Certificate)) == SINGLES + ROWS
                    per_serial = conn.execute(
                        text("SELECT organization_id, level, count(*) FROM certificates GROUP BY 1, 2")
                    ).all()
            finally:
                engine.dispose()
            assert len(numbers) == len(set(numbers)) == SINGLES + ROWS
            serials = sorted(int(n[-6:]) for n in numbers)
            assert serials == list(range(1, SINGLES + ROWS + 1)), "gapless serials, none twice"
            assert sum(count for *_, count in per_serial) == SINGLES + ROWS
            batch_numbers = [number for _, number in issued_rows(dep.use, batch_id)]
            assert len(batch_numbers) == ROWS and not set(batch_numbers) & set(single_numbers)

            # The archive: every certificate's png and pdf exactly once, none damaged.
            archive = requests.get(f"{url}/api/v1/batches/{batch_id}/archive", headers=bearer, timeout=120)
            assert archive.status_code == 200, archive.text[:500]
            with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
                assert z.testzip() is None
                names = z.namelist()
                pdfs = [z.read(n) for n in names if n.endswith(".pdf")]
                pngs = [z.read(n) for n in names if n.endswith(".png")]
            assert Counter(names) == Counter(["result.xlsx", *archive_members(dep.use, batch_numbers)])
            assert all(p.startswith(b"%PDF-") and p.rstrip().endswith(b"%%EOF") for p in pdfs)
            assert all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)

            # Every verification answered 200 valid, but those on the killed process's connections.
            ok = [a for a in answers if a.get("status") == 200]
            failed = [a for a in answers if "error" in a]
            other = [a for a in answers if "error" not in a and a.get("status") != 200]
            assert other == [], other[:5]
            assert {a["verdict"] for a in ok} == {"valid"}
            # The killed process held at most its 4 request threads' connections, and those
            # it had accepted but not yet begun: a handful, all at the instant of the kill.
            assert len(failed) <= 2 * CLIENTS, failed
            latencies = sorted(a["seconds"] for a in ok)
            report["verifications"] = (
                f"{len(answers)} sent, {len(ok)} answered 200 valid, {len(failed)} connection errors "
                f"({sorted({a['error'].split(':')[0] for a in failed})})"
            )
            report["verify latency"] = (
                f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
                f"p99 {latencies[int(0.99 * (len(latencies) - 1))] * 1000:.0f} ms, "
                f"{len(ok) / (time.monotonic() - load_began):.0f}/s over the run"
            )
            assert len(ok) > 100

            # /metrics, from 127.0.0.1: what happened, the killed process's counts too.
            scraped = _scrape(url)
            assert scraped[("issuer_certificates_issued_total", ())] == SINGLES + ROWS
            assert scraped[("issuer_database_up", ())] == 1
            verified = scraped[("issuer_verifications_total", (("check", ""), ("outcome", "valid")))]
            # Counted when answered: a request the killed process had counted but not yet sent.
            assert len(ok) <= verified <= len(ok) + len(failed), (verified, len(ok), len(failed))
            queued = [v for (name, _), v in scraped.items() if name == "issuer_batches_queued"]
            assert sum(queued) == 0, "no batch left waiting"
            issued = scraped[("issuer_certificates_issued_total", ())]
            report["metrics"] = f"issued {issued:.0f}, valid verifications {verified:.0f}"

            # /readyz: the running one is ready; one whose Redis does not answer says so.
            assert requests.get(f"{url}/readyz", timeout=30).status_code == 200
            closed = stack.enter_context(
                issuer_serve(
                    {**env, "ISSUER_REDIS_URL": "redis://127.0.0.1:1/0"},
                    tmp_path / "serve-closed.log",
                    "--workers",
                    "1",
                )
            )
            started = time.monotonic()
            unready = requests.get(f"{closed.url}/readyz", timeout=30)
            assert time.monotonic() - started < 10
            assert unready.status_code == 503, unready.text
            assert set(unready.json()["errors"]) == {"redis"} and "Redis" in unready.json()["message"]
            assert requests.get(f"{url}/readyz", timeout=30).status_code == 200

            assert scheduler.poll() is None and workers[1].poll() is None and replacement.poll() is None
            assert "upkeep " in scheduler.log.read_text(encoding="utf-8"), "the scheduler ran its jobs"  # type: ignore[attr-defined]
            processes.stop()
            for process in (scheduler, workers[1], replacement):
                assert process.returncode == 0, process.log.read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]
            serve_process = served.process
        assert serve_process.returncode == 0, (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
    finally:
        processes.stop()
        dep.close()
        report["runtime"] = f"{time.monotonic() - began:.1f} s"
        print("\ntopology:", json.dumps(report, ensure_ascii=False, indent=1))
    leftovers = [pid for pid in gunicorn_pids | {p.pid for p in processes.started} if _alive(pid)]
    assert leftovers == [], "no process left running"
