"""HTTP load against the benchmark server on 127.0.0.1 (and nowhere else).

``python -m bench.loadgen PORT TEXTS.json --clients N --seconds S``: N threads POST
/api/v1/verify with the QR texts in turn until S seconds or ``--max-requests`` have
passed; prints one JSON line with the latency percentiles and requests per second.

Werkzeug's server answers every request with ``Connection: close``, so each request opens
a new TCP connection (and the server a new thread): that is part of the latency."""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
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
    """What the clients saw, merged under a lock."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    ended: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def merge(self, latencies: list[float], failures: list[str], ended: float) -> None:
        with self.lock:
            self.latencies += latencies
            self.failures += failures
            self.ended = max(self.ended, ended)


@dataclass(frozen=True)
class Plan:
    port: int
    texts: tuple[str, ...]
    clients: int
    seconds: float
    max_requests: int


def _verify_once(client: Client, text: str) -> str | None:
    """None on a 200 answer, else what went wrong."""
    try:
        status, body = client.post_json(VERIFY_PATH, {"qr_text": text})
    except (http.client.HTTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if status == 200 else f"HTTP {status}: {str(body)[:200]}"


def _client(plan: Plan, number: int, start: threading.Barrier, window: list[float], tally: Tally) -> None:
    client = Client(plan.port)
    texts, offset = plan.texts, number * 7
    for i in range(WARMUP_REQUESTS):
        _verify_once(client, texts[(offset + i) % len(texts)])
    start.wait()
    deadline, budget = window[0] + plan.seconds, plan.max_requests // plan.clients
    latencies: list[float] = []
    failures: list[str] = []
    now = perf_counter()
    while now < deadline and len(latencies) + len(failures) < budget:
        problem = _verify_once(client, texts[(offset + len(latencies)) % len(texts)])
        then, now = now, perf_counter()
        if problem is None:
            latencies.append(now - then)
        else:
            failures.append(problem)
    client.close()
    tally.merge(latencies, failures, now)


def run_load(plan: Plan) -> dict[str, Any]:
    """Drive the clients through one timed window; the figures of the window."""
    tally, window = Tally(), [0.0]
    start = threading.Barrier(plan.clients, action=lambda: window.__setitem__(0, perf_counter()))
    threads = [
        threading.Thread(target=_client, args=(plan, n, start, window, tally), daemon=True) for n in range(plan.clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(plan.seconds + 120)
    elapsed = max(tally.ended - window[0], 1e-9)
    return {
        "clients": plan.clients,
        "seconds": round(elapsed, 2),
        "requests": len(tally.latencies),
        "failures": len(tally.failures),
        "first_failure": tally.failures[0] if tally.failures else None,
        "per_second": round(len(tally.latencies) / elapsed, 1),
        **percentiles_ms(tally.latencies),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int, help="the server's port on 127.0.0.1")
    parser.add_argument("texts", type=Path, help="JSON list of QR texts to verify")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args(argv)
    texts = tuple(json.loads(args.texts.read_text(encoding="utf-8")))
    if not texts or args.clients < 1 or not 0 < args.seconds <= 600:
        parser.error("need QR texts, at least one client and 0 < seconds <= 600")
    print(json.dumps(run_load(Plan(args.port, texts, args.clients, args.seconds, args.max_requests))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
