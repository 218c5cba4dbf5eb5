"""Which municipality a location lies in: the sender's domain, a name in the text, or the town.

A municipality writes about its own locations; a safety region writes for several,
so there the item's own text decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from parsers.message import ParsedMessage
from parsers.nlp import municipality_doc
from parsers.segments import Segment
from vng_ingest.models import Kind
from vng_ingest.refdata import Municipality, by_domain, by_name, by_place


@dataclass
class MunicipalityGuess:
    name: str
    code: str
    score: float
    evidence: str
    part: str


def _guess(m: Municipality, score: float, evidence: str, part: str) -> MunicipalityGuess:
    return MunicipalityGuess(m.name, m.code, score, evidence, part)


def sender_municipality(parsed: ParsedMessage) -> MunicipalityGuess | None:
    found = by_domain(parsed.from_addr or "")
    if found:
        return _guess(found, 0.97, parsed.from_addr or "", "header")
    for text, part in ((parsed.signature, "signature"), (parsed.from_name or "", "header")):
        named = named_in(text)
        if named:
            return _guess(named, 0.9, f"gemeente {named.name}", part)
    return None


@lru_cache(maxsize=64)
def named_in(text: str) -> Municipality | None:
    """The first municipality the text calls by name after 'gemeente' ('de gemeente Zutphen').
    Cached: every segment of a message falls back to asking it about the whole new text."""
    doc = municipality_doc(text)
    for span in doc.spans["municipality"]:
        if span.start > 0 and doc[span.start - 1].lower_ == "gemeente":
            return span._.value
    return None


def for_segment(segment: Segment, place: str | None, sender: MunicipalityGuess | None, parsed: ParsedMessage,
                kind: Kind) -> MunicipalityGuess | None:
    header = segment.header or ""
    head = re.split(r"\s[-–(]\s?", re.sub(r"^\s*(?:\d{1,2}[.)]|[A-Ha-h][.)]|[-*•])\s+", "", header))[0]
    head = head.strip().rstrip(":")
    if head and by_name(head):
        named = by_name(head)
        # A list item or heading that names a municipality decides (a region writes for several);
        # when it contradicts the sender's own municipality a person checks it.
        agrees = sender is None or sender.code == named.code or sender.score < 0.97
        return _guess(named, 0.9 if agrees else 0.7, head, "body")
    if sender and sender.score >= 0.97 and kind == Kind.OFFER:
        return sender
    if sender and kind == Kind.OFFER:
        return sender
    mentioned = named_in(segment.text) or named_in(parsed.new_text)
    if mentioned:
        return _guess(mentioned, 0.85, mentioned.name, "body")
    if place and by_place(place):
        return _guess(by_place(place), 0.75, place, "body")
    if sender:
        return _guess(by_domain(parsed.from_addr or "") or by_name(sender.name), 0.8, sender.evidence, sender.part)
    return None
