"""Fixtures for the report tests: a real SQLite store filled through the store's own functions."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from store import Store, open_store
from store.messages import store_raw
from store.offers import replace_offers
from store.schema import Message
from vng_ingest.config import Config, ReportConfig
from vng_ingest.models import Contact, Offer, RawMessage

#: Monday 7 March 2022, 08:00 in Amsterdam (07:00 UTC): a report moment.
MONDAY = datetime(2022, 3, 7, 7, 0, tzinfo=timezone.utc)


def offer(municipality: str, code: str | None, location: str, *, places: int | None = None,
          available_from: str | None = None, available_until: str | None = None,
          status: str = "available", contact: Contact | None = None, needs_review: bool = False,
          confidence: dict[str, float] | None = None, **extra) -> Offer:
    return Offer(municipality=municipality, municipality_code=code, location=location, places=places,
                 available_from=available_from, available_until=available_until, status=status,
                 contact=contact or Contact(), needs_review=needs_review,
                 confidence=confidence if confidence is not None else
                 {"municipality": 0.99, "available_from": 0.95, "available_until": 0.95, "places": 0.95,
                  "contact.name": 0.95},
                 **extra)


class Mailbox:
    """Adds messages with their offers as the pipeline would."""

    def __init__(self, store: Store):
        self.store = store
        self.count = 0

    def add(self, offers: list[Offer], received_at: datetime, review_state: str | None = None) -> list[int]:
        self.count += 1
        raw = (f"Message-ID: <m{self.count}@gemeente.example>\r\nFrom: opvang@gemeente.example\r\n"
               f"Subject: Opvanglocaties {self.count}\r\n\r\nBericht {self.count}\r\n").encode()
        with self.store.session() as session:
            stored = store_raw(session, RawMessage(raw=raw, source="test", received_at=received_at))
            message = session.get(Message, stored.pk)
            message.sent_at = received_at
            rows = replace_offers(session, message, offers, "test-1")
            for row in rows:
                if review_state:
                    row.review_state = review_state
            return [row.id for row in rows]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(f"sqlite:///{tmp_path / 'vng.sqlite'}")
    yield opened
    opened.dispose()


@pytest.fixture
def mailbox(store: Store) -> Mailbox:
    return Mailbox(store)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(report=ReportConfig(folder=tmp_path / "reports"))


# A week of mail before the report of Monday 7 March 2022 (see test_workbook.py for the sums).
JAN = Contact("Jan de Vries", "beleidsadviseur opvang", "+31612345678", "jan.devries@utrecht.example")
PIET = Contact("Piet Bakker", None, "+31501234567", "p.bakker@groningen.example")


def fill_week(mailbox: Mailbox) -> None:
    day = MONDAY.replace(hour=9)
    mailbox.add([offer("Utrecht", "GM0344", "Voormalig kantoorpand Croeselaan", places=120, address="Croeselaan 15",
                       postcode="3521 BJ", place="Utrecht", available_from="2022-03-14",
                       available_until="2022-09-30", contact=JAN)], day.replace(day=2))
    mailbox.add([offer("Groningen", "GM0014", "Sporthal De Kei", places=40, available_until="indefinite",
                       contact=PIET),
                 offer("Groningen", "GM0014", "Oude school", places=25, available_until="2022-03-01")],
                day.replace(day=3))
    mailbox.add([offer("Amersfoort", "GM0307", "Hotel De Eemhof", places=30, available_from="2022-03-01",
                       available_until="2022-03-27")], day.replace(day=4), review_state="approved")
    mailbox.add([offer("Zwolle", "GM0193", "Kazerne", places=60, status="withdrawn")], day.replace(day=4))
    mailbox.add([offer("onbekend", None, "Vakantiepark", needs_review=True,
                       confidence={"municipality": 0.2, "places": 0.1, "location": 0.9})], day.replace(day=5))


@pytest.fixture
def week(mailbox: Mailbox) -> Mailbox:
    fill_week(mailbox)
    return mailbox
