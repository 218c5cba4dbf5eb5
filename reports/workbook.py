"""Writing the workbook: five sheets of typed, styled, filterable cells.

``build_workbook`` is pure apart from openpyxl objects; ``workbook_bytes`` serialises with every
timestamp (document properties and zip entries) fixed to the report's moment, so the same data at
the same moment gives byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from io import BytesIO
from typing import Any, Iterable
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from reports import labels as L
from reports.cells import DATE_FORMAT, cell_value, number_format_for
from reports.changes import KIND_ORDER, Change, snapshot_entry
from reports.counting import Overview
from reports.data import PendingItem, local_naive
from vng_ingest import refdata

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", start_color="1F4E78", end_color="1F4E78")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
FIRST_DATA_ROW = 5          # rows 1-2 title, 3 blank, 4 header


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
    pending: list[PendingItem]


def _fmt_date(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def _fmt_moment(moment: datetime) -> str:
    return local_naive(moment).strftime("%d-%m-%Y %H:%M")


def subtitle(content: ReportContent, include_contacts: bool) -> str:
    start = f"vanaf {_fmt_moment(content.period_start)}" if content.period_start else "eerste overzicht"
    version = ("versie met contactgegevens (bevat persoonsgegevens)" if include_contacts
               else "versie zonder contactgegevens")
    return (f"Stand {_fmt_date(content.today)} · periode: {start} t/m {_fmt_moment(content.generated_at)} · "
            f"gemaakt op {_fmt_moment(content.generated_at)} (Nederlandse tijd) · {version}")


# --- generic sheet helpers ------------------------------------------------------------------

def _start_sheet(ws: Worksheet, title: str, content: ReportContent, include_contacts: bool) -> None:
    ws.append([f"{L.TITLE} — {title}"])
    ws["A1"].font = TITLE_FONT
    ws.append([subtitle(content, include_contacts)])
    ws.append([])


def _append(ws: Worksheet, values: Iterable[Any]) -> int:
    """Append one row of typed cells; returns its row number."""
    row = [cell_value(v) for v in values]
    ws.append(row)
    index = ws._current_row
    for column, value in enumerate(row, start=1):
        fmt = number_format_for(value)
        if fmt:
            ws.cell(row=index, column=column).number_format = fmt
        elif isinstance(value, str) and value.startswith("'"):
            ws.cell(row=index, column=column).data_type = "s"
    return index


def _header(ws: Worksheet, headers: list[str]) -> int:
    index = _append(ws, headers)
    for cell in ws[index]:
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN
    return index


def _widths(ws: Worksheet, headers: list[str], rows: list[list[Any]], limit: int = 60) -> None:
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
        ws.column_dimensions[get_column_letter(column)].width = min(max(longest + 2, 8), limit)


def _table_sheet(ws: Worksheet, headers: list[str], rows: list[list[Any]], freeze: str = "A5") -> None:
    """A header row, typed data rows, frozen panes, an autofilter and fitted columns."""
    _header(ws, headers)
    for row in rows:
        _append(ws, row)
    last = max(ws._current_row, FIRST_DATA_ROW - 1)
    ws.auto_filter.ref = f"A{FIRST_DATA_ROW - 1}:{get_column_letter(len(headers))}{last}"
    ws.freeze_panes = freeze
    _widths(ws, headers, rows)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{FIRST_DATA_ROW - 1}:{FIRST_DATA_ROW - 1}"


# --- Overzicht ------------------------------------------------------------------------------

def day_headers(days: list[date]) -> list[str]:
    first, *weeks = days
    return [f"Nu ({_fmt_date(first)})"] + [f"Week {d.isocalendar()[1]} ({_fmt_date(d)})" for d in weeks]


def _overview_block(ws: Worksheet, title: str, overview: Overview, table: pd.DataFrame) -> tuple[int, int]:
    """Writes one block; returns (header row, total row)."""
    ws.append([title])
    ws.cell(row=ws._current_row, column=1).font = BOLD
    header = _header(ws, [overview.area_label] + day_headers(overview.days))
    for area, values in table.iterrows():
        index = _append(ws, [area] + [int(v) for v in values])
    for cell in ws[index]:
        cell.font = BOLD
    ws.append([])
    return header, index


def _overview_sheet(ws: Worksheet, content: ReportContent, include_contacts: bool) -> None:
    _start_sheet(ws, "overzicht per provincie en veiligheidsregio", content, include_contacts)
    blocks = [("Plekken per provincie", content.by_province, content.by_province.places),
              ("Locaties per provincie", content.by_province, content.by_province.locations),
              ("Plekken per veiligheidsregio", content.by_region, content.by_region.places),
              ("Locaties per veiligheidsregio", content.by_region, content.by_region.locations)]
    written = [_overview_block(ws, title, overview, table) for title, overview, table in blocks]
    ws.column_dimensions["A"].width = 30
    for column in range(2, len(content.by_province.days) + 2):
        ws.column_dimensions[get_column_letter(column)].width = 22
    ws.freeze_panes = "B4"
    _charts(ws, content, written[0])


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
    ws.add_chart(per_week, f"{anchor_column}24")


# --- Locaties -------------------------------------------------------------------------------

LOCATION_HEADERS = ["Gemeente", "CBS-code", "Provincie", "Veiligheidsregio", "Locatie", "Adres", "Postcode",
                    "Plaats", "Beschikbaar vanaf", "Beschikbaar tot", "Plekken", "Plekken max", "Status",
                    "Telt nu mee"]
CONTACT_HEADERS = ["Contactpersoon", "Functie", "Telefoon", "E-mail"]
TRAILING_HEADERS = ["Beoordeling", "Laatste wijziging", "Bron"]


def location_headers(include_contacts: bool) -> list[str]:
    return LOCATION_HEADERS + (CONTACT_HEADERS if include_contacts else []) + TRAILING_HEADERS


def _date_or_text(parsed: Any, raw: Any) -> Any:
    if isinstance(parsed, date):
        return parsed
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    return L.INDEFINITE if str(raw).lower() == "indefinite" else str(raw)


def location_rows(frame: pd.DataFrame, include_contacts: bool) -> list[list[Any]]:
    rows = []
    for r in frame.itertuples(index=False):
        row = [r.municipality, r.municipality_code, r.province, r.region, r.location, r.address, r.postcode,
               r.place, _date_or_text(r.available_from, r.available_from_raw),
               _date_or_text(r.available_until, r.available_until_raw), r.places, r.places_max,
               L.STATUS.get(r.status, r.status), bool(r.counts_now)]
        if include_contacts:
            row += [r.contact_name, r.contact_role, r.contact_phone, r.contact_email]
        row += [L.REVIEW.get(r.review_state, r.review_state), r.last_change, r.source]
        rows.append([None if _missing(v) else v for v in row])
    return rows


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NaT


def _locations_sheet(ws: Worksheet, content: ReportContent, include_contacts: bool) -> None:
    _start_sheet(ws, "alle locaties zoals ze nu zijn", content, include_contacts)
    _table_sheet(ws, location_headers(include_contacts), location_rows(content.locations, include_contacts),
                 freeze="B5")


# --- Wijzigingen ----------------------------------------------------------------------------

CHANGE_HEADERS = ["Soort", "Gemeente", "CBS-code", "Locatie", "Veld", "Oud", "Nieuw", "Laatste wijziging"]


def _display(field: str | None, value: Any) -> Any:
    if value is None:
        return None
    if field in ("available_from", "available_until"):
        if str(value).lower() == "indefinite":
            return L.INDEFINITE
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if field == "status":
        return L.STATUS.get(value, value)
    return value


def summary(entry: dict[str, Any]) -> str:
    """'120 plekken, vanaf 14-03-2022 tot onbepaald' for a new or vanished location."""
    parts = [f"{entry['places']} plekken" if entry.get("places") is not None else "aantal plekken onbekend"]
    for name, word in (("available_from", "vanaf"), ("available_until", "tot")):
        value = _display(name, entry.get(name))
        if value is not None:
            parts.append(f"{word} {_fmt_date(value) if isinstance(value, date) else value}")
    if entry.get("status") == "withdrawn":
        parts.append("ingetrokken")
    return ", ".join(parts)


def _contact_text(row: dict[str, Any] | None, include_contacts: bool) -> str | None:
    if row is None:
        return None
    if not include_contacts:
        return "gewijzigd (niet in deze versie)"
    values = [row.get(key) for key in ("contact_name", "contact_role", "contact_phone", "contact_email")]
    return ", ".join(str(v) for v in values if v) or None


def change_rows(content: ReportContent, include_contacts: bool) -> list[list[Any]]:
    current = {int(r["location_id"]): r for r in content.locations.to_dict("records")}
    before = (content.previous or {}).get("locations", {})
    rows = []
    ordered = sorted(enumerate(content.changes), key=lambda item: (_change_key(item[1], current, before), item[0]))
    for _, change in ordered:
        now_row = current.get(change.location_id)
        old_entry = before.get(str(change.location_id), {})
        ident = now_row or old_entry
        name = ident.get("municipality")
        if change.field is None:
            field, old, new = None, None, None
            if change.kind == "gone":
                old = summary(old_entry)
            else:
                new = summary(snapshot_entry(now_row))
        elif change.field == "contact":
            field = L.FIELDS["contact"]
            old = "eerdere gegevens" if change.old else None
            new = _contact_text(now_row, include_contacts) if change.new else None
        else:
            field = L.FIELDS.get(change.field, change.field)
            old, new = _display(change.field, change.old), _display(change.field, change.new)
        last = now_row.get("last_change") if now_row else None
        rows.append([L.CHANGE_KINDS[change.kind], name, ident.get("municipality_code"), ident.get("location"),
                     field, old, new, None if _missing(last) else last])
    return rows


def _change_key(change: Change, current: dict, before: dict) -> tuple:
    ident = current.get(change.location_id) or before.get(str(change.location_id), {})
    return (KIND_ORDER[change.kind], str(ident.get("municipality") or "").casefold(),
            str(ident.get("location") or "").casefold(), change.location_id)


def _changes_sheet(ws: Worksheet, content: ReportContent, include_contacts: bool) -> None:
    _start_sheet(ws, "wijzigingen sinds het vorige overzicht", content, include_contacts)
    _table_sheet(ws, CHANGE_HEADERS, change_rows(content, include_contacts))


# --- Te controleren -------------------------------------------------------------------------

REVIEW_HEADERS = ["Gemeente", "CBS-code", "Locatie", "Onzekere gegevens", "Wacht sinds", "Wachtdagen"]


def review_rows(content: ReportContent) -> list[list[Any]]:
    rows = []
    for item in content.pending:
        known = refdata.by_code(item.municipality_code) if item.municipality_code else None
        fields = ", ".join(L.FIELDS.get(name, name) for name in item.uncertain) or "soort bericht"
        waiting = max((content.generated_at - item.since).days, 0) if item.since else None
        rows.append([known.name if known else item.municipality, item.municipality_code, item.location,
                     fields, local_naive(item.since), waiting])
    return rows


def _review_sheet(ws: Worksheet, content: ReportContent, include_contacts: bool) -> None:
    _start_sheet(ws, "nog te controleren door het KCC (zonder persoonsgegevens)", content, include_contacts)
    _table_sheet(ws, REVIEW_HEADERS, review_rows(content))


# --- Toelichting ----------------------------------------------------------------------------

def _notes_sheet(ws: Worksheet, content: ReportContent, include_contacts: bool) -> None:
    _start_sheet(ws, "toelichting", content, include_contacts)
    _header(ws, ["Blad", "Kolom", "Uitleg"])
    for sheet, column, text in L.COLUMN_NOTES:
        index = _append(ws, [sheet, column, text])
        ws.cell(row=index, column=3).alignment = Alignment(wrap_text=True, vertical="top")
    ws.append([])
    ws.append(["Hoe er geteld wordt"])
    ws.cell(row=ws._current_row, column=1).font = BOLD
    for rule in L.COUNTING_RULES:
        ws.append([rule])
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 34
    ws.column_dimensions["C"].width = 100
    ws.freeze_panes = "A5"


# --- the workbook ---------------------------------------------------------------------------

def build_workbook(content: ReportContent, include_contacts: bool) -> Workbook:
    wb = Workbook()
    sheets = [(L.SHEET_OVERVIEW, _overview_sheet), (L.SHEET_LOCATIONS, _locations_sheet),
              (L.SHEET_CHANGES, _changes_sheet), (L.SHEET_REVIEW, _review_sheet), (L.SHEET_NOTES, _notes_sheet)]
    wb.remove(wb.active)
    for title, write in sheets:
        write(wb.create_sheet(title), content, include_contacts)
    moment = content.generated_at.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)
    wb.properties.creator = "vng-ingest"
    wb.properties.lastModifiedBy = "vng-ingest"
    wb.properties.title = f"{L.TITLE} — {_fmt_date(content.today)}"
    wb.properties.created = moment
    wb.properties.modified = moment
    return wb


class _FixedTimeZip(ZipFile):
    """A zip whose entries all carry the report's moment, not the time of writing."""

    def __init__(self, file, moment: datetime):
        super().__init__(file, "w", ZIP_DEFLATED, allowZip64=True)
        self._date_time = local_naive(moment).timetuple()[:6]

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, ZipInfo):
            zinfo_or_arcname = ZipInfo(zinfo_or_arcname, date_time=self._date_time)
            zinfo_or_arcname.compress_type = ZIP_DEFLATED
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)


def workbook_bytes(wb: Workbook, moment: datetime) -> bytes:
    """Serialise without openpyxl's save(), which would stamp 'modified' with the wall clock."""
    buffer = BytesIO()
    archive = _FixedTimeZip(buffer, moment)
    ExcelWriter(wb, archive).save()
    return buffer.getvalue()


__all__ = ["ReportContent", "build_workbook", "workbook_bytes", "DATE_FORMAT"]
