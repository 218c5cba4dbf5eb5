"""Incremental IMAP sync against a real Dovecot: every message stored exactly once."""

from __future__ import annotations

import socket
import threading

from conftest import (append, assert_stored_once, connect, corpus_messages, folder_uids, generated,
                      imap_config)
from sqlalchemy import func, select

from ingest.imap import ACCOUNT_ROW, poll_account
from store.schema import MailboxUid, Message, SyncState
from vng_ingest.service import poll_once, status


def sync_row(store, folder="INBOX") -> SyncState:
    with store.session() as session:
        return session.scalars(select(SyncState).where(SyncState.folder == folder)).one()


def test_append_and_poll_stores_corpus_and_leaves_mail_unread(dovecot, store, monkeypatch):
    messages = corpus_messages() + generated(3)
    append(dovecot, messages)
    outcome = poll_account(imap_config(dovecot, monkeypatch), store)
    assert outcome.error is None
    assert len(outcome.ingested.new) == len(messages)
    assert_stored_once(store, messages)
    with connect(dovecot) as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["SEEN"]) == []          # BODY.PEEK[]: nothing marked read
        assert len(client.search(["ALL"])) == len(messages)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(MailboxUid)) == len(messages)
        assert session.scalar(select(func.count()).select_from(MailboxUid)
                              .where(MailboxUid.after_action_done.is_(False))) == 0
        internal = session.scalars(select(Message.received_at)).first()
    assert internal is not None


def test_two_polls_store_nothing_twice_and_pick_up_only_news(dovecot, store, monkeypatch):
    first = generated(5, tag="first")
    append(dovecot, first)
    config = imap_config(dovecot, monkeypatch)
    assert len(poll_account(config, store).ingested.new) == 5
    again = poll_account(config, store)
    assert (again.ingested.new, again.ingested.duplicates, again.error) == ([], 0, None)
    later = generated(2, tag="later")
    append(dovecot, later)
    third = poll_account(config, store)
    assert len(third.ingested.new) == 2 and third.ingested.duplicates == 0
    assert_stored_once(store, first + later)
    assert sync_row(store).last_uid == 7


def test_same_message_appended_twice_is_stored_once_but_recorded_twice(dovecot, store, monkeypatch):
    message = generated(1)[0]
    append(dovecot, [message, message])
    outcome = poll_account(imap_config(dovecot, monkeypatch), store)
    assert len(outcome.ingested.new) == 1 and outcome.ingested.duplicates == 1
    assert_stored_once(store, [message])
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(MailboxUid)) == 2


def test_batch_boundaries(dovecot, store, monkeypatch):
    messages = generated(23, size=2000)
    append(dovecot, messages)
    config = imap_config(dovecot, monkeypatch, batch_size=7)
    outcome = poll_account(config, store)
    assert len(outcome.ingested.new) == 23
    assert_stored_once(store, messages)
    assert sync_row(store).last_uid == 23
    exact = generated(14, size=2000, tag="exact")        # two full batches, nothing left over
    append(dovecot, exact)
    assert len(poll_account(config, store).ingested.new) == 14
    assert_stored_once(store, messages + exact)


def test_eight_bit_and_broken_charset_message_is_stored_byte_for_byte(dovecot, store, monkeypatch):
    broken = (b"From: =?utf-8?q?Gemeente_D=C3=A9lft?= <opvang@gemeente.test>\r\n"
              b"To: info@vng.test\r\nSubject: Opvang \xe9\xe9n locatie \xff\r\n"
              b"Message-ID: <broken-charset@gemeente.test>\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: text/plain; charset=x-unknown-charset\r\n"
              b"Content-Transfer-Encoding: 8bit\r\n\r\n"
              b"Wij bieden 40 plaatsen in Zw\xe9\xe9ns caf\xc3\xa9 \x80\x81 vanaf 1 april.\r\n")
    latin = ("From: opvang@gemeente.test\r\nSubject: Locatie in Ede\r\n"
             "Message-ID: <latin1@gemeente.test>\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\nBeschikbaar: 25 plaatsen, café De Wâal.\r\n"
             ).encode("latin-1")
    append(dovecot, [broken, latin])
    config = imap_config(dovecot, monkeypatch, after_action="move")
    summary = poll_once(config, store)
    assert summary.source_error is None and len(summary.ingested.new) == 2
    assert summary.processed.processed == 2          # extracted after the move, and counted
    assert_stored_once(store, [broken, latin])
    with store.session() as session:
        raws = set(session.scalars(select(Message.raw)))
        states = set(session.scalars(select(Message.state)))
    assert raws == {broken, latin}
    assert states <= {"extracted", "failed"}       # parsed (or sent to review), never lost
    assert folder_uids(dovecot, "INBOX") == []
    assert len(folder_uids(dovecot, "Verwerkt")) + len(folder_uids(dovecot, "Fout")) == 2


