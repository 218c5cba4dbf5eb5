"""The change sheet across two consecutive reports: added, modified, withdrawn and vanished locations."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from reports.weekly import generate_report
from store.schema import OfferRow, Report
from tests.reports.conftest import JAN, MONDAY, offer
from tests.reports.helpers import sheet_rows
from vng_ingest.models import Contact

NEXT_MONDAY = MONDAY + timedelta(days=7)


def a_week_of_changes(mailbox, store) -> None:
    day = MONDAY + timedelta(days=2)
    mailbox.add([offer("Amsterdam", "GM0363", "Sporthal Zuid", places=80, available_from="2022-03-10",
                       available_until="indefinite")], day)
    mailbox.add([offer("Utrecht", "GM0344", "Voormalig kantoorpand Croeselaan", places=150,
                       available_until="2022-12-31",
                       contact=Contact(JAN.name, JAN.role, "+31687654321", JAN.email))], day)
    mailbox.add([offer("Groningen", "GM0014", "Sporthal De Kei", status="withdrawn")], day)
    with store.session() as session:                      # KCC rejects the uncertain Vakantiepark offer
        session.execute(update(OfferRow).where(OfferRow.location == "Vakantiepark")
                        .values(review_state="rejected"))


@pytest.fixture
def second_report(config, store, week):
    generate_report(config, store, now=MONDAY)
    a_week_of_changes(week, store)
    return generate_report(config, store, now=NEXT_MONDAY)


def test_first_report_lists_every_location_as_new(config, store, week):
    rows = sheet_rows(generate_report(config, store, now=MONDAY), "Wijzigingen")
    kinds = {row["Locatie"]: row["Soort"] for row in rows}
    assert kinds == {"Voormalig kantoorpand Croeselaan": "nieuw", "Sporthal De Kei": "nieuw",
                     "Oude school": "nieuw", "Hotel De Eemhof": "nieuw", "Kazerne": "ingetrokken",
                     "Vakantiepark": "nieuw"}


def test_second_report_shows_what_changed_in_between(second_report):
    rows = [(r["Soort"], r["Gemeente"], r["Locatie"], r["Veld"], r["Oud"], r["Nieuw"])
            for r in sheet_rows(second_report, "Wijzigingen")]
    assert rows == [
        ("nieuw", "Amsterdam", "Sporthal Zuid", None, None, "80 plekken, vanaf 10-03-2022, tot onbepaald"),
        ("gewijzigd", "Utrecht", "Voormalig kantoorpand Croeselaan", "beschikbaar tot",
         datetime(2022, 9, 30), datetime(2022, 12, 31)),
        ("gewijzigd", "Utrecht", "Voormalig kantoorpand Croeselaan", "plekken", 120, 150),
        ("gewijzigd", "Utrecht", "Voormalig kantoorpand Croeselaan", "contactgegevens", "eerdere gegevens",
         "Jan de Vries, beleidsadviseur opvang, +31687654321, jan.devries@utrecht.example"),
        ("ingetrokken", "Groningen", "Sporthal De Kei", "status", "beschikbaar", "ingetrokken"),
        ("vervallen", "onbekend", "Vakantiepark", None, "aantal plekken onbekend", None),
    ]


def test_second_report_period_and_totals(second_report, store):
    import openpyxl
    title = openpyxl.load_workbook(second_report)["Wijzigingen"]["A2"].value
    assert "periode: vanaf 07-03-2022 08:00 t/m 14-03-2022 08:00" in title
    with store.session() as session:
        first, second = session.query(Report).order_by(Report.generated_at).all()
        assert second.period_start.replace(tzinfo=None) == first.generated_at.replace(tzinfo=None)
        # now (14 March): Croeselaan 150, Hotel 30, Sporthal Zuid 80; Sporthal De Kei withdrawn
        assert (second.locations, second.places) == (3, 260)
        assert "GM0363" not in str(first.snapshot) and "GM0363" in str(second.snapshot)


def test_no_changes_gives_an_empty_change_sheet(config, store, week):
    generate_report(config, store, now=MONDAY)
    path = generate_report(config, store, now=NEXT_MONDAY)
    assert sheet_rows(path, "Wijzigingen") == []
