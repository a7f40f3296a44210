"""Real HTTP servers on 127.0.0.1 for tests that talk to the service as a client would: the
app in a thread of the test (``serving``), or ``issuer serve`` in processes of its own
(``issuer_serve``)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

WSGI = Callable[[dict[str, Any], Any], Iterable[bytes]]


@contextmanager
def serving(app: WSGI) -> Iterator[str]:
    """Serve ``app`` (threaded) on a free port; yields its base URL."""
    httpd = make_server("127.0.0.1", 0, _closed_before_sending(app), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


def _closed_before_sending(app: WSGI) -> WSGI:
    """``app`` with each body read whole and its iterable closed before the first byte goes
    out. Werkzeug's development server does not close the iterable of a response whose
    client went away (a browser cancels a stylesheet as it leaves the page), and the file a
    static response holds would be left to the garbage collector: a ResourceWarning, which
    the tests treat as an error, in whichever test happens to be running then."""

    def app_closing(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return app_closing


SERVE_START_SECONDS = 60.0
_LISTENING = re.compile(r"issuer serve: listening on http://127\.0\.0\.1:(\d+)")


@dataclass
class Served:
    """A running ``issuer serve``: its base URL, its master process and its log (stdout and
    stderr together)."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> set[int]:
        """The pids of the master's current worker processes."""
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == self.process.pid:
                found.add(int(stat.parent.name))
        return found

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def serve_environment(app: Any, clock_now: datetime, folder: Path, **settings: str) -> dict[str, str]:
    """The environment that makes ``issuer serve`` another process of ``app``: its
    database, keys and QR host, its clock starting at ``clock_now``; ``settings`` as
    ``ISSUER_*``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUER_") and k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        ISSUER_KEYS_DIR=app.config["KEYS_DIR"],
        ISSUER_KEY_PASSPHRASE=app.config["KEY_PASSPHRASE"],
        ISSUER_QR_HOST=app.config["QR_HOST"],
        ISSUER_CLOCK=clock_now.isoformat(),
        ISSUER_SCHEDULER="0",  # a test that wants the development server's upkeep thread says so
        ISSUER_INSTANCE_PATH=str(folder / "instance"),
        ISSUER_BATCH_DIR=str(folder / "batches"),
    )
    env.update({f"ISSUER_{k}": v for k, v in settings.items()})
    return env


def start_serve(env: dict[str, str], log: Path, *options: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "issuer.cli", "serve", *options]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def issuer_serve(env: dict[str, str], log: Path, *options: str) -> Iterator[Served]:
    """``issuer serve --bind 127.0.0.1:0 OPTIONS`` until every worker answers /healthz;
    stopped (TERM, then KILL) when the block ends."""
    process = start_serve(env, log, "--bind", "127.0.0.1:0", *options)
    try:
        served = Served(_wait_listening(process, log), process, log)
        _wait_answering(served)
        yield served
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    """Send ``sig`` to ``process`` unless it has ended, wait up to ``timeout`` seconds for it
    to exit, then KILL it."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_listening(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + SERVE_START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        found = _LISTENING.search(log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return f"http://127.0.0.1:{found.group(1)}"
        time.sleep(0.05)
    raise AssertionError(f"issuer serve did not start:\n{log.read_text(encoding='utf-8', errors='replace')}")


def _wait_answering(served: Served) -> None:
    deadline = time.monotonic() + SERVE_START_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{served.url}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"issuer serve does not answer:\n{served.text()}")


def post_json(url: str, body: Any, timeout: float = 30.0) -> tuple[int, dict[str, str], Any]:
    """One POST on a new connection: status, headers and the JSON answer (HTTP errors too)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def get(url: str, timeout: float = 30.0) -> tuple[int, Any]:
    """One GET on a new connection: status and the JSON answer (HTTP errors too)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
