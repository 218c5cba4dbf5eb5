"""The offer fields on the review form: Dutch labels, and turning typed text into stored values."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers

from vng_ingest import refdata

#: Column name → label shown to KCC staff, in form order.
LABELS = {
    "municipality": "Gemeente", "location": "Locatie", "address": "Adres", "postcode": "Postcode",
    "place": "Plaats", "available_from": "Beschikbaar vanaf", "available_until": "Beschikbaar tot",
    "places": "Aantal plekken", "places_max": "Maximaal aantal plekken", "status": "Status",
    "contact_name": "Contactpersoon", "contact_role": "Functie", "contact_phone": "Telefoon",
    "contact_email": "E-mail",
}
FIELDS = tuple(LABELS)
STATUSES = {"available": "beschikbaar", "withdrawn": "ingetrokken"}
KINDS = {"offer": "aanbod gemeente", "third_party_offer": "aanbod derden",
         "auto_reply": "automatisch antwoord", "other": "overig"}
KEY_COLUMNS = ("municipality", "available_from", "available_until", "places", "contact_name")
INDEFINITE = {"indefinite", "onbepaald", "onbepaalde tijd", "voor onbepaalde tijd", "tot nader order"}


def meta_key(column: str) -> str:
    """Column name → key in the confidence/evidence JSON ('contact_name' → 'contact.name')."""
    return column.replace("contact_", "contact.", 1) if column.startswith("contact_") else column


def lookup(mapping: dict, column: str):
    """A confidence or evidence entry by either spelling of the key."""
    mapping = mapping or {}
    return mapping.get(meta_key(column), mapping.get(column))


def as_text(value) -> str:
    """A stored value as the form shows it ("indefinite" reads as "onbepaald")."""
    if value == "indefinite":
        return "onbepaald"
    return "" if value is None else str(value)


def parse_form(form: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """Typed values for every field, and the Dutch error per field that could not be read."""
    values: dict = {}
    errors: dict[str, str] = {}
    for column in FIELDS:
        raw = (form.get(column) or "").strip()
        try:
            values[column] = _PARSERS.get(column, _text)(raw)
        except ValueError as error:
            errors[column] = str(error)
    if not errors and values.get("places") is not None and values.get("places_max") is not None \
            and values["places_max"] < values["places"]:
        errors["places_max"] = "Het maximum is kleiner dan het aantal plekken."
    return values, errors


def _text(raw: str) -> str | None:
    return raw or None


def _municipality(raw: str) -> str | None:
    if not raw:
        return None
    found = refdata.by_name(raw)
    if found is None:
        raise ValueError("Onbekende gemeente. Gebruik de naam zoals het CBS die schrijft.")
    return found.name


def _date(raw: str) -> str | None:
    if not raw:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw)
    if match:
        year, month, day = (int(x) for x in match.groups())
    else:
        match = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", raw)
        if not match:
            raise ValueError("Schrijf de datum als 2022-03-14 of 14-3-2022.")
        day, month, year = (int(x) for x in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise ValueError("Deze datum bestaat niet.") from None


def _until(raw: str) -> str | None:
    if raw.lower() in INDEFINITE:
        return "indefinite"
    return _date(raw)


def _count(raw: str) -> int | None:
    if not raw:
        return None
    if not re.fullmatch(r"\d{1,6}", raw):
        raise ValueError("Vul een heel getal in.")
    return int(raw)


def _status(raw: str) -> str:
    if raw not in STATUSES:
        raise ValueError("Kies beschikbaar of ingetrokken.")
    return raw


def _postcode(raw: str) -> str | None:
    if not raw:
        return None
    match = re.fullmatch(r"([1-9]\d{3})\s*([A-Za-z]{2})", raw)
    if not match:
        raise ValueError("Schrijf de postcode als 1234 AB.")
    return f"{match.group(1)} {match.group(2).upper()}"


def _phone(raw: str) -> str | None:
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, "NL")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ValueError("Dit telefoonnummer klopt niet.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(raw: str) -> str | None:
    if not raw:
        return None
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", raw):
        raise ValueError("Dit e-mailadres klopt niet.")
    return raw.lower()


_PARSERS = {"municipality": _municipality, "available_from": _date, "available_until": _until,
            "places": _count, "places_max": _count, "status": _status, "postcode": _postcode,
            "contact_phone": _phone, "contact_email": _email}
