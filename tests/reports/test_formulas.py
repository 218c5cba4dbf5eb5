"""Text from e-mails never becomes a formula, in the cells or in the file's XML."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from reports.cells import safe_text
from reports.weekly import generate_report
from tests.reports.conftest import MONDAY, offer
from vng_ingest.models import Contact

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"klik\")", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_text_prefixes_an_apostrophe(text):
    assert safe_text(text) == "'" + text


def test_safe_text_leaves_ordinary_text_and_phone_numbers():
    assert safe_text("Sporthal De Kei") == "Sporthal De Kei"
    assert safe_text("+31612345678") == "+31612345678"
    assert safe_text("bad\x00\x07text") == "badtext"             # XML cannot hold these


def test_hostile_text_is_stored_as_inert_text(config, store, mailbox):
    mailbox.add([offer("Utrecht", "GM0344", HOSTILE[0], address=HOSTILE[1], place=HOSTILE[2],
                       contact=Contact(HOSTILE[3], HOSTILE[4], "+31612345678", HOSTILE[5]), places=5,
                       needs_review=True)], MONDAY.replace(day=1))
    path = generate_report(config, store, now=MONDAY)
    wb = openpyxl.load_workbook(path)
    strings = []
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")) \
                        or cell.value == "+31612345678", cell.value
                    strings.append(cell.value)
    for text in HOSTILE:
        assert "'" + text in strings                             # kept, readable, and inert
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in archive.read(name).decode("utf-8")


def test_xml_special_characters_and_spaces_survive(config, store, mailbox):
    name = "  Kerk & buurthuis <De Ark> \"oud\" 't Veld\u00a0— Ñ  "
    mailbox.add([offer("Utrecht", "GM0344", name, places=5, address="Line 1\nLine 2\tTab")],
                MONDAY.replace(day=1))
    path = generate_report(config, store, now=MONDAY)
    ws = openpyxl.load_workbook(path)["Locaties"]
    header = [cell.value for cell in ws[4]]
    row = [cell.value for cell in ws[5]]
    assert row[header.index("Locatie")] == name
    assert row[header.index("Adres")] == "Line 1\nLine 2\tTab"
