"""The store survives kills, races, upgrades and bad rows: real SQLite files, the real PostgreSQL
fixture and real subprocesses (killed with SIGKILL, or started together)."""

from __future__ import annotations

import hashlib
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from store import StoreError, open_store
from store.db import alembic_config, head_revision, make_engine, migrate
from store.messages import fit_columns, store_raw, store_raw_many
from store.schema import Base, MailboxUid, Message
from vng_ingest.models import RawMessage

ROOT = Path(__file__).resolve().parents[2]
SENT = datetime(2022, 3, 3, 9, 30, tzinfo=timezone.utc)


def mail(n: int, body: str = "We bieden 40 plaatsen aan.", message_id: str | None = None,
         sender: str = "Gemeente Voorbeeld <info@gemeente.example.nl>") -> bytes:
    message_id = message_id if message_id is not None else f"<m{n}@gemeente.example.nl>"
    return (f"Message-ID: {message_id}\r\nFrom: {sender}\r\nTo: info@vng.nl\r\nSubject: Opvang {n}\r\n\r\n"
            f"{body} ({n})\r\n").encode()


def imap_copy(raw: bytes, uid: int, source: str = "imap:info@vng.nl") -> RawMessage:
    return RawMessage(raw=raw, source=source, folder="INBOX", uidvalidity=1646300000, uid=uid)


def count(store, model) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def assert_at_head(url: str) -> None:
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_revision() == head_revision()
            assert compare_metadata(context, Base.metadata) == []
        with store.session() as session:          # and it takes mail
            assert store_raw(session, imap_copy(mail(1), 1)).pk
    finally:
        store.dispose()


def spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_ready(process: subprocess.Popen) -> None:
    line = process.stdout.readline()
    assert line.strip() == "ready", process.stderr.read()


# --- kill -9 while a new store is being created -----------------------------------------------------

CREATE = ("import sys\nfrom store import open_store\nprint('ready', flush=True)\n"
          "open_store(sys.argv[1]).dispose()\nprint('done', flush=True)\n")


def sqlite_state(path: Path) -> str:
    """What a killed process left: no tables, the schema at head, or anything in between."""
    if not path.exists():
        return "empty"
    with sqlite3.connect(path) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return "empty"
        if "alembic_version" in tables and connection.execute(
                "SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]:
            return "head"
    return "partial"


def test_kill_9_while_creating_a_store_never_leaves_it_unusable(tmp_path):
    scratch = tmp_path / "timing.sqlite"
    process = spawn(CREATE, f"sqlite:///{scratch}")
    wait_ready(process)
    started = time.monotonic()
    assert process.stdout.readline().strip() == "done"
    creation = time.monotonic() - started
    assert process.wait() == 0
    rng = random.Random(20220301)
    seen = {"empty": 0, "partial": 0, "head": 0}
    killed_while_running = 0
    for round_ in range(12):
        path = tmp_path / f"kill-{round_}.sqlite"
        process = spawn(CREATE, f"sqlite:///{path}")
        wait_ready(process)
        time.sleep(rng.uniform(0, creation * 1.1))
        killed_while_running += process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close(), process.stderr.close()
        seen[sqlite_state(path)] += 1
        assert_at_head(f"sqlite:///{path}")
    print(f"creation {creation:.3f}s; 12 kills, {killed_while_running} while running; left: {seen}")
    assert killed_while_running >= 6            # the campaign really hit the creation
    assert seen["partial"] == 0                 # atomic: nothing or everything


# --- first starts at once ---------------------------------------------------------------------------

OPEN_AT_GO = ("import sys, os, time\nfrom store import open_store\nprint('ready', flush=True)\n"
              "while not os.path.exists(sys.argv[2]): time.sleep(0.001)\n"
              "open_store(sys.argv[1]).dispose()\n")


def run_together(code: str, count_: int, go: Path, *args: str) -> list[tuple[int, str]]:
    processes = [spawn(code, *args, str(go)) for _ in range(count_)]
    for process in processes:
        wait_ready(process)
    go.touch()
    done = [(process.wait(timeout=120), process.stderr.read()) for process in processes]
    for process in processes:
        process.stdout.close(), process.stderr.close()
    go.unlink()
    return done


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path, store_url):
    if store_url.startswith("sqlite"):
        urls = [f"sqlite:///{tmp_path / f'race-{n}.sqlite'}" for n in range(3)]
    else:
        urls = [store_url]
    for url in urls:
        done = run_together(OPEN_AT_GO, 3, tmp_path / "go", url)
        assert [rc for rc, _ in done] == [0, 0, 0], [err.strip().splitlines()[-1:] for _, err in done]
        assert_at_head(url)


