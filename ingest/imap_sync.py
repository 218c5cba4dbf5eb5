"""One folder: fetch what is not stored yet, commit its bytes, then act on the server.

The order never changes: bytes committed to the store first, server changes after. What
to fetch is the folder's UID list (``UID SEARCH ALL``; small after a move) minus the UIDs
recorded in ``mailbox_uids``, so a UID that was skipped once is fetched next poll. A big
folder (no after-action; more than ``FULL_LIST_LIMIT`` messages) is listed in full at a
process's first poll and once an hour, and in between only above the watermark; sizes
come first (``RFC822.SIZE``) so a batch stays within ``batch_size`` messages and
``batch_bytes`` bytes (a bigger message goes alone). Each batch is one transaction; a
poll that dies mid-way resumes with what is still missing. ``sync_state.last_uid`` is the
watermark below which every listed UID is stored: it never passes a UID that came back
without its content.

The after-action follows storing, not extraction: the sync never parses. A message goes
to the error folder when it is already known as failed when its after-action runs (a
duplicate of a failed message, or an after-action left over from a crash that the
extraction overtook); every other stored message gets the configured action at once.
Failed messages are shown for review (``vng-ingest status``, the review screen) wherever
they sit on the server. An after-action interrupted by a crash is finished next poll.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from store import Store
from store.messages import store_raw_many
from store.schema import MailboxUid, Message, MessageState, SyncState, utcnow
from vng_ingest.config import ImapConfig
from vng_ingest.models import RawMessage
from vng_ingest.pipeline import IngestResult

log = logging.getLogger(__name__)

DELETED, FLAGGED, SEEN = b"\\Deleted", b"\\Flagged", b"\\Seen"

#: UIDs per RFC822.SIZE request (keeps the command line short on big folders).
SIZE_CHUNK = 500
#: Folders up to this many messages are listed in full every poll; bigger ones once an hour.
FULL_LIST_LIMIT = 2000
FULL_LIST_SECONDS = 3600.0

_full_listed: dict[tuple[str, str, int], float] = {}     # (account, folder, UIDVALIDITY) → monotonic time


@dataclass
class FolderResult:
    ingested: IngestResult = field(default_factory=IngestResult)
    missing: list[int] = field(default_factory=list)     # listed, but no content came back
    actions_done: int = 0


def crash_point(name: str) -> None:
    """Test hook: die here, as a killed process would, when VNG_INGEST_CRASH_AT names this point."""
    if os.environ.get("VNG_INGEST_CRASH_AT") == name:
        os._exit(70)


def pause_point(name: str, timeout: float = 120) -> None:
    """Test hook: with VNG_INGEST_PAUSE_AT=name:FOLDER, create FOLDER/name.reached here and
    wait until FOLDER/name.go exists (a rendezvous with a test, across processes)."""
    point, _, folder = os.environ.get("VNG_INGEST_PAUSE_AT", "").partition(":")
    if point != name or not folder:
        return
    (Path(folder) / f"{name}.reached").touch()
    deadline = time.monotonic() + timeout
    while not (Path(folder) / f"{name}.go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


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


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def byte_batches(uids: list[int], sizes: dict[int, int], max_count: int, max_bytes: int) -> Iterator[list[int]]:
    """``uids`` in order, cut into batches of at most ``max_count`` messages and ``max_bytes``
    bytes; a message bigger than ``max_bytes`` is a batch of its own."""
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= max_count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def sync_folder(client: IMAPClient, store: Store, imap: ImapConfig, account: str, folder: str,
                ingested: IngestResult | None = None) -> FolderResult:
    """Fetch and store what ``folder`` holds that is not stored yet, then finish every
    pending after-action. Nothing is parsed here.

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
    full = full_list_due((account, folder, uidvalidity), int(info.get(b"EXISTS") or 0))
    todo = unstored_uids(client, store, account, folder, uidvalidity, above=None if full else last_uid)
    sizes = message_sizes(client, todo)
    missing = [uid for uid in todo if uid not in sizes]
    pause_point("before_fetch")
    for batch in byte_batches([uid for uid in todo if uid in sizes], sizes, imap.batch_size, imap.batch_bytes):
        missing += store_batch(client, store, imap, account, folder, uidvalidity, batch, result.ingested,
                               below=min(missing, default=None))
        crash_point("after_commit")
    for uid in sorted(missing):
        log.warning("%s: UID %d came back without its content; it is fetched again next poll", folder, uid)
    result.missing = sorted(missing)
    if imap.after_action != "none":
        result.actions_done = finish_actions(client, store, imap, account, folder, uidvalidity)
    return result


def full_list_due(key: tuple[str, str, int], exists: int) -> bool:
    """Whether this poll lists the whole folder: always for a small one, else hourly."""
    now = time.monotonic()
    if exists > FULL_LIST_LIMIT and now - _full_listed.get(key, -FULL_LIST_SECONDS) < FULL_LIST_SECONDS:
        return False
    _full_listed[key] = now
    return True


