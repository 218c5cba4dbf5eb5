"""IMAP that heals itself: dead lock holders, concurrent commands, login backoff, no UID
skipped, byte-bounded batches, after-actions that never wait for extraction."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from conftest import PASSWORD, append, assert_stored_once, connect, folder_uids, generated, imap_config
from sqlalchemy import func, select, update
from test_imap_crash import POLL, ROOT, write_config

from ingest.imap import ACCOUNT_ROW, next_poll_at, poll_account
from store import open_store
from store.schema import MailboxUid, Message, SyncState
from vng_ingest.config import load_config
from tests.waiting import wait_for


def cli(config_file: Path, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vng_ingest.cli", "--config", str(config_file), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, VNG_TEST_IMAP_PASSWORD=PASSWORD, PYTHONPATH=str(ROOT), **env))


def processed(stdout: bytes) -> int:
    return int(re.search(rb"processed: (\d+)", stdout).group(1))


def stored(store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Message))


def extracted(store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Message).where(Message.state != "new"))


def test_restarted_run_after_kill_polls_again_at_once(dovecot, tmp_path):
    messages = generated(10)
    append(dovecot, messages)
    config_file = write_config(tmp_path, dovecot.port)
    killed = cli(config_file, "run", VNG_INGEST_CRASH_AT="after_commit")    # dies holding its lock
    killed.communicate(timeout=120)
    assert killed.returncode == 70
    store = open_store(load_config(config_file).database.url)
    assert stored(store) == 4
    text = config_file.read_text().replace("database:", "poll:\n  interval_minutes: 60\ndatabase:")
    config_file.write_text(text)
    restarted = cli(config_file, "run")
    try:
        wait_for(lambda: stored(store) == 10 and folder_uids(dovecot, "INBOX") == [], timeout=90)
    finally:
        restarted.terminate()
        out, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err.decode()[-2000:]
    assert b"is no longer running; taking it over" in err
    assert_stored_once(store, messages)
    store.dispose()


def test_two_polls_at_once_store_and_extract_each_message_once(dovecot, tmp_path):
    messages = generated(30)
    append(dovecot, messages)
    config_file = write_config(tmp_path, dovecot.port, batch_size=5)
    open_store(load_config(config_file).database.url).dispose()     # migrations racing is not the point
    runs = [cli(config_file, "poll", "--once") for _ in range(2)]
    outs = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, outs):
        assert run.returncode == 0, (out + err).decode()[-2000:]
        assert b"Traceback" not in err
    assert sum(processed(out) for out, _ in outs) == 30        # extracted once, not twice
    store = open_store(load_config(config_file).database.url)
    assert_stored_once(store, messages)
    assert folder_uids(dovecot, "INBOX") == [] and len(folder_uids(dovecot, "Verwerkt")) == 30
    store.dispose()


def test_two_imports_at_once_store_and_extract_each_message_once(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    messages = generated(40, tag="import")
    for index, raw in enumerate(messages):
        (folder / f"m{index:02d}.eml").write_bytes(raw)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(f"database:\n  url: sqlite:///{tmp_path}/vng.sqlite\n")
    open_store(f"sqlite:///{tmp_path}/vng.sqlite").dispose()         # migrations racing is not the point
    runs = [cli(config_file, "import", "-q", str(folder)) for _ in range(2)]
    outs = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, outs):
        assert run.returncode == 0, (out + err).decode()[-2000:]
    assert sum(processed(out) for out, _ in outs) == 40
    assert sum(int(re.search(rb"messages: (\d+) new", out).group(1)) for out, _ in outs) == 40
    store = open_store(f"sqlite:///{tmp_path}/vng.sqlite")
    assert_stored_once(store, messages)
    store.dispose()


def test_uid_expunged_between_search_and_fetch_is_logged_and_not_recorded(dovecot, store, monkeypatch,
                                                                          tmp_path, caplog):
    messages = generated(5)
    append(dovecot, messages)
    monkeypatch.setenv("VNG_INGEST_PAUSE_AT", f"before_fetch:{tmp_path}")
    config = imap_config(dovecot, monkeypatch)
    result = {}
    poller = threading.Thread(target=lambda: result.setdefault("outcome", poll_account(config, store)))
    with caplog.at_level(logging.WARNING, logger="ingest.imap_sync"):
        poller.start()
        wait_for(lambda: (tmp_path / "before_fetch.reached").exists())
        with connect(dovecot) as other:              # a second client expunges UID 2 meanwhile
            other.select_folder("INBOX")
            other.add_flags([2], [b"\\Deleted"])
            other.uid_expunge([2])
        (tmp_path / "before_fetch.go").touch()
        poller.join(60)
    outcome = result["outcome"]
    assert outcome.error is None and len(outcome.ingested.new) == 4
    assert "INBOX: UID 2 came back without its content" in caplog.text
    assert "Opvanglocatie" not in caplog.text and "gemeente.test" not in caplog.text   # uid only
    with store.session() as session:
        assert sorted(session.scalars(select(MailboxUid.uid))) == [1, 3, 4, 5]
        assert session.scalars(select(SyncState.last_uid).where(SyncState.folder == "INBOX")).one() == 1
    monkeypatch.delenv("VNG_INGEST_PAUSE_AT")
    again = poll_account(config, store)
    assert again.error is None and again.ingested.new == []
    assert_stored_once(store, messages[:1] + messages[2:])


def test_uid_below_the_resume_point_but_not_stored_is_fetched(dovecot, store, monkeypatch):
    """The folder's UID list is compared with what is stored, not trusted to ``last_uid``."""
    messages = generated(3)
    append(dovecot, messages)
    config = imap_config(dovecot, monkeypatch)
    assert len(poll_account(config, store).ingested.new) == 3
    with store.session() as session:               # as an old poll that skipped UIDs 2 and 3 left it
        session.execute(MailboxUid.__table__.delete().where(MailboxUid.uid >= 2))
        session.execute(Message.__table__.delete().where(Message.uid >= 2))
    outcome = poll_account(config, store)
    assert outcome.error is None and len(outcome.ingested.new) == 2
    assert_stored_once(store, messages)


