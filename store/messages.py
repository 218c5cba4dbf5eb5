"""Raw messages: stored first, exactly once, before anything else happens to them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from store.schema import MailboxUid, Message, MessageState, utcnow
from vng_ingest.models import RawMessage


def body_hash(raw: bytes) -> str:
    """Hash of everything after the header block: the same mail relayed twice shares it."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        index = raw.find(separator)
        if index >= 0:
            return hashlib.sha256(raw[index + len(separator):]).hexdigest()
    return hashlib.sha256(raw).hexdigest()


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID without angle brackets, read cheaply from the header block."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    for index, line in enumerate(lines):
        if line[:11].lower() == b"message-id:":
            value = line[11:]
            for follow in lines[index + 1:]:
                if not follow[:1].isspace():
                    break
                value += follow
            text = value.decode("ascii", "replace").strip().strip("<>").strip()
            return text or None
    return None


@dataclass
class Stored:
    pk: int
    created: bool


def find_duplicate(session: Session, raw: bytes, sha256: str) -> Message | None:
    """Same bytes, or the same Message-ID with the same body (re-delivered with other trace headers)."""
    message_id = header_message_id(raw)
    conditions = [Message.sha256 == sha256]
    if message_id:
        conditions.append((Message.message_id == message_id) & (Message.body_sha256 == body_hash(raw)))
    return session.scalars(select(Message).where(or_(*conditions)).limit(1)).first()


def store_raw(session: Session, message: RawMessage) -> Stored:
    """Store the exact bytes once; a duplicate only records where it was seen again."""
    sha256 = message.sha256
    existing = find_duplicate(session, message.raw, sha256)
    if existing is not None:
        _remember_uid(session, message, existing.id)
        return Stored(existing.id, False)
    row = Message(sha256=sha256, body_sha256=body_hash(message.raw),
                  message_id=header_message_id(message.raw), source=message.source,
                  folder=message.folder, uidvalidity=message.uidvalidity, uid=message.uid,
                  received_at=message.received_at or utcnow(), raw=message.raw,
                  size=len(message.raw), state=MessageState.NEW)
    session.add(row)
    session.flush()
    _remember_uid(session, message, row.id)
    return Stored(row.id, True)


def _remember_uid(session: Session, message: RawMessage, pk: int) -> None:
    if message.uid is None or message.uidvalidity is None or message.folder is None:
        return
    known = session.scalars(select(MailboxUid).where(
        MailboxUid.account == message.source, MailboxUid.folder == message.folder,
        MailboxUid.uidvalidity == message.uidvalidity, MailboxUid.uid == message.uid)).first()
    if known is None:
        session.add(MailboxUid(account=message.source, folder=message.folder,
                               uidvalidity=message.uidvalidity, uid=message.uid, message_pk=pk))
        session.flush()


def pending_ids(session: Session, states: tuple[str, ...] = (MessageState.NEW,)) -> list[int]:
    return list(session.scalars(select(Message.id).where(Message.state.in_(states)).order_by(Message.id)))


def all_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Message.id).order_by(Message.id)))


def counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(Message.state, func.count()).group_by(Message.state))
    return {state: count for state, count in rows}


def counts_by_kind(session: Session) -> dict[str, int]:
    rows = session.execute(select(Message.kind, func.count()).group_by(Message.kind))
    return {kind or "-": count for kind, count in rows}


def failures(session: Session, limit: int = 10) -> list[Message]:
    query = select(Message).where(Message.state == MessageState.FAILED).order_by(Message.id.desc())
    return list(session.scalars(query.limit(limit)))


def last_received(session: Session) -> datetime | None:
    return session.scalar(select(func.max(Message.received_at)))
