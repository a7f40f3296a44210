"""Plain-text output shared by the sections: a title, then aligned rows."""

from __future__ import annotations

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
