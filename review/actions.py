"""What a reviewer does to an offer or a message; every change is audited field by field.

A save names the version it was based on. When the row has changed since
(another reviewer, or a new extraction), the save is refused: nothing is
silently overwritten.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from review.fields import FIELDS, KINDS
from review.queue import aware
from store.audit import record as audit
from store.offers import LIVE_STATES, link_location
from store.schema import AuditEntry, Location, Message, MessageState, OfferRow, ReviewState, utcnow
from vng_ingest import refdata

OFFER_KINDS = ("offer", "third_party_offer")
LOCATION_COLUMNS = ("municipality", "location", "address", "postcode")
MANUAL_VERSION = "handmatig"


class Conflict(Exception):
    """A save refused because the record changed since it was opened (message in Dutch)."""


def lock(session: Session, row: OfferRow, user: str, minutes: int, now: datetime) -> str | None:
    """Mark the offer as being edited by ``user``; returns who else holds it, if anyone.

    Written with a plain table UPDATE so taking a lock does not count as a change
    (the version stays, and a reviewer's open page stays valid).
    """
    until = aware(row.locked_until)
    if row.locked_by and row.locked_by != user and until and until > now:
        return row.locked_by
    table = OfferRow.__table__
    session.execute(update(table).where(table.c.locked_by == user, table.c.id != row.id)
                    .values(locked_by=None, locked_until=None))
    session.execute(update(OfferRow.__table__).where(OfferRow.__table__.c.id == row.id)
                    .values(locked_by=user, locked_until=now + timedelta(minutes=minutes)))
    return None


def unlock(session: Session, offer_id: int, user: str) -> None:
    table = OfferRow.__table__
    session.execute(update(table).where(table.c.id == offer_id, table.c.locked_by == user)
                    .values(locked_by=None, locked_until=None))


def _check_version(row: OfferRow, version: int | None) -> None:
    if row.review_state == ReviewState.SUPERSEDED:
        raise Conflict("Dit aanbod is vervangen door een nieuwere verwerking van het bericht. "
                       "Er is niets opgeslagen.")
    if version != row.version:
        who = f" door {row.reviewed_by}" if row.reviewed_by else ""
        raise Conflict(f"Dit aanbod is intussen gewijzigd{who}. Uw wijziging is niet opgeslagen: "
                       "bekijk de nieuwe gegevens en sla opnieuw op.")


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("Dit aanbod is tegelijk door iemand anders gewijzigd. Uw wijziging is niet "
                       "opgeslagen: open het opnieuw.") from None


def review_offer(session: Session, row: OfferRow, user: str, version: int | None, decision: str,
                 values: dict | None = None) -> str:
    """Approve (with any corrections in ``values``) or reject; returns the new review state."""
    _check_version(row, version)
    now = utcnow()
    changed = []
    if decision == "approve" and values is not None:
        changed = _apply(session, row, user, values)
        new_state = ReviewState.CORRECTED if changed else ReviewState.APPROVED
        if row.review_state == ReviewState.CORRECTED and not changed:
            new_state = ReviewState.CORRECTED   # an earlier correction stays a correction
    elif decision == "reject":
        new_state = ReviewState.REJECTED
    else:
        raise ValueError(decision)
    audit(session, user, decision if decision == "reject" else "approve", "offer", row.id,
          "review_state", row.review_state, new_state)
    row.review_state, row.reviewed_by, row.reviewed_at, row.updated_at = new_state, user, now, now
    row.locked_by = row.locked_until = None
    _flush(session)
    if new_state == ReviewState.REJECTED:
        _refresh_location(session, row.location_id)
    elif not row.location_id or any(c in changed for c in LOCATION_COLUMNS):
        old_location = row.location_id
        link_location(session, row, row.message)
        if old_location and old_location != row.location_id:
            _refresh_location(session, old_location)
    _flush(session)
    return new_state


def _apply(session: Session, row: OfferRow, user: str, values: dict) -> list[str]:
    changed = []
    for column in FIELDS:
        old, new = getattr(row, column), values.get(column)
        if old != new:
            audit(session, user, "correct", "offer", row.id, column, old, new)
            setattr(row, column, new)
            changed.append(column)
    if "municipality" in changed:
        found = refdata.by_name(row.municipality) if row.municipality else None
        code = found.code if found else None
        if code != row.municipality_code:
            audit(session, user, "correct", "offer", row.id, "municipality_code", row.municipality_code, code)
            row.municipality_code = code
    return changed


def _refresh_location(session: Session, location_id: int | None) -> None:
    """Point the location at its newest live offer (or none) after one of its offers left."""
    if not location_id:
        return
    location = session.get(Location, location_id)
    newest = session.scalar(select(func.max(OfferRow.id)).where(
        OfferRow.location_id == location_id, OfferRow.review_state.in_(LIVE_STATES)))
    if location is not None and location.current_offer_id != newest:
        location.current_offer_id = newest
        location.updated_at = utcnow()


def reclassify(session: Session, message: Message, user: str, kind: str, kind_before: str | None) -> None:
    """Set what the message is; other kinds than offers lose their pending offers (rejected)."""
    if kind not in KINDS:
        raise ValueError(kind)
    if (message.kind or "") != (kind_before or ""):
        raise Conflict("De soort van dit bericht is intussen gewijzigd"
                       f"{' door ' + message.kind_reviewed_by if message.kind_reviewed_by else ''}. "
                       "Er is niets opgeslagen.")
    audit(session, user, "reclassify", "message", message.id, "kind", message.kind, kind)
    message.kind, message.kind_reviewed_by = kind, user
    if message.state == MessageState.FAILED:
        audit(session, user, "reclassify", "message", message.id, "state", message.state,
              MessageState.EXTRACTED)
        message.state = MessageState.EXTRACTED
    if kind not in OFFER_KINDS:
        for row in message.offers:
            if row.review_state == ReviewState.PENDING:
                review_offer(session, row, user, row.version, "reject")
    session.flush()


def add_offer(session: Session, message: Message, user: str, values: dict) -> OfferRow:
    """An offer the machine missed, typed by the reviewer: a human record from the start."""
    position = session.scalar(select(func.max(OfferRow.position)).where(OfferRow.message_pk == message.id))
    now = utcnow()
    found = refdata.by_name(values["municipality"]) if values.get("municipality") else None
    row = OfferRow(message_pk=message.id, position=(position if position is not None else -1) + 1,
                   municipality_code=found.code if found else None, confidence={}, evidence={},
                   needs_review=False, review_state=ReviewState.CORRECTED, reviewed_by=user,
                   reviewed_at=now, extractor_version=MANUAL_VERSION, **values)
    session.add(row)
    session.flush()
    audit(session, user, "add", "offer", row.id, "message", None, message.id)
    for column in FIELDS:
        if values.get(column) is not None:
            audit(session, user, "add", "offer", row.id, column, None, values[column])
    link_location(session, row, message)
    session.flush()
    return row


def split_offer(session: Session, row: OfferRow, user: str, version: int | None) -> OfferRow:
    """Copy an offer that merged two locations, so each copy can be corrected to one location."""
    _check_version(row, version)
    position = session.scalar(select(func.max(OfferRow.position)).where(OfferRow.message_pk == row.message_pk))
    copy = OfferRow(message_pk=row.message_pk, position=position + 1,
                    municipality_code=row.municipality_code, confidence=dict(row.confidence or {}),
                    evidence=dict(row.evidence or {}), needs_review=True,
                    review_state=ReviewState.PENDING, extractor_version=row.extractor_version,
                    **{column: getattr(row, column) for column in FIELDS})
    session.add(copy)
    session.flush()
    audit(session, user, "split", "offer", row.id, "split_into", None, copy.id)
    audit(session, user, "split", "offer", copy.id, "split_from", None, row.id)
    return copy


def history(session: Session, offer_ids: list[int], message_pk: int) -> list[AuditEntry]:
    query = select(AuditEntry).where(
        ((AuditEntry.entity == "offer") & AuditEntry.entity_id.in_(offer_ids))
        | ((AuditEntry.entity == "message") & (AuditEntry.entity_id == message_pk)))
    return list(session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(300)))
