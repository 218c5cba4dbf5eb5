"""The change sheet: what is new, changed, withdrawn or gone since the previous report.

Each report stores a snapshot of every location in the ``reports`` table; the next one diffs
against it. Contact details are not copied into the snapshot (they are erased from offers after
the retention period, and a report row must not keep them longer): a fingerprint shows that they
changed. Pure functions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

SNAPSHOT_VERSION = 1

#: Compared fields, in the order the change sheet lists them; values as stored (ISO dates).
COMPARED = ("municipality_code", "municipality", "location", "address", "postcode", "place",
            "available_from", "available_until", "places", "places_max", "status", "contact")
RAW_SOURCE = {"available_from": "available_from_raw", "available_until": "available_until_raw"}
CONTACT_KEYS = ("contact_name", "contact_role", "contact_phone", "contact_email")


def contact_fingerprint(row: dict[str, Any]) -> str | None:
    values = [row.get(key) for key in CONTACT_KEYS]
    if not any(values):
        return None
    text = json.dumps(values, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "item"):          # numpy scalar → Python
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)               # places in a column with gaps come as float
    return value


def snapshot_entry(row: dict[str, Any]) -> dict[str, Any]:
    entry = {name: _plain(row.get(RAW_SOURCE.get(name, name))) for name in COMPARED if name != "contact"}
    entry["contact"] = contact_fingerprint(row)
    return entry


def build_snapshot(frame: pd.DataFrame) -> dict[str, Any]:
    """JSON-ready: {"version": 1, "locations": {"<location_id>": {field: value}}}."""
    records = frame.to_dict("records")
    return {"version": SNAPSHOT_VERSION,
            "locations": {str(int(row["location_id"])): snapshot_entry(row) for row in records}}


@dataclass
class Change:
    kind: str                     # new | changed | withdrawn | gone
    location_id: int
    field: str | None             # a COMPARED name; None for a whole new/gone location
    old: Any
    new: Any


KIND_ORDER = {"new": 0, "changed": 1, "withdrawn": 2, "gone": 3}


def diff(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[Change]:
    """Changes per location in COMPARED order; with no previous report every location is new."""
    before = (previous or {}).get("locations", {})
    after = current.get("locations", {})
    changes: list[Change] = []
    for key in sorted(set(before) | set(after), key=int):
        old, new = before.get(key), after.get(key)
        if new is None:
            changes.append(Change("gone", int(key), None, None, None))
        elif old is None:
            kind = "withdrawn" if new.get("status") == "withdrawn" else "new"
            changes.append(Change(kind, int(key), None, None, None))
        else:
            fields = [name for name in COMPARED if old.get(name) != new.get(name)]
            withdrawn = new.get("status") == "withdrawn" and old.get("status") != "withdrawn"
            kind = "withdrawn" if withdrawn else "changed"
            changes.extend(Change(kind, int(key), name, old.get(name), new.get(name)) for name in fields)
    return changes
