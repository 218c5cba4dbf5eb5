"""The pipeline: a person's re-classification survives reprocessing."""

from pathlib import Path

from sqlalchemy import select

from store import open_store
from store.schema import Message, OfferRow, ReviewState
from vng_ingest.models import Kind, RawMessage
from vng_ingest.pipeline import ingest, process, reprocess_ids

SAMPLES = Path(__file__).resolve().parents[1] / "vng_ingest" / "samples" / "mailbox"


def test_reprocess_keeps_a_reviewed_kind(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    raw = (SAMPLES / "s07.eml").read_bytes()          # a cost question: triage says "other"
    [pk] = ingest(store, [RawMessage(raw=raw, source="test")]).new
    process(store, [pk])
    with store.session() as session:
        message = session.get(Message, pk)
        assert message.kind == "other"
        message.kind, message.kind_reviewed_by = "auto_reply", "kcc1"
    process(store, reprocess_ids(store))
    with store.session() as session:
        message = session.get(Message, pk)
        assert (message.kind, message.kind_reviewed_by) == ("auto_reply", "kcc1")
        live = session.scalars(select(OfferRow).where(OfferRow.message_pk == pk,
                                                      OfferRow.review_state != ReviewState.SUPERSEDED)).all()
        assert live == []


# --- budgets: one message never holds the others ------------------------------------------

import os
import signal
import subprocess
import sys
import time

from vng_ingest.pipeline import MAX_ATTEMPTS
from vng_ingest.reader import Budget, Reader, read_message

ROOT = Path(__file__).resolve().parents[1]


def hanging_read(raw: bytes, kind=None):
    """The real read, except that a message starting with HANG never finishes."""
    if raw.startswith(b"HANG"):
        time.sleep(120)
    return read_message(raw, kind)


def program_killing_read(raw: bytes, kind=None):
    """The real read, except that a message starting with KILL takes the whole program down
    (as the kernel's out-of-memory killer would)."""
    if raw.startswith(b"KILL"):
        os.kill(os.getppid(), signal.SIGKILL)
        os._exit(0)
    return read_message(raw, kind)


def _ingest_samples(store, *raws):
    return ingest(store, [RawMessage(raw=raw, source="test") for raw in raws]).new


def test_a_message_that_hangs_fails_with_its_reason_and_the_queue_moves_on(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    first, hang, last = _ingest_samples(store, (SAMPLES / "s01.eml").read_bytes(), b"HANG\n\nx",
                                        (SAMPLES / "s02.eml").read_bytes())
    reader = Reader(Budget(seconds=2), read=hanging_read)
    try:
        started = time.monotonic()
        result = process(store, reader=reader)
        assert time.monotonic() - started < 60
    finally:
        reader.close()
    assert (result.processed, result.failed) == (3, 1)
    with store.session() as session:
        assert session.get(Message, first).state == session.get(Message, last).state == "extracted"
        stuck = session.get(Message, hang)
        assert stuck.state == "failed"
        assert [p["code"] for p in stuck.problems] == ["too_slow"]
        assert "seconden" in stuck.problems[0]["text"]


KILLING_RUN = """
import sys
from store import open_store
from tests.test_pipeline import program_killing_read
from vng_ingest.pipeline import process
from vng_ingest.reader import Reader
process(open_store(sys.argv[1]), reader=Reader(read=program_killing_read))
"""


def test_a_message_that_kills_the_program_is_not_read_first_for_ever(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = open_store(url)
    killer, good = _ingest_samples(store, b"KILL\n\nx", (SAMPLES / "s01.eml").read_bytes())
    runs = []
    for _ in range(MAX_ATTEMPTS + 1):
        done = subprocess.run([sys.executable, "-c", KILLING_RUN, url], cwd=ROOT, capture_output=True, timeout=120)
        runs.append(done.returncode)
    assert runs[:MAX_ATTEMPTS] == [-signal.SIGKILL] * MAX_ATTEMPTS     # the killer was read first each time
    assert runs[-1] == 0
    with store.session() as session:
        failed = session.get(Message, killer)
        assert failed.state == "failed" and [p["code"] for p in failed.problems] == ["interrupted"]
        assert session.get(Message, good).state == "extracted"


def test_reprocess_leaves_messages_whose_bytes_were_erased(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    [pk] = _ingest_samples(store, (SAMPLES / "s02.eml").read_bytes())
    process(store, [pk])
    with store.session() as session:
        message = session.get(Message, pk)
        kind = message.kind
        live = session.scalars(select(OfferRow.id).where(OfferRow.message_pk == pk,
                                                         OfferRow.review_state != ReviewState.SUPERSEDED)).all()
        message.raw, message.size, message.parsed = b"", 0, None     # what retention does
    assert live
    process(store, reprocess_ids(store))
    with store.session() as session:
        assert session.get(Message, pk).kind == kind
        assert session.scalars(select(OfferRow.id).where(OfferRow.message_pk == pk,
                               OfferRow.review_state != ReviewState.SUPERSEDED)).all() == live


def test_reprocess_keeps_the_kind_of_a_message_whose_offer_a_person_approved(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    [pk] = _ingest_samples(store, (SAMPLES / "s02.eml").read_bytes())
    process(store, [pk])
    with store.session() as session:
        message = session.get(Message, pk)
        assert message.kind == "offer"
        message.kind = "third_party_offer"          # as a person saw it, when approving its offer
        row = session.scalars(select(OfferRow).where(OfferRow.message_pk == pk)).first()
        row.review_state, row.reviewed_by = ReviewState.APPROVED, "kcc1"
    process(store, reprocess_ids(store))
    with store.session() as session:
        assert session.get(Message, pk).kind == "third_party_offer"
        assert session.get(OfferRow, row.id).review_state == ReviewState.APPROVED


def test_a_message_with_thousands_of_offers_stores_the_budget_and_says_so(tmp_path):
    """A 20 MB table read as thousands of locations must not hold the store (linking each offer
    looks at the municipality's locations): the first MAX_OFFERS go to review, with a note."""
    from parsers.budgets import MAX_OFFERS
    from vng_ingest.models import Extraction, Offer

    def many_offers(raw, kind=None):
        parsed, _ = read_message(raw, kind)
        return parsed, Extraction(Kind.OFFER, offers=[Offer(location=f"Locatie {i}") for i in range(MAX_OFFERS + 50)])

    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    [pk] = _ingest_samples(store, (SAMPLES / "s02.eml").read_bytes())
    reader = Reader(read=many_offers)
    try:
        result = process(store, reader=reader)
    finally:
        reader.close()
    assert (result.offers, result.needs_review) == (MAX_OFFERS, MAX_OFFERS)
    with store.session() as session:
        assert [p["code"] for p in session.get(Message, pk).problems] == ["truncated"]
