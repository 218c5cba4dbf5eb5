"""A process killed between the store commit and the after-action: the next poll finishes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import PASSWORD, USER, append, assert_stored_once, corpus_messages, folder_uids, generated
from sqlalchemy import func, select, update

from ingest.imap import poll_account
from store import open_store
from store.schema import MailboxUid, Message
from vng_ingest.config import load_config

ROOT = Path(__file__).resolve().parents[2]
POLL = "import sys; from ingest.imap import poll_account; from store import open_store; " \
       "from vng_ingest.config import load_config; c = load_config(sys.argv[1]); " \
       "print(poll_account(c, open_store(c.database.url)))"


def write_config(tmp_path, port: int, **imap) -> Path:
    settings = {"host": "127.0.0.1", "port": port, "security": "none", "username": USER,
                "password": {"env": "VNG_TEST_IMAP_PASSWORD"}, "after_action": "move", "batch_size": 4}
    settings.update(imap)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"source": {"kind": "imap", "imap": settings},
                                    "database": {"url": f"sqlite:///{tmp_path}/vng.sqlite"}}))
    return path


def pending(store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(MailboxUid)
                              .where(MailboxUid.after_action_done.is_(False)))


def test_killed_after_commit_then_next_poll_moves_and_stores_nothing_twice(dovecot, tmp_path):
    messages = corpus_messages()[:5] + generated(5)
    append(dovecot, messages)
    config_file = write_config(tmp_path, dovecot.port)
    env = dict(os.environ, VNG_TEST_IMAP_PASSWORD=PASSWORD, VNG_INGEST_CRASH_AT="after_commit",
               PYTHONPATH=str(ROOT))
    crashed = subprocess.run([sys.executable, "-c", POLL, str(config_file)], env=env, cwd=ROOT,
                             capture_output=True, timeout=120)
    assert crashed.returncode == 70, crashed.stderr.decode()[-2000:]
    config = load_config(config_file)
    store = open_store(config.database.url)
    with store.session() as session:
        stored = session.scalar(select(func.count()).select_from(Message))
    assert stored == 4                                  # the first batch was committed...
    assert len(folder_uids(dovecot, "INBOX")) == 10     # ...and nothing happened on the server
    assert pending(store) == 4
    # A message the parser gave up on must end in the error folder, not the processed one.
    with store.session() as session:
        session.execute(update(Message).where(Message.id == 1).values(state="failed", error="test"))
    os.environ["VNG_TEST_IMAP_PASSWORD"] = PASSWORD
    try:
        outcome = poll_account(config, store)
    finally:
        del os.environ["VNG_TEST_IMAP_PASSWORD"]
    assert outcome.error is None and len(outcome.ingested.new) == 6
    assert folder_uids(dovecot, "INBOX") == []
    fout, verwerkt = len(folder_uids(dovecot, "Fout")), len(folder_uids(dovecot, "Verwerkt"))
    assert fout >= 1 and fout + verwerkt == 10
    assert pending(store) == 0
    assert_stored_once(store, messages)
    store.dispose()


def test_action_without_move_capability_uses_copy_and_uid_expunge(dovecot):
    """COPY + \\Deleted + UID EXPUNGE must touch only our messages, not others marked deleted."""
    from conftest import connect

    from ingest.imap_sync import move
    messages = generated(3)
    append(dovecot, messages + generated(1, tag="someone-else"))
    with connect(dovecot) as client:
        client.create_folder("Verwerkt")
        client.select_folder("INBOX")
        client.add_flags([4], [b"\\Deleted"])            # another client's pending deletion
        # Dovecot always offers MOVE; hide it to exercise the UIDPLUS path on the real server.
        client._cached_capabilities = tuple(c for c in client.capabilities() if c != b"MOVE")
        assert not client.has_capability("MOVE") and client.has_capability("UIDPLUS")
        move(client, [1, 2, 3], "Verwerkt")
        client.noop()
    assert folder_uids(dovecot, "INBOX") == [4]          # the other client's message is untouched
    assert len(folder_uids(dovecot, "Verwerkt")) == 3
