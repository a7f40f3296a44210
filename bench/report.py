"""Plain-text output shared by the sections: a title, then aligned rows; and the goals of
issue 15, each recorded where its section measures it (``goal``) and printed again
together at the end of the run (``summary``)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

LABEL_WIDTH = 34
VALUE_WIDTH = 14


def title(name: str, text: str, note: str = "") -> None:
    heading = f"== {name}: {text} =="
    print(f"\n{heading}")
    if note:
        print(f"   {note}")


def heading(text: str) -> None:
    print(f"\n  {text}")


def row(label: str, value: str, note: str = "") -> None:
    line = f"    {label:<{LABEL_WIDTH}}{value:>{VALUE_WIDTH}}"
    print(f"{line}   {note}" if note else line)


def count(value: float) -> str:
    return f"{value:,.0f}"


def spread(fraction: float) -> str:
    """The runs' (max - min) / median, e.g. ``runs within 1.8%``."""
    return f"runs within {fraction * 100:.1f}%"


@dataclass(frozen=True)
class Goal:
    """One row of the summary: a path, what it measured, the same-run reference it is
    compared with, the target and whether it was met."""

    path: str
    measured: str
    reference: str
    target: str
    met: bool
    load: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


GOALS: list[Goal] = []


def goal(path: str, measured: str, reference: str, target: str, met: bool) -> Goal:
    """Print the verdict row and keep the goal for the summary (with the load average now)."""
    found = Goal(path, measured, reference, target, met, round(os.getloadavg()[0], 2))
    row("verdict", "MET" if met else "NOT MET", f"{path}: {measured} (goal {target}; {reference})")
    GOALS.append(found)
    return found


def summary() -> None:
    """Every goal the run measured, one line each, with the verdict."""
    if not GOALS:
        return
    widths = [max(len(getattr(g, name)) for g in GOALS) for name in ("path", "measured", "target")]
    print("\n== summary: the goals of issue 15 ==")
    print(f"   {sum(g.met for g in GOALS)} of {len(GOALS)} met; load average at each figure in brackets")
    for g in GOALS:
        verdict = "MET    " if g.met else "NOT MET"
        print(
            f"   {verdict}  {g.path:<{widths[0]}}  {g.measured:>{widths[1]}}  goal {g.target:<{widths[2]}}"
            f"  [{g.load:.2f}]  {g.reference}"
        )
