#!/usr/bin/env python3
"""How well our Dutch date and number normalisation does on other projects' test cases.

    python bench/dates_numbers.py [--external DIR] [--misses]

Data: /work/shared/bench/external/dates_numbers (see its PROVENANCE.md). Only the
cases listed in ``domain_relevant.jsonl`` (a keyword heuristic over the inputs)
are considered, and of those only the ones whose expected value can be compared
with ours honestly:

Dates (expected: one calendar date; compared at day grain, time of day ignored)
  * duckling/time_nl          ``expected.type == "value"`` with ``grain == "day"``
                              (reference 2013-02-12 04:30 at UTC-2; the local date is used)
  * chrono/chrono_nl          a single point (no ``end``) with year, month and day known,
                              from ``start_date`` or the ``start`` components
  * recognizers_text          DateParser (Type ``date``), DateTimeModel and MergedParser
    DateTime                  (TypeName/Type ``datetimeV2.date``) with exactly one result.
                              Where the spec gives a past and a future resolution, the future
                              one counts: our rule (SCHEMA.md) is "the first such date on or
                              after the sending day". The ``either`` columns accept both.
  * dateparser                ``in_future`` freshness cases, expected = reference + offset
                              (reference 2012-11-13, the one dateparser's own tests use).
  Left out: intervals and ranges, times of day, durations without an anchor,
  translations, cases with no resolution (extractor specs) and negative cases.

Numbers (expected: one integer; ``parse_number`` on the gold span, i.e. the
whole input for duckling/text2num/n2words and the result ``Text`` for Recognizers)
  * duckling/numeral_nl, text2num_rs ``text2digits`` (a must-fail case is right when
    we return None), n2words ``cardinal`` read backwards (words → number),
    recognizers_text Number/NumberModel with one result.
  Left out: decimals and fractions (places are whole people), ordinals, currency,
  percentages, ranges (NumberRangeModel), numbers inside running text with units.

"Ours" for dates is ``parsers.dates.find_dates(text, reference_date)``: the value
of the first mention that resolves to an ISO date. We run it on the whole input
and on the gold span (the expected ``Text``/``matched_text``, where the source
gives one). ``dateparser`` gets the same two inputs:
``dateparser.parse(text, languages=['nl'], settings={'RELATIVE_BASE': reference})``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsers.dates import find_dates  # noqa: E402
from parsers.numbers import parse_number  # noqa: E402
from vng_ingest.shared import EXTERNAL

EXTERNAL = EXTERNAL / "dates_numbers"
DATEPARSER_BASE = datetime(2012, 11, 13)


@dataclass
class DateCase:
    source: str
    text: str
    span: str | None
    reference: datetime
    expected: set[date]          # the accepted answers for the "either" column
    preferred: date              # the answer for the strict column
    tags: tuple[str, ...] = ()   # domain_relevant.jsonl's heuristic tags


@dataclass
class NumberCase:
    source: str
    span: str
    expected: int | None         # None: must not parse


def _read(path: Path, line: int, cache: dict) -> dict:
    if path not in cache:
        cache[path] = path.read_text(encoding="utf-8").splitlines()
    return json.loads(cache[path][line - 1])


def _iso_day(text: str) -> date:
    return date.fromisoformat(text[:10])


def _date_case(file: str, case: dict) -> DateCase | None:
    if file == "duckling/time_nl.jsonl":
        expected = case.get("expected") or {}
        if expected.get("type") != "value" or expected.get("grain") != "day":
            return None
        day = _iso_day(expected["value"])
        ref = datetime.fromisoformat(case["reference"]).replace(tzinfo=None)
        return DateCase("duckling", case["text"], None, ref, {day}, day)
    if file == "chrono/chrono_nl.jsonl":
        expected = case.get("expected")
        if not expected or "end" in expected or not case.get("reference"):
            return None
        start = expected.get("start") or {}
        if expected.get("start_date"):
            day = _iso_day(expected["start_date"])
        elif all(k in start for k in ("year", "month", "day")):
            day = date(start["year"], start["month"], start["day"])
        else:
            return None
        return DateCase("chrono", case["text"], expected.get("matched_text"),
                        datetime.fromisoformat(case["reference"]), {day}, day)
    if file.startswith("recognizers_text/DateTime/"):
        return _recognizers_date(file, case)
    if file == "dateparser/dateparser_nl.jsonl":
        params = case.get("params") or {}
        offset = params.get("in_future")
        if not offset:
            return None
        day = (DATEPARSER_BASE + timedelta(**offset)).date()
        return DateCase("dateparser", params["date_string"], None, DATEPARSER_BASE, {day}, day)
    return None


def _recognizers_date(file: str, case: dict) -> DateCase | None:
    results = case.get("Results") or []
    context = case.get("Context") or {}
    if len(results) != 1 or not context.get("ReferenceDateTime"):
        return None
    result = results[0]
    ref = datetime.fromisoformat(context["ReferenceDateTime"][:19])
    kind = result.get("Type") or result.get("TypeName")
    if file.endswith("/DateParser.jsonl") and kind == "date":
        value = result["Value"]
        future, past = _iso_day(value["FutureResolution"]["date"]), _iso_day(value["PastResolution"]["date"])
    elif kind == "datetimeV2.date":
        values = (result.get("Resolution") or result.get("Value") or {}).get("values") or []
        days = sorted({_iso_day(v["value"]) for v in values if v.get("type") == "date" and v.get("value")})
        if not days or len(days) > 2:
            return None
        future, past = days[-1], days[0]
    else:
        return None
    return DateCase("recognizers", case["Input"], result.get("Text"), ref, {future, past}, future)


def _number_case(file: str, case: dict) -> NumberCase | None:
    if file == "duckling/numeral_nl.jsonl":
        value = (case.get("expected") or {}).get("value")
        return NumberCase("duckling", case["text"], value) if isinstance(value, int) else None
    if file == "text2num_rs/numbers_nl.jsonl":
        if case.get("task") != "text2digits":
            return None
        if case.get("expected_error") or case.get("expected") is None:
            return NumberCase("text2num", case["text"], None)
        return NumberCase("text2num", case["text"], int(case["expected"])) \
            if re.fullmatch(r"\d+", str(case["expected"])) else None
    if file == "n2words/number_words_nl.jsonl":
        number = case.get("number")
        if case.get("kind") != "cardinal" or not isinstance(number, int) or isinstance(number, bool):
            return None
        return NumberCase("n2words", case["words"], number)
    if file == "recognizers_text/Number/NumberModel.jsonl":
        results = case.get("Results") or []
        if len(results) != 1 or results[0].get("TypeName") != "number":
            return None
        value = str((results[0].get("Resolution") or {}).get("value"))
        return NumberCase("recognizers", results[0]["Text"], int(value)) if re.fullmatch(r"-?\d+", value) else None
    return None


def load_cases(folder: Path) -> tuple[list[DateCase], list[NumberCase], int]:
    cache: dict = {}
    dates: list[DateCase] = []
    numbers: list[NumberCase] = []
    rows = [json.loads(line) for line in (folder / "domain_relevant.jsonl").read_text().splitlines() if line]
    for row in rows:
        case = _read(folder / row["file"], row["line"], cache)
        made = _date_case(row["file"], case)
        if made:
            made.tags = tuple(row.get("tags") or ())
            dates.append(made)
            continue
        number = _number_case(row["file"], case)
        if number:
            numbers.append(number)
    return dates, numbers, len(rows)


def ours(text: str, reference: datetime) -> date | None:
    for mention in find_dates(text, reference.date()):
        if mention.value and mention.value != "indefinite":
            return date.fromisoformat(mention.value)
    return None


def theirs(text: str, reference: datetime) -> date | None:
    import dateparser
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = dateparser.parse(text, languages=["nl"], settings={"RELATIVE_BASE": reference})
    return parsed.date() if parsed else None


def score_dates(cases: list[DateCase], misses: bool) -> None:
    columns = ["ours(text)", "ours(span)", "dp(text)", "dp(span)", "ours either", "dp either"]
    tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for case in cases:
        span = case.span or case.text
        answers = {"ours(text)": ours(case.text, case.reference), "ours(span)": ours(span, case.reference),
                   "dp(text)": theirs(case.text, case.reference), "dp(span)": theirs(span, case.reference)}
        for group in (case.source, "all", *(f"#{tag}" for tag in case.tags)):
            tally[group]["n"] += 1
            tally[group]["ambiguous"] += len(case.expected) > 1
            for name, answer in answers.items():
                tally[group][name] += answer == case.preferred
            tally[group]["ours either"] += answers["ours(text)"] in case.expected
            tally[group]["dp either"] += answers["dp(text)"] in case.expected
        if misses and answers["ours(text)"] != case.preferred:
            print(f"  miss [{case.source}] {case.text!r} ref {case.reference.date()} expected {case.preferred} "
                  f"ours {answers['ours(text)']} dateparser {answers['dp(text)']}")
    print("Dates: share right at day grain (dp = dateparser; 'either' accepts a past or future resolution)")
    print("(rows by source, then 'all', then by domain_relevant tag: #tag)")
    print(f"{'source':24s} {'n':>4s} {'ambig':>5s} " + " ".join(f"{c:>11s}" for c in columns))
    for group in sorted(tally, key=lambda g: (g.startswith("#"), g == "all", g)):
        row = tally[group]
        print(f"{group:24s} {row['n']:4d} {row['ambiguous']:5d} " +
              " ".join(f"{row[c] / row['n']:11.3f}" for c in columns))


def score_numbers(cases: list[NumberCase], misses: bool) -> None:
    tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for case in cases:
        got = parse_number(case.span)
        right = got == case.expected
        small = case.expected is not None and case.expected <= 5000
        for group in (case.source, "all"):
            tally[group]["n"] += 1
            tally[group]["right"] += right
            tally[group]["n_small"] += small
            tally[group]["right_small"] += right and small
        if misses and not right:
            print(f"  miss [{case.source}] {case.span!r} expected {case.expected} got {got}")
    print("Numbers: parse_number on the gold span, share right (all; and cases with expected ≤ 5000, "
          "the range find_places accepts)")
    print(f"{'source':12s} {'n':>4s} {'right':>7s} {'n≤5000':>7s} {'right≤5000':>10s}")
    for group in sorted(tally, key=lambda g: (g == "all", g)):
        row = tally[group]
        small = f"{row['right_small'] / row['n_small']:10.3f}" if row["n_small"] else f"{'-':>10s}"
        print(f"{group:12s} {row['n']:4d} {row['right'] / row['n']:7.3f} {row['n_small']:7d} {small}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--external", type=Path, default=EXTERNAL)
    parser.add_argument("--misses", action="store_true", help="list every case we get wrong")
    args = parser.parse_args()
    if not (args.external / "domain_relevant.jsonl").is_file():
        print(f"no external cases at {args.external}", file=sys.stderr)
        return 2
    dates, numbers, total = load_cases(args.external)
    print(f"domain-relevant rows: {total}; comparable date cases: {len(dates)}; number cases: {len(numbers)}\n")
    score_dates(dates, args.misses)
    print()
    score_numbers(numbers, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
