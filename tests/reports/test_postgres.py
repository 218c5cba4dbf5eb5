"""The same report on PostgreSQL: time zones (timestamptz), JSON snapshots and the previous-report lookup."""

from __future__ import annotations

import pytest

from reports.weekly import generate_report
from store import open_store
from store.schema import Report
from tests.reports.conftest import MONDAY, Mailbox, fill_week
from tests.reports.helpers import overview_block, sheet_rows
from tests.reports.test_changes import NEXT_MONDAY, a_week_of_changes

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(fresh_pg_url):
    opened = open_store(fresh_pg_url)
    yield opened
    opened.dispose()


def test_two_reports_on_postgres(config, pg_store):
    mailbox = Mailbox(pg_store)
    fill_week(mailbox)
    first = generate_report(config, pg_store, now=MONDAY)
    assert overview_block(first, "Plekken per provincie")["Totaal"][0] == 70
    a_week_of_changes(mailbox, pg_store)
    second = generate_report(config, pg_store, now=NEXT_MONDAY)
    kinds = [(row["Soort"], row["Locatie"]) for row in sheet_rows(second, "Wijzigingen")]
    assert ("nieuw", "Sporthal Zuid") in kinds and ("vervallen", "Vakantiepark") in kinds
    assert ("ingetrokken", "Sporthal De Kei") in kinds
    utrecht = next(r for r in sheet_rows(second, "Locaties") if r["Locatie"].startswith("Voormalig"))
    assert str(utrecht["Laatste wijziging"]) == "2022-03-09 08:00:00"     # 07:00 UTC shown in Amsterdam time
    again = generate_report(config, pg_store, now=NEXT_MONDAY)           # diffs against the same report
    assert sheet_rows(again, "Wijzigingen") == sheet_rows(second, "Wijzigingen")
    with pg_store.session() as session:
        assert [r.places for r in session.query(Report).order_by(Report.id)] == [70, 260, 260]
