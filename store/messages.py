"""Raw messages: stored first, exactly once, before anything else happens to them."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from store.schema import MailboxUid, Message, MessageState, utcnow
from vng_ingest.models import RawMessage

log = logging.getLogger(__name__)


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


# --- values that fit their columns ------------------------------------------------------------------

def fit_columns(table, values: dict) -> tuple[dict, list[dict]]:
    """``values`` made storable in ``table`` (a Table or mapped class), and a note per repair.

    Text loses NUL characters (PostgreSQL refuses them), unencodable characters become '?',
    and text longer than its column is cut to the column's length, read from the table
    definition. Bytes and other values are never touched. The notes are problems in the
    form of ``messages.problems`` (``{"code", "text"}``, Dutch); they never quote the value.
    """
    columns = getattr(table, "__table__", table).columns
    fitted, notes = dict(values), []
    for name, value in values.items():
        if isinstance(value, str) and name in columns:
            fitted[name] = _fit_text(columns[name], value, notes)
    return fitted, notes


def _fit_text(column, value: str, notes: list[dict]) -> str:
    label = column.info.get("label", column.name)
    if "\x00" in value:
        notes.append({"code": "nul_removed",
                      "text": f"{label}: {value.count(chr(0))} nul-teken(s) verwijderd"})
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        notes.append({"code": "invalid_characters", "text": f"{label}: ongeldige tekens vervangen door '?'"})
        value = value.encode("utf-8", "replace").decode("utf-8")
    limit = getattr(column.type, "length", None)
    if limit is not None and len(value) > limit:
        notes.append({"code": "truncated",
                      "text": f"{label}: {len(value)} tekens, ingekort tot {limit}"})
        value = value[:limit]
    return value


# --- raw messages -------------------------------------------------------------------------------------

@dataclass
class Stored:
    """Where a message is stored. ``pk`` is None only when ``error`` says it could not be."""

    pk: int | None
    created: bool
    problems: list[dict] = field(default_factory=list)   # values repaired to fit (also in messages.problems)
    error: str | None = None                              # why it could not be stored (no mail content)

    @property
    def failed(self) -> bool:
        return self.pk is None


def store_raw(session: Session, message: RawMessage) -> Stored:
    """Store the exact bytes once; a duplicate only records where it was seen again."""
    return store_raw_many(session, [message])[0]


def store_raw_many(session: Session, messages: list[RawMessage]) -> list[Stored]:
    """``store_raw`` for a batch: a few set-wise statements instead of four per message.

    Same rules: exact bytes once (sha256, or Message-ID with the same body), and every
    (account, folder, UIDVALIDITY, UID) remembered. Results are in input order.

    One bad message never blocks its batch: values are fitted to their columns first, and if
    the batch insert still fails, the rows are inserted one by one in savepoints, so only the
    bad one fails (``Stored.error``; logged by position, never by content). A message stored
    meanwhile by another process counts as a duplicate, not an error.
    """
    ids = [fit_columns(Message, {"message_id": header_message_id(m.raw)}) for m in messages]   # as stored
    keys = [(m.sha256, body_hash(m.raw), values["message_id"]) for m, (values, _) in zip(messages, ids)]
    known = _known(session, keys)
    owner: list[str | int] = []          # per message: the pk it is known under, or the sha256 of its new row
    fresh: dict = {}                     # sha256, or ("new", Message-ID, body) → sha256 of the new row
    new_rows: dict[str, dict] = {}       # sha256 → row
    positions: dict[str, int] = {}       # sha256 → position in the batch
    problems: dict[str, list[dict]] = {}
    for position, (message, (sha, body, message_id)) in enumerate(zip(messages, keys)):
        pk = known.get(("sha", sha)) or (known.get(("mid", message_id, body)) if message_id else None)
        first = fresh.get(sha) or (fresh.get(("new", message_id, body)) if message_id else None)
        if pk is not None or first is not None:
            owner.append(pk if pk is not None else first)
            continue
        fresh[sha] = sha
        if message_id:
            fresh[("new", message_id, body)] = sha
        row, notes = fit_columns(Message, dict(
            sha256=sha, body_sha256=body, message_id=message_id, source=message.source, folder=message.folder,
            uidvalidity=message.uidvalidity, uid=message.uid, received_at=message.received_at or utcnow(),
            raw=message.raw, size=len(message.raw), state=MessageState.NEW))
        problems[sha] = [{**note, "stage": "store"} for note in ids[position][1] + notes]
        row["problems"] = problems[sha] or None
        new_rows[sha], positions[sha] = row, position
        owner.append(sha)
    inserted, failed = _insert(session, new_rows, positions)
    results = [_result(item, positions.get(item) == index, inserted, failed, problems)
               for index, item in enumerate(owner)]
    _remember_uids(session, messages, [r.pk for r in results])
    return results


def _result(item: int | str, first: bool, inserted: dict[str, tuple[int, bool]], failed: dict[str, str],
            problems: dict[str, list[dict]]) -> Stored:
    """The outcome for one message: known before (pk), or the batch's first or later copy of a new row."""
    if isinstance(item, int):
        return Stored(item, False)
    if item in failed:
        return Stored(None, False, error=failed[item])
    pk, created = inserted[item]
    return Stored(pk, True, problems[item]) if created and first else Stored(pk, False)


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


