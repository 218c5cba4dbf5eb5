"""Retention of personal data (AVG/GDPR): contact details are kept no longer than configured.

After ``retention.personal_data_days`` a message's raw bytes and parsed text are erased
(its sha256, Message-ID and IMAP position stay, so it is never fetched again) and its
offers lose their contact person and evidence; locations, dates and places stay for the
reports. Each erasure is written to the audit log, without the erased values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from store.audit import record as audit
from store.schema import Message, OfferRow, utcnow

ERASED_FIELDS = ("contact_name", "contact_role", "contact_phone", "contact_email")


@dataclass
class Purged:
    messages: int = 0
    offers: int = 0


def purge_personal_data(session, days: int | None, now: datetime | None = None) -> Purged:
    """Erase personal data of messages received more than ``days`` ago (None keeps everything)."""
    result = Purged()
    if days is None:
        return result
    cutoff = (now or utcnow()) - timedelta(days=days)
    old = session.scalars(select(Message).where(Message.received_at < cutoff, Message.size > 0))
    for message in old:
        message.raw, message.size, message.parsed = b"", 0, None
        result.messages += 1
        audit(session, "system", "retention", "message", message.id, new="persoonsgegevens gewist")
        for offer in session.scalars(select(OfferRow).where(OfferRow.message_pk == message.id)):
            for name in ERASED_FIELDS:
                setattr(offer, name, None)
            offer.evidence = {}
            result.offers += 1
    return result