# --- stores left half-created by older versions -------------------------------------------------------

def store_at_first_revision(url: str):
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
    return engine


def test_half_created_store_without_data_is_created_afresh(fresh_sqlite_url):
    engine = store_at_first_revision(fresh_sqlite_url)
    with engine.begin() as connection:     # as an old version killed half-way left it
        for table in ("offers", "mailbox_uids", "alembic_version"):
            connection.exec_driver_sql(f"DROP TABLE {table}")
    engine.dispose()
    assert_at_head(fresh_sqlite_url)


def test_first_schema_without_version_but_with_data_is_stamped_and_upgraded(fresh_sqlite_url):
    engine = store_at_first_revision(fresh_sqlite_url)
    raw = mail(7) + b"\x00\xff"
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM alembic_version")
        connection.execute(text("INSERT INTO messages (sha256, body_sha256, source, received_at, raw, size, state) "
                                "VALUES (:sha, :sha, 'test', :at, :raw, :size, 'new')"),
                           {"sha": hashlib.sha256(raw).hexdigest(), "at": SENT, "raw": raw, "size": len(raw)})
    engine.dispose()
    assert_at_head(fresh_sqlite_url)
    store = open_store(fresh_sqlite_url)
    with store.session() as session:
        assert bytes(session.scalars(select(Message.raw).order_by(Message.id)).first()) == raw
    store.dispose()


