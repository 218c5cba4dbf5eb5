"""The Overzicht sheet: places and locations per province and per veiligheidsregio, now and in each
of the coming eight weeks, with two bar charts."""

from __future__ import annotations

from datetime import date

import pandas as pd
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports import labels as L
from reports.counting import Overview
from reports.sheet import BOLD, ReportContent, Sheet, fmt_date, start_sheet


def day_headers(days: list[date]) -> list[str]:
    first, *weeks = days
    return [f"Nu ({fmt_date(first)})"] + [f"Week {d.isocalendar()[1]} ({fmt_date(d)})" for d in weeks]


def _overview_block(sheet: Sheet, title: str, overview: Overview, table: pd.DataFrame) -> tuple[int, int]:
    """Writes one block; returns (header row, total row)."""
    sheet.row([title], font=BOLD)
    header = sheet.header([overview.area_label] + day_headers(overview.days))
    for area, values in table.iterrows():
        bold = BOLD if area == L.TOTAL else None
        index = sheet.row([area] + [int(v) for v in values], font=bold)
    sheet.blank()
    return header, index


def overview_sheet(sheet: Sheet, content: ReportContent, include_contacts: bool) -> None:
    columns = len(content.by_province.days) + 1
    sheet.prepare({1: 30, **{column: 22 for column in range(2, columns + 1)}}, "B4")
    start_sheet(sheet, "overzicht per provincie en veiligheidsregio", content, include_contacts)
    blocks = [("Plekken per provincie", content.by_province, content.by_province.places),
              ("Locaties per provincie", content.by_province, content.by_province.locations),
              ("Plekken per veiligheidsregio", content.by_region, content.by_region.places),
              ("Locaties per veiligheidsregio", content.by_region, content.by_region.locations)]
    written = [_overview_block(sheet, title, overview, table) for title, overview, table in blocks]
    _charts(sheet.ws, content, written[0])


def _charts(ws: Worksheet, content: ReportContent, places_block: tuple[int, int]) -> None:
    header, total = places_block
    columns = len(content.by_province.days) + 1
    anchor_column = get_column_letter(columns + 2)

    per_province = BarChart()
    per_province.type = "bar"
    per_province.title = "Plekken nu per provincie"
    per_province.y_axis.title = "plekken"
    per_province.add_data(Reference(ws, min_col=2, min_row=header, max_row=total - 1), titles_from_data=True)
    per_province.set_categories(Reference(ws, min_col=1, min_row=header + 1, max_row=total - 1))
    per_province.legend = None
    per_province.height, per_province.width = 9, 18
    _show_axes(per_province)
    ws.add_chart(per_province, f"{anchor_column}4")

    per_week = BarChart()
    per_week.type = "col"
    per_week.title = "Plekken totaal, nu en de komende weken"
    per_week.y_axis.title = "plekken"
    per_week.add_data(Reference(ws, min_col=1, max_col=columns, min_row=total, max_row=total),
                      from_rows=True, titles_from_data=True)
    per_week.set_categories(Reference(ws, min_col=2, max_col=columns, min_row=header, max_row=header))
    per_week.legend = None
    per_week.height, per_week.width = 9, 18
    _show_axes(per_week)
    ws.add_chart(per_week, f"{anchor_column}24")


def _show_axes(chart: BarChart) -> None:
    """Bars start at zero, and both axes are drawn (recent Excel hides axes openpyxl leaves implicit)."""
    chart.y_axis.scaling.min = 0
    chart.x_axis.delete = False
    chart.y_axis.delete = False