def test_move_to_processed_folder_creates_it_and_empties_inbox(dovecot, store, monkeypatch):
    messages = corpus_messages()[:10] + generated(4)
    append(dovecot, messages)
    config = imap_config(dovecot, monkeypatch, after_action="move", batch_size=5)
    outcome = poll_account(config, store)
    assert outcome.error is None
    assert folder_uids(dovecot, "INBOX") == []
    assert len(folder_uids(dovecot, "Verwerkt")) + len(folder_uids(dovecot, "Fout")) == len(messages)
    assert poll_account(config, store).ingested.new == []
    assert_stored_once(store, messages)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(MailboxUid)
                              .where(MailboxUid.after_action_done.is_(False))) == 0


def failed_count(store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Message).where(Message.state == "failed"))


def test_flag_and_seen_after_actions(dovecot, store, monkeypatch):
    """Parsed messages get the flag; those that failed to parse go to the error folder instead."""
    messages = generated(3)
    append(dovecot, messages)
    poll_account(imap_config(dovecot, monkeypatch, after_action="flag"), store)
    failed = failed_count(store)
    with connect(dovecot) as client:
        client.select_folder("INBOX", readonly=True)
        assert len(client.search(["FLAGGED"])) == 3 - failed and client.search(["SEEN"]) == []
    assert len(folder_uids(dovecot, "Fout")) == failed
    more = generated(2, tag="seen")
    append(dovecot, more)
    poll_account(imap_config(dovecot, monkeypatch, after_action="seen"), store)
    newly_failed = failed_count(store) - failed
    with connect(dovecot) as client:
        client.select_folder("INBOX", readonly=True)
        assert len(client.search(["SEEN"])) == 2 - newly_failed
    assert len(folder_uids(dovecot, "Fout")) == failed + newly_failed
    assert_stored_once(store, messages + more)


def test_uidvalidity_change_resyncs_without_duplicates(dovecot, store, monkeypatch):
    folder = "Aanmeldingen"
    old = generated(6, tag="old")
    append(dovecot, old, folder)
    config = imap_config(dovecot, monkeypatch, folders=[folder])
    assert len(poll_account(config, store).ingested.new) == 6
    before = sync_row(store, folder).uidvalidity
    with connect(dovecot) as client:        # the folder is recreated: new UIDVALIDITY, UIDs from 1
        client.delete_folder(folder)
    new = generated(3, tag="new")
    append(dovecot, old + new, folder)
    outcome = poll_account(config, store)
    assert outcome.error is None
    assert len(outcome.ingested.new) == 3 and outcome.ingested.duplicates == 6
    assert sync_row(store, folder).uidvalidity != before
    assert_stored_once(store, old + new)
    assert poll_account(config, store).ingested.new == []


class CuttingProxy:
    """A TCP proxy to the server that cuts the connection once ``limit`` bytes came back."""

    def __init__(self, port: int, limit: int):
        self.target, self.limit = port, limit
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, self.limit), daemon=True).start()

    def _pipe(self, source, sink, limit):
        sent = 0
        try:
            while True:
                data = source.recv(4096)
                if not data:
                    break
                sink.sendall(data)
                sent += len(data)
                if limit is not None and sent >= limit:
                    self.cut = True
                    break
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self):
        self.listener.close()


def test_connection_cut_mid_fetch_then_next_poll_completes(dovecot, store, monkeypatch):
    messages = generated(40, size=5000)
    append(dovecot, messages)
    proxy = CuttingProxy(dovecot.port, limit=60_000)       # about a batch and a half
    try:
        cut = poll_account(imap_config(dovecot, monkeypatch, port=proxy.port, batch_size=8), store)
    finally:
        proxy.close()
    assert proxy.cut and cut.error and cut.error.startswith("network:")
    assert 0 < len(cut.ingested.new) < 40
    committed = sync_row(store).last_uid
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == committed
    done = poll_account(imap_config(dovecot, monkeypatch, batch_size=8), store)
    assert done.error is None and len(done.ingested.new) == 40 - committed
    assert_stored_once(store, messages)


def test_server_restart_is_reported_then_recovered(dovecot, store, monkeypatch):
    first = generated(4, tag="before")
    append(dovecot, first)
    config = imap_config(dovecot, monkeypatch)
    poll_account(config, store)
    dovecot.stop()
    down = poll_account(config, store)
    assert down.error and down.error.startswith("network:") and "connection refused" in down.error
    text = status(config, store)
    assert f"{ACCOUNT_ROW}" in text and "error: network: could not connect" in text
    dovecot.start()
    later = generated(3, tag="after")
    append(dovecot, later)
    up = poll_account(config, store)
    assert up.error is None and len(up.ingested.new) == 3
    assert sync_row(store, ACCOUNT_ROW).last_error is None
    assert_stored_once(store, first + later)


def test_missing_configured_folder_is_a_folder_error(dovecot, store, monkeypatch):
    messages = generated(2)
    append(dovecot, messages)
    config = imap_config(dovecot, monkeypatch, folders=["INBOX", "Bestaat-niet"])
    outcome = poll_account(config, store)
    assert outcome.error and "folder" in outcome.error and "Bestaat-niet" in outcome.error
    assert len(outcome.ingested.new) == 2
    assert sync_row(store, "Bestaat-niet").last_error.startswith("folder:")
    assert_stored_once(store, messages)
