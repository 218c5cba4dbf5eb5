"""Dutch availability dates, resolved against the day the message was sent.

``find_dates(text, sent)`` returns every date mention with its role ("from",
"until" or None), its resolved value (an ISO date, "indefinite", or None for a
vague date that a person must check) and its span in ``text``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from parsers.numbers import NUMBER, parse_number
from parsers.spans import TakenSpans

MONTHS = {"january": 1, "february": 2, "march": 3, "june": 6, "july": 7, "august": 8, "october": 10,
          "januari": 1, "jan": 1, "februari": 2, "feb": 2, "maart": 3, "mrt": 3, "mar": 3, "april": 4,
          "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "augustus": 8, "aug": 8,
          "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11,
          "december": 12, "dec": 12}
WEEKDAYS = {"maandag": 0, "dinsdag": 1, "woensdag": 2, "donderdag": 3, "vrijdag": 4, "zaterdag": 5,
            "zondag": 6}
MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
WEEKDAY = r"(?:" + "|".join(WEEKDAYS) + r")"
#: Days written as words ('twee oktober', 'eenentwintig mei'), longest first so the regex takes them whole.
DAY_WORD = r"(?:" + "|".join(sorted(
    ["een", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien", "elf", "twaalf",
     "dertien", "veertien", "vijftien", "zestien", "zeventien", "achttien", "negentien", "twintig", "dertig",
     *[f"{u}{j}{t}" for t in ("twintig", "dertig") for u in ("een", "twee", "drie", "vier", "vijf", "zes",
                                                            "zeven", "acht", "negen") for j in ("en", "ën")
       if t == "twintig" or u == "een"]], key=len, reverse=True)) + r")"
UNIT_DAYS = {"dag": "days", "dagen": "days", "week": "weeks", "weken": "weeks", "wk": "weeks", "wkn": "weeks",
             "maand": "months", "maanden": "months", "mnd": "months", "mndn": "months", "jaar": "years",
             "jaren": "years", "jr": "years"}

FROM_MARKER = (r"(?:per wanneer:?|available from:?|starting|per|vanaf|m\.?i\.?v\.?|met ingang van|ingangsdatum:?|beschikbaar(?: per| vanaf)?:?"
               r"|startdatum:?|start:?|from|as of|ingaande|ingang:?|beschikbaarheid:?)")
UNTIL_MARKER = (r"(?:tot wanneer:?|available until:?|till|through|tot en met|t/m|tm|t\.e\.m\.?|tot zeker|tot uiterlijk|uiterlijk tot|uiterlijk|tot|until|einddatum:?|eind:?"
                r"|tot:?|tot aan)")
VAGUE_UNTIL = r"(?:in ieder geval tot|minimaal tot|minstens tot|ten minste tot|zeker tot)"

PATTERNS = [
    ("offset", r"\b(?:(?P<count>" + NUMBER + r"|een)\s+(?P<unit>dagen|dag|weken|week|maanden|maand)\s+"
               r"(?:vanaf nu|vanaf vandaag|na vandaag|na dagtekening)|(?:over|binnen(?:\s+de)?)\s+(?P<count2>"
               + NUMBER + r"|een)\s+"
               r"(?P<unit2>dagen|dag|weken|week|maanden|maand))\b"),
    ("immediate", r"\b(?:per direct|per omgaande|vanaf nu|per heden|met onmiddellijke ingang|"
                  r"direct beschikbaar|per dd|onmiddellijk|vanaf direct|vanaf vandaag|per vandaag|vanaf heden)\b"),
    ("indefinite", r"\b(?:(?:voor )?onbepaalde tijd|tot nader(?:e)? (?:order|bericht)|zolang (?:als )?"
                   r"(?:dat )?nodig(?: is)?|structureel|onbeperkt|voor langere tijd onbepaald|"
                   r"geen einddatum)\b"),
    ("vague", r"\b(?:begin|medio|half|halverwege|midden|eind(?:e)? van|rond|omstreeks)\s+" + MONTH +
              r"(?:\s+(?P<year>\d{4}))?\b|\b(?:z\.?s\.?m\.?|n\.?n\.?b\.?|zo snel mogelijk|nog niet bekend"
              r"|onbekend|een paar (?:weken|maanden)|enkele (?:weken|maanden))"),
    ("month_end", r"\b(?:eind|einde|ultimo)\s+" + MONTH + r"(?:\s+(?P<year>\d{4}))?\b"),
    ("whole_month", r"\b(?:tot en met|t/m)\s+" + MONTH + r"(?:\s+(?P<year>\d{4}))?\b(?!\s*\d)"),
    ("week", r"\bweek\s+(?P<week>\d{1,2})(?:\s+(?P<year>\d{4}))?\b"),
    ("day_month", r"\b(?:(?P<weekday>" + WEEKDAY + r")\s+)?(?P<day>\d{1,2}|" + DAY_WORD + r")(?:e|ste|de)?\s+" + MONTH +
                  r"(?:\s+(?P<year>\d{4}))?\b"),
    ("numeric", r"(?<![\d.,/-])(?P<day>\d{1,2})\s?[-/.]\s?(?P<mon>\d{1,2})(?:\s?[-/.]\s?(?P<year>\d{4}|\d{2}))?"
                r"(?![\d/-]|\.\d)"),
    ("weekday", r"\b(?P<next>aanstaande|komende|volgende)?\s*(?P<weekday>" + WEEKDAY + r")\b"),
    ("duration", r"\b(?:voor|gedurende|periode van|duur van|termijn van)\s+(?:(?:de|een)\s+)?"
                 r"(?:(?:duur|periode|termijn)\s+van\s+)?(?P<count>" + NUMBER + r"|een|half|anderhalf)\s+"
                 r"(?P<unit>dagen|dag|weken|week|wkn|wk|maanden|maand|mndn|mnd|jaren|jaar|jr)\b\.?"),
]
COMPILED = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in PATTERNS]


@dataclass
class DateMention:
    kind: str                    # immediate | indefinite | vague | month_end | day_month | numeric | week | ...
    role: str | None             # from | until | None
    value: str | None            # ISO date, "indefinite", or None (vague: a person must check)
    start: int
    end: int
    text: str
    duration: relativedelta | None = None
    year_given: bool = True


def _year_for(month: int, day: int, sent: date) -> date | None:
    """A date without a year: the first such date on or after the sending day."""
    for year in (sent.year, sent.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= sent:
            return candidate
    return None


def _make(day: int, month: int, year: str | None, sent: date) -> date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if year:
        number = int(year)
        number = number + 2000 if number < 100 else number
        if not 2000 <= number <= 2100:
            return None
        try:
            return date(number, month, day)
        except ValueError:
            return None
    return _year_for(month, day, sent)


def _month_end(month: int, year: str | None, sent: date) -> date:
    number = int(year) if year else (sent.year if month >= sent.month else sent.year + 1)
    return date(number, month, calendar.monthrange(number, month)[1])


def _resolve(kind: str, match: re.Match, sent: date) -> tuple[str | None, relativedelta | None, bool]:
    groups = match.groupdict()
    if kind == "immediate":
        return sent.isoformat(), None, True
    if kind == "offset":
        count_text = (groups.get("count") or groups.get("count2") or "").lower()
        count = 1 if count_text == "een" else parse_number(count_text)
        unit = UNIT_DAYS[(groups.get("unit") or groups.get("unit2")).lower()]
        return ((sent + relativedelta(**{unit: count})).isoformat() if count else None), None, True
    if kind == "indefinite":
        return "indefinite", None, True
    if kind == "vague":
        return None, None, True
    if kind in ("month_end", "whole_month"):
        return _month_end(MONTHS[groups["month"].lower()], groups.get("year"), sent).isoformat(), None, True
    if kind == "week":
        week = int(groups["week"])
        year = int(groups["year"]) if groups.get("year") else sent.year
        if not 1 <= week <= 53:
            return None, None, False
        monday = date.fromisocalendar(year, week, 1)
        if not groups.get("year") and monday < sent - timedelta(days=7):
            monday = date.fromisocalendar(year + 1, week, 1)
        return monday.isoformat(), None, bool(groups.get("year"))
    if kind == "day_month":
        day = int(groups["day"]) if groups["day"].isdigit() else parse_number(groups["day"])
        value = _make(day or 0, MONTHS[groups["month"].lower()], groups.get("year"), sent)
        return (value.isoformat() if value else None), None, bool(groups.get("year"))
    if kind == "numeric":
        value = _make(int(groups["day"]), int(groups["mon"]), groups.get("year"), sent)
        return (value.isoformat() if value else None), None, bool(groups.get("year"))
    if kind == "weekday":
        target = WEEKDAYS[groups["weekday"].lower()]
        ahead = (target - sent.weekday()) % 7 or 7
        return (sent + timedelta(days=ahead)).isoformat(), None, False
    if kind == "duration":
        count_text = groups["count"].lower()
        count = {"een": 1, "half": 0.5, "anderhalf": 1.5}.get(count_text) or parse_number(count_text)
        if not count:
            return None, None, False
        unit = UNIT_DAYS[groups["unit"].lower()]
        if count != int(count):
            return None, relativedelta(months=int(count * 12)) if unit == "years" else None, True
        return None, relativedelta(**{unit: int(count)}), True
    return None, None, False


def _role(text: str, start: int, kind: str) -> str | None:
    before = text[max(0, start - 40):start].lower()
    before = re.sub(r"\s+", " ", before)
    before = re.sub(r"\s*\(\s*$", " ", before)
    before = re.sub(r"\s+(?:blijft|is|wordt|was|wordt nu)\s*$", " ", before)
    if kind in ("immediate", "offset"):
        return "from"
    if kind in ("indefinite", "duration", "month_end", "whole_month"):
        return "until"
    if re.search(VAGUE_UNTIL + r"\s*$", before):
        return "until"
    if re.search(r"(?:^|[\s(:;,-])" + UNTIL_MARKER + r"\s*(?:en met\s*)?(?:" + WEEKDAY + r"\s*)?$", before):
        return "until"
    if re.search(r"(?:^|[\s(:;,-])" + FROM_MARKER + r"\s*(?:" + WEEKDAY + r"\s*)?(?:aanstaande\s*)?$", before):
        return "from"
    if re.search(r"(?:\d|" + MONTH + r")\s*(?:-|–|tot)\s*$", before):
        return "until"
    if re.search(r"(?:^|\s)van\s*$", before) and re.match(r"[^.\n]{0,25}?\s(?:tot|t/m|tot en met)\s", text[start:start + 40]):
        return "from"
    return None


def find_dates(text: str, sent: date) -> list[DateMention]:
    """Every date mention in ``text``, longest match first where they overlap, in text order."""
    return [replace(mention) for mention in _find_dates(text, sent)]


@lru_cache(maxsize=512)
def _find_dates(text: str, sent: date) -> tuple[DateMention, ...]:
    taken = TakenSpans()
    mentions: list[DateMention] = []
    for kind, pattern in COMPILED:
        for match in pattern.finditer(text):
            start, end = match.span()
            if taken.overlaps(start, end):
                continue
            value, duration, year_given = _resolve(kind, match, sent)
            if kind in ("numeric", "weekday", "week", "day_month") and value is None:
                continue
            role = _role(text, start, kind)
            if role == "from" and value and not year_given and kind in ("day_month", "numeric"):
                value, kind = _recent_start(value, sent, kind)
            if kind == "vague" and re.search(VAGUE_UNTIL + r"\s*$", text[max(0, start - 30):start].lower()):
                role = "until"
            taken.add(start, end)
            mentions.append(DateMention(kind, role, value, start, end, match.group(0), duration, year_given))
    _vague_until(text, mentions)
    return tuple(sorted(mentions, key=lambda m: m.start))


def _recent_start(value: str, sent: date, kind: str) -> tuple[str, str]:
    """'De startdatum blijft 14 maart', written in April: a start date that just passed is meant,
    not one eleven months ahead. Marked so its confidence stays low enough for a person to check."""
    moment = date.fromisoformat(value)
    if moment.year > sent.year:
        earlier = moment.replace(year=moment.year - 1)
        if timedelta(0) < sent - earlier <= timedelta(days=60):
            return earlier.isoformat(), "recent_start"
    return value, kind


def _vague_until(text: str, mentions: list[DateMention]) -> None:
    """'in ieder geval tot 1 juli' does not promise an end date: a person must check."""
    for mention in mentions:
        before = re.sub(r"\s+", " ", text[max(0, mention.start - 30):mention.start].lower())
        if re.search(VAGUE_UNTIL + r"\s*$", before):
            mention.role, mention.value, mention.kind = "until", None, "vague"


def add_duration(start: str | None, duration: relativedelta) -> str | None:
    if not start or start == "indefinite":
        return None
    return (date.fromisoformat(start) + duration).isoformat()
