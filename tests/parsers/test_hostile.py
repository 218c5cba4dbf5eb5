"""Hostile and broken input: read within budgets, and every refusal or cut recorded as a Problem.

The inputs are those of a fault campaign, at small sizes (bench/faults_parse.py runs them
large): the table mail that made a regex backtrack, a header of unterminated encoded-words,
zip bombs whose directory lies about their sizes, and input that is no readable mail at all.
"""

from __future__ import annotations

import pickle
import time

import pytest

from bench.faults_parse import (attachment_mail, bomb_mail, encoded_word_header, garbage_base64_mail,
                                lying_zip, location_lines_text, no_separator_mail, plain_mail,
                                random_bytes, unclosed_table_mail)
from parsers import budgets
from parsers.extract import read_message
from parsers.message import (ATTACHMENT_REFUSED, ATTACHMENT_UNREADABLE, TRUNCATED, UNREADABLE,
                             Problem)
from parsers.mime import parse_message

XLSX_KIND = "xlsx"


def codes(parsed) -> set[str]:
    return {problem.code for problem in parsed.problems}


def seconds(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


# --- patterns that backtracked --------------------------------------------------------------

def test_table_of_unclosed_cells_is_read_in_linear_time() -> None:
    """'<table>' + '<tr><td><td><td>' * n: the old DATA_TABLE regex grew with ~n^5."""
    parse_message(unclosed_table_mail(10))
    small = min(seconds(parse_message, unclosed_table_mail(20)) for _ in range(3))
    large = min(seconds(parse_message, unclosed_table_mail(40)) for _ in range(3))
    assert large / max(small, 1e-4) < 8            # x2 rows: linear ~2, n^5 ~32
    parsed = parse_message(unclosed_table_mail(40))
    assert parsed.body.startswith("Zie de tabel") or "|" not in parsed.body


def test_unterminated_encoded_words_in_linear_time_and_cut() -> None:
    parse_message(encoded_word_header(1_000))
    small = min(seconds(parse_message, encoded_word_header(2_000)) for _ in range(3))
    large = min(seconds(parse_message, encoded_word_header(16_000)) for _ in range(3))
    assert large / max(small, 1e-4) < 24           # x8: linear ~8, quadratic ~64
    parsed = parse_message(encoded_word_header(budgets.MAX_HEADER_CHARS * 2))
    assert len(parsed.subject) <= budgets.MAX_HEADER_CHARS
    assert TRUNCATED in codes(parsed)
    assert parsed.new_text.startswith("Wij bieden 20 plekken")


# --- zip bombs that lie about their sizes ----------------------------------------------------

@pytest.mark.parametrize("kind", ["docx", XLSX_KIND])
def test_lying_zip_bomb_is_refused_by_its_real_size(kind: str) -> None:
    real = budgets.MAX_INFLATED_BYTES + 5 * 1024 * 1024
    parsed, extraction = read_message(attachment_mail(f"locaties.{kind}", lying_zip(real, kind=kind)))
    att = next(a for a in parsed.attachments if a.filename == f"locaties.{kind}")
    assert att.problem == Problem(ATTACHMENT_REFUSED, f"De bijlage 'locaties.{kind}' is niet gelezen: "
                                                      "uitgepakt groter dan 50 MB.")
    assert att.problem in parsed.problems and att.text == "" and att.tables == []
    assert "unpack" in att.error and extraction.error is None


def test_zip_whose_directory_understates_a_small_member_is_refused(monkeypatch) -> None:
    """Below the budget, a member larger than declared is refused too: readers trust the directory."""
    parsed = parse_message(attachment_mail("locaties.docx", lying_zip(2 * 1024 * 1024)))
    att = next(a for a in parsed.attachments if a.filename == "locaties.docx")
    assert att.problem.code == ATTACHMENT_REFUSED and "klopt niet" in att.problem.text


def test_bomb_mail_does_not_inflate_past_the_budget(monkeypatch) -> None:
    """Inflating stops at the budget: with a 1 MB budget a 64 MB member is refused quickly."""
    monkeypatch.setattr(budgets, "MAX_INFLATED_BYTES", 1024 * 1024)
    raw = bomb_mail(64 * 1024 * 1024)
    parsed = parse_message(raw)
    assert ATTACHMENT_REFUSED in codes(parsed)
    assert "uitgepakt groter dan 1 MB" in parsed.problems[0].text


def test_refused_and_unreadable_attachments_are_problems(monkeypatch) -> None:
    monkeypatch.setattr(budgets, "MAX_ATTACHMENT_BYTES", 100)
    parsed = parse_message(attachment_mail("groot.csv", b"a;b\n" * 100))
    assert codes(parsed) == {ATTACHMENT_REFUSED}
    monkeypatch.undo()
    parsed = parse_message(attachment_mail("kapot.xlsx", b"PK\x03\x04garbage"))
    assert codes(parsed) == {ATTACHMENT_UNREADABLE}
    assert parsed.problems[0].text.startswith("De bijlage 'kapot.xlsx' kon niet worden gelezen")


def test_attachments_beyond_the_budget_are_refused(monkeypatch) -> None:
    monkeypatch.setattr(budgets, "MAX_ATTACHMENTS", 2)
    from email.message import EmailMessage
    message = EmailMessage()
    message["From"], message["Subject"] = "info@gemeente.example", "Opvang"
    message.set_content("Zie bijlagen.")
    for i in range(4):
        message.add_attachment(f"regel {i}\n".encode(), maintype="text", subtype="plain",
                               filename=f"b{i}.txt")
    parsed = parse_message(message.as_bytes())
    assert [a.text for a in parsed.attachments[:2]] == ["regel 0", "regel 1"]
    assert ATTACHMENT_REFUSED in codes(parsed) and "meer dan 2 bijlagen" in parsed.problems[0].text


# --- budgets on text -------------------------------------------------------------------------

def test_body_over_budget_is_cut_with_a_problem(monkeypatch) -> None:
    monkeypatch.setattr(budgets, "MAX_BODY_CHARS", 5_000)
    parsed, extraction = read_message(plain_mail(location_lines_text(200)))
    assert len(parsed.body) <= 5_000 and TRUNCATED in codes(parsed)
    assert extraction.offers and extraction.error is None


def test_html_table_over_the_cell_budget_is_cut(monkeypatch) -> None:
    monkeypatch.setattr(budgets, "MAX_TABLE_CELLS", 30)
    from bench.faults_parse import table_mail
    parsed = parse_message(table_mail(5_000))
    assert TRUNCATED in codes(parsed)
    assert 1 <= parsed.body.count(" | ") <= 30


# --- input that is not a readable e-mail -----------------------------------------------------

@pytest.mark.parametrize("raw, reason", [
    (b"", "leeg"),
    (b"   \r\n\r\n", "leeg"),
    (random_bytes(3000), ""),
    (garbage_base64_mail(), "base64"),
    (no_separator_mail(), "niet van elkaar gescheiden"),
    (b"Dit is gewoon een tekstbestand, geen e-mail.\nTweede regel.\n", "geen e-mailbericht"),
], ids=["empty", "blank", "random", "garbage_base64", "no_separator", "not_a_mail"])
def test_unreadable_input_is_a_problem(raw: bytes, reason: str) -> None:
    parsed, extraction = read_message(raw)
    assert codes(parsed) == {UNREADABLE}
    assert parsed.problems[0].text.startswith("Dit bericht kon niet worden gelezen") and reason in parsed.problems[0].text
    assert extraction.offers == []


def test_normal_mail_has_no_problems() -> None:
    parsed, extraction = read_message(plain_mail("Wij bieden 20 plekken aan in de Schoolstraat 1, 1234 AB Assen."))
    assert parsed.problems == [] and extraction.offers


def test_rfc2231_charset_keeps_the_text() -> None:
    raw = ("From: info@gemeente.example\r\nSubject: Opvang\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset*=utf-8''utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           "Wij bieden 20 plekken aan in het café.\r\n").encode()
    parsed = parse_message(raw)
    assert parsed.new_text.strip() == "Wij bieden 20 plekken aan in het café."
    assert not [e for e in parsed.errors if "MIME part" in e or "mail-parser" in e]


def test_parsed_message_and_extraction_survive_pickling() -> None:
    """The pipeline runs read_message in a worker process: what it returns crosses a pipe."""
    parsed, extraction = read_message(attachment_mail("kapot.xlsx", b"PK\x03\x04garbage",
                                                      text="Wij bieden 20 plekken aan in Assen."))
    again, extraction_again = pickle.loads(pickle.dumps((parsed, extraction)))
    assert again.problems == parsed.problems and again.problems
    assert extraction_again.kind == extraction.kind
