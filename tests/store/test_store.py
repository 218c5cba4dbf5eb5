"""The store on both SQLite and PostgreSQL: schema, raw messages stored once, offers and locations."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from store import open_store
from store.db import alembic_config, migrate
from store.messages import store_raw
from store.offers import location_states, replace_offers
from store.schema import AuditEntry, Base, Location, MailboxUid, Message, OfferRow, ReviewState
from vng_ingest.models import Contact, Offer, RawMessage

SENT = datetime(2022, 3, 3, 9, 30, tzinfo=timezone.utc)


def eml(message_id: str = "<abc123@gemeente.example.nl>", body: str = "We bieden 40 plaatsen aan.",
        received: str = "from mx1.example.nl by mail.vng.nl; Thu, 3 Mar 2022 10:00:00 +0100") -> bytes:
    return (f"Received: {received}\r\n"
            f"Message-ID: {message_id}\r\n"
            "From: Gemeente Voorbeeld <info@gemeente.example.nl>\r\n"
            "To: info@vng.nl\r\n"
            "Subject: Opvanglocatie\r\n"
            "Date: Thu, 3 Mar 2022 10:30:00 +0100\r\n"
            "\r\n"
            f"{body}\r\n").encode()


def raw_message(raw: bytes, **where) -> RawMessage:
    return RawMessage(raw=raw, source=where.pop("source", "test"), **where)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- schema ---------------------------------------------------------------------------------------

def test_migrations_bring_empty_db_to_head_and_are_idempotent(store_url):
    first = open_store(store_url)
    try:
        migrate(first.engine)            # a second upgrade changes nothing and does not fail
        second = open_store(store_url)   # nor does opening the store again
        second.dispose()
        head = ScriptDirectory.from_config(alembic_config(store_url)).get_current_head()
        with first.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_revision() == head
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"schema.py and the migrations disagree: {diff}"
        tables = set(inspect(first.engine).get_table_names())
        assert {"messages", "offers", "locations", "audit_log", "mailbox_uids"} <= tables
    finally:
        first.dispose()



def test_upgrade_from_first_migration_keeps_stored_messages(store_url):
    """A database made by an older release is upgraded in place, its raw mail untouched."""
    from alembic import command
    from sqlalchemy import text
    from store.db import make_engine
    raw = eml() + b"\x00\xff"
    engine = make_engine(store_url)
    try:
        cfg = alembic_config(store_url)
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "0001")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO messages (sha256, body_sha256, source, received_at, raw, size, state, uid) "
                "VALUES (:sha, :sha, 'test', :at, :raw, :size, 'new', 7)"),
                {"sha": hashlib.sha256(raw).hexdigest(), "at": SENT, "raw": raw, "size": len(raw)})
        migrate(engine)
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == \
                ScriptDirectory.from_config(cfg).get_current_head()
            row = connection.execute(text("SELECT raw, uid FROM messages")).one()
        assert (bytes(row.raw), row.uid) == (raw, 7)
    finally:
        engine.dispose()

# --- raw messages ---------------------------------------------------------------------------------

def test_store_raw_keeps_exact_bytes_and_sha256(store):
    raw = eml()
    with store.session() as session:
        stored = store_raw(session, raw_message(raw))
    assert stored.created
    with store.session() as session:
        row = session.get(Message, stored.pk)
        assert bytes(row.raw) == raw
        assert row.sha256 == hashlib.sha256(raw).hexdigest()
        assert row.size == len(raw)
        assert row.message_id == "abc123@gemeente.example.nl"


def test_same_bytes_twice_is_one_row(store):
    raw = eml()
    with store.session() as session:
        first = store_raw(session, raw_message(raw))
    with store.session() as session:
        second = store_raw(session, raw_message(raw))
    assert (first.created, second.created) == (True, False)
    assert second.pk == first.pk
    with store.session() as session:
        assert count(session, Message) == 1


def test_same_message_id_and_body_with_other_received_headers_is_one_row(store):
    relayed = [eml(received="from mx1.example.nl by mail.vng.nl; Thu, 3 Mar 2022 10:00:00 +0100"),
               eml(received="from mx2.other.nl by backup.vng.nl; Thu, 3 Mar 2022 11:12:13 +0100")]
    assert relayed[0] != relayed[1]
    with store.session() as session:
        results = [store_raw(session, raw_message(raw)) for raw in relayed]
    assert [r.created for r in results] == [True, False]
    with store.session() as session:
        assert count(session, Message) == 1


def test_same_message_id_with_other_body_is_two_rows(store):
    with store.session() as session:
        a = store_raw(session, raw_message(eml(body="We bieden 40 plaatsen aan.")))
        b = store_raw(session, raw_message(eml(body="Correctie: het zijn 30 plaatsen.")))
    assert a.created and b.created and a.pk != b.pk
    with store.session() as session:
        assert count(session, Message) == 2


def test_mailbox_uids_are_recorded_also_for_duplicates(store):
    raw = eml()
    # UIDVALIDITY and UID are 32-bit unsigned in IMAP: the largest must fit on both databases.
    seen = [("INBOX", 1646300000, 7), ("Verwerkt", 4294967295, 4294967295)]
    with store.session() as session:
        results = [store_raw(session, raw_message(raw, source="imap:info@vng.nl", folder=folder,
                                                  uidvalidity=validity, uid=uid))
                   for folder, validity, uid in seen]
    with store.session() as session:
        store_raw(session, raw_message(raw, source="imap:info@vng.nl", folder="INBOX",
                                       uidvalidity=1646300000, uid=7))   # seen again: no new row
    assert results[0].pk == results[1].pk
    with store.session() as session:
        uids = session.scalars(select(MailboxUid).order_by(MailboxUid.folder)).all()
        assert [(u.folder, u.uidvalidity, u.uid, u.message_pk) for u in uids] == [
            (folder, validity, uid, results[0].pk) for folder, validity, uid in seen]
        assert count(session, Message) == 1


def test_nul_and_8bit_bytes_round_trip(store):
    raw = eml(body="x") + bytes(range(256)) + b"\x00\x00\xff\r\n"
    with store.session() as session:
        pk = store_raw(session, raw_message(raw)).pk
    with store.session() as session:
        assert bytes(session.get(Message, pk).raw) == raw
    if store.engine.dialect.name == "postgresql":
        columns = {c["name"]: c["type"] for c in inspect(store.engine).get_columns("messages")}
        assert columns["raw"].__visit_name__.upper() == "BYTEA"


# --- offers and locations ------------------------------------------------------------------------

def offer(places: int | None = 40, status: str = "available", needs_review: bool = False) -> Offer:
    return Offer(municipality="Voorbeeld", municipality_code="GM9999", location="Sporthal De Brug",
                 address="Brugweg 1", place="Voorbeeld", available_from="2022-03-07",
                 available_until="2022-06-30", places=places, status=status,
                 contact=Contact(name="J. Jansen", phone="0612345678"),
                 confidence={"places": 0.9}, needs_review=needs_review)


def stored_message(store, body: str, sent_at: datetime) -> int:
    with store.session() as session:
        pk = store_raw(session, raw_message(eml(message_id=f"<{hashlib.md5(body.encode()).hexdigest()}@x.nl>", body=body))).pk
        session.get(Message, pk).sent_at = sent_at
    return pk


def extract_into(store, pk: int, offers: list[Offer], version: str = "1") -> list[int]:
    with store.session() as session:
        rows = replace_offers(session, session.get(Message, pk), offers, version)
        return [row.id for row in rows]


def test_offer_then_withdrawal_fold_into_one_withdrawn_location(store):
    first = stored_message(store, "aanbod", SENT)
    later = stored_message(store, "intrekking", SENT + timedelta(days=5))
    [offer_id] = extract_into(store, first, [offer(places=40)])
    [withdrawal_id] = extract_into(store, later, [offer(places=None, status="withdrawn")])
    with store.session() as session:
        states = location_states(session)
        assert count(session, Location) == 1
    assert len(states) == 1
    state = states[0]
    assert state.values["status"] == "withdrawn"
    assert state.values["places"] == 40          # kept from the first offer: the withdrawal named none
    assert state.history == [offer_id, withdrawal_id]


def test_reprocess_supersedes_machine_offers_but_keeps_human_review(store):
    pk = stored_message(store, "aanbod", SENT)
    [old_id] = extract_into(store, pk, [offer(places=40, needs_review=True)], version="1")
    [new_id] = extract_into(store, pk, [offer(places=45, needs_review=True)], version="2")
    with store.session() as session:
        assert session.get(OfferRow, old_id).review_state == ReviewState.SUPERSEDED
        row = session.get(OfferRow, new_id)
        row.review_state, row.places, row.reviewed_by = ReviewState.CORRECTED, 50, "kcc1"
    assert extract_into(store, pk, [offer(places=60)], version="3") == []
    with store.session() as session:
        assert count(session, OfferRow) == 2
        kept = session.get(OfferRow, new_id)
        assert (kept.review_state, kept.places) == (ReviewState.CORRECTED, 50)
        [state] = location_states(session)
        assert state.values["places"] == 50


def test_extraction_writes_audit_rows(store):
    pk = stored_message(store, "aanbod", SENT)
    ids = extract_into(store, pk, [offer(), offer(places=10)], version="7")
    with store.session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor, e.action, e.entity, e.entity_id) for e in entries] == [
        ("system", "extracted", "offer", offer_id) for offer_id in ids]
    assert all("extractor 7" in e.new and e.at is not None for e in entries)


def test_stale_offer_update_raises(store):
    pk = stored_message(store, "aanbod", SENT)
    [offer_id] = extract_into(store, pk, [offer()])
    with Session(store.engine) as alice, Session(store.engine) as bob:
        mine, theirs = alice.get(OfferRow, offer_id), bob.get(OfferRow, offer_id)
        start = mine.version
        assert theirs.version == start
        mine.places = 41
        alice.commit()
        theirs.places = 42
        with pytest.raises(StaleDataError):
            bob.commit()
        bob.rollback()
    with store.session() as session:
        row = session.get(OfferRow, offer_id)
        assert (row.places, row.version) == (41, start + 1)
