"""One folder: fetch what is new, commit its bytes, then act on the server.

The order never changes: bytes committed to the store first, server changes after. Each
batch is one transaction that also advances ``sync_state.last_uid``, so a poll that dies
mid-way resumes after the last committed batch. Every UID is recorded in ``mailbox_uids``
with ``after_action_done``; an after-action interrupted by a crash is finished next poll.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from imapclient import IMAPClient
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from store import Store
from store.messages import store_raw_many
from store.schema import MailboxUid, Message, MessageState, SyncState, utcnow
from vng_ingest.config import ImapConfig
from vng_ingest.models import RawMessage
from vng_ingest.pipeline import IngestResult, process

log = logging.getLogger(__name__)

DELETED, FLAGGED, SEEN = b"\\Deleted", b"\\Flagged", b"\\Seen"


@dataclass
class FolderResult:
    ingested: IngestResult = field(default_factory=IngestResult)
    actions_done: int = 0


def crash_point(name: str) -> None:
    """Test hook: die here, as a killed process would, when VNG_INGEST_CRASH_AT names this point."""
    if os.environ.get("VNG_INGEST_CRASH_AT") == name:
        os._exit(70)


def folder_state(session, account: str, folder: str) -> SyncState:
    state = session.scalars(select(SyncState).where(SyncState.account == account,
                                                    SyncState.folder == folder)).first()
    if state is None:
        try:
            with session.begin_nested():     # another thread (IDLE, a poll) may create it first
                state = SyncState(account=account, folder=folder, last_uid=0, failures=0)
                session.add(state)
        except IntegrityError:
            state = session.scalars(select(SyncState).where(SyncState.account == account,
                                                            SyncState.folder == folder)).one()
    return state


def chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def sync_folder(client: IMAPClient, store: Store, imap: ImapConfig, account: str, folder: str,
                extract: bool = True, ingested: IngestResult | None = None) -> FolderResult:
    """Fetch and store what is new in ``folder``, then finish every pending after-action.

    ``ingested`` collects the stored messages as each batch commits, so a caller still
    knows what was stored when the connection breaks half-way.
    """
    info = client.select_folder(folder, readonly=imap.after_action == "none")
    uidvalidity = int(info[b"UIDVALIDITY"])
    with store.session() as session:
        state = folder_state(session, account, folder)
        if state.uidvalidity != uidvalidity:
            if state.uidvalidity is not None:
                log.warning("%s %s: UIDVALIDITY changed; reading the folder again (stored messages "
                            "are recognised and not stored twice)", account, folder)
            state.uidvalidity, state.last_uid = uidvalidity, 0
        last_uid = state.last_uid
    result = FolderResult(ingested=ingested if ingested is not None else IngestResult())
    for batch in chunks(new_uids(client, store, account, folder, uidvalidity, last_uid), imap.batch_size):
        store_batch(client, store, imap, account, folder, uidvalidity, batch, result.ingested)
        crash_point("after_commit")
    if imap.after_action != "none":
        result.actions_done = finish_actions(client, store, imap, account, folder, uidvalidity, extract)
    return result


def new_uids(client: IMAPClient, store: Store, account: str, folder: str, uidvalidity: int,
             last_uid: int) -> list[int]:
    """UIDs above ``last_uid`` on the server, minus those already recorded."""
    found = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
    if not found:
        return []
    with store.session() as session:
        known = set(session.scalars(select(MailboxUid.uid).where(
            MailboxUid.account == account, MailboxUid.folder == folder,
            MailboxUid.uidvalidity == uidvalidity, MailboxUid.uid >= found[0])))
    return [uid for uid in found if uid not in known]


def store_batch(client: IMAPClient, store: Store, imap: ImapConfig, account: str, folder: str,
                uidvalidity: int, batch: list[int], result: IngestResult) -> None:
    """Fetch one batch (without marking anything read) and commit it in one transaction."""
    fetched = client.fetch(batch, [b"BODY.PEEK[]", b"INTERNALDATE"])
    messages = [RawMessage(raw=fetched[uid][b"BODY[]"], source=account, folder=folder, uidvalidity=uidvalidity,
                           uid=uid, received_at=fetched[uid].get(b"INTERNALDATE"))
                for uid in batch if uid in fetched and b"BODY[]" in fetched[uid]]   # else expunged meanwhile
    with store.session() as session:
        for stored in store_raw_many(session, messages):
            if stored.created:
                result.new.append(stored.pk)
            else:
                result.duplicates += 1
        if imap.after_action == "none":
            session.execute(update(MailboxUid).where(
                MailboxUid.account == account, MailboxUid.folder == folder,
                MailboxUid.uidvalidity == uidvalidity, MailboxUid.uid.in_(batch))
                .values(after_action_done=True))
        state = folder_state(session, account, folder)
        state.last_uid = max(state.last_uid, batch[-1])
    del fetched


def pending_actions(store: Store, account: str, folder: str, uidvalidity: int) -> list[tuple[int, int]]:
    """(uid, message pk) of stored messages whose after-action has not been done yet."""
    with store.session() as session:
        rows = session.execute(select(MailboxUid.uid, MailboxUid.message_pk).where(
            MailboxUid.account == account, MailboxUid.folder == folder,
            MailboxUid.uidvalidity == uidvalidity, MailboxUid.after_action_done.is_(False))
            .order_by(MailboxUid.uid))
        return [(uid, pk) for uid, pk in rows]


def finish_actions(client: IMAPClient, store: Store, imap: ImapConfig, account: str, folder: str,
                   uidvalidity: int, extract: bool) -> int:
    """Do the configured after-action; messages that failed parsing go to the error folder."""
    done = 0
    pending = pending_actions(store, account, folder, uidvalidity)
    for part in chunks(pending, imap.batch_size):
        pks = sorted({pk for _, pk in part})
        states = message_states(store, pks)
        if extract and any(state == MessageState.NEW for state in states.values()):
            process(store, [pk for pk in pks if states[pk] == MessageState.NEW])
            states = message_states(store, pks)
        failed = [uid for uid, pk in part if states.get(pk) == MessageState.FAILED]
        good = [uid for uid, pk in part if states.get(pk) != MessageState.FAILED]
        if failed:
            move(client, failed, imap.error_folder)
        if good:
            apply_action(client, good, imap)
        mark_done(store, account, folder, uidvalidity, [uid for uid, _ in part])
        done += len(part)
    return done


def message_states(store: Store, pks: Iterable[int]) -> dict[int, str]:
    with store.session() as session:
        return dict(session.execute(select(Message.id, Message.state).where(Message.id.in_(list(pks)))).all())


def apply_action(client: IMAPClient, uids: list[int], imap: ImapConfig) -> None:
    if imap.after_action == "flag":
        client.add_flags(uids, [FLAGGED], silent=True)
    elif imap.after_action == "seen":
        client.add_flags(uids, [SEEN], silent=True)
    elif imap.after_action == "move":
        move(client, uids, imap.processed_folder)


def move(client: IMAPClient, uids: list[int], target: str) -> None:
    """MOVE where offered; else COPY + \\Deleted + UID EXPUNGE (UIDPLUS); else only COPY.

    A plain EXPUNGE would also remove messages others marked deleted, so without UIDPLUS
    nothing is deleted: the original stays, and is never fetched again (it is recorded).
    """
    if client.has_capability("MOVE"):
        client.move(uids, target)
        return
    client.copy(uids, target)
    if client.has_capability("UIDPLUS"):
        client.add_flags(uids, [DELETED], silent=True)
        client.uid_expunge(uids)
    else:
        log.warning("server offers neither MOVE nor UIDPLUS: copied %d messages to %s, originals kept",
                    len(uids), target)


def mark_done(store: Store, account: str, folder: str, uidvalidity: int, uids: list[int]) -> None:
    with store.session() as session:
        session.execute(update(MailboxUid).where(
            MailboxUid.account == account, MailboxUid.folder == folder,
            MailboxUid.uidvalidity == uidvalidity, MailboxUid.uid.in_(uids))
            .values(after_action_done=True))


def ensure_folders(client: IMAPClient, imap: ImapConfig) -> dict[str, str]:
    """Create the processed/error folders when missing; return problems with configured folders."""
    existing = {name for _, _, name in client.list_folders()}
    needed = []
    if imap.after_action != "none":
        needed.append(imap.error_folder)
    if imap.after_action == "move":
        needed.append(imap.processed_folder)
    for name in needed:
        if name not in existing:
            log.info("creating folder %s", name)
            client.create_folder(name)
            existing.add(name)
    return {name: f"folder '{name}' does not exist on the server"
            for name in imap.folders if name not in existing}


def touch(store: Store, account: str, folder: str, error: str | None) -> None:
    """Record how a folder's poll went."""
    with store.session() as session:
        state = folder_state(session, account, folder)
        state.last_poll_at = utcnow()
        if error:
            state.last_error = error
            state.failures = (state.failures or 0) + 1
        else:
            state.last_success_at, state.last_error, state.failures = state.last_poll_at, None, 0
