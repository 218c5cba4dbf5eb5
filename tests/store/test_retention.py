"""Retention: personal data older than the configured days is erased, the rest stays."""

import hashlib
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from store.messages import store_raw
from store.offers import replace_offers
from store.retention import Purged, RetentionError, purge, purge_personal_data
from store.schema import AuditEntry, Base, Message, OfferRow, Report, ReviewState
from vng_ingest.models import Contact, Offer, RawMessage

NOW = datetime(2023, 6, 1, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]


def add(store, body: str, received: datetime) -> int:
    raw = f"Message-ID: <{body}@x>\r\nSubject: s\r\n\r\n{body}\r\n".encode()
    with store.session() as session:
        pk = store_raw(session, RawMessage(raw=raw, source="test", received_at=received)).pk
        message = session.get(Message, pk)
        message.parsed = {"new_text": body}
        replace_offers(session, message, [Offer(municipality="Assen", location="School", places=40,
                                                contact=Contact("Jan Jansen", "adviseur", "+31612345678",
                                                                "j.jansen@assen.nl"))], "t")
    return pk


def test_old_personal_data_is_erased_and_the_rest_kept(store):
    old = add(store, "oud", NOW - timedelta(days=400))
    new = add(store, "nieuw", NOW - timedelta(days=10))
    with store.session() as session:
        purged = purge_personal_data(session, 365, now=NOW)
    assert (purged.messages, purged.offers) == (1, 1)
    with store.session() as session:
        gone, kept = session.get(Message, old), session.get(Message, new)
        assert (gone.raw, gone.parsed, gone.size) == (b"", None, 0) and gone.sha256
        assert kept.raw.startswith(b"Message-ID") and kept.parsed == {"new_text": "nieuw"}
        offer = session.scalars(select(OfferRow).where(OfferRow.message_pk == old)).one()
        assert (offer.contact_name, offer.contact_phone, offer.contact_email) == (None, None, None)
        assert (offer.location, offer.places) == ("School", 40)
        other = session.scalars(select(OfferRow).where(OfferRow.message_pk == new)).one()
        assert other.contact_name == "Jan Jansen"
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "retention")).one().entity_id == old
    with store.session() as session:
        assert purge_personal_data(session, 365, now=NOW).messages == 0     # nothing twice


def test_retention_off_keeps_everything(store):
    add(store, "oud", NOW - timedelta(days=4000))
    with store.session() as session:
        assert purge_personal_data(session, None, now=NOW).messages == 0


# --- everything personal goes: database file, audit log, earlier workbooks ---------------------

PLANTED_MAIL = """\
From: Gerrit Vlasblom <g.vlasblom@westerveld.nl>
To: info@vng.nl
Subject: Opvang gemeente Westerveld - Gerrit Vlasblom
Message-ID: <retentie-1@westerveld.nl>
Date: Thu, 03 Mar 2022 10:00:00 +0100
Content-Type: text/plain; charset=utf-8

Beste VNG,

De gemeente Westerveld biedt opvang in Sporthal De Koele, Hoofdstraat 12, 7991 AB Dwingeloo.
Er zijn 45 plekken beschikbaar vanaf 14 maart 2022.
Contactpersoon voor deze locatie is Wilhelmina Oosterbroek, telefoon 0641827395,
e-mail w.oosterbroek@westerveld.nl.

Met vriendelijke groet,
Gerrit Vlasblom
Gemeente Westerveld

> Van: VNG
> Onderwerp: uitvraag opvanglocaties
""" + "".join(f"> Regel {n} van de uitvraag, lang genoeg om de tekst over meer pagina's te verdelen.\n"
            for n in range(120))
#: Every form in which the old message's people could survive: sender, contact, a corrected phone.
PLANTED = ("Vlasblom", "Oosterbroek", "Wilhelmina", "41827395", "98765432")
RECEIVED = datetime(2022, 3, 3, 9, tzinfo=timezone.utc)
PURGE_AT = datetime(2023, 6, 1, tzinfo=timezone.utc)


def seed_old_mail_reviewed_and_reported(store, folder):
    """The planted mail through the real pipeline, a reviewer's phone correction, a workbook;
    plus a message within retention whose contact must stay."""
    from review.actions import review_offer
    from reports.weekly import generate_report
    from vng_ingest.config import Config, ReportConfig
    from vng_ingest.pipeline import process
    with store.session() as session:
        old = store_raw(session, RawMessage(raw=PLANTED_MAIL.encode(), source="test", received_at=RECEIVED)).pk
    process(store, [old])
    process(store, [old])        # a second extraction leaves the first one's pages free, not wiped
    with store.session() as session:
        row = session.scalars(select(OfferRow).where(OfferRow.message_pk == old,
                                                     OfferRow.review_state == ReviewState.PENDING)).one()
        assert row.contact_name == "Wilhelmina Oosterbroek"      # the extractor found the contact
        values = {c: getattr(row, c) for c in ("municipality", "location", "address", "postcode", "place",
                                               "available_from", "available_until", "places", "places_max",
                                               "status", "contact_name", "contact_role", "contact_email")}
        review_offer(session, row, "anna", row.version, "approve", {**values, "contact_phone": "+31698765432"})
    recent = add(store, "recent", PURGE_AT - timedelta(days=10))
    with store.session() as session:
        session.get(Message, recent).offers[0].contact_name = "Klaasje Hendriksma"
    report = generate_report(Config(report=ReportConfig(folder=folder)), store,
                             now=datetime(2023, 5, 29, 7, tzinfo=timezone.utc))
    assert b"Oosterbroek" in workbook_text(report) and b"Hendriksma" in workbook_text(report)
    return old, report


