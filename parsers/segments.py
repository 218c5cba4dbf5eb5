"""Splitting a message's text into one piece per offered location.

A list item or table row that names an address (or a building with places,
dates or a withdrawal) is a location of its own; with fewer than two such
items the whole text describes one location.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.fields import find_places, find_postcodes, find_streets
from parsers.vocabulary import regex

ITEM = re.compile(r"^[ \t]{0,2}(?:\d{1,2}[.)]|[A-Ha-h][.)]|[-*•·▪o])[ \t]+\S")
TABLE_ROW = re.compile(r"^[^|\n]+(?:\s\|\s[^|\n]*){2,}$")


@dataclass
class Segment:
    text: str
    start: int
    header: str | None = None       # the item's first line, which often names place and building


def _items(text: str) -> list[Segment]:
    lines = text.splitlines(keepends=True)
    items: list[Segment] = []
    offset = 0
    current: list[str] | None = None
    current_start = 0
    for line in lines:
        if ITEM.match(line):
            if current is not None:
                items.append(Segment("".join(current), current_start, current[0].strip()))
            current, current_start = [line], offset
        elif current is not None and (line.startswith((" ", "\t")) and line.strip()):
            current.append(line)
        elif current is not None:
            items.append(Segment("".join(current), current_start, current[0].strip()))
            current = None
        offset += len(line)
    if current is not None:
        items.append(Segment("".join(current), current_start, current[0].strip()))
    return items


def is_withdrawal(text: str) -> bool:
    return bool(regex("withdrawal_words", escape=False).search(text))


STRONG_WITHDRAWAL = re.compile(
    r"\b(?:trekken|trekt)\b.{0,60}?\b(?:aanbod|locatie|aanmelding)\b.{0,60}?\bin\b|"
    r"\b(?:aanbod|locatie|aanmelding)\b.{0,80}?\b(?:vervalt|komt te vervallen|ingetrokken|intrekken|"
    r"gaat niet door|niet (?:meer|langer) beschikbaar)", re.IGNORECASE | re.DOTALL)


def withdraws_offer(text: str) -> bool:
    """The offer or location itself is withdrawn (other numbers in the text do not make it an update)."""
    return bool(STRONG_WITHDRAWAL.search(text))


def is_unchanged(text: str) -> bool:
    return bool(regex("unchanged_words", escape=False).search(text))


#: An item that is one field of a location ('• Adres: …', '- Aantal plekken: …'), not a location.
FIELD_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[A-Ha-h][.)]|[-*•·▪o])?\s*(?:locatie|naam(?: locatie)?|adres|"
                        r"beschikbaar\w*|per|vanaf|tot|aantal\s+\w+|capaciteit|plekken|contact\w*|telefoon|"
                        r"e-?mail|bijzonderheden|opmerking\w*|periode|ingangsdatum|einddatum|status|plaats)\s*:",
                        re.IGNORECASE)


def describes_location(segment: Segment) -> bool:
    text = segment.text
    if FIELD_ITEM.match(text):
        return False
    has_address = bool(find_postcodes(text) or find_streets(text))
    building = bool(regex("building_words", whole_word=False).search(text))
    if is_unchanged(text) and not find_places(text):
        return False
    return has_address or (building and (bool(find_places(text)) or is_withdrawal(text)))


def split_locations(text: str) -> list[Segment]:
    items = [item for item in _items(text) if describes_location(item)]
    if len(items) >= 2:
        return items
    prose = split_prose(text)
    if len(prose) >= 2:
        return prose
    return [Segment(text, 0)]


BOUNDARY = re.compile(r"\n[ \t]*\n|[.;](?:\s+|$)|,?\s+en\s+(?=(?:in|te|het|de|aan|op|bij)\s)")


def split_prose(text: str) -> list[Segment]:
    """Several addresses in running text: cut before each next address, at the last paragraph
    break, sentence end or ', en' in between ('… tot 1 juli, en in Barneveld zelf is …')."""
    anchors = _address_starts(text)
    if len(anchors) < 2:
        return []
    cuts = [0]
    for previous_end, start in zip([end for _, end in anchors], [start for start, _ in anchors[1:]]):
        gap = text[previous_end:start]
        breaks = [m for m in BOUNDARY.finditer(gap)]
        paragraph = [m for m in breaks if "\n" in m.group(0)]
        chosen = (paragraph or breaks or [None])[-1]
        if chosen is None:
            return []
        cuts.append(previous_end + chosen.end())
    cuts.append(len(text))
    segments = [Segment(text[a:b], a, _heading(text[a:b])) for a, b in zip(cuts, cuts[1:])]
    offering = [seg for seg in segments if find_places(seg.text) or is_withdrawal(seg.text)]
    return segments if len(offering) >= 2 else []


def _address_starts(text: str) -> list[tuple[int, int]]:
    """(start, end) of each distinct address: a postcode with the street before it, else a street."""
    from parsers.fields import address_before
    found, seen = [], set()
    for postcode in find_postcodes(text):
        if postcode.value in seen:
            continue
        seen.add(postcode.value)
        street = address_before(text, postcode.start)
        found.append((street.start if street else postcode.start, postcode.end))
    if len(found) < 2:
        streets = {s.value: s for s in find_streets(text)}
        found = [(s.start, s.end) for s in streets.values()] if len(streets) >= 2 else found
    return sorted(found)


def _heading(chunk: str) -> str | None:
    """A short first line ('HUIZEN', 'Locatie 2: …') that titles the piece."""
    first = chunk.strip().splitlines()[0] if chunk.strip() else ""
    return first.strip() if 0 < len(first.strip()) <= 40 else None


def table_rows(text: str) -> list[list[dict[str, str]]]:
    """Tables written as 'a | b | c' lines (HTML tables turned into text), as rows keyed by header."""
    tables: list[list[dict[str, str]]] = []
    block: list[list[str]] = []
    for line in text.splitlines() + [""]:
        if TABLE_ROW.match(line.strip()):
            block.append([cell.strip() for cell in line.strip().split(" | ")])
            continue
        if len(block) >= 2:
            header = block[0]
            tables.append([dict(zip(header, row)) for row in block[1:]])
        block = []
    return tables
