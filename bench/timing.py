"""Throughput on one core: call a function for a fixed time, take the median of runs."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any


@dataclass(frozen=True)
class Settings:
    seconds: float = 2.5
    """Length of one timed run."""
    runs: int = 3
    """Timed runs per figure; the median is reported."""


@dataclass(frozen=True)
class Rate:
    """Calls per second: the median of ``runs`` and every run."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def spread(self) -> float:
        """(max - min) / median over the runs, as a fraction."""
        return (max(self.runs) - min(self.runs)) / self.median

    @property
    def ms_per_call(self) -> float:
        return 1000.0 / self.median

    def to_json(self) -> dict[str, Any]:
        return {
            "per_second": round(self.median, 1),
            "ms_per_call": round(self.ms_per_call, 4),
            "runs_per_second": [round(r, 1) for r in self.runs],
        }


def calls_per_second(fn: Callable[[], object], seconds: float, clock: Callable[[], float] = perf_counter) -> float:
    """Call ``fn`` in this thread for about ``seconds`` of ``clock``. Batches double while
    they are short, so reading the clock costs nothing measurable; garbage collection stays
    on, as it is in the service."""
    fn()  # warm up caches outside the timed run
    calls, batch = 0, 1
    start = now = clock()
    while now - start < seconds:
        for _ in range(batch):
            fn()
        calls += batch
        now = clock()
        if now - start < seconds / 50:
            batch *= 2
    return calls / (now - start)


def measure(fn: Callable[[], object], settings: Settings) -> Rate:
    return Rate(tuple(calls_per_second(fn, settings.seconds) for _ in range(settings.runs)))


PAIR_SLICES = 5
"""A paired figure alternates this many shorter runs for each of ``Settings.runs``."""


@dataclass(frozen=True)
class Pair:
    """Two functions timed in alternation: each one's rate, and the ratio of each slice
    to the slice of ``base`` right after it."""

    rate: Rate
    base: Rate
    ratios: tuple[float, ...]

    @property
    def ratio(self) -> float:
        """The median of the slice-by-slice ratios: a slow minute of the machine slows both
        sides of a slice alike, and drops out of its ratio."""
        return statistics.median(self.ratios)

    @property
    def ratio_spread(self) -> float:
        """The interquartile range of the ratios over their median."""
        low, high = quartiles(self.ratios)
        return (high - low) / self.ratio


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The first and third quartiles of ``values``."""
    low, _, high = statistics.quantiles(values, n=4)
    return low, high


def measure_pair(
    fn: Callable[[], object], base: Callable[[], object], settings: Settings, clock: Callable[[], float] = perf_counter
) -> Pair:
    """Time ``fn`` and ``base`` alternately in short slices, so both see the same machine
    conditions (``time.process_time`` for ``clock``: the CPU time of this process, which
    other load on a shared machine disturbs far less than the wall clock, though not
    entirely: a neighbour sharing the caches still slows it)."""
    a: list[float] = []
    b: list[float] = []
    slices, seconds = settings.runs * PAIR_SLICES, settings.seconds / PAIR_SLICES
    for _ in range(slices):
        a.append(calls_per_second(fn, seconds, clock))
        b.append(calls_per_second(base, seconds, clock))
    return Pair(Rate(tuple(a)), Rate(tuple(b)), tuple(x / y for x, y in zip(a, b, strict=True)))
