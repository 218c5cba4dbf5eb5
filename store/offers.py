"""Offers and the locations they describe: saving an extraction, and each location's current state."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.audit import record as audit
from store.schema import Location, Message, OfferRow, ReviewState, utcnow
from vng_ingest.models import CONTACT_FIELDS, LOCATION_FIELDS, Offer

HUMAN_STATES = (ReviewState.APPROVED, ReviewState.CORRECTED, ReviewState.REJECTED)
#: What the review screen's history shows for the machine's decision (KCC staff read Dutch).
MACHINE_DECISION = {ReviewState.PENDING: "te controleren", ReviewState.AUTO_ACCEPTED: "automatisch geaccepteerd"}
LIVE_STATES = (ReviewState.PENDING, ReviewState.AUTO_ACCEPTED, ReviewState.APPROVED, ReviewState.CORRECTED)


def offer_to_row(offer: Offer, message_pk: int, position: int, version: str) -> OfferRow:
    values = {name: getattr(offer, name) for name in LOCATION_FIELDS}
    contact = {f"contact_{name}": getattr(offer.contact, name) for name in CONTACT_FIELDS}
    evidence = {k: vars(v) for k, v in offer.evidence.items()}
    return OfferRow(message_pk=message_pk, position=position, municipality_code=offer.municipality_code,
                    confidence=dict(offer.confidence), evidence=evidence, needs_review=offer.needs_review,
                    review_state=ReviewState.PENDING if offer.needs_review else ReviewState.AUTO_ACCEPTED,
                    extractor_version=version, **values, **contact)


def row_to_record(row: OfferRow) -> dict[str, Any]:
    """The SCHEMA.md form of a stored offer."""
    out = {name: getattr(row, name) for name in LOCATION_FIELDS}
    out["contact"] = {name: getattr(row, f"contact_{name}") for name in CONTACT_FIELDS}
    return out


def replace_offers(session: Session, message: Message, offers: list[Offer], version: str) -> list[OfferRow]:
    """Store a new extraction's offers; machine offers it replaces are superseded, human decisions stay."""
    existing = list(session.scalars(select(OfferRow).where(OfferRow.message_pk == message.id)))
    if any(row.review_state in HUMAN_STATES for row in existing):
        return []
    for row in existing:
        if row.review_state != ReviewState.SUPERSEDED:
            row.review_state = ReviewState.SUPERSEDED
    rows = [offer_to_row(offer, message.id, index, version) for index, offer in enumerate(offers)]
    session.add_all(rows)
    session.flush()
    for row in rows:
        link_location(session, row, message)
        audit(session, "system", "extracted", "offer", row.id,
              new=f"{MACHINE_DECISION[row.review_state]} (extractor {version})")
    return rows


def _fold(text: str | None) -> str:
    text = (text or "").lower()
    text = re.sub(r"\b(voormalige?|het|de|locatie|pand)\b", " ", text)
    return " ".join(re.findall(r"[a-z0-9à-ÿ]+", text))


def same_location(a_name: str | None, a_address: str | None, b_name: str | None, b_address: str | None) -> bool:
    """Same street address, or names alike enough to be the same building."""
    if _fold(a_address) and _fold(a_address) == _fold(b_address):
        return True
    left, right = _fold(a_name), _fold(b_name)
    if len(left) < 4 or len(right) < 4:
        return False
    return left in right or right in left or SequenceMatcher(None, left, right).ratio() >= 0.75


def link_location(session: Session, row: OfferRow, message: Message) -> None:
    """Attach the offer to the location it describes, creating the location when it is new."""
    candidates = session.scalars(select(Location).where(Location.municipality_code == row.municipality_code))
    found = next((loc for loc in candidates if row.municipality_code
                  and same_location(loc.name, loc.address, row.location, row.address)), None)
    if found is None:
        found = Location(municipality_code=row.municipality_code, municipality=row.municipality,
                         name=row.location, address=row.address)
        session.add(found)
        session.flush()
    row.location_id = found.id
    found.current_offer_id = row.id
    found.updated_at = utcnow()
    found.name = found.name or row.location
    found.address = found.address or row.address


@dataclass
class LocationState:
    """A location as it now stands: the offers about it folded in the order they were sent."""

    location_id: int
    values: dict[str, Any]
    review_state: str
    last_change: datetime | None
    source_message_id: str | None
    history: list[int] = field(default_factory=list)


def location_states(session: Session) -> list[LocationState]:
    rows = session.execute(
        select(OfferRow, Message.sent_at, Message.received_at, Message.message_id)
        .join(Message, OfferRow.message_pk == Message.id)
        .where(OfferRow.review_state.in_(LIVE_STATES), OfferRow.location_id.is_not(None))
        .order_by(OfferRow.location_id)).all()
    grouped: dict[int, list] = {}
    for row, sent_at, received_at, message_id in rows:
        grouped.setdefault(row.location_id, []).append((sent_at or received_at, row.id, row, message_id))
    return [_fold_location(location_id, sorted(items, key=lambda item: (item[0], item[1])))
            for location_id, items in sorted(grouped.items())]


def _fold_location(location_id: int, items: list) -> LocationState:
    values: dict[str, Any] = {}
    for _, _, row, _ in items:
        record = row_to_record(row)
        contact = record.pop("contact")
        for key, value in record.items():
            if value is not None:
                values[key] = value
        for key, value in contact.items():
            if value is not None:
                values[f"contact_{key}"] = value
        values["municipality_code"] = row.municipality_code or values.get("municipality_code")
    last_sent, _, last_row, last_message_id = items[-1]
    values["status"] = last_row.status
    return LocationState(location_id=location_id, values=values, review_state=last_row.review_state,
                         last_change=last_row.reviewed_at or last_sent, source_message_id=last_message_id,
                         history=[row.id for _, _, row, _ in items])
