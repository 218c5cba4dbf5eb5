"""Offers and the locations they describe: saving an extraction, and each location's current state."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from store.audit import record as audit
from store.schema import Location, Message, OfferRow, ReviewState, utcnow
from vng_ingest.locations import Identity, best_match, identity, merged
from vng_ingest.models import CONTACT_FIELDS, LOCATION_FIELDS, Offer

HUMAN_STATES = (ReviewState.APPROVED, ReviewState.CORRECTED, ReviewState.REJECTED)
#: What the review screen's history shows for the machine's decision (KCC staff read Dutch).
MACHINE_DECISION = {ReviewState.PENDING: "te controleren", ReviewState.AUTO_ACCEPTED: "automatisch geaccepteerd"}
LIVE_STATES = (ReviewState.PENDING, ReviewState.AUTO_ACCEPTED, ReviewState.APPROVED, ReviewState.CORRECTED)
#: The location columns that hold its identity keys (the fields of ``vng_ingest.locations.Identity``).
IDENTITY_COLUMNS = tuple(f.name for f in fields(Identity))


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


def offer_identity(row: OfferRow) -> Identity:
    return identity(row.municipality_code, row.location, row.address, row.postcode)


def stored_identity(location: Location) -> Identity:
    return Identity(**{name: getattr(location, name) for name in IDENTITY_COLUMNS})


def link_location(session: Session, row: OfferRow, message: Message | None = None) -> None:
    """Attach the offer to the location it describes, creating the location when it is new.

    Found by its keys (indexed lookup), else the location this offer, or the machine offer it
    replaced in the same message, was on when no other live offer is there (so re-extracting
    or correcting an offer keeps its location), else a new location.
    """
    keys = offer_identity(row)
    found = find_location(session, keys)
    if found is not None:
        _set_identity(found, merged(stored_identity(found), keys))
    else:
        found = _own_location(session, row, keys)
        if found is None:
            found = Location()
            session.add(found)
        found.municipality, found.name, found.address = row.municipality, row.location, row.address
        _set_identity(found, keys)
        session.flush()
    row.location_id = found.id
    found.current_offer_id = row.id
    found.updated_at = utcnow()
    found.municipality = found.municipality or row.municipality
    found.name = found.name or row.location
    found.address = found.address or row.address


def find_location(session: Session, keys: Identity) -> Location | None:
    """The stored location with these keys (``vng_ingest.locations.best_match``), by index lookup."""
    query = lookup_query(keys)
    if query is None:
        return None
    candidates = session.scalars(query).all()
    return best_match(keys, ((location, stored_identity(location)) for location in candidates))


def lookup_query(keys: Identity) -> Select | None:
    """The locations that may have these keys, each condition on an index of ``locations``."""
    wanted = []
    if keys.postcode_key:
        wanted.append(Location.postcode_key == keys.postcode_key)
    code = keys.municipality_code
    if code:
        if keys.address_key:
            wanted.append(and_(Location.municipality_code == code, Location.address_key == keys.address_key))
        names = sorted({name for name in (keys.name_key, keys.name_core) if name})
        if names:
            wanted.append(and_(Location.municipality_code == code, Location.name_key.in_(names)))
        if keys.bare_name:
            wanted.append(and_(Location.municipality_code == code, Location.name_core == keys.name_core))
    return select(Location).where(or_(*wanted)).order_by(Location.id) if wanted else None


def _own_location(session: Session, row: OfferRow, keys: Identity) -> Location | None:
    """The location this offer was on, or one the offer it replaced was on, with no other live offer."""
    if row.location_id is not None and not _others_live(session, row.location_id, row.id):
        return session.get(Location, row.location_id)
    replaced = session.scalars(select(Location).join(OfferRow, OfferRow.location_id == Location.id).where(
        OfferRow.message_pk == row.message_pk, OfferRow.review_state == ReviewState.SUPERSEDED)
        .order_by(OfferRow.id.desc())).unique().all()
    free = [location for location in replaced if not _others_live(session, location.id, row.id)]
    return best_match(keys, ((location, stored_identity(location)) for location in free), within_message=True)


def _others_live(session: Session, location_id: int, offer_id: int | None) -> bool:
    return session.scalar(select(OfferRow.id).where(
        OfferRow.location_id == location_id, OfferRow.id != offer_id,
        OfferRow.review_state.in_(LIVE_STATES)).limit(1)) is not None


def _set_identity(location: Location, keys: Identity) -> None:
    for name in IDENTITY_COLUMNS:
        setattr(location, name, getattr(keys, name))


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
