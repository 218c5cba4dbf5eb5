"""Dutch numbers: digits with thousands dots ("1.200"), number words ("vijfentwintig"), ranges."""

from __future__ import annotations

import re

UNITS = {"nul": 0, "een": 1, "één": 1, "eén": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6,
         "zeven": 7, "acht": 8, "negen": 9}
TEENS = {"tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14, "vijftien": 15,
         "zestien": 16, "zeventien": 17, "achttien": 18, "negentien": 19}
TENS = {"twintig": 20, "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "zeventig": 70,
        "tachtig": 80, "negentig": 90}
WORD_NUMBER = re.compile(
    r"(?:(?:een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien"
    r"|zestien|zeventien|achttien|negentien|twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig"
    r"|negentig|honderd|duizend|en|ën)+)", re.IGNORECASE)


def _below_hundred(word: str) -> int | None:
    if word == "":
        return 0
    if word in UNITS:
        return UNITS[word]
    if word in TEENS:
        return TEENS[word]
    if word in TENS:
        return TENS[word]
    for joiner in ("en", "ën"):
        for tens_word, tens in TENS.items():
            if word.endswith(joiner + tens_word):
                unit = word[: -len(joiner + tens_word)]
                if unit in UNITS and UNITS[unit] > 0:
                    return tens + UNITS[unit]
    return None


def _below_thousand(word: str) -> int | None:
    if "honderd" in word:
        head, _, tail = word.partition("honderd")
        hundreds = 1 if head == "" else UNITS.get(head, TEENS.get(head))
        rest = _below_hundred(tail.removeprefix("en") if tail.startswith("en") and
                              _below_hundred(tail) is None else tail)
        if hundreds is None or rest is None:
            return None
        return hundreds * 100 + rest
    return _below_hundred(word)


def parse_number_word(word: str) -> int | None:
    """'vijfentwintig' → 25, 'honderdtwintig' → 120, 'tweeduizend' → 2000; None if not a number word."""
    word = re.sub(r"[\s-]+", "", word.lower().strip())
    if not word or word in ("en", "ën"):
        return None
    if "duizend" in word:
        head, _, tail = word.partition("duizend")
        thousands = 1 if head == "" else _below_thousand(head)
        rest = _below_thousand(tail) if tail else 0
        if thousands is None or rest is None:
            return None
        return thousands * 1000 + rest
    return _below_thousand(word)


def parse_digits(text: str) -> int | None:
    """'1.200' → 1200, '60' → 60, '1 200' (non-breaking or plain space in thousands) → 1200."""
    cleaned = text.replace("\u00a0", " ").strip()
    if re.fullmatch(r"\d{1,3}(?:[. ]\d{3})+", cleaned):
        return int(re.sub(r"[. ]", "", cleaned))
    if re.fullmatch(r"\d+", cleaned):
        return int(cleaned)
    return None


def parse_number(text: str) -> int | None:
    """A number written in digits or in words."""
    value = parse_digits(text)
    return value if value is not None else parse_number_word(text)


_WORDS = (r"(?:een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|zestien"
          r"|zeventien|achttien|negentien|twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig|honderd"
          r"|duizend)")
_JOIN = r"(?:en|ën|" + _WORDS[3:]
#: A number in digits or words, as a regex fragment (use with re.IGNORECASE). Words may be written
#: apart ("twee honderd", "drie en dertig").
NUMBER = (r"(?:\d{1,3}(?:\.\d{3})+|\d+|" + _WORDS + r"(?:" + _JOIN + r"|\s(?:en\s)?(?=" + _WORDS[3:-1] +
          r"(?:en|ën)?(?:" + _WORDS[3:-1] + r")?(?!\w)))*)")