def test_batches_are_bounded_by_bytes_and_a_big_message_goes_alone(dovecot, tmp_path):
    small, big = generated(4, size=30_000, tag="small"), generated(1, size=200_000, tag="big")
    messages = small[:2] + big + small[2:]
    append(dovecot, messages)
    config_file = write_config(tmp_path, dovecot.port, batch_size=100, batch_bytes=100_000)
    env = dict(os.environ, VNG_TEST_IMAP_PASSWORD=PASSWORD, PYTHONPATH=str(ROOT))
    for expected in (2, 3, 5):                     # [small, small], [big], [small, small]
        crashed = subprocess.run([sys.executable, "-c", POLL, str(config_file)], cwd=ROOT, timeout=120,
                                 capture_output=True, env=dict(env, VNG_INGEST_CRASH_AT="after_commit"))
        assert crashed.returncode == 70, crashed.stderr.decode()[-2000:]
        store = open_store(load_config(config_file).database.url)
        assert stored(store) == expected
        store.dispose()
    from ingest.imap_sync import byte_batches
    assert list(byte_batches([1, 2, 3], {1: 10, 2: 500, 3: 10}, 100, 100)) == [[1], [2], [3]]
    assert list(byte_batches([1, 2, 3, 4], {n: 10 for n in range(5)}, 3, 100)) == [[1, 2, 3], [4]]


