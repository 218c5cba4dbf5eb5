"""The flow, one way: source → raw store → parse → extract → store.

Raw messages are committed (in batches) before anything parses them, so a crash never
loses one and every message can be reprocessed by a newer extractor. Each message is then
read (parsed and extracted) in a child process under a time and memory budget
(`vng_ingest.reader`): a message that exceeds it is stored `failed` with its reason and the
queue moves on. Before a message is read its `attempts` count is committed, so a message
that brings the whole program down is not read first again and again: after
`MAX_ATTEMPTS` it is stored `failed` too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from sqlalchemy import select

from parsers.budgets import MAX_OFFERS, thousands
from parsers.extract import EXTRACTOR_VERSION
from parsers.message import ParsedMessage, Problem
from store import Store
from store.messages import fit_columns, store_raw_many
from store.offers import HUMAN_STATES, replace_offers
from store.schema import Message, MessageState, OfferRow, utcnow
from vng_ingest.models import Extraction, Kind, RawMessage
from vng_ingest.reader import Reader, shared_reader

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    new: list[int] = field(default_factory=list)
    duplicates: int = 0
    not_stored: int = 0          # refused by the database even row by row (logged by position)
    store_error: str | None = None   # why the first of those was refused (no content)


@dataclass
class ProcessResult:
    processed: int = 0
    failed: int = 0
    offers: int = 0
    needs_review: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


BATCH = 200
#: How often reading a message may be started before it is stored `failed` (the program was
#: stopped while reading it: killed, out of memory, power cut).
MAX_ATTEMPTS = 3
#: Problems that mean nothing of the message could be read: the message is stored `failed`.
UNREADABLE = {"unreadable", "too_slow", "reader_stopped", "interrupted"}


def ingest(store: Store, messages: Iterable[RawMessage], on_each: Callable[[int], None] | None = None) -> IngestResult:
    """Store each message's bytes once, committed in batches before anything parses them."""
    result = IngestResult()
    for batch in _batches(messages, BATCH):
        with store.session() as session:
            stored = store_raw_many(session, batch)
        for item in stored:
            if item.pk is None:
                result.not_stored += 1
                result.store_error = result.store_error or item.error
            elif item.created:
                result.new.append(item.pk)
            else:
                result.duplicates += 1
        if on_each:
            on_each(len(batch))
    return result


