"""The building blocks every sheet uses: the computed report content, styles, and a row writer.

Sheets are openpyxl write-only worksheets (streamed): column widths, frozen panes and print
settings must be set before the first row, which ``Sheet.prepare`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports import labels as L
from reports.cells import cell_value, number_format_for
from reports.changes import Change
from reports.counting import Overview
from reports.data import PendingItem, local_naive
from reports.rows_xml import RowRenderer

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", start_color="1F4E78", end_color="1F4E78")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)


@dataclass
class ReportContent:
    """Everything the sheets show, already computed."""

    generated_at: datetime                  # UTC
    period_start: datetime | None           # previous report (UTC), None for the first one
    today: date
    locations: pd.DataFrame                 # reports.data.locations_frame + column "counts_now"
    by_province: Overview
    by_region: Overview
    changes: list[Change]
    previous: dict[str, Any] | None         # previous snapshot
    snapshot: dict[str, Any]                # this report's snapshot (reports.changes.build_snapshot)
    pending: list[PendingItem]


def fmt_date(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def fmt_moment(moment: datetime) -> str:
    return local_naive(moment).strftime("%d-%m-%Y %H:%M")


def subtitle(content: ReportContent, include_contacts: bool) -> str:
    start = f"vanaf {fmt_moment(content.period_start)}" if content.period_start else "eerste overzicht"
    version = ("versie met contactgegevens (bevat persoonsgegevens)" if include_contacts
               else "versie zonder contactgegevens")
    return (f"Stand {fmt_date(content.today)} · periode: {start} t/m {fmt_moment(content.generated_at)} · "
            f"gemaakt op {fmt_moment(content.generated_at)} (Nederlandse tijd) · {version}")


# --- generic sheet helpers ------------------------------------------------------------------

class Sheet:
    """A write-only worksheet (streamed: fast and lean for 10 000 rows) that counts its rows.

    Column widths and frozen panes go out before the first row, so ``prepare`` comes first.
    """

    def __init__(self, ws: Worksheet):
        self.ws = ws
        self.rows = 0
        self.bulk_xml: bytes | None = None      # data rows rendered by reports.rows_xml

    def bulk(self, rows: list[list[Any]], columns: int) -> None:
        """Many data rows at once, rendered directly (see reports.rows_xml); nothing may follow them."""
        renderer = RowRenderer(self.ws, columns, self.rows + 1)
        for row in rows:
            renderer.add(row)
        self.rows = renderer.next_row - 1
        self.bulk_xml = renderer.xml()

    def prepare(self, widths: dict[int, float], freeze: str | None) -> None:
        """Column widths, frozen panes and printing on one page width (landscape)."""
        ws = self.ws
        for column, width in widths.items():
            ws.column_dimensions[get_column_letter(column)].width = width
        if freeze:
            ws.freeze_panes = freeze
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0

    def row(self, values: Iterable[Any], font: Font | None = None, fill: PatternFill | None = None,
            alignment: Alignment | None = None) -> int:
        """Append one row of typed cells (dates and numbers formatted); returns its row number."""
        cells = []
        for raw in values:
            value = cell_value(raw)
            fmt = number_format_for(value)
            if fmt or ((font or fill or alignment) and value is not None):
                cell = WriteOnlyCell(self.ws, value)
                if fmt:
                    cell.number_format = fmt
                if font:
                    cell.font = font
                if fill:
                    cell.fill = fill
                if alignment:
                    cell.alignment = alignment
                value = cell
            cells.append(value)
        self.ws.append(cells)
        self.rows += 1
        return self.rows

    def blank(self) -> None:
        self.row([])

    def header(self, headers: list[str]) -> int:
        return self.row(headers, font=HEADER_FONT, fill=HEADER_FILL, alignment=HEADER_ALIGN)


def start_sheet(sheet: Sheet, title: str, content: ReportContent, include_contacts: bool) -> None:
    sheet.row([f"{L.TITLE} — {title}"], font=TITLE_FONT)
    sheet.row([subtitle(content, include_contacts)])
    sheet.blank()


def _widths(headers: list[str], rows: list[list[Any]], limit: int = 60) -> dict[int, float]:
    widths = {}
    for column, header in enumerate(headers, start=1):
        longest = len(str(header))
        for row in rows[:2000]:
            value = row[column - 1]
            if isinstance(value, (date, datetime)):
                size = 16 if isinstance(value, datetime) else 11
            elif value is None:
                size = 0
            else:
                size = len(str(value))
            longest = max(longest, size)
        widths[column] = min(max(longest + 2, 8), limit)
    return widths


def table_sheet(sheet: Sheet, title: str, content: ReportContent, include_contacts: bool, headers: list[str],
                 rows: list[list[Any]], freeze: str = "A5") -> None:
    """Title, a header row, typed data rows, frozen panes, an autofilter and fitted columns."""
    sheet.prepare(_widths(headers, rows), freeze)
    start_sheet(sheet, title, content, include_contacts)
    header = sheet.header(headers)
    sheet.bulk(rows, len(headers))
    ws = sheet.ws
    ws.auto_filter.ref = f"A{header}:{get_column_letter(len(headers))}{max(sheet.rows, header)}"
    ws.print_title_rows = f"{header}:{header}"
