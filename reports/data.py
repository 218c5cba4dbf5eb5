"""What the report reads from the store, and the location table it is built from.

Reading (``collect``) is the only I/O here; ``locations_frame`` and ``pending_items``
are pure so the counting and the sheets can be tested on plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.offers import LocationState, location_states
from store.schema import Message, OfferRow, Report, ReviewState
from vng_ingest import refdata
from vng_ingest.models import KEY_FIELDS

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

#: Columns of the location table, in the order of the state values they come from.
TEXT_FIELDS = ("location", "address", "postcode", "place")
CONTACT_KEYS = ("contact_name", "contact_role", "contact_phone", "contact_email")


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the store always writes UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def local_naive(moment: datetime | None) -> datetime | None:
    """Amsterdam wall-clock time without tzinfo: Excel cells cannot hold a time zone."""
    moment = as_utc(moment)
    return moment.astimezone(AMSTERDAM).replace(tzinfo=None, microsecond=0) if moment else None


@dataclass
class PendingItem:
    """An offer awaiting review, without personal data."""

    offer_id: int
    municipality: str | None
    municipality_code: str | None
    location: str | None
    uncertain: list[str]          # SCHEMA.md field names, e.g. "available_until", "contact.name"
    since: datetime               # when the message arrived (UTC)


@dataclass
class PreviousReport:
    generated_at: datetime
    snapshot: dict[str, Any]


@dataclass
class ReportInput:
    states: list[LocationState]
    pending: list[PendingItem]
    previous: PreviousReport | None


def collect(session: Session, now: datetime, field_threshold: float) -> ReportInput:
    return ReportInput(states=location_states(session),
                       pending=pending_items(_pending_rows(session), field_threshold),
                       previous=previous_report(session, now))


def previous_report(session: Session, now: datetime) -> PreviousReport | None:
    """The newest report made before ``now``: a rerun at the same moment diffs against the same one."""
    row = session.scalars(select(Report).where(Report.generated_at < now, Report.snapshot.is_not(None))
                          .order_by(Report.generated_at.desc(), Report.id.desc()).limit(1)).first()
    return PreviousReport(as_utc(row.generated_at), row.snapshot) if row else None


def _pending_rows(session: Session) -> list[tuple]:
    return list(session.execute(
        select(OfferRow.id, OfferRow.municipality, OfferRow.municipality_code, OfferRow.location,
               OfferRow.confidence, Message.received_at, OfferRow.created_at)
        .join(Message, OfferRow.message_pk == Message.id)
        .where(OfferRow.review_state == ReviewState.PENDING)
        .order_by(Message.received_at, OfferRow.id)).all())


def uncertain_fields(confidence: dict[str, float] | None, threshold: float) -> list[str]:
    """Key fields always count (no confidence = not sure); other fields only when scored below the bar."""
    confidence = confidence or {}
    names = list(KEY_FIELDS) + sorted(k for k in confidence if k not in KEY_FIELDS)
    return [name for name in names if float(confidence.get(name, 0.0)) < threshold]


def pending_items(rows: Iterable[tuple], threshold: float) -> list[PendingItem]:
    items = [PendingItem(offer_id=pk, municipality=name, municipality_code=code, location=location,
                         uncertain=uncertain_fields(confidence, threshold),
                         since=as_utc(received_at or created_at))
             for pk, name, code, location, confidence, received_at, created_at in rows]
    return sorted(items, key=lambda item: (item.since, item.offer_id))


def _iso_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _whole(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def location_record(state: LocationState) -> dict[str, Any]:
    """One location as the report sees it: region names added, dates parsed, raw values kept for the diff."""
    values = state.values
    code = values.get("municipality_code")
    known = refdata.by_code(code) if code else None
    until_raw = values.get("available_until")
    record: dict[str, Any] = {
        "location_id": state.location_id,
        "municipality_code": code,
        "municipality": known.name if known else values.get("municipality"),
        "province": known.province if known else None,
        "region": known.region_name if known else None,
        "region_code": known.region_code if known else None,
        **{name: values.get(name) for name in TEXT_FIELDS},
        "available_from": _iso_date(values.get("available_from")),
        "available_until": _iso_date(until_raw),
        "until_indefinite": str(until_raw).lower() == "indefinite",
        "available_from_raw": values.get("available_from"),
        "available_until_raw": until_raw,
        "places": _whole(values.get("places")),
        "places_max": _whole(values.get("places_max")),
        "status": values.get("status") or "available",
        **{key: values.get(key) for key in CONTACT_KEYS},
        "review_state": state.review_state,
        "last_change": local_naive(state.last_change),
        "source": state.source_message_id,
    }
    return record


LOCATION_COLUMNS = list(location_record(LocationState(0, {}, ReviewState.PENDING, None, None)).keys())


def locations_frame(states: Iterable[LocationState]) -> pd.DataFrame:
    """The location table in the report's fixed order: province (north to south), municipality, name, id."""
    frame = pd.DataFrame([location_record(state) for state in states], columns=LOCATION_COLUMNS)
    order = {name: index for index, name in enumerate(province_order())}
    frame["_province_rank"] = frame["province"].map(order).fillna(len(order)).astype(int)
    frame["_municipality_key"] = frame["municipality"].fillna("").astype(str).str.casefold()
    frame["_location_key"] = frame["location"].fillna("").astype(str).str.casefold()
    frame = frame.sort_values(["_province_rank", "_municipality_key", "_location_key", "location_id"],
                              kind="mergesort")
    return frame.drop(columns=["_province_rank", "_municipality_key", "_location_key"]).reset_index(drop=True)


def province_order() -> list[str]:
    """Provinces in the order of their first safety region (VR01 Groningen first, VR25 Flevoland last)."""
    seen: dict[str, None] = {}
    for region in sorted(refdata.safety_regions(), key=lambda r: r.code):
        seen.setdefault(region.province, None)
    return list(seen)


def region_order() -> list[str]:
    return [region.name for region in sorted(refdata.safety_regions(), key=lambda r: r.code)]