def workbook_text(path) -> bytes:
    """All XML of a workbook, unzipped (the file itself is deflated: grepping it proves nothing)."""
    from zipfile import ZipFile
    with ZipFile(path) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def database_bytes(url: str) -> bytes:
    path = Path(url[len("sqlite:///"):])
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))   # with -wal, -shm


def check_erased(store, old, report):
    with store.session() as session:
        message = session.get(Message, old)
        assert (message.raw, message.parsed, message.subject, message.from_addr) == (b"", None, None,
                                                                                     "@westerveld.nl")
        assert message.sha256 and message.message_id == "retentie-1@westerveld.nl"
        offers = session.scalars(select(OfferRow).where(OfferRow.message_pk == old)).all()
        assert [(o.contact_name, o.contact_phone, o.evidence) for o in offers] == [(None, None, {})] * 2
        offer = next(o for o in offers if o.review_state == ReviewState.CORRECTED)
        assert (offer.location, offer.places) == ("Sporthal De Koele", 45)
        corrected = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == offer.id,
                                                             AuditEntry.field == "contact_phone")).one()
        assert (corrected.actor, corrected.action, corrected.old, corrected.new) == ("anna", "correct",
                                                                                     "gewist", "gewist")
        row = session.scalars(select(Report)).one()
        assert row.sha256 == hashlib.sha256(report.read_bytes()).hexdigest()
    text = workbook_text(report)
    for planted in PLANTED:
        assert planted.encode() not in text, planted
    assert b"Sporthal De Koele" in text and b"Hendriksma" in text


def test_purge_leaves_nothing_of_the_people_in_the_sqlite_file_or_earlier_workbooks(fresh_sqlite_url, tmp_path):
    from store import open_store
    store = open_store(fresh_sqlite_url)
    old, report = seed_old_mail_reviewed_and_reported(store, tmp_path / "reports")
    assert all(p.encode() in database_bytes(fresh_sqlite_url) for p in PLANTED)
    purged = purge(store, 365, now=PURGE_AT)
    assert (purged.messages, purged.senders, purged.offers, purged.workbooks) == (1, 1, 2, 1)
    assert purged.audit_values >= 1
    check_erased(store, old, report)
    store.dispose()
    on_disk = database_bytes(fresh_sqlite_url)
    for planted in PLANTED:
        assert planted.encode() not in on_disk, planted
    assert b"Hendriksma" in on_disk and b"Sporthal De Koele" in on_disk   # the search does find what stays
    assert purge(open_store(fresh_sqlite_url), 365, now=PURGE_AT) == Purged()   # nothing twice


def test_purge_on_postgresql_leaves_nothing_in_any_table(fresh_pg_url, tmp_path):
    from store import open_store
    store = open_store(fresh_pg_url)
    old, report = seed_old_mail_reviewed_and_reported(store, tmp_path / "reports")
    purge(store, 365, now=PURGE_AT)
    check_erased(store, old, report)
    with store.engine.connect() as connection:
        tables = [t for t in Base.metadata.tables if t != "users"]
        rows = "\n".join(str(value) for table in tables
                         for value in connection.execute(text(f"SELECT CAST(t AS text) FROM {table} t")).scalars())
    assert "Hendriksma" in rows
    for planted in PLANTED:
        assert planted not in rows and planted.encode().hex() not in rows, planted
    store.dispose()


def test_negative_days_are_refused(store):
    add(store, "oud", NOW - timedelta(days=400))
    with pytest.raises(RetentionError), store.session() as session:
        purge_personal_data(session, -30, now=NOW)
    with store.session() as session:
        assert session.scalars(select(Message)).one().size > 0


# --- the purge command, as an operator runs it -----------------------------------------------

def _purge_cli(tmp_path, *args: str, days: str = "365") -> subprocess.CompletedProcess:
    config = tmp_path / "config.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path / 'cli.sqlite'}\n"
                      f"retention:\n  personal_data_days: {days}\n", encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "vng_ingest.cli", "--config", str(config), "purge", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_purge_command_refuses_negative_days_in_one_line(tmp_path):
    done = _purge_cli(tmp_path, "--days", "-30")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["purge: --days must be 0 or more (got -30)"]
    assert "Traceback" not in done.stderr and "retention is off" not in done.stdout


def test_purge_command_says_what_days_zero_does_and_only_null_is_off(tmp_path):
    zero = _purge_cli(tmp_path, "--days", "0")
    assert zero.returncode == 0, zero.stderr
    assert zero.stdout.splitlines()[0] == "erasing personal data of all messages received before now"
    assert "retention is off" not in zero.stdout and "erased: 0 messages" in zero.stdout
    off = _purge_cli(tmp_path, days="null")
    assert off.returncode == 0 and off.stdout.startswith("retention is off")
