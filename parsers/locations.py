"""The location's name as the message gives it: 'voormalige basisschool De Kloostertuin'."""

from __future__ import annotations

import re

from parsers.segments import Segment
from parsers.vocabulary import alternation
from vng_ingest.models import Offer
from vng_ingest.refdata import name_pattern

NAME_WORD = r"(?-i:[A-Z‘'“\"][\w'’‘“”\"-]*|van|de|het|en|der|den|'t)"


def _building() -> re.Pattern:
    building = alternation("building_words")
    return re.compile(r"(?:(?:het|de|een|ons|onze)\s+)?((?:(?:voormalige?|leegstaande?|gemeentelijke?|huidige|oude)\s+)*"
                      r"(?:[A-Za-z]+-)?[\w]*" + building + r"(?![\w])(?:\s+" + NAME_WORD + r")*)", re.IGNORECASE)


BUILDING = _building()
#: Words that only say "a location": a more specific building word wins over them.
GENERIC = re.compile(r"(?:de |het |een )?(?:opvang)?locatie", re.IGNORECASE)


def _clean(name: str) -> str:
    name = re.sub(r"\s+(?:van|de|het|aan|en|der|den|'t|op|in|aan de|aan het)$", "", name.strip(" ,.-–:"))
    name = re.sub(r"\s+(?:van|de|het|aan|en|der|den|'t|op|in)$", "", name)
    return name.strip(" ,.-–:‘’'\"“”")


def from_header(segment: Segment, offer: Offer) -> str | None:
    """'Zwolle - kantoorpand Zuiderzeelaan, Zuiderzeelaan 12, …' → 'kantoorpand Zuiderzeelaan'."""
    header = re.sub(r"^\s*(?:\d{1,2}[.)]|[A-Ha-h][.)]|[-*•·▪o])\s+", "", segment.header or "")
    header = re.sub(r"^(?:locatie|naam)\s*:\s*", "", header, flags=re.IGNORECASE)
    if " - " in header or " – " in header:
        head, _, rest = re.split(r"\s[-–]\s", header, maxsplit=1)[0], None, re.split(r"\s[-–]\s", header, maxsplit=1)[1]
        if name_pattern().search(head) or re.fullmatch(r"[A-Z][\w'-]+(?:[ -][A-Z(][\w'() -]+)?", head.strip()):
            header = rest
    cut = len(header)
    if offer.address and offer.address in header:
        cut = min(cut, header.index(offer.address))
    postcode = re.search(r"\d{4}\s?[A-Z]{2}", header)
    if postcode:
        cut = min(cut, postcode.start())
    name = _clean(header[:cut])
    if not name or len(name) > 90 or re.search(r"\b(beschikbaar|per|vanaf|plekken|personen)\b", name, re.IGNORECASE):
        return None
    return name


def location_name(segment: Segment, offer: Offer) -> str | None:
    if segment.header:
        named = from_header(segment, offer)
        if named:
            return named
    matches = list(BUILDING.finditer(segment.text))
    specific = [m for m in matches if not GENERIC.fullmatch(m.group(1).strip())]
    match = (specific or matches or [None])[0]
    if not match:
        return None
    name = match.group(1)
    if offer.address and offer.address in name:
        name = name[: name.index(offer.address)]
    name = re.split(r"[,(\n]|\s(?:aan|op|in|te)\s(?:de\s|het\s)?[A-Z]\w*\s\d", name)[0]
    return _clean(name) or None
