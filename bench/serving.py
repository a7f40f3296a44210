"""The service as production runs it, for the benchmarks: ``issuer serve`` (gunicorn) in its
own processes on 127.0.0.1, a free port, the deployment's settings as ``ISSUER_*``
environment variables; and the CPU time those processes (the master and its workers) have
used, from Linux ``/proc``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers import stop

REPO = Path(__file__).resolve().parent.parent
START_SECONDS = 60.0
LISTENING = re.compile(rb"issuer serve: listening on http://127\.0\.0\.1:(\d+)")


def environment(config: Mapping[str, Any], instance: Path) -> dict[str, str]:
    """This process's environment with the app settings ``config`` as ``ISSUER_*`` variables
    (``DATABASE_URL`` too, which would otherwise win over ``ISSUER_DATABASE_URL``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUER_")}
    env.update({f"ISSUER_{key}": str(value) for key, value in config.items()})
    env["DATABASE_URL"] = str(config["DATABASE_URL"])
    env["ISSUER_INSTANCE_PATH"] = str(instance)
    return env


def _ticks(pid: int) -> int:
    """User + system clock ticks of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(fields[11]) + int(fields[12])


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass(frozen=True)
class Served:
    """A running ``issuer serve``: its port and its master's pid."""

    port: int
    pid: int

    def workers(self) -> list[int]:
        return children(self.pid)

    def cpu_seconds(self) -> float:
        """CPU time (user + system, every thread) of the master and its current workers."""
        ticks = _ticks(self.pid) + sum(_ticks(w) for w in self.workers())
        return ticks / os.sysconf("SC_CLK_TCK")


def _read_port(process: subprocess.Popen[bytes], log: Path) -> int:
    """The port of the "listening on" line ``issuer serve`` writes to its log (stderr)."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        match = LISTENING.search(log.read_bytes())
        if match:
            return int(match.group(1))
        time.sleep(0.05)
    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise RuntimeError(f"issuer serve did not start:\n{tail}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _process(command: list[str], env: Mapping[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` with its output in ``log`` until the block ends (TERM, then KILL)."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=REPO, env=dict(env), stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            stop(process)


@contextmanager
def issuer_run(env: Mapping[str, str], log: Path) -> Iterator[Served]:
    """``issuer run`` (the development server, one process) on a free port until the block
    ends."""
    port = free_port()
    with _process([sys.executable, "-m", "issuer.cli", "run", "--port", str(port)], env, log) as process:
        wait_ready(port)
        yield Served(port, process.pid)


def wait_ready(port: int, path: str = "/readyz") -> None:
    """Until every worker could answer: ``path`` answers 200 on fresh connections."""
    deadline = time.monotonic() + START_SECONDS
    answered = 0
    while time.monotonic() < deadline and answered < 8:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                answered += response.status == 200
        except OSError:
            time.sleep(0.1)
    if answered < 8:
        raise RuntimeError(f"issuer serve on port {port} is not ready after {START_SECONDS:g} s")


@contextmanager
def issuer_serve(env: Mapping[str, str], log: Path, *options: str) -> Iterator[Served]:
    """``issuer serve --bind 127.0.0.1:0 OPTIONS`` until the block ends (TERM, then KILL)."""
    command = [sys.executable, "-m", "issuer.cli", "serve", "--bind", "127.0.0.1:0", *options]
    with _process(command, env, log) as process:
        port = _read_port(process, log)
        wait_ready(port)
        yield Served(port, process.pid)
