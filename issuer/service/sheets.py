"""Rows of the spreadsheets the service writes (``result.xlsx``): every text cell is
typed as a string (an inline string), so that no value — a name or 工种 that begins with
``=`` as much as any other — is ever stored as a formula; numbers stay numbers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def row_of(sheet: Any, values: Iterable[object]) -> list[Any]:
    """Cells for one row of a write-only ``sheet``: ``sheet.append(row_of(sheet, …))``."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl would store a string beginning with = as a formula
        cells.append(cell)
    return cells
