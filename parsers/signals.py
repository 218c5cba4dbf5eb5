"""How strongly a message reads as an offer of a location (used by triage and extraction)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.dates import find_dates
from parsers.fields import find_places, find_postcodes, find_streets
from parsers.message import ParsedMessage
from parsers.tables import is_location_table
from parsers.vocabulary import regex


@dataclass
class Signals:
    places: bool
    address: bool
    dates: bool
    building: bool
    attachment_table: bool

    @property
    def strength(self) -> int:
        return (self.places + self.address + self.dates + self.building) + 3 * self.attachment_table


def content_text(parsed: ParsedMessage) -> str:
    """The text that may carry offers: the new text, else what the sender forwards."""
    return parsed.new_text if offer_like(parsed.new_text) or not parsed.forwarded else parsed.forwarded


def offer_like(text: str) -> bool:
    return bool(find_places(text)) and bool(find_postcodes(text) or find_streets(text))


def offer_signals(parsed: ParsedMessage) -> Signals:
    text = content_text(parsed)
    sent = parsed.date.date() if parsed.date else None
    has_dates = bool(sent) and any(m.role for m in find_dates(text, sent))
    tables = any(is_location_table(table) for a in parsed.attachments for table in a.tables)
    tables = tables or bool(re.search(r"\b(bijlage|bijgevoegd|attached)\b", text, re.IGNORECASE)
                            and any(a.text for a in parsed.attachments) and offer_like(
                                "\n".join(a.text for a in parsed.attachments)))
    return Signals(places=bool(find_places(text)), address=bool(find_postcodes(text) or find_streets(text)),
                   dates=has_dates, building=bool(regex("building_words", whole_word=False).search(text)),
                   attachment_table=tables)

