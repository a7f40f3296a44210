"""``python -m bench.issuing_process CONFIG.json FOLDER ORG_ID ORG_CODE START COUNT LEVEL THREADS``:
one of the processes of the two-process issuance figure. Builds the service from the
deployment's settings, issues ``COUNT`` certificates (requests ``START`` …) from
``THREADS`` threads, as a worker of ``issuer serve`` answers requests, once a line arrives
on stdin (so that every process starts together), then prints a JSON line: wall and CPU
seconds, certificates issued, errors."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from issuer.service import wiring
from issuer.service.principal import Principal, Role

from .deployment import issue_request


def main(argv: Sequence[str] | None = None) -> int:
    config_path, folder, org_id, org_code, start, count, level, threads = argv or sys.argv[1:]
    use = wiring.build(json.loads(Path(config_path).read_text(encoding="utf-8")), folder)
    principal = Principal(Role.ORG_ISSUER, "bench", int(org_id), org_code)
    first, n = int(start), int(count)
    use.issuing.issue(principal, issue_request(first + n, int(level) + 1))  # warm-up: connections, caches
    print("ready", flush=True)
    sys.stdin.readline()
    errors: list[str] = []
    wall, cpu = time.perf_counter(), time.process_time()

    def issue(i: int) -> None:
        try:
            use.issuing.issue(principal, issue_request(i, int(level)))
        except Exception as exc:  # counted and reported, not fatal to the figure
            errors.append(f"{type(exc).__name__}: {exc}"[:300])

    with ThreadPoolExecutor(int(threads)) as pool:
        list(pool.map(issue, range(first, first + n)))
    figures = {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "issued": n - len(errors),
        "errors": errors[:3],
    }
    use.close()
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
