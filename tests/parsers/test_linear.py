"""Every stage of parsing and extraction grows linearly with its input.

Each stage runs on adversarial text of about 10 KB, 100 KB and 1 MB (location-like lines,
one long line without newlines or full stops, runs of word characters and dots, HTML tables,
nested tables, unterminated encoded-words); the best of 3 runs is taken, and the growth from
100 KB to 1 MB must stay below 30 (linear code: about 10; quadratic: about 100). No absolute
times are asserted: those live in bench/faults_parse.py.
"""

from __future__ import annotations

import time
from datetime import date

import pytest

from bench.faults_parse import (encoded_word_header, location_text, long_line_text, plain_mail,
                                table_html, unclosed_table_mail)
from parsers.contacts import named_contacts
from parsers.dates import find_dates
from parsers.extract import extract, read_message
from parsers.fields import find_emails, find_phones, find_places, find_postcodes, find_streets
from parsers.html_text import html_to_text
from parsers.locations import location_name
from parsers.mime import decode_header_value, has_data_table, parse_message
from parsers.numbers import parse_number
from parsers.quotes import split_reply
from parsers.segments import Segment, split_locations, split_prose, table_rows
from parsers.triage import classify
from vng_ingest.models import Offer

SIZES = (10_000, 100_000, 1_000_000)
MAX_GROWTH = 30          # t(1 MB) / t(100 KB); linear is ~10, quadratic ~100
HEAVY = (10_000, 40_000, 160_000)   # for stages that build spaCy docs: x4, linear ~4, quadratic ~16
HEAVY_GROWTH = 12
SENT = date(2022, 3, 14)


MIN_MEASURED = 0.02      # seconds: quicker stages are repeated, so timer noise does not decide


def best_time(stage, data, runs: int = 3) -> float:
    """Seconds per call, best of `runs`; a quick stage is repeated to last MIN_MEASURED."""
    started = time.perf_counter()
    stage(data)
    first = time.perf_counter() - started
    repeat = 1 if first >= MIN_MEASURED else min(1000, int(MIN_MEASURED / max(first, 1e-6)) + 1)
    times = [first] if repeat == 1 else []
    while len(times) < runs:
        started = time.perf_counter()
        for _ in range(repeat):
            stage(data)
        times.append((time.perf_counter() - started) / repeat)
    return min(times)


def assert_linear(stage, make, sizes=SIZES, growth=MAX_GROWTH, runs: int = 3) -> None:
    inputs = [make(size) for size in sizes]
    stage(inputs[0])                                  # warm-up: patterns, reference data
    times = [best_time(stage, data, runs) for data in inputs]
    ratio = times[-1] / times[-2]
    assert ratio < growth, f"t({sizes[-1]})/t({sizes[-2]}) = {ratio:.1f}; times {times}"


def dotted_words(size: int) -> str:
    """Runs of word characters joined by dots and hyphens: every position could start a street
    or an e-mail address."""
    return ("a.b-c" * (size // 5))[:size]


def uncached(finder):
    """Finders cache per text; a fresh string each run keeps the cache out of the timing."""
    return lambda text: finder(text + " ")


FINDERS = {
    "postcodes": uncached(find_postcodes),
    "streets": uncached(find_streets),
    "places": uncached(find_places),
    "phones": find_phones,
    "emails": find_emails,
    "dates": uncached(lambda text: find_dates(text, SENT)),
    "numbers": lambda text: [parse_number(word) for word in text.split()[:5000]],
}


@pytest.mark.parametrize("name", list(FINDERS))
@pytest.mark.parametrize("make", [location_text, long_line_text, dotted_words],
                         ids=["lines", "long_line", "dotted"])
def test_finders_are_linear(name, make) -> None:
    assert_linear(FINDERS[name], make)


@pytest.mark.parametrize("make", [location_text, long_line_text], ids=["lines", "long_line"])
def test_segments_contacts_and_locations_are_linear(make) -> None:
    assert_linear(uncached(split_locations), make, HEAVY, HEAVY_GROWTH, runs=1)
    assert_linear(split_prose, make, HEAVY, HEAVY_GROWTH, runs=1)
    assert_linear(table_rows, make)
    assert_linear(named_contacts, lambda n: make(n).replace("contact ", "contactpersoon: "), HEAVY,
                  HEAVY_GROWTH, runs=1)
    assert_linear(lambda text: location_name(Segment(text, 0), Offer()), make, HEAVY, HEAVY_GROWTH)


def test_reply_split_and_html_are_linear() -> None:
    assert_linear(lambda text: split_reply(text, "Opvang"), location_text)
    assert_linear(html_to_text, table_html, HEAVY, HEAVY_GROWTH, runs=1)
    assert_linear(html_to_text, lambda n: "&nbsp;" * (n // 6) + "<p>x</p>")
    assert_linear(has_data_table, lambda n: "<table>" + "<tr><td><td><td>" * (n // 15))


def test_headers_and_mime_are_linear() -> None:
    assert_linear(lambda value: decode_header_value(value), lambda n: "=?a?q?x " * (n // 8))
    assert_linear(parse_message, lambda n: encoded_word_header(n), runs=1)
    assert_linear(parse_message, lambda n: unclosed_table_mail(n // 15), runs=1)


def test_triage_and_whole_extraction_are_linear() -> None:
    """Below the body budget (budgets.MAX_BODY_CHARS), so the cut does not hide growth."""
    parsed = {n: parse_message(plain_mail(location_text(n))) for n in HEAVY}
    assert_linear(lambda p: classify(p, use_model=False), parsed.get, HEAVY, HEAVY_GROWTH, runs=1)
    assert_linear(extract, parsed.get, HEAVY, HEAVY_GROWTH, runs=1)
    assert_linear(read_message, lambda n: plain_mail(long_line_text(n)), HEAVY, HEAVY_GROWTH, runs=1)


def test_nested_tables_do_not_double_per_level() -> None:
    """Each level of layout tables rendered its cells twice: 2^depth."""
    def nested(depth: int) -> str:
        return "<table><tr><td>a</td><td>" * depth + "Schoolstraat 1" + "</td></tr></table>" * depth
    assert_linear(html_to_text, nested, sizes=(4, 8, 16), growth=8)