def unstored_uids(client: IMAPClient, store: Store, account: str, folder: str, uidvalidity: int,
                  above: int | None = None) -> list[int]:
    """The folder's UIDs (``UID SEARCH ALL``, or only those above ``above``) that are not
    recorded in ``mailbox_uids``. Moves the watermark up to the last listed UID below the
    first unrecorded one."""
    if above is None:
        listed = sorted(client.search(["ALL"]))
    else:
        listed = sorted(uid for uid in client.search(["UID", f"{above + 1}:*"]) if uid > above)
    if not listed:
        return []
    with store.session() as session:
        known = set(session.scalars(select(MailboxUid.uid).where(
            MailboxUid.account == account, MailboxUid.folder == folder,
            MailboxUid.uidvalidity == uidvalidity, MailboxUid.uid >= listed[0])))
        todo = [uid for uid in listed if uid not in known]
        settled = [uid for uid in listed if not todo or uid < todo[0]]
        if settled:
            state = folder_state(session, account, folder)
            state.last_uid = max(state.last_uid, settled[-1])
    return todo


def message_sizes(client: IMAPClient, uids: list[int]) -> dict[int, int]:
    """RFC822.SIZE of each UID; a UID the server does not answer for is left out."""
    sizes: dict[int, int] = {}
    for part in chunks(uids, SIZE_CHUNK):
        for uid, data in client.fetch(part, [b"RFC822.SIZE"]).items():
            if b"RFC822.SIZE" in data:
                sizes[uid] = int(data[b"RFC822.SIZE"])
    return sizes


def store_batch(client: IMAPClient, store: Store, imap: ImapConfig, account: str, folder: str,
                uidvalidity: int, batch: list[int], result: IngestResult, below: int | None = None) -> list[int]:
    """Fetch one batch (without marking anything read) and commit it in one transaction.

    Returns the UIDs that came back without content (expunged meanwhile, or a server
    hiccup): they are not recorded, so the next poll asks for them again. The watermark
    ``last_uid`` moves up to the last UID stored before the first one missing (``below``
    is the first missing UID of earlier steps).
    """
    fetched = client.fetch(batch, [b"BODY.PEEK[]", b"INTERNALDATE"])
    present = [uid for uid in batch if isinstance(fetched.get(uid, {}).get(b"BODY[]"), bytes)]   # NIL: expunged
    missing = [uid for uid in batch if uid not in present]
    messages = [RawMessage(raw=fetched[uid][b"BODY[]"], source=account, folder=folder, uidvalidity=uidvalidity,
                           uid=uid, received_at=fetched[uid].get(b"INTERNALDATE")) for uid in present]
    with store.session() as session:
        for message, stored in zip(messages, store_raw_many(session, messages)):
            if stored.pk is None:            # refused by the database even on its own: asked for again
                result.not_stored += 1
                result.store_error = result.store_error or stored.error
                missing.append(message.uid)
                log.error("%s %s: UID %s could not be stored; it stays on the server", account, folder, message.uid)
            elif stored.created:
                result.new.append(stored.pk)
            else:
                result.duplicates += 1
        first_missing = min(missing + ([below] if below is not None else []), default=None)
        if imap.after_action == "none":
            session.execute(update(MailboxUid).where(
                MailboxUid.account == account, MailboxUid.folder == folder,
                MailboxUid.uidvalidity == uidvalidity, MailboxUid.uid.in_(present))
                .values(after_action_done=True))
        reached = [uid for uid in present if first_missing is None or uid < first_missing]
        if reached:
            state = folder_state(session, account, folder)
            state.last_uid = max(state.last_uid, reached[-1])
    del fetched
    return missing


def pending_actions(store: Store, account: str, folder: str, uidvalidity: int) -> list[tuple[int, int]]:
    """(uid, message pk) of stored messages whose after-action has not been done yet."""
    with store.session() as session:
        rows = session.execute(select(MailboxUid.uid, MailboxUid.message_pk).where(
            MailboxUid.account == account, MailboxUid.folder == folder,
            MailboxUid.uidvalidity == uidvalidity, MailboxUid.after_action_done.is_(False))
            .order_by(MailboxUid.uid))
        return [(uid, pk) for uid, pk in rows]


def finish_actions(client: IMAPClient, store: Store, imap: ImapConfig, account: str, folder: str,
                   uidvalidity: int) -> int:
    """Do the configured after-action on every stored message still waiting for it;
    messages already known as failed go to the error folder instead."""
    done = 0
    pending = pending_actions(store, account, folder, uidvalidity)
    for part in chunks(pending, imap.batch_size):
        states = message_states(store, {pk for _, pk in part})
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
            try:
                client.create_folder(name)
            except IMAPClientError:
                if not client.folder_exists(name):      # else another client created it just now
                    raise
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
