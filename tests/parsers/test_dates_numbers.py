"""Dutch idioms for dates, numbers of places and phone numbers, resolved against a fixed sending day.

Every expectation follows /work/shared/corpus/SCHEMA.md: "per direct" is the day the
message was sent, a date without a year is the first such date on or after that day,
"tot en met augustus" is the last day of the month, vague dates resolve to None so
that a person checks them, and a range of places gives the lower bound with a maximum.
"""

from __future__ import annotations

from datetime import date

import pytest

from parsers.dates import add_duration, find_dates
from parsers.fields import choose_places, find_phones, find_places, find_postcodes
from parsers.numbers import parse_number

SENT = date(2022, 3, 4)          # Friday 4 March 2022, three days after the VNG's letter


def only(text: str, sent: date = SENT):
    mentions = find_dates(text, sent)
    assert len(mentions) == 1, [(m.kind, m.text) for m in mentions]
    return mentions[0]


# -- dates -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, role, value", [
    ("per direct", "from", "2022-03-04"),
    ("per omgaande", "from", "2022-03-04"),
    ("per 15 maart", "from", "2022-03-15"),
    ("vanaf maandag 21 maart", "from", "2022-03-21"),
    ("m.i.v. 1 april", "from", "2022-04-01"),
    ("vanaf week 12", "from", "2022-03-21"),              # the Monday of ISO week 12
    ("t/m 30 juni", "until", "2022-06-30"),
    ("tot eind juni", "until", "2022-06-30"),
    ("tot en met augustus", "until", "2022-08-31"),
    ("tot nader order", "until", "indefinite"),
    ("voor onbepaalde tijd", "until", "indefinite"),
    ("zolang als nodig", "until", "indefinite"),
])
def test_date_idiom(text, role, value):
    mention = only(text)
    assert (mention.role, mention.value) == (role, value)


@pytest.mark.parametrize("text", ["1-4-2022", "01.04.22", "1/4/2022", "01-04-2022"])
def test_numeric_dates_are_day_first(text):
    assert only(text).value == "2022-04-01"


@pytest.mark.parametrize("text, role", [("in ieder geval tot 1 juli", "until"), ("begin april", None),
                                        ("medio mei", None), ("z.s.m.", None)])
def test_vague_dates_have_no_value(text, role):
    mention = only(text)
    assert mention.value is None and mention.role == role


def test_date_without_year_rolls_over_to_next_year():
    assert only("tot 1 maart", date(2022, 3, 5)).value == "2023-03-01"
    assert only("tot 1 maart", date(2022, 2, 20)).value == "2022-03-01"
    assert only("tot 5 maart", date(2022, 3, 5)).value == "2022-03-05"     # the sending day itself


def test_duration_counts_from_available_from():
    from_mention, duration = find_dates("beschikbaar per 1 april, voor een periode van 6 maanden", SENT)
    assert (from_mention.role, from_mention.value) == ("from", "2022-04-01")
    assert duration.kind == "duration" and duration.value is None
    assert add_duration(from_mention.value, duration.duration) == "2022-10-01"
    assert add_duration("2022-08-31", only("voor een periode van 6 maanden").duration) == "2023-02-28"
    assert add_duration("indefinite", duration.duration) is None
    assert add_duration(None, duration.duration) is None


def test_from_and_until_in_one_sentence():
    mentions = find_dates("De locatie is beschikbaar van 1 april tot 1 oktober 2022.", SENT)
    assert [(m.role, m.value) for m in mentions] == [("from", "2022-04-01"), ("until", "2022-10-01")]


def test_duration_before_vanaf_nu_is_not_per_direct():
    mention = only("De locatie is twee weken vanaf nu beschikbaar.")
    assert mention.value in (None, "2022-03-18")


@pytest.mark.parametrize("text", ["1.200 personen", "Kerkstraat 12", "3521 BJ Utrecht", "bouwjaar 1974",
                                  "op 400 meter", "2.350 m²", "3 verdiepingen"])
def test_non_dates_are_not_dates(text):
    assert find_dates(text, SENT) == []


# -- numbers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("vijfentwintig", 25), ("honderdtwintig", 120), ("twintig", 20), ("drieënveertig", 43),
    ("tweeduizend", 2000), ("1.200", 1200), ("60", 60), ("Vijftig", 50),
])
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["plekken", "en", "", "12a", "1,5"])
def test_parse_number_rejects_non_numbers(text):
    assert parse_number(text) is None


