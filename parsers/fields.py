"""Finding single fields in a piece of text: postcode and place, address, places, phone, e-mail.

Pure functions over strings; every finding keeps its span so the review screen can show it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import phonenumbers

from parsers.numbers import NUMBER, parse_number
from parsers.spans import TakenSpans
from parsers.vocabulary import alternation

POSTCODE = re.compile(r"(?<![\w-])([1-9]\d{3})\s?(?!SA|SD|SS)([A-Z]{2})(?![\w-])")
PLACE_NAME = r"((?:'s-|'t )?[A-Z][\w'’]*(?:[ -](?:aan|op|in|bij|de|den|der|a/d|ad)?[ -]?[A-Z][\w'’]*)*)"
PROVINCE_QUALIFIER = re.compile(r"\s*\(?\b(?:gld|gelderland|ov|ovl|overijssel|nh|zh|nb|lb|l|u|fr|gr|dr|fl|z|zl)"
                                r"\.?\)?\s*$", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+'-]{1,64}@[\w-]+(?:\.[\w-]+)+", re.UNICODE)   # {1,64}: RFC 5321, and linear
PHONE = re.compile(r"(?<![\w+])(?:\+31|0031|\(?0)[\s.\-–()]*(?:\(0\)\s*)?\d(?:[\s.\-–()]{0,3}\d){7,9}(?!\d)")
APPROX = r"(?:ca\.?|circa|ongeveer|ong\.|plm\.?|approx\.?|approximately|about|around|zo'n|zo’n|rond de|rond|ruim|naar schatting|maximaal|max\.?|hooguit|minimaal|" \
         r"minstens|tenminste|ten minste|plusminus|\+/-|±)"


@dataclass
class Found:
    value: object
    start: int
    end: int
    text: str
    score: float = 0.9


def street_pattern() -> re.Pattern:
    suffixes = alternation("street_suffixes")
    return re.compile(
        r"(?<![\w])((?:[A-Z][\w'’.-]{0,50}[ \t]+){0,3}[A-Za-z][\w'’.-]{0,50}" + suffixes +
        r"[ \t]+\d{1,5}(?:\s?[a-zA-Z](?!\w))?(?:\s?[-/]\s?\d{1,4}[a-zA-Z]?)?)(?![\d])")


STREET = None


def find_postcodes(text: str, exclude_postbus: bool = True) -> list[Found]:
    return [replace(found) for found in _find_postcodes(text, exclude_postbus)]


@lru_cache(maxsize=512)
def _find_postcodes(text: str, exclude_postbus: bool) -> tuple[Found, ...]:
    found = []
    for match in POSTCODE.finditer(text):
        before = text[max(0, match.start() - 30):match.start()].lower()
        if exclude_postbus and re.search(r"(postbus|antwoordnummer|p\.?o\.? box)\s*\d+\s*[,|]?\s*$", before):
            continue
        value = f"{match.group(1)} {match.group(2)}"
        found.append(Found(value, match.start(), match.end(), match.group(0)))
    return tuple(found)


def place_after(text: str, end: int) -> Found | None:
    """The town right after a postcode: '9401 KT Assen' → 'Assen' (without '(Gld)')."""
    match = re.match(r"[ \t\u00a0]*,?[ \t\u00a0]*" + PLACE_NAME + r"(\s*\([A-Za-z.]{1,12}\)|\s+(?:Gld|Ov|NH|ZH|NB|L)\.?\b)?",
                     text[end:end + 80])
    if not match:
        return None
    name = match.group(1).strip()
    name = PROVINCE_QUALIFIER.sub("", name).strip() if " " in name else name
    start = end + match.start(1)
    return Found(name, start, start + len(match.group(1)), match.group(1))


def find_streets(text: str) -> list[Found]:
    return [replace(found) for found in _find_streets(text)]


@lru_cache(maxsize=512)
def _find_streets(text: str) -> tuple[Found, ...]:
    global STREET
    STREET = STREET or street_pattern()
    return tuple(Found(m.group(1).strip(), m.start(1), m.end(1), m.group(1)) for m in STREET.finditer(text))


def address_before(text: str, start: int) -> Found | None:
    """The street and number right before a postcode: 'Oude Molenstraat 14, 9401 KT' → 'Oude Molenstraat 14'."""
    window = text[max(0, start - 80):start]
    match = re.search(r"((?:'s-|'t )?[A-Za-z][\w'’./-]*(?:[ ](?:[A-Za-z][\w'’./-]*)){0,4}\s+\d{1,5}"
                      r"(?:\s?[a-zA-Z](?![\w]))?(?:\s?[-/]\s?\d{1,4}[a-zA-Z]?)?)\s*[,(\n|]?\s*$", window)
    if not match:
        return None
    value = match.group(1).strip()
    value = re.sub(r"^(?:(?:aan|op|in|de|het|adres|is|te|gevestigd|gelegen|locatie|pand|gebouw)\s+|[a-z]+:\s*)+",
                   "", value, flags=re.IGNORECASE)
    value = re.split(r"\s(?:aan|op)\s(?:de|het)\s", value)[-1]
    words = value.split()
    while len(words) > 2 and words[0][0].islower() and words[0] not in ("van", "de", "den", "der", "het", "'t"):
        words.pop(0)
    value = " ".join(words)
    offset = max(0, start - 80) + match.start(1) + (len(match.group(1).strip()) - len(value))
    return Found(value, offset, offset + len(value), value)


def normalise_postcode(text: str) -> str | None:
    match = POSTCODE.search(text.upper())
    return f"{match.group(1)} {match.group(2)}" if match else None


def find_emails(text: str) -> list[Found]:
    return [Found(m.group(0).lower().rstrip("."), m.start(), m.end(), m.group(0)) for m in EMAIL.finditer(text)]


def find_phones(text: str) -> list[Found]:
    found = []
    for match in PHONE.finditer(text):
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        if re.search(r"\d{4}\s?[A-Z]{2}\b", text[match.start():match.end() + 3]):
            continue
        try:
            number = phonenumbers.parse(raw, "NL")
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number) or len(digits) < 9:
            continue
        found.append(Found(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                           match.start(), match.end(), raw))
    return found


# ---- places -----------------------------------------------------------------------------------

@dataclass
class PlacesFound(Found):
    maximum: int | None = None
    kind: str = "plain"          # plain | total | computed | per_unit | table


def _places_regexes() -> list[tuple[str, re.Pattern]]:
    person = alternation("person_nouns") + r"(?!\w)"
    unit_words = alternation("unit_nouns")
    unit = unit_words + r"(?!\w)"
    n = r"(?P<a>" + NUMBER + r")"
    m = r"(?P<b>" + NUMBER + r")"
    rng = r"\s*(?:à|a|-|–|tot|t/m|of)\s*"
    approx = r"(?:" + APPROX + r"\s*)?"
    return [
        ("units", re.compile(r"(?<![\w.,])(?P<u>" + NUMBER + r")\s+" + unit +
                             r"(?:(?:\s+[a-z]+){0,2}?\s*,?\s*(?:elk|ieder|allemaal|per stuk)\s+(?:geschikt\s+)?"
                             r"(?:voor\s+)?|\s+(?:van|met|à|a)\s+(?:elk\s+)?)" + approx + n + r"(?:" + rng + m + r")?\s*" +
                             person, re.IGNORECASE)),
        ("bracket_max", re.compile(r"(?<![\w.,/-])" + approx + n + r"\s*\(\s*(?:max\.?|maximaal|tot|hooguit)\s*" + m +
                                   r"\s*\)\s*" + person, re.IGNORECASE)),
        ("between", re.compile(r"\btussen\s+(?:de\s+)?" + n + r"\s+en\s+" + m + r"\s*" + person + r"?", re.IGNORECASE)),
        ("range", re.compile(r"(?<![\w.,/-])" + approx + n + rng + m + r"\s*" + person, re.IGNORECASE)),
        ("total", re.compile(r"(?:\b(?:in\s+totaal|totaal|dus|samen)(?:\s+(?:gaat|gaan|het|om|zijn|is|dus|er|"
                             r"plek|plaats|ruimte|voor)){0,4}|=)\s*(?:zo'n\s+|zo’n\s+)?" + approx + n +
                             r"(?:\s*" + person + r")?", re.IGNORECASE)),
        ("plain", re.compile(r"(?<![\w.,/-])" + approx + n + r"\s*" + person, re.IGNORECASE)),
        ("capacity", re.compile(r"\b(?:capaciteit|capacity|aantal (?:plekken|plaatsen|personen)|plekken|ruimte voor|"
                                r"plaats voor|plek voor|opvang (?:van|voor))\s*:?\s*" + approx + n +
                                r"(?:" + rng + m + r")?(?![\d.,])(?!\s*(?:m2|m²|vierkante|km|euro|%|" + unit[3:-7] +
                                r"|januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november"
                                r"|december|jan|feb|mrt|apr|jun|jul|aug|sep|okt|nov|dec)\b)", re.IGNORECASE)),
    ]


_PLACES = None
PER_UNIT_AFTER = re.compile(r"^\s*(?:per|in elke|in iedere|elk)\s+(?:kamer|unit|gezin|woning|chalet|appartement|"
                            r"stacaravan|huisje|slaapkamer)", re.IGNORECASE)
NOT_FINAL = re.compile(r"(?:in plaats van|i\.?p\.?v\.?|niet|eerder|oorspronkelijk|was)\s*$", re.IGNORECASE)


def find_places(text: str) -> list[PlacesFound]:
    """Every statement of a number of people the location can house, in text order."""
    return [replace(found) for found in _find_places(text)]


@lru_cache(maxsize=512)
def _find_places(text: str) -> tuple[PlacesFound, ...]:
    """Cached: triage, segmentation and assembly all ask about the same texts."""
    global _PLACES
    _PLACES = _PLACES or _places_regexes()
    found: list[PlacesFound] = []
    taken = TakenSpans()
    for kind, pattern in _PLACES:
        for match in pattern.finditer(text):
            start, end = match.span()
            if taken.overlaps(start, end):
                continue
            low = parse_number(match.group("a"))
            high = parse_number(match.group("b")) if "b" in match.groupdict() and match.group("b") else None
            if low is None or low <= 0 or low > 5000 or (high is not None and high <= low):
                continue
            if _is_not_places(text, match, kind):
                continue
            result = _places_result(kind, match, low, high, text)
            if result is None:
                continue
            taken.add(start, end)
            if is_stale(text, start, end):
                result.kind, result.score = "stale", min(result.score, 0.75)
            found.append(result)
    return tuple(sorted(found, key=lambda f: f.start))


OCCUPANCY = re.compile(r"\b(?:verblijven|verblijft|wonen|woont|verwachten|verwacht|geplaatst|zitten|aangekomen|"
                       r"gehuisvest|eerste)\b", re.IGNORECASE)
CAPACITY = re.compile(r"\b(?:kunnen|kan|plaats|ruimte|capaciteit|maximaal|max|beschikbaar|geschikt|plekken voor|"
                      r"opvangen|opgevangen worden|worden opgevangen)\b", re.IGNORECASE)


#: How far a sentence is looked for around a finding: a text without full stops or newlines
#: would otherwise be read whole for each number in it.
SENTENCE_REACH = 1000
_SENTENCE_MARKS = (".", "!", "?", "\n")


def _sentence_start(text: str, start: int) -> int:
    floor = max(0, start - SENTENCE_REACH)
    return max(text.rfind(mark, floor, start) for mark in _SENTENCE_MARKS) + 1 or floor


def _sentence(text: str, start: int, end: int) -> str:
    ceiling = min(len(text), end + SENTENCE_REACH)
    rights = [i for i in (text.find(mark, end, ceiling) for mark in _SENTENCE_MARKS) if i >= 0]
    return text[_sentence_start(text, start):min(rights) if rights else ceiling]


STALE = re.compile(r"\b(?:aangeboden|aangemeld|gemeld|doorgegeven|genoemd|noemden|eerder|oorspronkelijk|"
                   r"in eerste instantie|in onze eerste)\b", re.IGNORECASE)


def is_stale(text: str, start: int, end: int) -> bool:
    """'Op 8 maart hebben wij … aangeboden voor 48 personen': what was said before, not the figure now."""
    return bool(STALE.search(text[_sentence_start(text, start):end]))          # what comes after ('niet 50 zoals eerder') is not it


def is_occupancy(text: str, start: int, end: int) -> bool:
    """'Op dit moment verblijven er 31 mensen': who is there now, not how many the place can house."""
    sentence = _sentence(text, start, end)
    return bool(OCCUPANCY.search(sentence)) and not CAPACITY.search(sentence)


def _is_not_places(text: str, match: re.Match, kind: str) -> bool:
    if is_occupancy(text, match.start(), match.end()):
        return True
    before = text[max(0, match.start() - 25):match.start()]
    if NOT_FINAL.search(before):
        return True
    if kind != "units" and PER_UNIT_AFTER.match(text[match.end():match.end() + 30]):
        return True
    if kind in ("total", "capacity") and re.match(r"\s*(?:m2|m²|vierkante|km|euro|€|%|jaar|uur|kamers|units)",
                                                 text[match.end():match.end() + 12], re.IGNORECASE):
        return True
    if kind == "total" and not re.search(r"\b(?:personen|plekken|plaatsen|mensen|bedden)\b|^\s*[.,;)]|^\s*$",
                                         text[match.end() - 12:match.end() + 12]):
        return kind == "total" and not re.match(r"\s*[.,;)\n]", text[match.end():match.end() + 2])
    return False


def _places_result(kind: str, match: re.Match, low: int, high: int | None, text: str) -> PlacesFound | None:
    if kind == "units":
        units = parse_number(match.group("u"))
        if not units:
            return None
        return PlacesFound(units * low, match.start(), match.end(), match.group(0), 0.8,
                           maximum=units * high if high else None, kind="computed")
    score = {"total": 0.95, "plain": 0.92, "range": 0.9, "between": 0.9, "bracket_max": 0.9, "capacity": 0.88}[kind]
    return PlacesFound(low, match.start(), match.end(), match.group(0), score, maximum=high,
                       kind=kind if kind in ("total", "capacity") else "plain")


def choose_places(found: list[PlacesFound]) -> PlacesFound | None:
    """A stated total wins over a computed one, which wins over the first plain statement."""
    if not found:
        return None
    current = [item for item in found if item.kind != "stale"]
    found = current or found
    for kind in ("total", "computed"):
        for item in found:
            if item.kind == kind:
                return item
    stated = [item for item in found if item.kind == "plain"]
    first = stated[0] if stated else found[0]
    distinct = {(f.value, f.maximum) for f in found}
    if len(distinct) > 1:
        first.score = min(first.score, 0.75)
    return first
