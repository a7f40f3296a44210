"""HTTP load against a benchmark server on 127.0.0.1 (and nowhere else), from its own
process, over keep-alive connections.

``python -m bench.loadgen PORT TEXTS.json --clients N --seconds S``: closed loop, N clients
each POST /api/v1/verify with the QR texts in turn, the next request when the last is
answered.

``python -m bench.loadgen PORT TEXTS.json --rate R --seconds S [--clients N]``: open loop,
request i is due at ``i / R`` seconds whatever the answers before it, and its latency runs
from that due time: a server that stalls is charged for every request it held up (no
coordinated omission). N connections send them (a late one starts at once).

Prints one JSON line: latency percentiles, requests per second, and the count of each HTTP
status (``error``: no answer within ``--timeout``, or the connection failed)."""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter, sleep
from typing import Any

HOST = "127.0.0.1"
VERIFY_PATH = "/api/v1/verify"
WARMUP_REQUESTS = 3
"""Per client, before the timed window, so that the server is warm."""


class Client:
    """HTTP/1.1 to the benchmark server: keeps the connection open when the server does,
    reconnects when it closed it or after an error."""

    def __init__(self, port: int, *, timeout: float = 60.0) -> None:
        self._conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        try:
            self._conn.request(method, path, body=data, headers=sent)
            response = self._conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            self._conn.close()
            raise

    def post_json(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        status, data = self.request("POST", path, body, headers)
        return status, json.loads(data) if data else None

    def close(self) -> None:
        self._conn.close()


def percentiles_ms(latencies: Sequence[float]) -> dict[str, float]:
    """p50, p90 and p99 of latencies in seconds, in milliseconds."""
    if len(latencies) < 2:
        only = 1000 * latencies[0] if latencies else float("nan")
        return {"p50_ms": only, "p90_ms": only, "p99_ms": only}
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {f"p{p}_ms": round(1000 * cuts[p - 1], 2) for p in (50, 90, 99)}


@dataclass
class Tally:
    """What the clients saw, merged under a lock: latencies of the 200 answers, and every
    answer's status (``error`` when there was none)."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    first_failure: str | None = None
    ended: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def merge(self, latencies: list[float], statuses: Counter[str], failure: str | None, ended: float) -> None:
        with self.lock:
            self.latencies += latencies
            self.statuses.update(statuses)
            self.first_failure = self.first_failure or failure
            self.ended = max(self.ended, ended)

    def figures(self, started: float, **more: Any) -> dict[str, Any]:
        elapsed = max(self.ended - started, 1e-9)
        answered = sum(self.statuses.values())
        return {
            **more,
            "seconds": round(elapsed, 2),
            "requests": answered,
            "ok": len(self.latencies),
            "failures": answered - len(self.latencies),
            "first_failure": self.first_failure,
            "statuses": dict(sorted(self.statuses.items())),
            "per_second": round(len(self.latencies) / elapsed, 1),
            **percentiles_ms(self.latencies),
        }


@dataclass(frozen=True)
class Plan:
    port: int
    texts: tuple[str, ...]
    clients: int
    seconds: float
    max_requests: int = 200_000
    rate: float = 0.0
    """Requests per second, open loop; 0: closed loop."""
    timeout: float = 60.0


def _verify_once(client: Client, text: str) -> tuple[str, str | None]:
    """The answer's status (``error`` for none) and, unless it is 200, what went wrong."""
    try:
        status, body = client.request("POST", VERIFY_PATH, {"qr_text": text})
    except (http.client.HTTPException, OSError) as exc:
        return "error", f"{type(exc).__name__}: {exc}"
    return str(status), None if status == 200 else f"HTTP {status}: {body[:200]!r}"


Schedule = Callable[[], float | None]
"""The next request's due time (``perf_counter``), or ``None`` when the window is over."""


def _client(plan: Plan, number: int, start: threading.Barrier, schedule: Schedule, tally: Tally) -> None:
    client = Client(plan.port, timeout=plan.timeout)
    texts, offset = plan.texts, number * 7
    for i in range(WARMUP_REQUESTS):
        _verify_once(client, texts[(offset + i) % len(texts)])
    start.wait()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    failure: str | None = None
    now = perf_counter()
    while (due := schedule()) is not None:
        if due > now:
            sleep(due - now)
        status, problem = _verify_once(client, texts[(offset + sum(statuses.values())) % len(texts)])
        now = perf_counter()
        statuses[status] += 1
        if problem is None:
            latencies.append(now - min(due, now))
        else:
            failure = failure or problem
    client.close()
    tally.merge(latencies, statuses, failure, now)


class _Window:
    """The due times of one timed window: every client takes the next one under a lock.
    Closed loop: now (each client's next request when its last is answered); open loop:
    ``start + i / rate``."""

    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self._lock = threading.Lock()
        self._issued = 0
        self.started = 0.0

    def begin(self) -> None:
        self.started = perf_counter()

    def next_due(self) -> float | None:
        plan = self._plan
        with self._lock:
            i = self._issued
            self._issued += 1
        now = perf_counter()
        due = self.started + i / plan.rate if plan.rate else now
        if due - self.started >= plan.seconds or i >= plan.max_requests:
            return None
        return due


def run_load(plan: Plan) -> dict[str, Any]:
    """Drive the clients through one timed window; the figures of the window."""
    tally, window = Tally(), _Window(plan)
    start = threading.Barrier(plan.clients, action=window.begin)
    threads = [
        threading.Thread(target=_client, args=(plan, n, start, window.next_due, tally), daemon=True)
        for n in range(plan.clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(plan.seconds + plan.timeout + 60)
    mode = {"rate": plan.rate} if plan.rate else {}
    return tally.figures(window.started, clients=plan.clients, **mode)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int, help="the server's port on 127.0.0.1")
    parser.add_argument("texts", type=Path, help="JSON list of QR texts to verify")
    parser.add_argument("--clients", type=int, default=1, help="connections (threads)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=0.0, help="requests per second, open loop (0: closed loop)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a request may wait for its answer")
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args(argv)
    texts = tuple(json.loads(args.texts.read_text(encoding="utf-8")))
    if not texts or args.clients < 1 or not 0 < args.seconds <= 600 or args.rate < 0:
        parser.error("need QR texts, at least one client, 0 < seconds <= 600 and a rate >= 0")
    plan = Plan(args.port, texts, args.clients, args.seconds, args.max_requests, args.rate, args.timeout)
    print(json.dumps(run_load(plan)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