def test_slow_extraction_never_delays_after_actions_or_the_next_poll(dovecot, store, monkeypatch, tmp_path):
    from vng_ingest.scheduler import run_scheduler
    first = generated(2, tag="first")
    append(dovecot, first)
    monkeypatch.setenv("VNG_INGEST_PAUSE_AT", f"extract:{tmp_path}")     # extraction hangs until "go"
    config = imap_config(dovecot, monkeypatch, idle=True, after_action="move")
    config.poll.interval_minutes = 60
    stop = threading.Event()
    runner = threading.Thread(target=run_scheduler, args=(config, store, stop))
    runner.start()
    try:
        wait_for(lambda: (tmp_path / "extract.reached").exists())
        wait_for(lambda: stored(store) == 2 and len(folder_uids(dovecot, "Verwerkt")) == 2)
        time.sleep(1.0)                             # let the IDLE watcher settle on INBOX
        later = generated(3, tag="later")
        append(dovecot, later)
        wait_for(lambda: stored(store) == 5 and len(folder_uids(dovecot, "Verwerkt")) == 5)
        assert extracted(store) == 0                # all moved while the extraction still hangs
        (tmp_path / "extract.go").touch()
        wait_for(lambda: extracted(store) == 5)
    finally:
        (tmp_path / "extract.go").touch()
        stop.set()
        runner.join(60)
    assert not runner.is_alive()
    assert_stored_once(store, first + later)


def test_wrong_password_backs_off_growing_and_names_the_real_command(dovecot, store, monkeypatch):
    config = imap_config(dovecot, monkeypatch)      # interval 5 minutes, capped at 60
    monkeypatch.setenv("VNG_TEST_IMAP_PASSWORD", "fout")
    waits = []
    for _ in range(6):
        outcome = poll_account(config, store)
        assert outcome.error.startswith("login: the server refused the login")
        with store.session() as session:
            row = session.scalars(select(SyncState).where(SyncState.folder == ACCOUNT_ROW)).one()
            last = row.last_poll_at
            assert row.disabled_reason
        waits.append(round((next_poll_at(store, config.source.name, config.poll)
                            - last.replace(tzinfo=next_poll_at(store, config.source.name, config.poll).tzinfo))
                           .total_seconds() / 60))
        blocked = poll_account(config, store)
        assert "`vng-ingest enable-account`" in blocked.error and "enable_account" not in blocked.error
        with store.session() as session:             # let the wait pass
            session.execute(update(SyncState).where(SyncState.folder == ACCOUNT_ROW)
                            .values(last_poll_at=last - timedelta(hours=2)))
    assert waits == [5, 10, 20, 40, 60, 60]


def test_sign_in_outage_is_not_a_wrong_secret(oauth_dovecot, store, monkeypatch):
    server, endpoint = oauth_dovecot
    monkeypatch.setenv("VNG_TEST_TOKEN", "good-token")
    messages = generated(2)
    append(server, messages)
    config = imap_config(server, monkeypatch, auth="xoauth2", oauth={"token": {"env": "VNG_TEST_TOKEN"}})
    endpoint.down = True
    outage = poll_account(config, store)
    assert outage.error and outage.error.startswith("outage:"), outage.error
    with store.session() as session:
        row = session.scalars(select(SyncState).where(SyncState.folder == ACCOUNT_ROW)).one()
        assert row.disabled_reason is None and row.failures == 1
    assert next_poll_at(store, config.source.name, config.poll) is not None     # backs off
    endpoint.down = False
    monkeypatch.setenv("VNG_TEST_TOKEN", "expired-token")
    with store.session() as session:
        session.execute(update(SyncState).where(SyncState.folder == ACCOUNT_ROW).values(failures=0))
    refused = poll_account(config, store)
    assert refused.error.startswith("login:")
    with store.session() as session:
        assert session.scalars(select(SyncState.disabled_reason)
                               .where(SyncState.folder == ACCOUNT_ROW)).one()


def test_a_database_refusal_is_named_database_not_network(dovecot, tmp_path, monkeypatch):
    db = tmp_path / "vng.sqlite"
    store = open_store(f"sqlite:///{db}")
    with sqlite3.connect(db) as raw:                # the database itself refuses new messages
        raw.execute("CREATE TRIGGER refuse BEFORE INSERT ON messages BEGIN "
                    "SELECT RAISE(ABORT, 'disk quota reached'); END")
    append(dovecot, generated(2))
    outcome = poll_account(imap_config(dovecot, monkeypatch), store)
    assert outcome.error.startswith("database: 2 message(s) could not be stored (IntegrityError")
    assert folder_uids(dovecot, "INBOX") == [1, 2]
    store.dispose()