def _insert(session: Session, rows: dict[str, dict], positions: dict[str, int]
            ) -> tuple[dict[str, tuple[int, bool]], dict[str, str]]:
    """Insert the new rows: sha256 → (pk, created by us), and sha256 → error for rows that failed."""
    if not rows:
        return {}, {}
    session.flush()
    try:
        with session.begin_nested():
            return _insert_rows(session, list(rows.values())), {}
    except DBAPIError as error:
        log.warning("a batch of %d messages could not be stored at once (%s); storing them one by one",
                    len(rows), type(error.orig).__name__)
    inserted: dict[str, tuple[int, bool]] = {}
    failed: dict[str, str] = {}
    for sha, row in rows.items():
        try:
            with session.begin_nested():
                inserted.update(_insert_rows(session, [row]))
        except DBAPIError as error:
            failed[sha] = f"{type(error.orig).__name__} while storing message {positions[sha]} of the batch"
            log.error("message %d of the batch (sha256 %s) could not be stored: %s",
                      positions[sha], sha[:16], type(error.orig).__name__)
    return inserted, failed


def _insert_rows(session: Session, rows: list[dict]) -> dict[str, tuple[int, bool]]:
    """INSERT ... ON CONFLICT (sha256) DO NOTHING, then read back what another process stored meanwhile."""
    statement = _insert_new(session, Message.__table__, ["sha256"]).returning(Message.id, Message.sha256)
    stored = {sha: (pk, True) for pk, sha in session.execute(statement, rows)}
    meanwhile = [row["sha256"] for row in rows if row["sha256"] not in stored]
    if meanwhile:
        stored.update({sha: (pk, False) for pk, sha in session.execute(
            select(Message.id, Message.sha256).where(Message.sha256.in_(meanwhile)))})
    return stored


def _insert_new(session: Session, table, unique: list[str]):
    """An INSERT that skips rows whose ``unique`` columns are already there (SQLite and PostgreSQL)."""
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[session.get_bind().dialect.name]
    return dialect.insert(table).on_conflict_do_nothing(index_elements=unique)


def _remember_uids(session: Session, messages: list[RawMessage], pks: list[int | None]) -> None:
    wanted = {(m.source, m.folder, m.uidvalidity, m.uid): pk for m, pk in zip(messages, pks)
              if m.uid is not None and m.uidvalidity is not None and m.folder is not None and pk is not None}
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
        session.execute(_insert_new(session, MailboxUid.__table__, ["account", "folder", "uidvalidity", "uid"]),
                        rows)


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
