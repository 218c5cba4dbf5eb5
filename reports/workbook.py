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
from openpyxl.cell import WriteOnlyCell
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
from reports.rows_xml import RowRenderer, splice
from vng_ingest import refdata

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


def _start_sheet(sheet: Sheet, title: str, content: ReportContent, include_contacts: bool) -> None:
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


def _table_sheet(sheet: Sheet, title: str, content: ReportContent, include_contacts: bool, headers: list[str],
                 rows: list[list[Any]], freeze: str = "A5") -> None:
    """Title, a header row, typed data rows, frozen panes, an autofilter and fitted columns."""
    sheet.prepare(_widths(headers, rows), freeze)
    _start_sheet(sheet, title, content, include_contacts)
    header = sheet.header(headers)
    sheet.bulk(rows, len(headers))
    ws = sheet.ws
    ws.auto_filter.ref = f"A{header}:{get_column_letter(len(headers))}{max(sheet.rows, header)}"
    ws.print_title_rows = f"{header}:{header}"


# --- Overzicht ------------------------------------------------------------------------------

def day_headers(days: list[date]) -> list[str]:
    first, *weeks = days
    return [f"Nu ({_fmt_date(first)})"] + [f"Week {d.isocalendar()[1]} ({_fmt_date(d)})" for d in weeks]


def _overview_block(sheet: Sheet, title: str, overview: Overview, table: pd.DataFrame) -> tuple[int, int]:
    """Writes one block; returns (header row, total row)."""
    sheet.row([title], font=BOLD)
    header = sheet.header([overview.area_label] + day_headers(overview.days))
    for area, values in table.iterrows():
        bold = BOLD if area == L.TOTAL else None
        index = sheet.row([area] + [int(v) for v in values], font=bold)
    sheet.blank()
    return header, index


def _overview_sheet(sheet: Sheet, content: ReportContent, include_contacts: bool) -> None:
    columns = len(content.by_province.days) + 1
    sheet.prepare({1: 30, **{column: 22 for column in range(2, columns + 1)}}, "B4")
    _start_sheet(sheet, "overzicht per provincie en veiligheidsregio", content, include_contacts)
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
               _date_or_text(r.available_until, r.available_until_raw), _count(r.places), _count(r.places_max),
               L.STATUS.get(r.status, r.status), bool(r.counts_now)]
        if include_contacts:
            row += [r.contact_name, r.contact_role, r.contact_phone, r.contact_email]
        row += [L.REVIEW.get(r.review_state, r.review_state), r.last_change, r.source]
        rows.append([None if _missing(v) else v for v in row])
    return rows


def _count(value: Any) -> int | None:
    """Places arrive as float when a column has gaps (NaN); the sheet shows whole numbers."""
    return None if _missing(value) else int(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NaT


def _locations_sheet(sheet: Sheet, content: ReportContent, include_contacts: bool) -> None:
    _table_sheet(sheet, "alle locaties zoals ze nu zijn", content, include_contacts,
                 location_headers(include_contacts), location_rows(content.locations, include_contacts),
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
    changed = {change.location_id for change in content.changes}
    frame = content.locations
    current = {int(r["location_id"]): r for r in frame[frame["location_id"].isin(changed)].to_dict("records")}
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


def _changes_sheet(sheet: Sheet, content: ReportContent, include_contacts: bool) -> None:
    _table_sheet(sheet, "wijzigingen sinds het vorige overzicht", content, include_contacts, CHANGE_HEADERS,
                 change_rows(content, include_contacts))


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


def _review_sheet(sheet: Sheet, content: ReportContent, include_contacts: bool) -> None:
    _table_sheet(sheet, "nog te controleren door het KCC (zonder persoonsgegevens)", content, include_contacts,
                 REVIEW_HEADERS, review_rows(content))


# --- Toelichting ----------------------------------------------------------------------------

def _notes_sheet(sheet: Sheet, content: ReportContent, include_contacts: bool) -> None:
    sheet.prepare({1: 18, 2: 34, 3: 100}, "A5")
    _start_sheet(sheet, "toelichting", content, include_contacts)
    sheet.header(["Blad", "Kolom", "Uitleg"])
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in L.COLUMN_NOTES:
        sheet.row(row, alignment=wrap)
    sheet.blank()
    sheet.row(["Hoe er geteld wordt"], font=BOLD)
    for rule in L.COUNTING_RULES:
        sheet.row([rule])


# --- the workbook ---------------------------------------------------------------------------

@dataclass
class BuiltWorkbook:
    """An openpyxl workbook plus the directly rendered data rows of its table sheets (by sheet title)."""

    workbook: Workbook
    bulk_rows: dict[str, bytes]
    moment: datetime


def build_workbook(content: ReportContent, include_contacts: bool) -> BuiltWorkbook:
    wb = Workbook(write_only=True)
    sheets = [(L.SHEET_OVERVIEW, _overview_sheet), (L.SHEET_LOCATIONS, _locations_sheet),
              (L.SHEET_CHANGES, _changes_sheet), (L.SHEET_REVIEW, _review_sheet), (L.SHEET_NOTES, _notes_sheet)]
    bulk_rows = {}
    for title, write in sheets:
        sheet = Sheet(wb.create_sheet(title))
        write(sheet, content, include_contacts)
        if sheet.bulk_xml:
            bulk_rows[title] = sheet.bulk_xml
    moment = content.generated_at.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)
    wb.properties.creator = "vng-ingest"
    wb.properties.lastModifiedBy = "vng-ingest"
    wb.properties.title = f"{L.TITLE} — {_fmt_date(content.today)}"
    wb.properties.created = moment
    wb.properties.modified = moment
    return BuiltWorkbook(wb, bulk_rows, content.generated_at)


class _ReportZip(ZipFile):
    """The zip openpyxl writes into: every entry carries the report's moment (not the time of
    writing), and the table sheets get their directly rendered rows."""

    def __init__(self, file, moment: datetime, bulk_rows: dict[str, bytes]):
        super().__init__(file, "w", ZIP_DEFLATED, allowZip64=True)
        self._date_time = local_naive(moment).timetuple()[:6]
        self._bulk_rows = bulk_rows

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, ZipInfo):
            name = zinfo_or_arcname
            if name in self._bulk_rows:
                data = splice(data if isinstance(data, bytes) else data.encode("utf-8"), self._bulk_rows[name])
            zinfo_or_arcname = ZipInfo(name, date_time=self._date_time)
            zinfo_or_arcname.compress_type = ZIP_DEFLATED
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as handle:                # write-only sheets arrive as temp files
            self.writestr(arcname or str(filename), handle.read())


def workbook_bytes(built: BuiltWorkbook, moment: datetime | None = None) -> bytes:
    """Serialise without openpyxl's save(), which would stamp 'modified' with the wall clock."""
    buffer = BytesIO()
    # openpyxl numbers the sheet parts in workbook order as it saves them (ExcelWriter._write_worksheets)
    by_part = {ws._path.format(index).lstrip("/"): built.bulk_rows[ws.title]
               for index, ws in enumerate(built.workbook.worksheets, 1) if ws.title in built.bulk_rows}
    archive = _ReportZip(buffer, moment or built.moment, by_part)
    ExcelWriter(built.workbook, archive).save()
    return buffer.getvalue()


__all__ = ["BuiltWorkbook", "ReportContent", "build_workbook", "workbook_bytes", "DATE_FORMAT"]
