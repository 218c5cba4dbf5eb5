"""Writing the workbook: five sheets of typed, styled, filterable cells.

``build_workbook`` assembles the sheets (``reports.overview_sheet``, ``reports.sheets``);
``workbook_bytes`` serialises with every timestamp (document properties and zip entries) fixed to
the report's moment, so the same data at the same moment gives byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from io import BytesIO
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from reports import labels as L
from reports.cells import DATE_FORMAT
from reports.data import local_naive
from reports.overview_sheet import overview_sheet
from reports.rows_xml import splice
from reports.sheet import ReportContent, Sheet, fmt_date, subtitle
from reports.sheets import changes_sheet, locations_sheet, notes_sheet, review_sheet


@dataclass
class BuiltWorkbook:
    """An openpyxl workbook plus the directly rendered data rows of its table sheets (by sheet title)."""

    workbook: Workbook
    bulk_rows: dict[str, bytes]
    moment: datetime


def build_workbook(content: ReportContent, include_contacts: bool) -> BuiltWorkbook:
    wb = Workbook(write_only=True)
    sheets = [(L.SHEET_OVERVIEW, overview_sheet), (L.SHEET_LOCATIONS, locations_sheet),
              (L.SHEET_CHANGES, changes_sheet), (L.SHEET_REVIEW, review_sheet), (L.SHEET_NOTES, notes_sheet)]
    bulk_rows = {}
    for title, write in sheets:
        sheet = Sheet(wb.create_sheet(title))
        write(sheet, content, include_contacts)
        if sheet.bulk_xml:
            bulk_rows[title] = sheet.bulk_xml
    moment = content.generated_at.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)
    wb.properties.creator = "vng-ingest"
    wb.properties.lastModifiedBy = "vng-ingest"
    wb.properties.title = f"{L.TITLE} — {fmt_date(content.today)}"
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


__all__ = ["BuiltWorkbook", "ReportContent", "build_workbook", "subtitle", "workbook_bytes", "DATE_FORMAT"]
