"""Assembling offers: each location's fields, with a confidence and the span they came from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from parsers.confidence import settle
from parsers.contacts import Person, forwarded_author, named_contacts, signer
from parsers.dates import add_duration
from parsers.fields import (Found, address_before, choose_places, find_phones, find_places,
                            place_after)
from parsers.locations import location_name
from parsers.message import ParsedMessage
from parsers.nlp import analyse, values
from spacy.tokens import Doc
from parsers.municipality import MunicipalityGuess, for_segment, sender_municipality
from parsers.segments import (Segment, is_unchanged, is_withdrawal, split_locations, table_rows,
                              withdraws_offer)
from parsers.signals import content_text
from parsers.tables import row_fields
from vng_ingest.models import FieldEvidence, Kind, Offer


#: An update that says the rest is unchanged leaves fields out on purpose: empty is then right.
UNSTATED = 0.85


@dataclass
class Context:
    """What the whole message tells about every offer in it."""

    parsed: ParsedMessage
    sent: date
    part: str
    sender: MunicipalityGuess | None
    signer: Person
    contacts: list[tuple[int, Person | None]] = field(default_factory=list)
    kind: Kind = Kind.OFFER


def find_offers(parsed: ParsedMessage, kind: Kind) -> list[Offer]:
    text = content_text(parsed)
    part = "body" if text is parsed.new_text else "forwarded"
    sent = parsed.date.date() if parsed.date else date.today()
    writer = signer(forwarded_author(parsed) if part == "forwarded" else parsed)
    context = Context(parsed, sent, part, sender_municipality(parsed), writer, named_contacts(text, part), kind)
    segments = split_locations(text)
    table_offers = _table_offers(parsed, context, text)
    if table_offers and len(segments) < 2:
        return [settle(offer, kind) for offer in table_offers]
    offers = []
    for segment in segments:
        if len(segments) > 1 and is_unchanged(segment.text) and not find_places(segment.text):
            continue
        offers.append(settle(_segment_offer(segment, context, len(segments) > 1), kind))
    if not _has_content(offers) and parsed.attachments:
        attachment_text = "\n".join(a.text for a in parsed.attachments if a.text)
        if attachment_text.strip():
            context.part = "attachment"
            offers = [settle(_segment_offer(Segment(attachment_text, 0), context, False), kind)]
    return offers


def _has_content(offers: list[Offer]) -> bool:
    return any(o.places or o.address or o.postcode for o in offers)


def _segment_offer(segment: Segment, context: Context, several: bool) -> Offer:
    offer = Offer()
    text = segment.text
    doc = analyse(text, context.sent)
    withdrawn = is_withdrawal(text) and (withdraws_offer(text) or not values(doc, "places"))
    offer.status = "withdrawn" if withdrawn else "available"
    _address(offer, segment, doc, context)
    if not offer.address and context.kind == Kind.THIRD_PARTY_OFFER and context.parsed.signature:
        signature = Segment(context.parsed.signature, 0)
        _address(offer, signature, analyse(signature.text, context.sent),
                 Context(**{**vars(context), "part": "signature"}))
    offer.location = location_name(segment, offer)
    if offer.location:
        offer.evidence["location"] = _evidence(text, offer.location, segment.start, context.part)
    if not offer.place:
        offer.place = _place_named(text)
    guess = for_segment(segment, offer.place, context.sender, context.parsed, context.kind)
    if guess:
        offer.municipality, offer.municipality_code = guess.name, guess.code
        offer.confidence["municipality"] = guess.score
        offer.evidence["municipality"] = FieldEvidence(guess.evidence, None, None, guess.part)
    if not withdrawn:
        _dates(offer, segment, doc, context)
        _places(offer, segment, doc, context)
    if not several and len({p.value for p in values(doc, "postcode")}) > 1:
        offer.confidence["places"] = min(offer.confidence.get("places", 0.3), 0.6)   # two locations in prose?
    _contact(offer, segment, context, several)
    if not offer.place and offer.municipality and (offer.address or withdrawn) and context.kind == Kind.OFFER:
        offer.place = _place_from_municipality(offer, context)
    return offer


def _evidence(text: str, value: str, offset: int, part: str) -> FieldEvidence:
    index = text.find(value)
    if index < 0:
        return FieldEvidence(value, None, None, part)
    return FieldEvidence(value, offset + index, offset + index + len(value), part)


def _address(offer: Offer, segment: Segment, doc: Doc, context: Context) -> None:
    text = segment.text
    postcodes = values(doc, "postcode")
    if postcodes:
        first = postcodes[0]
        offer.postcode = first.value
        offer.evidence["postcode"] = FieldEvidence(first.text, segment.start + first.start,
                                                   segment.start + first.end, context.part)
        place = place_after(text, first.end)
        if place:
            offer.place = place.value
            offer.evidence["place"] = FieldEvidence(place.text, segment.start + place.start,
                                                    segment.start + place.end, context.part)
        address = address_before(text, first.start)
        if address:
            offer.address = address.value
            offer.evidence["address"] = FieldEvidence(address.text, segment.start + address.start,
                                                      segment.start + address.end, context.part)
            return
    streets = values(doc, "street") or _street_after_aan(text)
    if streets:
        street = streets[0]
        offer.address = _trim_street(street.value)
        offer.evidence["address"] = FieldEvidence(street.text, segment.start + street.start,
                                                  segment.start + street.end, context.part)
        if not offer.place:
            place = re.match(r"\s*(?:,|\bin|\bte)\s+((?:'s-)?[A-Z][\w'-]+(?:[ -][A-Z][\w'-]+)*)", text[street.end:street.end + 200])
            before = re.search(r"\b(?:in|te)\s+([A-Z][\w'-]+(?:[ -][A-Z][\w'-]+)*),?\s*$", text[:street.start])
            chosen = place or before
            if chosen:
                offer.place = chosen.group(1)
                offer.evidence["place"] = FieldEvidence(chosen.group(1), None, None, context.part)


PLACE_IN = re.compile(r"\b(?:in|te)\s+((?:'s-)?[A-Z][\w'-]+(?:[ -][A-Z][\w'-]+)*)")
NOT_A_PLACE = {"nederland", "oekraïne", "oekraine", "rusland", "europa", "polen", "de", "het", "een", "overleg",
               "totaal", "afwachting", "principe", "verband", "aanvulling", "reactie", "antwoord"}


def _place_named(text: str) -> str | None:
    """'De locatie in Nieuw-Amsterdam (…)', 'in Gorssel de bovenverdieping': the town a location is in."""
    for match in PLACE_IN.finditer(text):
        if match.group(1).split()[0].lower() not in NOT_A_PLACE and not re.match(
                r"gemeente|veiligheidsregio|regio", text[max(0, match.start() - 10):match.start()].strip().lower()):
            return match.group(1)
    return None


AAN_DE = re.compile(r"\baan\s+(?:de|het)\s+((?:[A-Z][\w'-]+\s+){1,3}\d{1,4}[a-z]?)(?![\w-])")


def _street_after_aan(text: str) -> list[Found]:
    """'aan de Westeinde 12': a street without a usual suffix, named after 'aan de/het'."""
    return [Found(m.group(1).strip(), m.start(1), m.start(1) + len(m.group(1).strip()), m.group(1).strip())
            for m in AAN_DE.finditer(text)]


def _trim_street(value: str) -> str:
    words = value.split()
    while len(words) > 2 and words[0].lower() in ("aan", "de", "het", "op", "in", "adres", "is", "te", "pand"):
        words.pop(0)
    return " ".join(words)


def _place_from_municipality(offer: Offer, context: Context) -> str | None:
    """An address without a town: the town named after the municipality, when the text names it."""
    name = offer.municipality or ""
    haystack = context.parsed.subject + "\n" + context.parsed.new_text + "\n" + context.parsed.signature
    return name if re.search(r"\b" + re.escape(name) + r"\b", haystack) else None


def _dates(offer: Offer, segment: Segment, doc: Doc, context: Context) -> None:
    mentions = [m for m in values(doc, "date")
                if not re.search(r"(in plaats van|i\.?p\.?v\.?|eerder|was|niet (?:tot|t/m|tot en met|per|vanaf))\s*$",
                                 segment.text[max(0, m.start - 20):m.start], re.IGNORECASE)]
    starts = [m for m in mentions if m.role == "from"]
    ends = [m for m in mentions if m.role == "until"]
    loose = [m for m in mentions if m.role is None and m.value]
    loose = [m for m in loose if not _past_reference(segment.text, m.start)]
    if not starts and loose and re.search(r"beschikbaar|vanaf|per\b", segment.text, re.IGNORECASE):
        starts = loose[:1]
        starts[0].kind = "assumed"
    if starts:
        first = starts[0]
        offer.available_from = first.value
        offer.confidence["available_from"] = 0.6 if first.kind in ("assumed", "recent_start") else (0.97 if first.value else 0.3)
        offer.evidence["available_from"] = FieldEvidence(first.text, segment.start + first.start,
                                                         segment.start + first.end, context.part)
    else:
        offer.confidence["available_from"] = UNSTATED if is_unchanged(segment.text) else 0.4
    if ends:
        last = ends[0]
        value = last.value
        if last.kind == "duration":
            value = add_duration(offer.available_from, last.duration) if last.duration else None
        offer.available_until = value
        offer.confidence["available_until"] = 0.95 if value else 0.3
        if last.kind == "duration" and value:
            offer.confidence["available_until"] = 0.9
        offer.evidence["available_until"] = FieldEvidence(last.text, segment.start + last.start,
                                                          segment.start + last.end, context.part)
    else:
        offer.confidence["available_until"] = UNSTATED if is_unchanged(segment.text) else 0.5
    if len(starts) > 1 and len({m.value for m in starts}) > 1:
        offer.confidence["available_from"] = min(offer.confidence["available_from"], 0.7)
    if len(ends) > 1 and len({m.value for m in ends}) > 1:
        offer.confidence["available_until"] = min(offer.confidence["available_until"], 0.7)


def _past_reference(text: str, start: int) -> bool:
    """'Op 8 maart hebben wij … aangeboden', 'onze mail van 16 maart': a date about earlier mail."""
    before = text[max(0, start - 25):start].lower()
    return bool(re.search(r"(?:^|\s)(?:op|van|sinds|d\.?d\.?)\s*$", before))


def _places(offer: Offer, segment: Segment, doc: Doc, context: Context) -> None:
    chosen = choose_places(values(doc, "places"))
    if chosen is None:
        offer.confidence["places"] = UNSTATED if is_unchanged(segment.text) else 0.3
        return
    offer.places, offer.places_max = chosen.value, chosen.maximum
    offer.confidence["places"] = chosen.score
    offer.evidence["places"] = FieldEvidence(chosen.text, segment.start + chosen.start, segment.start + chosen.end,
                                             context.part)


def _contact(offer: Offer, segment: Segment, context: Context, several: bool) -> None:
    own = named_contacts(segment.text, context.part) if several else []
    candidates = own or context.contacts
    person = candidates[0][1] if candidates else None
    if person is None or person.is_signer:
        person = _merge_signer(context.signer, person, context)
    elif _same_person(person, context.signer):
        person = _merge(person, context.signer)
    offer.contact = person.contact()
    offer.confidence["contact.name"] = person.score if person.name else 0.3
    for key, value in person.evidence.items():
        offer.evidence[key] = value


SELF_REACH = re.compile(r"(?:mijn|ons|onze)\s+(?:mobiele\s+|telefoon|mobiel)?(?:nummer|telefoonnummer)\s*(?:is|:)?|"
                        r"\b(?:ik|mij|me)\b[^.\n]{0,60}?(?:bereikbaar|te bereiken|bereiken|bellen)\s*(?:op|via|onder)?|"
                        r"\bbel\s+(?:gerust|me|mij|ons)\b[^.\n\d]{0,20}",
                        re.IGNORECASE)


def _merge_signer(signer: Person, pointer: Person | None, context: Context) -> Person:
    """The signer is the contact; reach given in the body ('bel mij op …') wins over the signature's."""
    merged = Person(signer.name, signer.role, signer.phone, signer.email, dict(signer.evidence), signer.score)
    if pointer is not None:
        merged.phone = pointer.phone or merged.phone
        merged.email = pointer.email or merged.email
        merged.evidence.update({k: v for k, v in pointer.evidence.items() if k != "contact.name"})
    if not signer.phone or pointer is None:
        match = SELF_REACH.search(context.parsed.new_text)
        phones = find_phones(context.parsed.new_text[match.end():match.end() + 40]) if match else []
        if phones and not (pointer and pointer.phone):
            merged.phone = phones[0].value
    return merged


