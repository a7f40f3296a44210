"""``python -m bench [SECTION ...] [--seconds S] [--runs N]``: run the named sections
(all by default), print each as a titled block and write ``bench/out/<section>.json``.

To add a section, write a module with ``TITLE`` and ``run(settings) -> dict`` (and, if the
default note on how it measures does not fit, ``NOTE``) and name it in ``SECTIONS``; it is
imported only when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import report
from .timing import Settings

SECTIONS: dict[str, str] = {
    "core": "bench.core",
    "service": "bench.service",
    "verify": "bench.verify",
    "render": "bench.render",
    "batch": "bench.batch",
    "transparency": "bench.transparency",
}
OUT = Path(__file__).resolve().parent / "out"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", metavar="SECTION", help=f"one of {', '.join(SECTIONS)} (default all)")
    parser.add_argument("--seconds", type=float, default=Settings.seconds, help="length of one timed run")
    parser.add_argument("--runs", type=int, default=Settings.runs, help="timed runs per figure (the median is kept)")
    args = parser.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return args


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def _run_section(name: str, settings: Settings) -> None:
    module = importlib.import_module(SECTIONS[name])
    note = getattr(module, "NOTE", None)
    single = f"single process, single thread; each rate is the median of {settings.runs} runs of {settings.seconds:g} s"
    report.title(name, module.TITLE, note or single)
    started = time.perf_counter()
    figures = module.run(settings)
    took = time.perf_counter() - started
    document = {
        "section": name,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {"seconds_per_run": settings.seconds, "runs": settings.runs},
        "machine": _machine(),
        "figures": figures,
        "took_seconds": round(took, 1),
    }
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\n  ({took:.0f} s; figures written to {os.path.relpath(path)})")


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    settings = Settings(seconds=args.seconds, runs=args.runs)
    for name in args.sections or SECTIONS:
        _run_section(name, settings)
    report.summary()
    OUT.mkdir(exist_ok=True)
    goals = [g.to_json() for g in report.GOALS]
    (OUT / "summary.json").write_text(json.dumps(goals, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
