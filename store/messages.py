"""Raw messages: stored first, exactly once, before anything else happens to them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, tuple_
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


def store_raw(session: Session, message: RawMessage) -> Stored:
    """Store the exact bytes once; a duplicate only records where it was seen again."""
    return store_raw_many(session, [message])[0]


def store_raw_many(session: Session, messages: list[RawMessage]) -> list[Stored]:
    """``store_raw`` for a batch: a few set-wise statements instead of four per message.

    Same rules: exact bytes once (sha256, or Message-ID with the same body), and every
    (account, folder, UIDVALIDITY, UID) remembered. Results are in input order.
    """
    keys = [(m.sha256, body_hash(m.raw), header_message_id(m.raw)) for m in messages]
    known = _known(session, keys)
    results: list[Stored] = []
    fresh: dict[str, int] = {}           # sha256 → index in new_rows
    new_rows: list[dict] = []
    for message, (sha, body, message_id) in zip(messages, keys):
        pk = known.get(("sha", sha)) or (known.get(("mid", message_id, body)) if message_id else None)
        if pk is not None:
            results.append(Stored(pk, False))
        elif sha in fresh or (message_id and ("new", message_id, body) in fresh):
            results.append(Stored(-1 - fresh.get(sha, fresh.get(("new", message_id, body))), False))
        else:
            fresh[sha] = len(new_rows)
            if message_id:
                fresh[("new", message_id, body)] = len(new_rows)
            new_rows.append(dict(sha256=sha, body_sha256=body, message_id=message_id, source=message.source,
                                 folder=message.folder, uidvalidity=message.uidvalidity, uid=message.uid,
                                 received_at=message.received_at or utcnow(), raw=message.raw,
                                 size=len(message.raw), state=MessageState.NEW))
            results.append(Stored(-1 - fresh[sha], True))
    ids = _insert(session, new_rows)
    results = [Stored(ids[-1 - r.pk] if r.pk < 0 else r.pk, r.created) for r in results]
    _remember_uids(session, messages, [r.pk for r in results])
    return results


def _known(session: Session, keys: list[tuple[str, str, str | None]]) -> dict:
    shas = [sha for sha, _, _ in keys]
    found: dict = {("sha", sha): pk for pk, sha in session.execute(
        select(Message.id, Message.sha256).where(Message.sha256.in_(shas)))}
    message_ids = [mid for _, _, mid in keys if mid]
    if message_ids:
        rows = session.execute(select(Message.id, Message.message_id, Message.body_sha256)
                               .where(Message.message_id.in_(message_ids)))
        found.update({("mid", mid, body): pk for pk, mid, body in rows})
    return found


def _insert(session: Session, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    session.flush()
    inserted = session.execute(insert(Message).returning(Message.id, Message.sha256), rows)
    by_sha = {sha: pk for pk, sha in inserted}
    return [by_sha[row["sha256"]] for row in rows]


def _remember_uids(session: Session, messages: list[RawMessage], pks: list[int]) -> None:
    wanted = {(m.source, m.folder, m.uidvalidity, m.uid): pk for m, pk in zip(messages, pks)
              if m.uid is not None and m.uidvalidity is not None and m.folder is not None}
    if not wanted:
        return
    existing = set(session.execute(
        select(MailboxUid.account, MailboxUid.folder, MailboxUid.uidvalidity, MailboxUid.uid).where(
            tuple_(MailboxUid.account, MailboxUid.folder, MailboxUid.uidvalidity).in_(
                list({key[:3] for key in wanted})),
            MailboxUid.uid.in_([key[3] for key in wanted]))).all())
    rows = [dict(account=a, folder=f, uidvalidity=v, uid=u, message_pk=pk)
            for (a, f, v, u), pk in wanted.items() if (a, f, v, u) not in existing]
    if rows:
        session.execute(insert(MailboxUid), rows)


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
