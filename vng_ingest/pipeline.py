"""The flow, one way: source → raw store → parse → extract → store.

Each raw message is committed in its own transaction before it is parsed, so a
crash never loses one and every message can be reprocessed by a newer extractor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from sqlalchemy import select

from parsers.extract import EXTRACTOR_VERSION, read_message
from store import Store
from store.messages import pending_ids, store_raw_many
from store.offers import replace_offers
from store.schema import Message, MessageState, utcnow
from vng_ingest.models import Kind, RawMessage

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    new: list[int] = field(default_factory=list)
    duplicates: int = 0


@dataclass
class ProcessResult:
    processed: int = 0
    failed: int = 0
    offers: int = 0
    needs_review: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


BATCH = 200


def ingest(store: Store, messages: Iterable[RawMessage], on_each: Callable[[int], None] | None = None) -> IngestResult:
    """Store each message's bytes once, committed in batches before anything parses them."""
    result = IngestResult()
    for batch in _batches(messages, BATCH):
        with store.session() as session:
            stored = store_raw_many(session, batch)
        for item in stored:
            if item.created:
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


def process(store: Store, ids: Iterable[int] | None = None) -> ProcessResult:
    """Parse and extract the given (default: all new) messages and store what they offer."""
    if ids is None:
        with store.session() as session:
            ids = pending_ids(session)
    result = ProcessResult()
    for pk in ids:
        with store.session() as session:
            message = session.get(Message, pk)
            _process_one(session, message, result)
    return result


def _process_one(session, message: Message, result: ProcessResult) -> None:
    parsed, extraction = read_message(message.raw)
    message.subject = parsed.subject[:2000]
    message.from_addr = parsed.from_addr
    message.sent_at = parsed.date
    message.parsed = summary(parsed)
    if message.kind_reviewed_by:
        extraction = _keep_reviewed_kind(message, parsed, extraction)
    else:
        message.kind = extraction.kind.value
        message.kind_confidence = extraction.kind_confidence
    message.extractor_version = EXTRACTOR_VERSION
    message.processed_at = utcnow()
    message.error = extraction.error
    message.state = MessageState.FAILED if extraction.error else MessageState.EXTRACTED
    rows = replace_offers(session, message, extraction.offers, EXTRACTOR_VERSION)
    result.processed += 1
    result.failed += bool(extraction.error)
    result.offers += len(rows)
    result.needs_review += sum(row.needs_review for row in rows)
    result.kinds[message.kind] = result.kinds.get(message.kind, 0) + 1
    if extraction.error:
        log.warning("message %s could not be parsed: %s", message.id, extraction.error.splitlines()[0])


def _keep_reviewed_kind(message: Message, parsed, extraction):
    """A person's re-classification stands: extract again under the kind they chose."""
    from parsers.extract import extract_as
    return extract_as(parsed, Kind(message.kind), extraction)


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
    with store.session() as session:
        query = select(Message.id).order_by(Message.id)
        if only_older:
            query = query.where((Message.extractor_version != EXTRACTOR_VERSION)
                                | Message.extractor_version.is_(None))
        return list(session.scalars(query))