def _same_person(person: Person, signer: Person) -> bool:
    return bool(person.name and signer.name and person.name.split()[-1] == signer.name.split()[-1]
                and person.name.split()[0][0] == signer.name.split()[0][0])


def _merge(person: Person, signer: Person) -> Person:
    """The named contact is the signer: the signature fills what the sentence left out."""
    return Person(person.name, person.role or signer.role, person.phone or signer.phone,
                  person.email or signer.email, {**signer.evidence, **person.evidence}, person.score)


def _table_offers(parsed: ParsedMessage, context: Context, text: str) -> list[Offer]:
    tables = table_rows(text) + [t for a in parsed.attachments for t in a.tables]
    offers = []
    for rows in tables:
        for row in rows:
            offer = row_fields(row, context.sent)
            if offer is None:
                continue
            guess = for_segment(Segment(" ".join(row.values()), 0), offer.place, context.sender, parsed, context.kind)
            if guess:
                offer.municipality, offer.municipality_code = guess.name, guess.code
                offer.confidence["municipality"] = guess.score
            if not offer.contact.name:
                person = next((p for _, p in context.contacts if p is not None), None) or context.signer
                offer.contact = person.contact()
                offer.confidence["contact.name"] = person.score if person.name else 0.3
            offers.append(offer)
    return offers