def places(text: str) -> tuple[int | None, int | None]:
    chosen = choose_places(find_places(text))
    return (chosen.value, chosen.maximum) if chosen else (None, None)


@pytest.mark.parametrize("text, expected", [
    ("opvang voor 40 à 50 personen", (40, 50)),
    ("tussen de 30 en 40 personen", (30, 40)),
    ("circa 60 personen", (60, None)),
    ("ca. 60 mensen", (60, None)),
    ("vijfentwintig personen", (25, None)),
    ("plek voor honderdtwintig mensen", (120, None)),
    ("1.200 opvangplekken", (1200, None)),
    ("15 gezinnen (ca. 60 personen)", (60, None)),
    ("20 chalets van 4 à 6 personen", (80, 120)),
    ("totaal 60 personen", (60, None)),
])
def test_places(text, expected):
    assert places(text) == expected


def test_places_families_with_persons_after_ruimte_voor():
    assert places("Er is ruimte voor 15 gezinnen (ca. 60 personen).") == (60, None)


@pytest.mark.parametrize("text", [
    "Sporthal De Kuil, Kuilstraat 30, 3521 BJ Utrecht",        # house number, postcode
    "Bereikbaar via 06-12345678 of 0318 680421",                 # phone numbers
    "beschikbaar per 15-3-2022 tot 1 oktober",                   # dates
    "oppervlakte 2.350 m²",
    "bouwjaar 1974",
    "Het pand heeft 3 verdiepingen",
    "gelegen op 400 meter van het station",
])
def test_non_places_alone_are_not_places(text):
    assert find_places(text) == []


@pytest.mark.parametrize("text, expected", [
    ("Dorpsstraat 140, 1234 AB Ergens. Capaciteit 35 personen. Contact: 06-12345678.", 35),
    ("Bel 06-12345678, 30 personen", 30),
    ("per 1-4-2022 voor 30 personen", 30),
    ("Het gebouw (bouwjaar 1974, 3 verdiepingen, 2.350 m²) ligt op 400 meter van het station en biedt "
     "plaats aan 80 personen.", 80),
])
def test_non_places_next_to_places_are_ignored(text, expected):
    assert places(text) == (expected, None)


@pytest.mark.parametrize("text, expected", [
    ("twee honderd personen", 200),
    ("honderd vijftig personen", 150),
    ("drie en dertig personen", 33),
    ("twaalfhonderd mensen", 1200),
])
def test_places_in_split_number_words(text, expected):
    assert places(text) == (expected, None)


def test_floor_area_after_ruimte_voor_is_not_places():
    assert places("Het pand biedt ruimte voor 2.350 m² aan kantoren en 80 personen.") == (80, None)


def test_date_after_opvang_voor_is_not_places():
    assert places("Wij kunnen opvang voor 1 april regelen voor 30 personen.") == (30, None)


# -- phones and postcodes --------------------------------------------------------------------------

@pytest.mark.parametrize("text, e164", [
    ("06-12345678", "+31612345678"),
    ("tel. 06 12 34 56 78", "+31612345678"),
    ("+31 (0)318 68 04 21", "+31318680421"),
    ("0031 6 12345678", "+31612345678"),
    ("0031 (0)6 1234 5678", "+31612345678"),
    ("0318-680421", "+31318680421"),
    ("030 - 286 00 00", "+31302860000"),
])
def test_phones_to_e164(text, e164):
    assert [found.value for found in find_phones(text)] == [e164]


@pytest.mark.parametrize("text", ["Kerkstraat 12, 3521 BJ Utrecht", "1-4-2022", "bouwjaar 1974",
                                  "1.200 personen", "Postbus 16200"])
def test_non_phones_are_not_phones(text):
    assert find_phones(text) == []


def test_postcodes():
    assert [f.value for f in find_postcodes("Kuilstraat 30, 3521BJ Utrecht")] == ["3521 BJ"]
    assert find_postcodes("Postbus 16200, 3500 CE Utrecht") == []
    assert find_postcodes("bel 0612345678 of 1234 SS") == []          # 'SS' is not given out
