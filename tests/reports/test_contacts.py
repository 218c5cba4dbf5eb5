"""A recipient without include_contacts never gets contact details, in any sheet."""

from __future__ import annotations

from datetime import timedelta

import openpyxl

from reports.weekly import build_content, generate_report
from reports.workbook import build_workbook, workbook_bytes
from tests.reports.conftest import JAN, MONDAY, PIET
from tests.reports.test_changes import a_week_of_changes
from tests.reports.helpers import sheet_rows

SECRETS = [JAN.name, JAN.role, JAN.phone, JAN.email, PIET.name, PIET.phone, PIET.email, "+31687654321"]


def all_text(data: bytes) -> str:
    import io
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(cell.value) for ws in wb for row in ws.iter_rows() for cell in row
                     if cell.value is not None)


def test_without_contacts_leaves_out_columns_and_values(config, store, week):
    generate_report(config, store, now=MONDAY)
    a_week_of_changes(week, store)                      # includes a changed phone number
    content = build_content(config, store, MONDAY + timedelta(days=7))
    without = workbook_bytes(build_workbook(content, include_contacts=False), content.generated_at)
    with_contacts = workbook_bytes(build_workbook(content, include_contacts=True), content.generated_at)

    text = all_text(without)
    for secret in SECRETS:
        assert secret not in text
    assert "versie zonder contactgegevens" in text
    header = list(sheet_rows(without, "Locaties")[0])
    assert not {"Contactpersoon", "Functie", "Telefoon", "E-mail"} & set(header)
    contact_change = [r for r in sheet_rows(without, "Wijzigingen") if r["Veld"] == "contactgegevens"]
    assert contact_change[0]["Nieuw"] == "gewijzigd (niet in deze versie)"

    assert all(secret in all_text(with_contacts) for secret in (JAN.name, PIET.email, "+31687654321"))
