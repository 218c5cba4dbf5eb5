"""Attachment readers: tables keyed by header, text, and the safety limits."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest

from parsers import attachments, budgets
from parsers.attachments import read_attachment

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _xlsx(rows_by_sheet: dict[str, list[list]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in rows_by_sheet.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_title_row_skipped_dates_iso_and_numbers_plain() -> None:
    data = _xlsx({"Locaties": [["Overzicht opvang"], [],
                               ["Locatie", "Vanaf", "Plekken", None],
                               ["De Horst", datetime(2022, 3, 21), 50.0, "extra"],
                               ["Sporthal", "per direct", "20-25", None]]})
    att = read_attachment("lijst.xlsx", XLSX, data)
    assert att.error is None
    assert att.tables == [[
        {"Locatie": "De Horst", "Vanaf": "2022-03-21", "Plekken": "50", "kolom 4": "extra"},
        {"Locatie": "Sporthal", "Vanaf": "per direct", "Plekken": "20-25", "kolom 4": ""},
    ]]
    assert "Blad: Locaties" in att.text and "Overzicht opvang" in att.text
    assert "Locatie: De Horst; Vanaf: 2022-03-21; Plekken: 50; kolom 4: extra" in att.text


def test_csv_semicolon_windows_1252_sent_as_excel() -> None:
    data = "plaats;plekken;opmerking\r\nEnschede;75;\"keuken; 2 douches\"\r\nBoekelo;120;€ 0\r\n"
    att = read_attachment("a.csv", "application/vnd.ms-excel", data.encode("cp1252"))
    assert att.tables[0][0] == {"plaats": "Enschede", "plekken": "75", "opmerking": "keuken; 2 douches"}
    assert att.tables[0][1]["opmerking"] == "€ 0"


def test_csv_comma_utf8_with_bom() -> None:
    att = read_attachment("b.csv", "text/csv", "\ufeffnaam,aantal\nOekraïne,3\n".encode("utf-8"))
    assert att.tables == [[{"naam": "Oekraïne", "aantal": "3"}]]


def test_docx_paragraphs_and_label_value_table() -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Aanbod opvanglocatie")
    table = document.add_table(rows=3, cols=2)
    for row, (label, value) in zip(table.rows, [("Adres", "Kerkstraat 1"), ("Plekken", "40"),
                                                 ("Contact", "Piet")]):
        row.cells[0].text, row.cells[1].text = label, value
    out = io.BytesIO()
    document.save(out)
    att = read_attachment("aanbod.docx", DOCX, out.getvalue())
    assert att.tables == [[{"Adres": "Kerkstraat 1", "Plekken": "40", "Contact": "Piet"}]]
    assert att.text.startswith("Aanbod opvanglocatie") and "Plekken: 40" in att.text


def test_odt_and_ods_without_odfpy() -> None:
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body>'
        '<office:spreadsheet><table:table table:name="Blad1">'
        '<table:table-row><table:table-cell><text:p>Locatie</text:p></table:table-cell>'
        '<table:table-cell><text:p>Plekken</text:p></table:table-cell></table:table-row>'
        '<table:table-row><table:table-cell><text:p>School</text:p></table:table-cell>'
        '<table:table-cell><text:p>30</text:p></table:table-cell></table:table-row>'
        '</table:table></office:spreadsheet></office:body></office:document-content>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("content.xml", content)
    att = read_attachment("lijst.ods", "application/vnd.oasis.opendocument.spreadsheet", out.getvalue())
    assert att.tables == [[{"Locatie": "School", "Plekken": "30"}]]


def test_pdf_page_limit_is_recorded(monkeypatch) -> None:
    import pypdf

    writer = pypdf.PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=100, height=100)
    out = io.BytesIO()
    writer.write(out)
    monkeypatch.setattr(budgets, "MAX_PDF_PAGES", 2)
    att = read_attachment("x.pdf", "application/pdf", out.getvalue())
    assert att.error == "only the first 2 of 3 pages were read"


def test_size_limit_refuses(monkeypatch) -> None:
    monkeypatch.setattr(budgets, "MAX_ATTACHMENT_BYTES", 10)
    att = read_attachment("big.csv", "text/csv", b"a;b\n" * 10)
    assert att.error and "over the limit" in att.error and att.tables == []


def test_zip_bomb_ratio_and_total_size_refused(monkeypatch) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (5 * 1024 * 1024))
    bomb = out.getvalue()
    att = read_attachment("bomb.xlsx", XLSX, bomb)
    assert att.error and "compression ratio" in att.error
    monkeypatch.setattr(budgets, "MAX_INFLATED_BYTES", 1024)
    att = read_attachment("bomb.docx", DOCX, bomb)
    assert att.error and "would unpack to" in att.error


@pytest.mark.parametrize("name, ctype", [("winmail.dat", "application/ms-tnef"),
                                         ("mail.msg", "application/vnd.ms-outlook")])
def test_tnef_and_msg_best_effort_never_raise(name: str, ctype: str) -> None:
    att = read_attachment(name, ctype, b"\x78\x9f\x3e\x22 not really")
    assert att.error                     # refused (package missing) or a read error, in words


def test_broken_office_file_is_an_error_not_an_exception() -> None:
    att = read_attachment("kapot.xlsx", XLSX, b"PK\x03\x04garbage")
    assert att.error and att.tables == []


def test_cell_text() -> None:
    assert attachments.cell_text(date(2022, 4, 1)) == "2022-04-01"
    assert attachments.cell_text(datetime(2022, 4, 1, 13, 30)) == "2022-04-01 13:30:00"
    assert attachments.cell_text(12.5) == "12.5" and attachments.cell_text(None) == ""
