"""`vng-ingest report` end to end: config file → store → workbook on disk → row in the reports table."""

from __future__ import annotations

import openpyxl

from store import open_store
from store.schema import Report
from tests.reports.conftest import Mailbox, fill_week
from vng_ingest.cli import main


def test_report_command_writes_the_workbook(tmp_path, capsys):
    database = tmp_path / "vng.sqlite"
    (tmp_path / "config.yaml").write_text(
        f"database: {{url: 'sqlite:///{database}'}}\nreport: {{folder: uitvoer}}\n", encoding="utf-8")
    store = open_store(f"sqlite:///{database}")
    fill_week(Mailbox(store))
    assert main(["--config", str(tmp_path / "config.yaml"), "report"]) == 0
    written = list((tmp_path / "uitvoer").glob("opvanglocaties-*.xlsx"))
    assert len(written) == 1 and f"report written: {written[0]}" in capsys.readouterr().out
    assert len(list(openpyxl.load_workbook(written[0])["Locaties"].iter_rows(min_row=5))) == 6
    with store.session() as session:
        assert session.query(Report).one().path == str(written[0])
    store.dispose()
