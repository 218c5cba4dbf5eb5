"""Who counts when: the availability rule and the totals per province and veiligheidsregio.

A location counts on a day when its status is not withdrawn, ``available_from`` is empty or on/before
that day, and ``available_until`` is empty, "indefinite" or on/after that day. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from reports.labels import TOTAL, UNKNOWN_AREA

WEEKS_AHEAD = 8


def coming_mondays(today: date, weeks: int = WEEKS_AHEAD) -> list[date]:
    """The Mondays of the coming weeks, strictly after today (a Monday report's own week is 'now')."""
    first = today + timedelta(days=7 - today.weekday())
    return [first + timedelta(weeks=n) for n in range(weeks)]


def available_on(frame: pd.DataFrame, day: date) -> pd.Series:
    """Boolean per location: does it count on ``day``?"""
    start = frame["available_from"]
    end = frame["available_until"]
    started = start.map(lambda d: not isinstance(d, date) or d <= day).astype(bool)
    not_ended = frame["until_indefinite"].astype(bool) | end.map(
        lambda d: not isinstance(d, date) or d >= day).astype(bool)
    return (frame["status"] != "withdrawn") & started & not_ended


@dataclass
class Overview:
    """Totals per area: rows are areas (+ Onbekend when needed, + Totaal), columns are the days."""

    area_label: str
    days: list[date]
    locations: pd.DataFrame
    places: pd.DataFrame


def overview(frame: pd.DataFrame, area_column: str, areas: list[str], days: list[date],
             area_label: str) -> Overview:
    area = frame[area_column].fillna(UNKNOWN_AREA)
    places = frame["places"].fillna(0).astype(int)
    rows = list(areas) + ([UNKNOWN_AREA] if (area == UNKNOWN_AREA).any() else [])
    locations_by_day, places_by_day = {}, {}
    for day in days:
        counts = available_on(frame, day)
        locations_by_day[day] = counts.groupby(area).sum()
        places_by_day[day] = places.where(counts, 0).groupby(area).sum()
    return Overview(area_label, days, _table(locations_by_day, rows), _table(places_by_day, rows))


def _table(by_day: dict[date, pd.Series], rows: list[str]) -> pd.DataFrame:
    table = pd.DataFrame({day: series.reindex(rows, fill_value=0) for day, series in by_day.items()},
                         index=rows).fillna(0).astype(int)
    table.loc[TOTAL] = table.sum()
    return table
