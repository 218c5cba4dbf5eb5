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


def is_unchanged(text: str) -> bool:
    return bool(regex("unchanged_words", escape=False).search(text))


def describes_location(segment: Segment) -> bool:
    text = segment.text
    has_address = bool(find_postcodes(text) or find_streets(text))
    building = bool(regex("building_words", whole_word=False).search(text))
    if is_unchanged(text) and not find_places(text):
        return False
    return has_address or (building and (bool(find_places(text)) or is_withdrawal(text)))


def split_locations(text: str) -> list[Segment]:
    items = [item for item in _items(text) if describes_location(item)]
    if len(items) >= 2:
        return items
    return [Segment(text, 0)]


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
