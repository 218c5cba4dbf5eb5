"""The workbook read back: sheets, values, types, formats, totals and the weekly columns."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest

from reports.cells import DATE_FORMAT, DATETIME_FORMAT
from reports.weekly import generate_report
from store.schema import Report
from tests.reports.conftest import MONDAY
from tests.reports.helpers import overview_block, sheet_frame, sheet_rows

WEEKS = ["14-03-2022", "21-03-2022", "28-03-2022", "04-04-2022", "11-04-2022", "18-04-2022", "25-04-2022",
         "02-05-2022"]


@pytest.fixture
def report(config, store, week):
    return generate_report(config, store, now=MONDAY)


def test_file_name_and_sheets(report, config):
    assert report == config.report.folder / "opvanglocaties-2022-03-07.xlsx"
    wb = openpyxl.load_workbook(report)
    assert wb.sheetnames == ["Overzicht", "Locaties", "Wijzigingen", "Te controleren", "Toelichting"]
    assert wb.properties.created == datetime(2022, 3, 7, 7, 0)
    assert wb.properties.modified == datetime(2022, 3, 7, 7, 0)


def test_title_rows_give_period_and_generation_time_in_amsterdam(report):
    ws = openpyxl.load_workbook(report)["Locaties"]
    assert ws["A1"].value.startswith("Opvanglocaties voor vluchtelingen uit Oekraïne")
    assert ws["A1"].font.bold
    assert "gemaakt op 07-03-2022 08:00 (Nederlandse tijd)" in ws["A2"].value
    assert "eerste overzicht" in ws["A2"].value


def test_locations_sheet_values_and_types(report):
    rows = {row["Locatie"]: row for row in sheet_rows(report, "Locaties")}
    assert set(rows) == {"Voormalig kantoorpand Croeselaan", "Sporthal De Kei", "Oude school", "Hotel De Eemhof",
                         "Kazerne", "Vakantiepark"}
    utrecht = rows["Voormalig kantoorpand Croeselaan"]
    assert utrecht["Gemeente"] == "Utrecht" and utrecht["CBS-code"] == "GM0344"
    assert utrecht["Provincie"] == "Utrecht" and utrecht["Veiligheidsregio"] == "Utrecht"
    assert (utrecht["Adres"], utrecht["Postcode"], utrecht["Plaats"]) == ("Croeselaan 15", "3521 BJ", "Utrecht")
    assert utrecht["Beschikbaar vanaf"] == datetime(2022, 3, 14)
    assert utrecht["Beschikbaar tot"] == datetime(2022, 9, 30)
    assert utrecht["Plekken"] == 120 and isinstance(utrecht["Plekken"], int)
    assert utrecht["Status"] == "beschikbaar"
    assert utrecht["Telt nu mee"] == "nee"                         # starts next week
    assert utrecht["Contactpersoon"] == "Jan de Vries"
    assert utrecht["Telefoon"] == "+31612345678"
    assert utrecht["E-mail"] == "jan.devries@utrecht.example"
    assert utrecht["Beoordeling"] == "automatisch geaccepteerd"
    assert utrecht["Laatste wijziging"] == datetime(2022, 3, 2, 10, 0)   # 09:00 UTC = 10:00 CET
    assert utrecht["Bron"] == "m1@gemeente.example"
    assert rows["Sporthal De Kei"]["Beschikbaar tot"] == "onbepaald"
    assert rows["Sporthal De Kei"]["Beschikbaar vanaf"] is None
    assert rows["Kazerne"]["Status"] == "ingetrokken"
    assert rows["Hotel De Eemhof"]["Beoordeling"] == "gecontroleerd"
    assert rows["Vakantiepark"]["Beoordeling"] == "te controleren"
    assert rows["Vakantiepark"]["Provincie"] is None


def test_cell_types_and_number_formats(report):
    ws = openpyxl.load_workbook(report)["Locaties"]
    header = [cell.value for cell in ws[4]]
    row = next(r for r in ws.iter_rows(min_row=5) if r[header.index("Locatie")].value.startswith("Voormalig"))
    by_name = dict(zip(header, row))
    assert by_name["Beschikbaar vanaf"].is_date and by_name["Beschikbaar vanaf"].number_format == DATE_FORMAT
    assert by_name["Beschikbaar tot"].number_format == DATE_FORMAT
    assert by_name["Laatste wijziging"].number_format == DATETIME_FORMAT
    assert by_name["Plekken"].data_type == "n"
    assert by_name["Gemeente"].data_type == "s"
    assert ws[4][0].font.bold and ws[4][0].fill.fgColor.rgb.endswith("1F4E78")
    assert ws.freeze_panes == "B5"
    assert ws.auto_filter.ref == f"A4:{ws.cell(row=4, column=len(header)).column_letter}{ws.max_row}"
    assert all(ws.column_dimensions[cell.column_letter].width >= 8 for cell in ws[4])


def test_locations_sheet_reads_into_pandas(report):
    frame = sheet_frame(report, "Locaties")
    assert len(frame) == 6
    assert frame["Plekken"].sum() == 120 + 40 + 25 + 30 + 60
    assert str(frame["Beschikbaar vanaf"].dropna().iloc[0].date()) in {"2022-03-14", "2022-03-01"}


def test_overview_totals_per_province(report):
    places = overview_block(report, "Plekken per provincie")
    locations = overview_block(report, "Locaties per provincie")
    assert places["_header"][0] == "Nu (07-03-2022)"
    assert places["_header"][1:] == [f"Week {week} ({day})" for week, day in zip(range(11, 19), WEEKS)]
    # now: Sporthal 40 (Groningen), Hotel 30 (Utrecht), Vakantiepark 0 (unknown); not the withdrawn Kazerne,
    # nor Oude school (ended 1 March), nor Croeselaan (from 14 March)
    assert places["Groningen"] == [40] * 9
    assert places["Utrecht"] == [30, 150, 150, 120, 120, 120, 120, 120, 120]
    assert places["Overijssel"] == [0] * 9
    assert places["Onbekend"] == [0] * 9
    assert places["Totaal"] == [70, 190, 190, 160, 160, 160, 160, 160, 160]
    assert locations["Utrecht"] == [1, 2, 2, 1, 1, 1, 1, 1, 1]
    assert locations["Onbekend"] == [1] * 9
    assert locations["Totaal"] == [3, 4, 4, 3, 3, 3, 3, 3, 3]
    assert len([k for k in places if k not in ("_header", "Onbekend", "Totaal")]) == 12


def test_overview_totals_per_veiligheidsregio(report):
    places = overview_block(report, "Plekken per veiligheidsregio")
    assert places["Groningen"][0] == 40
    assert places["Utrecht"][:3] == [30, 150, 150]
    assert places["IJsselland"] == [0] * 9                     # Zwolle's location was withdrawn
    assert places["Totaal"][0] == 70
    assert len([k for k in places if k not in ("_header", "Onbekend", "Totaal")]) == 25


def test_overview_has_a_bar_chart(report):
    ws = openpyxl.load_workbook(report)["Overzicht"]
    # openpyxl does not read charts back; the drawing part in the file shows they are there
    import zipfile
    names = zipfile.ZipFile(report).namelist()
    assert any(name.startswith("xl/charts/chart") for name in names)
    assert ws.freeze_panes == "B4"


def test_report_row_records_counts_and_checksum(report, store):
    import hashlib
    with store.session() as session:
        row = session.query(Report).one()
        assert row.path == str(report)
        assert row.sha256 == hashlib.sha256(report.read_bytes()).hexdigest()
        assert (row.locations, row.places) == (3, 70)
        assert len(row.snapshot["locations"]) == 6
        assert "Jan de Vries" not in str(row.snapshot)          # no contact details kept in the snapshot


def test_review_sheet_without_personal_data(report):
    rows = sheet_rows(report, "Te controleren")
    assert len(rows) == 1
    item = rows[0]
    assert item["Locatie"] == "Vakantiepark"
    assert item["Onzekere gegevens"] == ("gemeente, beschikbaar vanaf, beschikbaar tot, plekken, "
                                         "contactpersoon")
    assert item["Wacht sinds"] == datetime(2022, 3, 5, 10, 0)
    assert item["Wachtdagen"] == 1
    assert set(item) == {"Gemeente", "CBS-code", "Locatie", "Onzekere gegevens", "Wacht sinds", "Wachtdagen"}


def test_notes_sheet_explains_every_location_column(report):
    ws = openpyxl.load_workbook(report)["Toelichting"]
    text = " ".join(str(cell.value) for row in ws.iter_rows() for cell in row if cell.value)
    for column in ("Gemeente", "Beschikbaar vanaf", "Beschikbaar tot", "Plekken", "Status", "Beoordeling",
                   "Laatste wijziging", "Bron", "Soort"):
        assert column in text
    assert "ingetrokken locaties tellen nooit mee" in text


def test_empty_store_gives_a_valid_workbook(config, store):
    path = generate_report(config, store, now=MONDAY)
    assert sheet_rows(path, "Locaties") == []
    assert overview_block(path, "Plekken per provincie")["Totaal"] == [0] * 9

