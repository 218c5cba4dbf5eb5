"""Retention: personal data older than the configured days is erased, the rest stays."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from store.messages import store_raw
from store.offers import replace_offers
from store.retention import purge_personal_data
from store.schema import AuditEntry, Message, OfferRow
from vng_ingest.models import Contact, Offer, RawMessage

NOW = datetime(2023, 6, 1, tzinfo=timezone.utc)


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
