"""The pipeline: a person's re-classification survives reprocessing."""

from pathlib import Path

from sqlalchemy import select

from store import open_store
from store.schema import Message, OfferRow, ReviewState
from vng_ingest.models import RawMessage
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
