"""Offers from table rows (HTML tables, spreadsheets, csv, Word tables), keyed by their headers."""

from __future__ import annotations

import re
from datetime import date

from parsers.contacts import read_name, read_role
from parsers.dates import add_duration, find_dates
from parsers.fields import (address_before, choose_places, find_emails, find_phones, find_places,
                            find_postcodes, normalise_postcode, place_after)
from parsers.numbers import parse_number
from vng_ingest.models import Contact, FieldEvidence, Offer

COLUMNS = [
    ("location", r"^(?:naam|locatie|object|gebouw|omschrijving|naam locatie|locatienaam)"),
    ("address", r"adres|straat"),
    ("postcode", r"postcode|^pc$"),
    ("place", r"^(?:woon)?plaats|kern|dorp"),
    ("from", r"vanaf|per\b|start|ingang|beschikbaar_vanaf|begin|^van$|^datum van"),
    ("until", r"\btot\b|eind|_tot$"),
    ("period", r"^beschikbaar$|periode|beschikbaarheid"),
    ("places", r"plek|capaciteit|aantal|personen|plaatsen"),
    ("contact", r"contact"),
    ("role", r"functie|rol\b"),
    ("phone", r"telefoon|tel\b|mobiel"),
    ("email", r"e-?mail|mail"),
]


def _column(header: str) -> str | None:
    key = header.strip().lower()
    for name, pattern in COLUMNS:
        if re.search(pattern, key):
            return name
    return None


def is_location_table(rows: list[dict[str, str]]) -> bool:
    """Headers that name where (location, address or place) and how many (places)."""
    columns = {_column(header or "") for header in (rows[0] if rows else {})}
    return bool(columns & {"location", "address", "place"}) and "places" in columns


def _mapped(row: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for header, value in row.items():
        column = _column(header or "")
        if column and column not in out and value and str(value).strip():
            out[column] = str(value).strip()
    return out


def _date(cell: str, sent: date, role: str) -> tuple[str | None, object]:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cell):
        return cell, None
    mentions = find_dates(cell, sent)
    if not mentions:
        return None, None
    mention = mentions[0]
    return mention.value, mention.duration


def row_fields(row: dict[str, str], sent: date) -> Offer | None:
    cells = _mapped(row)
    if not cells.get("location") and not cells.get("address"):
        return None
    if re.match(r"^(?:totaal|total|subtotaal)\b", cells.get("location", ""), re.IGNORECASE):
        return None
    offer = Offer()
    offer.location = re.sub(r"\s*\([^)]*\)\s*$", "", cells["location"]) if cells.get("location") else None
    _address(offer, cells)
    _period(offer, cells, sent)
    _places(offer, cells.get("places", ""))
    _contact(offer, cells)
    for name in ("available_from", "available_until", "places"):
        offer.confidence.setdefault(name, 0.4)
    return offer


def _address(offer: Offer, cells: dict[str, str]) -> None:
    address = cells.get("address", "")
    postcodes = find_postcodes(address)
    if postcodes:
        found = address_before(address, postcodes[0].start)
        offer.address = found.value if found else address[:postcodes[0].start].strip(" ,")
        offer.postcode = postcodes[0].value
        place = place_after(address, postcodes[0].end)
        offer.place = place.value if place else None
    else:
        offer.address = address or None
    if cells.get("postcode"):
        offer.postcode = normalise_postcode(cells["postcode"]) or offer.postcode
    if cells.get("place"):
        offer.place = re.sub(r"\s*\(.*\)$", "", cells["place"]).strip()
    offer.evidence["address"] = FieldEvidence(address, None, None, "table")


def _period(offer: Offer, cells: dict[str, str], sent: date) -> None:
    if "period" in cells and not ("from" in cells or "until" in cells):
        mentions = find_dates(cells["period"], sent)
        starts = [m for m in mentions if m.role == "from"]
        ends = [m for m in mentions if m.role == "until"]
        if starts:
            offer.available_from = starts[0].value
            offer.confidence["available_from"] = 0.95
        if ends:
            offer.available_until = ends[0].value if ends[0].kind != "duration" else (
                add_duration(offer.available_from, ends[0].duration))
            offer.confidence["available_until"] = 0.93 if offer.available_until else 0.3
        return
    if "from" in cells:
        offer.available_from, _ = _date(cells["from"], sent, "from")
        offer.confidence["available_from"] = 0.95 if offer.available_from else 0.3
    if "until" in cells:
        value, duration = _date(cells["until"], sent, "until")
        if value is None and duration is not None:
            value = add_duration(offer.available_from, duration)
        offer.available_until = value
        offer.confidence["available_until"] = 0.93 if value else 0.3
    for name in ("from", "until"):
        if name in cells:
            key = "available_" + name
            offer.evidence[key] = FieldEvidence(cells[name], None, None, "table")


def _places(offer: Offer, cell: str) -> None:
    if not cell:
        return
    found = choose_places(find_places(cell))
    if found:
        offer.places, offer.places_max = found.value, found.maximum
    else:
        match = re.match(r"\s*(?:ca\.?|circa|ongeveer)?\s*(\d[\d.]*)\s*(?:(?:-|–|à|tot)\s*(\d+))?", cell)
        if not match:
            offer.confidence["places"] = 0.3
            return
        offer.places = parse_number(match.group(1))
        offer.places_max = parse_number(match.group(2)) if match.group(2) else None
    offer.confidence["places"] = 0.93
    offer.evidence["places"] = FieldEvidence(cell, None, None, "table")


def _contact(offer: Offer, cells: dict[str, str]) -> None:
    text = cells.get("contact", "")
    found = read_name(text) if text else None
    name = found[0] if found else None
    role = cells.get("role")
    if found and not role:
        inline = read_role(text[found[1]:found[1] + 200])
        role = inline[0] if inline else None
    phones = find_phones(cells.get("phone", "") or text)
    emails = find_emails(cells.get("email", "") or text)
    offer.contact = Contact(name, role, phones[0].value if phones else None, emails[0].value if emails else None)
    if name:
        offer.confidence["contact.name"] = 0.9
        offer.evidence["contact.name"] = FieldEvidence(name, None, None, "table")