def test_unknown_tables_without_version_are_one_clear_error(fresh_sqlite_url):
    engine = make_engine(fresh_sqlite_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE audit_log (id INTEGER PRIMARY KEY, note TEXT)")
        connection.exec_driver_sql("INSERT INTO audit_log (note) VALUES ('someone else''s data')")
    engine.dispose()
    with pytest.raises(StoreError) as raised:
        open_store(fresh_sqlite_url)
    message = str(raised.value)
    assert "\n" not in message and "alembic_version" in message
    with sqlite3.connect(fresh_sqlite_url[len("sqlite:///"):]) as connection:    # and nothing was touched
        assert connection.execute("SELECT note FROM audit_log").fetchall() == [("someone else's data",)]


# --- upgrading a populated store ---------------------------------------------------------------------

def populate_first_revision(connection) -> None:
    """Realistic rows in every table of revision 0001."""
    tables = MetaData()
    tables.reflect(connection)
    t = tables.tables
    raws = [mail(n) + b"\x00\xff\xfe" for n in range(3)]
    connection.execute(insert(t["messages"]), [dict(
        id=n + 1, sha256=hashlib.sha256(raw).hexdigest(), body_sha256=hashlib.sha256(raw[-20:]).hexdigest(),
        message_id=f"m{n}@gemeente.example.nl", source="imap:info@vng.nl", folder="INBOX", uidvalidity=1646300000,
        uid=2147483647 - n, received_at=SENT, raw=raw, size=len(raw), state="extracted", kind="offer",
        kind_confidence=0.9, subject=f"Opvang {n}", from_addr="info@gemeente.example.nl", sent_at=SENT,
        parsed={"new_text": "We bieden 40 plaatsen aan.", "attachments": []}, extractor_version="1",
        processed_at=SENT) for n, raw in enumerate(raws)])
    connection.execute(insert(t["locations"]), [dict(id=1, municipality_code="GM9999", municipality="Voorbeeld",
                                                     name="Sporthal", address="Brugweg 1", current_offer_id=2,
                                                     created_at=SENT, updated_at=SENT)])
    connection.execute(insert(t["offers"]), [dict(
        id=n + 1, message_pk=n + 1, position=0, location_id=1, municipality="Voorbeeld", municipality_code="GM9999",
        location="Sporthal", address="Brugweg 1", postcode="1234 AB", place="Voorbeeld", available_from="2022-03-07",
        places=40 + n, status="available", contact_name="J. Jansen", contact_phone="0612345678",
        confidence={"places": 0.9}, evidence={"places": [0, 2]}, needs_review=False, review_state="approved",
        extractor_version="1", version=1, created_at=SENT, updated_at=SENT) for n in range(2)])
    connection.execute(insert(t["mailbox_uids"]), [dict(
        id=n + 1, account="imap:info@vng.nl", folder="INBOX", uidvalidity=1646300000, uid=2147483647 - n,
        message_pk=n + 1, after_action_done=n == 0) for n in range(3)])
    connection.execute(insert(t["audit_log"]), [dict(id=1, at=SENT, actor="kcc1", action="corrected",
                                                     entity="offer", entity_id=1, field="places", old="40", new="41")])
    connection.execute(insert(t["sync_state"]), [dict(id=1, account="imap:info@vng.nl", folder="INBOX",
                                                      uidvalidity=1646300000, last_uid=2147483647, failures=0)])
    connection.execute(insert(t["reports"]), [dict(id=1, generated_at=SENT, path="r.xlsx", locations=1, places=41,
                                                   snapshot={"1": {"places": 41}})])
    connection.execute(insert(t["users"]), [dict(id=1, username="kcc1", password_hash="x", role="kcc", active=True,
                                                 created_at=SENT)])
    connection.execute(insert(t["locks"]), [dict(name="poll", holder="host:1", acquired_at=SENT, expires_at=SENT)])
    if connection.dialect.name == "postgresql":      # the rows above were given their ids
        for name in ("messages", "locations", "offers", "mailbox_uids", "audit_log", "sync_state", "reports", "users"):
            connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")


def every_row(engine) -> dict[str, list[dict]]:
    tables = MetaData()
    with engine.connect() as connection:
        tables.reflect(connection)
        return {name: [{k: bytes(v) if isinstance(v, memoryview) else v for k, v in row._mapping.items()}
                       for row in connection.execute(select(table).order_by(*table.primary_key.columns))]
                for name, table in tables.tables.items() if name != "alembic_version"}


def upgrade_keeps_every_row(url: str, leftover: bool = False) -> None:
    engine = store_at_first_revision(url)
    try:
        with engine.begin() as connection:
            populate_first_revision(connection)
        before = every_row(engine)
        if leftover:     # what an older, non-atomic upgrade left after failing half-way
            with engine.begin() as connection:
                connection.exec_driver_sql("CREATE TABLE _alembic_tmp_messages AS SELECT * FROM messages")
        migrate(engine)
        after = every_row(engine)
        assert set(after) == set(before)
        for table, rows in before.items():
            new_columns = {"messages": {"problems": None, "attempts": 0},
                           "locations": {"postcode": "1234AB", "address_key": "brugweg 1",       # 0004: keys
                                         "postcode_key": "1234AB 1", "name_key": "sporthal", "name_core": None},
                           }.get(table, {})
            assert after[table] == [{**row, **new_columns} for row in rows], table
        assert sum(len(rows) for rows in after.values()) == 14
    finally:
        engine.dispose()
    assert_at_head(url)


def test_upgrade_from_first_revision_keeps_every_row(store_url):
    upgrade_keeps_every_row(store_url)


def test_upgrade_drops_the_copy_a_failed_upgrade_left(fresh_sqlite_url):
    upgrade_keeps_every_row(fresh_sqlite_url, leftover=True)


# --- bad rows in a batch -------------------------------------------------------------------------------

def test_bad_values_do_not_block_a_batch_of_200(store):
    batch = [imap_copy(mail(n), n + 1) for n in range(200)]
    batch[10] = imap_copy(mail(10, message_id="<nul\x00in-id@gemeente.example.nl>"), 11)
    batch[20] = imap_copy(mail(20, sender="Gemeente " + "Zeer Lange Naam " * 24 + " <info@gemeente.example.nl>"), 21)
    batch[30] = imap_copy(mail(30, message_id="<" + "x" * 1200 + "@gemeente.example.nl>"), 31)
    with store.session() as session:
        results = store_raw_many(session, batch)
    assert all(r.created and not r.failed for r in results)
    assert [n["code"] for n in results[10].problems] == ["nul_removed"]
    assert [n["code"] for n in results[30].problems] == ["truncated"]
    assert not any(r.problems for n, r in enumerate(results) if n not in (10, 30))
    assert all("x" * 20 not in n["text"] for n in results[30].problems)     # notes never quote the value
    assert count(store, Message) == 200 and count(store, MailboxUid) == 200
    with store.session() as session:
        long_id = session.get(Message, results[30].pk)
        assert len(long_id.message_id) == 998 and bytes(long_id.raw) == batch[30].raw
        assert long_id.problems == results[30].problems
        assert session.get(Message, results[10].pk).message_id == "nulin-id@gemeente.example.nl"
        assert bytes(session.get(Message, results[20].pk).raw) == batch[20].raw
    with store.session() as session:       # the same batch again: all known, the long id too
        assert not any(r.created for r in store_raw_many(session, batch))


def test_fit_columns_reads_limits_from_the_table(store):
    sender = "j.jansen." + "a" * 400 + "@gemeente.example.nl"
    values, notes = fit_columns(Message, {"from_addr": sender, "subject": "Opvang\x00 Brugweg", "raw": b"\x00\xff",
                                          "size": 2})
    assert values == {"from_addr": sender[:320], "subject": "Opvang Brugweg", "raw": b"\x00\xff", "size": 2}
    assert sorted(n["code"] for n in notes) == ["nul_removed", "truncated"]
    assert not any("jansen" in n["text"] for n in notes)
    with store.session() as session:
        pk = store_raw(session, imap_copy(mail(1), 1)).pk
    with store.session() as session:       # what the pipeline writes after parsing now fits
        session.execute(update(Message).where(Message.id == pk).values(values))
    with store.session() as session:
        assert session.get(Message, pk).from_addr == sender[:320]


def reject_in_database(store, source: str) -> None:
    """A row the database refuses for a reason nobody foresaw: a trigger in the real database."""
    with store.engine.begin() as connection:
        if store.engine.dialect.name == "sqlite":
            connection.exec_driver_sql(f"CREATE TRIGGER reject BEFORE INSERT ON messages WHEN NEW.source = '{source}' "
                                       "BEGIN SELECT RAISE(ABORT, 'rejected'); END")
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION reject() RETURNS trigger AS $$ BEGIN IF NEW.source = '" + source + "' THEN "
                "RAISE EXCEPTION 'rejected'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
            connection.exec_driver_sql("CREATE TRIGGER reject BEFORE INSERT ON messages "
                                       "FOR EACH ROW EXECUTE FUNCTION reject()")


def test_a_row_the_database_refuses_fails_alone(store, caplog):
    reject_in_database(store, "imap:refused")
    batch = [imap_copy(mail(n), n + 1) for n in range(200)]
    batch[57] = imap_copy(mail(57, sender="Jan Jansen <jan.jansen@gemeente.example.nl>"), 58, source="imap:refused")
    with store.session() as session:
        results = store_raw_many(session, batch)
    assert [n for n, r in enumerate(results) if r.failed] == [57]
    assert "57" in results[57].error and "jansen" not in results[57].error.lower()
    assert all(r.created for n, r in enumerate(results) if n != 57)
    assert count(store, Message) == 199 and count(store, MailboxUid) == 199
    assert "jansen" not in caplog.text.lower() and "57" in caplog.text


def test_savepoints_stay_inside_the_session_transaction(fresh_sqlite_url):
    """pysqlite's own transaction handling would let the savepoint's RELEASE commit on its own."""
    store = open_store(fresh_sqlite_url)
    with pytest.raises(RuntimeError):
        with store.session() as session:
            with session.begin_nested():
                store_raw(session, imap_copy(mail(1), 1))
            raise RuntimeError("the caller fails after the savepoint")
    assert count(store, Message) == 0
    store.dispose()


def test_failing_insert_does_not_show_the_values(fresh_pg_url):
    store = open_store(fresh_pg_url)
    try:
        sender = "jan.jansen@gemeente.example.nl" + "x" * 400
        raw = mail(1)
        with pytest.raises(DBAPIError) as raised:
            with store.session() as session:
                session.execute(insert(Message).values(
                    sha256=hashlib.sha256(raw).hexdigest(), body_sha256="b", source="test", received_at=SENT,
                    raw=raw, size=len(raw), state="new", from_addr=sender))
        assert "jansen" not in str(raised.value) and "Opvang" not in str(raised.value)
    finally:
        store.dispose()


# --- the same messages stored by two processes at once -------------------------------------------------

STORE_AT_GO = ("import sys, os, time\nfrom store import open_store\nfrom store.messages import store_raw_many\n"
               "from tests.store.test_store_faults import imap_copy, mail\n"
               "store = open_store(sys.argv[1]); n = int(sys.argv[2])\n"
               "batch = [imap_copy(mail(n * 1000 + i, body='x' * 20000), n * 1000 + i) for i in range(200)]\n"
               "print('ready', flush=True)\n"
               "while not os.path.exists(sys.argv[3]): time.sleep(0.001)\n"
               "with store.session() as session: store_raw_many(session, batch)\n")


def test_two_processes_storing_the_same_messages_store_each_once(tmp_path, store_url):
    open_store(store_url).dispose()
    for round_ in range(4):
        done = run_together(STORE_AT_GO, 2, tmp_path / "go", store_url, str(round_))
        assert [rc for rc, _ in done] == [0, 0], [err.strip().splitlines()[-1:] for _, err in done]
    store = open_store(store_url)
    try:
        assert count(store, Message) == 800 and count(store, MailboxUid) == 800
    finally:
        store.dispose()
