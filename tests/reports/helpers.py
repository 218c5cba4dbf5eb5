"""Reading a written workbook back, as a ministry's spreadsheet program would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

HEADER_ROW = 4


def sheet_rows(path: Path | bytes, sheet: str) -> list[dict[str, Any]]:
    """Data rows of a table sheet as dicts keyed by the header row."""
    wb = openpyxl.load_workbook(path if isinstance(path, Path) else __import__("io").BytesIO(path))
    ws = wb[sheet]
    rows = list(ws.iter_rows(min_row=HEADER_ROW, values_only=True))
    header, data = rows[0], rows[1:]
    return [dict(zip(header, row)) for row in data if any(v is not None for v in row)]


def sheet_frame(path: Path, sheet: str) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=sheet, header=HEADER_ROW - 1, engine="openpyxl")


def overview_block(path: Path, title: str) -> dict[str, list[int]]:
    """{area: [now, week1, …, week8]} of one block of the Overzicht sheet, with its header as key '_header'."""
    ws = openpyxl.load_workbook(path)["Overzicht"]
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == title)
    block = {"_header": list(rows[start + 1][1:])}
    for row in rows[start + 2:]:
        if row[0] is None:
            break
        block[row[0]] = list(row[1:])
    return block
