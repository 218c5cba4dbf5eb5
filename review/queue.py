"""What needs review, least confident first, and the counts shown above the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from review.fields import KEY_COLUMNS, lookup
from store.schema import Message, MessageState, OfferRow, ReviewState
from store.status import FAILED_REASON, reason

#: Filter value → Dutch label; "open" is pending offers plus failed messages; "problems" lists
#: every message with something that could not be read (a refused attachment, text cut off).
STATES = {"open": "te doen", "pending": "te beoordelen", "failed": "niet gelukt",
          "problems": "met problemen", "auto_accepted": "automatisch geaccepteerd",
          "approved": "goedgekeurd", "corrected": "verbeterd", "rejected": "afgewezen"}

LIMIT = 500
#: Only what the list shows: never the raw bytes or the parsed text.
MESSAGE_COLUMNS = (Message.id.label("message_pk"), Message.subject, Message.kind, Message.received_at)
OFFER_STATES = ("pending", "auto_accepted", "approved", "corrected", "rejected")


@dataclass
class Filters:
    gemeente: str = ""
    state: str = "open"
    kind: str = ""

    @classmethod
    def read(cls, params) -> "Filters":
        state = params.get("state") or "open"
        return cls(gemeente=(params.get("gemeente") or "").strip()[:100],
                   state=state if state in STATES else "open", kind=(params.get("kind") or "")[:30])

    def query(self) -> dict[str, str]:
        return {k: v for k, v in (("gemeente", self.gemeente), ("state", self.state), ("kind", self.kind))
                if v and not (k == "state" and v == "open")}


@dataclass
class QueueItem:
    type: str                   # "offer" or "message"
    id: int
    message_pk: int
    score: float                # lowest key-field confidence (0 for a failed message)
    state: str
    municipality: str | None
    location: str | None
    subject: str | None
    message_kind: str | None
    received_at: datetime | None
    error: str | None = None
    locked_by: str | None = None
    reviewed_by: str | None = None

    @property
    def key(self) -> str:
        return f"{self.type}-{self.id}"

    @property
    def url(self) -> str:
        return f"/{'offers' if self.type == 'offer' else 'messages'}/{self.id}"


def aware(moment: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; they were stored as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def lowest_confidence(confidence: dict | None) -> float:
    values = [lookup(confidence, column) for column in KEY_COLUMNS]
    values = [float(v) for v in values if isinstance(v, (int, float))]
    return min(values) if values else 0.0


def items(session: Session, filters: Filters, now: datetime, limit: int = LIMIT) -> list[QueueItem]:
    found: list[QueueItem] = []
    offer_states = ["pending"] if filters.state == "open" else [s for s in OFFER_STATES if s == filters.state]
    if offer_states:
        query = (select(OfferRow.id, OfferRow.confidence, OfferRow.review_state, OfferRow.municipality,
                        OfferRow.location, OfferRow.locked_by, OfferRow.locked_until, OfferRow.reviewed_by,
                        *MESSAGE_COLUMNS)
                 .join(Message, OfferRow.message_pk == Message.id)
                 .where(OfferRow.review_state.in_(offer_states)))
        if filters.gemeente:
            query = query.where(OfferRow.municipality == filters.gemeente)
        if filters.kind:
            query = query.where(Message.kind == filters.kind)
        for row in session.execute(query):
            locked = row.locked_by if aware(row.locked_until) and aware(row.locked_until) > now else None
            found.append(QueueItem("offer", row.id, row.message_pk, lowest_confidence(row.confidence),
                                   row.review_state, row.municipality, row.location, row.subject,
                                   row.kind, row.received_at, locked_by=locked, reviewed_by=row.reviewed_by))
    if filters.state in ("open", "failed", "problems") and not filters.gemeente:
        if filters.state == "problems":
            condition = (Message.state == MessageState.FAILED) | Message.problems.is_not(None)
        else:
            condition = Message.state == MessageState.FAILED
        query = select(*MESSAGE_COLUMNS, Message.state, Message.error, Message.problems).where(condition)
        if filters.kind:
            query = query.where(Message.kind == filters.kind)
        for message in session.execute(query):
            found.append(QueueItem("message", message.message_pk, message.message_pk, 0.0, message.state,
                                   None, None, message.subject, message.kind, message.received_at,
                                   error=reason(message.problems, message.error)))
    found.sort(key=lambda item: (item.score, item.type != "message", item.message_pk, item.id))
    return found[:limit]


def counts(session: Session) -> dict[str, int]:
    out = {state: 0 for state in STATES}
    rows = session.execute(select(OfferRow.review_state, func.count()).group_by(OfferRow.review_state))
    for state, number in rows:
        if state in out:
            out[state] = number
    out["failed"] = session.scalar(select(func.count()).select_from(Message)
                                   .where(Message.state == MessageState.FAILED)) or 0
    out["problems"] = session.scalar(select(func.count()).select_from(Message).where(
        (Message.state == MessageState.FAILED) | Message.problems.is_not(None))) or 0
    out["open"] = out["pending"] + out["failed"]
    return out


def municipalities(session: Session) -> list[str]:
    query = (select(OfferRow.municipality).where(OfferRow.municipality.is_not(None))
             .where(OfferRow.review_state != ReviewState.SUPERSEDED).distinct())
    return sorted(session.scalars(query))


def neighbours(queue: list[QueueItem], key: str) -> tuple[QueueItem | None, QueueItem | None]:
    """The items before and after ``key``; when it has left the queue, the first one is next."""
    keys = [item.key for item in queue]
    if key not in keys:
        return None, (queue[0] if queue else None)
    index = keys.index(key)
    return (queue[index - 1] if index > 0 else None), (queue[index + 1] if index + 1 < len(queue) else None)
