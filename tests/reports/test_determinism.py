"""Same data and same moment: the same workbook, cell for cell and byte for byte."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import openpyxl

from reports.weekly import generate_report
from tests.reports.conftest import MONDAY, offer


def cell_values(path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb}


def test_two_runs_give_identical_workbooks(config, store, week):
    generate_report(config, store, now=MONDAY - timedelta(days=7))   # an earlier report to diff against
    week.add([offer("Utrecht", "GM0344", "Jaarbeurs", places=500)], MONDAY - timedelta(days=1))
    path = generate_report(config, store, now=MONDAY)
    first_bytes, first_cells = path.read_bytes(), cell_values(path)
    path = generate_report(config, store, now=MONDAY)
    assert cell_values(path) == first_cells
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(first_bytes).hexdigest()
    assert any(row[0] == "nieuw" for row in first_cells["Wijzigingen"])   # the diff is not empty


def test_a_later_moment_changes_only_what_depends_on_it(config, store, week):
    early = cell_values(generate_report(config, store, now=MONDAY))
    late = cell_values(generate_report(config, store, now=MONDAY + timedelta(hours=2)))
    assert early["Locaties"][3:] == late["Locaties"][3:]             # same data rows
    assert early["Locaties"][1] != late["Locaties"][1]               # the generation time differs