def _batches(items: Iterable[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    batch: list[RawMessage] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def process(store: Store, ids: Iterable[int] | None = None, reader: Reader | None = None) -> ProcessResult:
    """Read the given (default: all new) messages and store what they offer, one at a time."""
    reader = reader or shared_reader()
    if ids is None:
        ids = pending_ids(store)
    result = ProcessResult()
    for pk in ids:
        started = _start_attempt(store, pk)
        if started is None:
            parsed, extraction = interrupted()
        else:
            parsed, extraction = reader.read(*started)
        with store.session() as session:
            _store_reading(session, session.get(Message, pk), parsed, extraction, result)
    return result


def pending_ids(store: Store) -> list[int]:
    """Messages waiting to be read: fresh ones first, then those whose reading was interrupted."""
    with store.session() as session:
        query = (select(Message.id).where(Message.state == MessageState.NEW)
                 .order_by(Message.attempts, Message.id))
        return list(session.scalars(query))


def _start_attempt(store: Store, pk: int) -> tuple[bytes, Kind | None] | None:
    """Count the attempt (committed before reading): the bytes, and the kind a person chose
    (their re-classification wins over triage); None when reading was interrupted too often."""
    with store.session() as session:
        message = session.get(Message, pk)
        if message.state == MessageState.NEW and (message.attempts or 0) >= MAX_ATTEMPTS:
            return None
        message.attempts = (message.attempts or 0) + 1
        return message.raw, Kind(message.kind) if message.kind_reviewed_by else None


def interrupted() -> tuple[ParsedMessage, Extraction]:
    text = (f"Het lezen van dit bericht is {MAX_ATTEMPTS} keer begonnen en niet afgemaakt (het programma "
            "werd gestopt). Lees het bericht zelf en voer de gegevens zo nodig met de hand in.")
    parsed = ParsedMessage(errors=["reading was interrupted too often"])
    parsed.problems.append(Problem("interrupted", text))
    return parsed, Extraction(Kind.OTHER, kind_confidence=0.0, error=f"interrupted {MAX_ATTEMPTS} times")


def _store_reading(session, message: Message, parsed: ParsedMessage, extraction: Extraction,
                   result: ProcessResult) -> None:
    unreadable = next((p for p in parsed.problems if p.code in UNREADABLE), None)
    values, notes = fit_columns(Message, {"subject": parsed.subject, "from_addr": parsed.from_addr,
                                          "error": extraction.error or (unreadable.text if unreadable else None)})
    message.subject, message.from_addr, error = values["subject"], values["from_addr"], values["error"]
    message.sent_at = parsed.date
    message.parsed = summary(parsed)
    _record_problems(message, parsed, notes)
    if not (message.kind_reviewed_by or _decided_by_a_person(session, message) or (unreadable and message.kind)):
        message.kind = extraction.kind.value
        message.kind_confidence = extraction.kind_confidence
    message.extractor_version = EXTRACTOR_VERSION
    message.processed_at = utcnow()
    message.error = error
    message.state = MessageState.FAILED if error else MessageState.EXTRACTED
    message.attempts = 0                 # counts only readings that were started and never finished
    rows = replace_offers(session, message, _within_budget(message, extraction.offers),
                          EXTRACTOR_VERSION) if not error else []
    _count(result, message, rows, error)
    if error:
        log.warning("message %s could not be read (%s)", message.id, unreadable.code if unreadable
                    else extraction.error.split(":")[0])


def _record_problems(message: Message, parsed: ParsedMessage, notes: list[dict]) -> None:
    """What storing the bytes found stays; what this reading found replaces the last reading's."""
    stored = [p for p in message.problems or [] if p.get("stage") == "store"]
    message.problems = stored + [{"code": p.code, "text": p.text} for p in parsed.problems] + notes or None


def _within_budget(message: Message, offers: list) -> list:
    """At most MAX_OFFERS offers per message (a table of thousands of rows would hold the store
    while each is linked to its location): the first ones, all for review, and a note."""
    if len(offers) <= MAX_OFFERS:
        return offers
    message.problems = (message.problems or []) + [{"code": "truncated", "text": (
        f"Dit bericht noemt {thousands(len(offers))} locaties; alleen de eerste {MAX_OFFERS} zijn "
        "overgenomen, allemaal ter controle.")}]
    for offer in offers[:MAX_OFFERS]:
        offer.needs_review = True
    return offers[:MAX_OFFERS]


def _count(result: ProcessResult, message: Message, rows: list, error: str | None) -> None:
    result.processed += 1
    result.failed += bool(error)
    result.offers += len(rows)
    result.needs_review += sum(row.needs_review for row in rows)
    result.kinds[message.kind] = result.kinds.get(message.kind, 0) + 1


def _decided_by_a_person(session, message: Message) -> bool:
    """A person approved, corrected or rejected an offer of this message: its kind stands."""
    return session.scalar(select(OfferRow.id).where(OfferRow.message_pk == message.id,
                                                    OfferRow.review_state.in_(HUMAN_STATES)).limit(1)) is not None


def summary(parsed) -> dict:
    """What the review screen shows of a message (stored so it need not be parsed again)."""
    return {
        "subject": parsed.subject, "from_name": parsed.from_name, "from_addr": parsed.from_addr,
        "date": parsed.date.isoformat() if parsed.date else None,
        "new_text": parsed.new_text, "signature": parsed.signature,
        "quoted": parsed.quoted, "forwarded": parsed.forwarded,
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                         "text": a.text[:20000], "error": a.error} for a in parsed.attachments],
        "errors": parsed.errors,
    }


def reprocess_ids(store: Store, only_older: bool = False) -> list[int]:
    """Messages a newer extractor may read again: never those whose bytes retention erased
    (reading nothing would turn them into `other`; their offers stay as they are)."""
    with store.session() as session:
        query = select(Message.id).where(Message.size > 0).order_by(Message.id)
        if only_older:
            query = query.where((Message.extractor_version != EXTRACTOR_VERSION)
                                | Message.extractor_version.is_(None))
        return list(session.scalars(query))
