"""The location's name as the message gives it: 'voormalige basisschool De Kloostertuin'."""

from __future__ import annotations

import re
from functools import lru_cache

from parsers.segments import Segment
from parsers.vocabulary import alternation, words
from vng_ingest.models import Offer
from vng_ingest.refdata import name_pattern

NAME_WORD = r"(?-i:[A-Z‘'“\"][\w'’‘“”\"-]*|(?:van|de|het|en|der|den|'t)(?=\s+[A-Z‘'“\"]))"


def _building() -> re.Pattern:
    building = alternation("building_words")
    modifier = r"(?:voormalige?|leegstaande?|gemeentelijke?|vrijstaande?|huidige|oude|grote|kleine|tijdelijke|nieuwe)"
    continuations = [
        r"van\s+(?:de|het)\s+(?:voormalige?\s+|oud-)?[\w-]+(?:\s+" + NAME_WORD + r")*",
        r"en\s+(?:het\s+|de\s+)?\w*" + building + r"(?!\w)",
        r"van\s+[\w-]+(?:\s+" + NAME_WORD + r")+",
        r"in\s+[A-Z][\w-]+(?=\s*[,.;)\n])",
    ]
    tail = r"(?:\s+(?-i:" + "|".join(continuations) + r"))?"
    return re.compile(r"(?:(?:het|de|een|ons|onze)\s+)?((?:" + modifier + r"\s+)*"
                      r"(?:[A-Za-z]+-)?[\w]*" + building + r"(?![\w])(?:\s+" + NAME_WORD + r")*" + tail + r")",
                      re.IGNORECASE)


BUILDING = _building()
#: Words that only say "a location": a more specific building word wins over them.
GENERIC = re.compile(r"\b(?:opvang)?locatie\b", re.IGNORECASE)
#: Het-words among buildings: without an article their adjective loses its -e ('voormalig kantoor').
HET_WORD = re.compile(r"(?:kantoor|pand|gebouw|hotel|huis|complex|centrum|park|hostel|pension|paviljoen|"
                      r"internaat|klooster|stadhuis|raadhuis|kantoren)$", re.IGNORECASE)


def _inflect(name: str) -> str:
    """'voormalige kantoor' → 'voormalig kantoor' (as a person types it in a list), 'voormalige school' stays."""
    words = name.split()
    head = next((w for w in words if not re.fullmatch(r"[a-z]+e", w)), "")
    if not HET_WORD.search(head):
        return name
    out = []
    for word in words:
        if word == head:
            out.extend(words[len(out):])
            break
        out.append(word[:-1] if re.fullmatch(r"(?:voormalige|leegstaande|vrijstaande|gemeentelijke)", word) else word)
    return " ".join(out)


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


LABELLED = re.compile(r"^[ \t•*-]*(?:naam\s+locatie|locatienaam|locatie|object|gebouw)\s*:[ \t]*(.+)$",
                      re.IGNORECASE | re.MULTILINE)


def _labelled(segment: Segment, offer: Offer) -> str | None:
    """'Locatie: voormalig gemeentehuis Boxmeer' — the writer labelled the name themselves."""
    match = LABELLED.search(segment.text)
    if not match:
        return None
    value = match.group(1)
    if offer.address and offer.address in value:
        value = value[: value.index(offer.address)]
    value = re.split(r",\s*(?=\d{4}\s?[A-Z]{2}|[A-Z][\w-]*\s+\d)", value)[0]
    return _clean(value) or None


WORD = re.compile(r"[\w-]+")


@lru_cache(maxsize=1)
def _building_suffixes() -> tuple[str, ...]:
    return tuple(word.lower() for word in words()["building_words"])


def _buildings(text: str) -> list[re.Match]:
    """BUILDING matches in text order. The full pattern is tried only near words that end in a
    building word: scanning every position with it costs more than the rest of extraction."""
    suffixes = _building_suffixes()
    found: list[re.Match] = []
    for word in WORD.finditer(text):
        if not word.group(0).lower().endswith(suffixes) or (found and word.start() < found[-1].end()):
            continue
        line_start = text.rfind("\n", max(0, word.start() - 60), word.start()) + 1
        for match in BUILDING.finditer(text, max(line_start, word.start() - 60), word.end() + 200):
            if match.start(1) <= word.start() < match.end(1):
                found.append(match)
                break
    return found


def location_name(segment: Segment, offer: Offer) -> str | None:
    labelled = _labelled(segment, offer)
    if labelled:
        return labelled
    if segment.header:
        named = from_header(segment, offer)
        if named:
            return named
    matches = _buildings(segment.text)
    specific = [m for m in matches if not GENERIC.search(m.group(1))]
    match = (specific or matches or [None])[0]
    if not match:
        return None
    name = match.group(1)
    if offer.address and offer.address in name:
        name = name[: name.index(offer.address)]
    name = re.split(r"[,(\n]|\s(?:aan|op|in|te)\s(?:de\s|het\s)?[A-Z]\w*\s\d", name)[0]
    return _inflect(_clean(name)) or None
