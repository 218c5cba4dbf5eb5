"""The counting rule and the week columns, on plain values."""

from __future__ import annotations

from datetime import date

import pandas as pd

from reports.counting import available_on, coming_mondays, overview

DAY = date(2022, 3, 14)


def frame(rows: list[dict]) -> pd.DataFrame:
    base = {"available_from": None, "available_until": None, "until_indefinite": False, "status": "available",
            "places": 10, "province": "Utrecht"}
    return pd.DataFrame([{**base, **row} for row in rows])


def test_boundaries_and_gaps():
    rows = frame([
        {"available_from": DAY},                                  # starts that day: counts
        {"available_until": DAY},                                 # ends that day: counts
        {"available_until": date(2022, 3, 13)},                   # ended the day before
        {"available_from": date(2022, 3, 15)},                    # starts the day after
        {},                                                       # nothing known: counts
        {"until_indefinite": True, "available_from": DAY},        # indefinite: counts
        {"status": "withdrawn"},                                  # withdrawn: never
    ])
    assert available_on(rows, DAY).tolist() == [True, True, False, False, True, True, False]


def test_coming_mondays_start_after_today():
    assert coming_mondays(date(2022, 3, 7))[:2] == [date(2022, 3, 14), date(2022, 3, 21)]   # a Monday
    assert coming_mondays(date(2022, 3, 13))[0] == date(2022, 3, 14)                       # a Sunday
    assert len(coming_mondays(date(2022, 3, 9))) == 8


def test_overview_adds_unknown_and_total_rows():
    rows = frame([{"places": 5}, {"places": None, "province": None}, {"places": 7, "province": "Zeeland"}])
    result = overview(rows, "province", ["Utrecht", "Zeeland", "Limburg"], [DAY], "Provincie")
    assert result.places[DAY].to_dict() == {"Utrecht": 5, "Zeeland": 7, "Limburg": 0, "Onbekend": 0,
                                            "Totaal": 12}
    assert result.locations[DAY].to_dict() == {"Utrecht": 1, "Zeeland": 1, "Limburg": 0, "Onbekend": 1,
                                               "Totaal": 3}
