"""The table sheets: Locaties, Wijzigingen, Te controleren, and the Toelichting that explains them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from openpyxl.styles import Alignment

from reports import labels as L
from reports.changes import KIND_ORDER, Change, snapshot_entry
from reports.data import local_naive
from reports.sheet import BOLD, ReportContent, Sheet, fmt_date, start_sheet, table_sheet
from vng_ingest import refdata

# --- Locaties -------------------------------------------------------------------------------

LOCATION_HEADERS = ["Gemeente", "CBS-code", "Provincie", "Veiligheidsregio", "Locatie", "Adres", "Postcode",
                    "Plaats", "Beschikbaar vanaf", "Beschikbaar tot", "Plekken", "Plekken max", "Status",
                    "Telt nu mee"]
CONTACT_HEADERS = ["Contactpersoon", "Functie", "Telefoon", "E-mail"]
TRAILING_HEADERS = ["Beoordeling", "Laatste wijziging", "Bron"]


def location_headers(include_contacts: bool) -> list[str]:
    return LOCATION_HEADERS + (CONTACT_HEADERS if include_contacts else []) + TRAILING_HEADERS


def _date_or_text(parsed: Any, raw: Any) -> Any:
    if isinstance(parsed, date):
        return parsed
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    return L.INDEFINITE if str(raw).lower() == "indefinite" else str(raw)


def location_rows(frame: pd.DataFrame, include_contacts: bool) -> list[list[Any]]:
    rows = []
    for r in frame.itertuples(index=False):
        row = [r.municipality, r.municipality_code, r.province, r.region, r.location, r.address, r.postcode,
               r.place, _date_or_text(r.available_from, r.available_from_raw),
               _date_or_text(r.available_until, r.available_until_raw), _count(r.places), _count(r.places_max),
               L.STATUS.get(r.status, r.status), bool(r.counts_now)]
        if include_contacts:
            row += [r.contact_name, r.contact_role, r.contact_phone, r.contact_email]
        row += [L.REVIEW.get(r.review_state, r.review_state), r.last_change, r.source]
        rows.append([None if _missing(v) else v for v in row])
    return rows


def _count(value: Any) -> int | None:
    """Places arrive as float when a column has gaps (NaN); the sheet shows whole numbers."""
    return None if _missing(value) else int(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NaT


def locations_sheet(sheet: Sheet, content: ReportContent, include_contacts: bool) -> None:
    table_sheet(sheet, "alle locaties zoals ze nu zijn", content, include_contacts,
                 location_headers(include_contacts), location_rows(content.locations, include_contacts),
                 freeze="B5")


# --- Wijzigingen ----------------------------------------------------------------------------

CHANGE_HEADERS = ["Soort", "Gemeente", "CBS-code", "Locatie", "Veld", "Oud", "Nieuw", "Laatste wijziging"]


def _display(field: str | None, value: Any) -> Any:
    if value is None:
        return None
    if field in ("available_from", "available_until"):
        if str(value).lower() == "indefinite":
            return L.INDEFINITE
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if field == "status":
        return L.STATUS.get(value, value)
    return value


def summary(entry: dict[str, Any]) -> str:
    """'120 plekken, vanaf 14-03-2022 tot onbepaald' for a new or vanished location."""
    parts = [f"{entry['places']} plekken" if entry.get("places") is not None else "aantal plekken onbekend"]
    for name, word in (("available_from", "vanaf"), ("available_until", "tot")):
        value = _display(name, entry.get(name))
        if value is not None:
            parts.append(f"{word} {fmt_date(value) if isinstance(value, date) else value}")
    if entry.get("status") == "withdrawn":
        parts.append("ingetrokken")
    return ", ".join(parts)


def _contact_text(row: dict[str, Any] | None, include_contacts: bool) -> str | None:
    if row is None:
        return None
    if not include_contacts:
        return "gewijzigd (niet in deze versie)"
    values = [row.get(key) for key in ("contact_name", "contact_role", "contact_phone", "contact_email")]
    return ", ".join(str(v) for v in values if v) or None


def change_rows(content: ReportContent, include_contacts: bool) -> list[list[Any]]:
    changed = {change.location_id for change in content.changes}
    frame = content.locations
    current = {int(r["location_id"]): r for r in frame[frame["location_id"].isin(changed)].to_dict("records")}
    before = (content.previous or {}).get("locations", {})
    rows = []
    ordered = sorted(enumerate(content.changes), key=lambda item: (_change_key(item[1], current, before), item[0]))
    for _, change in ordered:
        now_row = current.get(change.location_id)
        old_entry = before.get(str(change.location_id), {})
        ident = now_row or old_entry
        name = ident.get("municipality")
        if change.field is None:
            field, old, new = None, None, None
            if change.kind == "gone":
                old = summary(old_entry)
            else:
                new = summary(snapshot_entry(now_row))
        elif change.field == "contact":
            field = L.FIELDS["contact"]
            old = "eerdere gegevens" if change.old else None
            new = _contact_text(now_row, include_contacts) if change.new else None
        else:
            field = L.FIELDS.get(change.field, change.field)
            old, new = _display(change.field, change.old), _display(change.field, change.new)
        last = now_row.get("last_change") if now_row else None
        rows.append([L.CHANGE_KINDS[change.kind], name, ident.get("municipality_code"), ident.get("location"),
                     field, old, new, None if _missing(last) else last])
    return rows


def _change_key(change: Change, current: dict, before: dict) -> tuple:
    ident = current.get(change.location_id) or before.get(str(change.location_id), {})
    return (KIND_ORDER[change.kind], str(ident.get("municipality") or "").casefold(),
            str(ident.get("location") or "").casefold(), change.location_id)


def changes_sheet(sheet: Sheet, content: ReportContent, include_contacts: bool) -> None:
    table_sheet(sheet, "wijzigingen sinds het vorige overzicht", content, include_contacts, CHANGE_HEADERS,
                 change_rows(content, include_contacts))


# --- Te controleren -------------------------------------------------------------------------

REVIEW_HEADERS = ["Gemeente", "CBS-code", "Locatie", "Onzekere gegevens", "Wacht sinds", "Wachtdagen"]


def review_rows(content: ReportContent) -> list[list[Any]]:
    rows = []
    for item in content.pending:
        known = refdata.by_code(item.municipality_code) if item.municipality_code else None
        fields = ", ".join(L.FIELDS.get(name, name) for name in item.uncertain) or "soort bericht"
        waiting = max((content.generated_at - item.since).days, 0) if item.since else None
        rows.append([known.name if known else item.municipality, item.municipality_code, item.location,
                     fields, local_naive(item.since), waiting])
    return rows


def review_sheet(sheet: Sheet, content: ReportContent, include_contacts: bool) -> None:
    table_sheet(sheet, "nog te controleren door het KCC (zonder persoonsgegevens)", content, include_contacts,
                 REVIEW_HEADERS, review_rows(content))


# --- Toelichting ----------------------------------------------------------------------------

def notes_sheet(sheet: Sheet, content: ReportContent, include_contacts: bool) -> None:
    sheet.prepare({1: 18, 2: 34, 3: 100}, "A5")
    start_sheet(sheet, "toelichting", content, include_contacts)
    sheet.header(["Blad", "Kolom", "Uitleg"])
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in L.COLUMN_NOTES:
        sheet.row(row, alignment=wrap)
    sheet.blank()
    sheet.row(["Hoe er geteld wordt"], font=BOLD)
    for rule in L.COUNTING_RULES:
        sheet.row([rule])
