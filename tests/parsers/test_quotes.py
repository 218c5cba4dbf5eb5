"""Reply/quote/signature split for the Dutch and English mail clients municipalities use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parsers.html_text import html_to_text, html_to_text_with_quote
from parsers.quotes import split_reply
from vng_ingest.shared import EXTERNAL

REPLY_QUOTE = EXTERNAL / "reply_quote"
needs_fixtures = pytest.mark.skipif(not REPLY_QUOTE.is_dir(),
                                    reason=f"reply/quote fixtures not found at {REPLY_QUOTE}")

OFFER = "Wij hebben 40 plekken per 1 april."


@pytest.mark.parametrize("history", [
    "Op 1 mrt. 2022 om 16:12 schreef VNG <info@vng.nl>:\n> Geacht college,\n> Lbr. 22/011",
    "Op di 1 mrt. 2022 om 16:12 schreef Vereniging van Nederlandse Gemeenten <\ninfo@vng.nl>:\n\n> Geacht college,",
    "Op 1 mrt. 2022, om 16:12 heeft VNG <info@vng.nl> het volgende geschreven:\n\n> Geacht college,",
    "On Tue, Mar 1, 2022 at 4:12 PM VNG <info@vng.nl> wrote:\n> Dear board,",
    "-----Oorspronkelijk bericht-----\nVan: VNG <info@vng.nl>\nVerzonden: dinsdag 1 maart 2022 16:12\n"
    "Aan: Gemeente <info@x.nl>\nOnderwerp: Ledenbrief\n\nGeacht college,",
    "-----Original Message-----\nFrom: VNG\nSent: Tuesday, March 1, 2022 4:12 PM\nTo: x\n"
    "Subject: Letter\n\nDear board,",
    "________________________________\nVan: VNG <info@vng.nl>\nVerzonden: dinsdag 1 maart 2022\n"
    "Aan: x\nCC: y\nOnderwerp: z\n\nGeacht college,",
    "*Van:* VNG <info@vng.nl>\n*Verzonden:* dinsdag 1 maart 2022\n*Aan:* x\n*Onderwerp:* z\n\nGeacht college,",
    "> Geacht college,\n> Lbr. 22/011\n>\n> Met vriendelijke groet,\n> VNG",
])
def test_history_goes_to_quoted(history: str) -> None:
    text = f"Beste VNG,\n\n{OFFER}\n\nMet vriendelijke groet,\n\nJan Jansen\nGemeente Assen\n\n{history}\n"
    parts = split_reply(text, "RE: Ledenbrief")
    assert parts.new_text == f"Beste VNG,\n\n{OFFER}"
    assert parts.signature == "Met vriendelijke groet,\n\nJan Jansen\nGemeente Assen"
    assert "Geacht college" in parts.quoted or "Dear board" in parts.quoted
    assert parts.forwarded == ""


@pytest.mark.parametrize("marker", [
    "---------- Doorgestuurd bericht ----------\nVan: Piet <p@x.nl>\nDatum: 1 mrt 2022\nOnderwerp: a\nAan: b",
    "---------- Forwarded message ---------\nFrom: Piet <p@x.nl>\nDate: Mar 1, 2022\nSubject: a\nTo: b",
    "Begin doorgestuurd bericht:\n\nVan: Piet <p@x.nl>\nOnderwerp: a\nDatum: 1 maart 2022\nAan: b",
    "Begin forwarded message:\n\nFrom: Piet <p@x.nl>\nSubject: a\nDate: 1 March 2022\nTo: b",
])
def test_inline_forward_goes_to_forwarded(marker: str) -> None:
    text = f"Ter info.\n\nGroet,\nJan\n\n{marker}\n\nHet pand heeft 60 plekken."
    parts = split_reply(text, "Fwd: aanbod")
    assert parts.new_text == "Ter info."
    assert parts.forwarded.endswith("Het pand heeft 60 plekken.") and parts.quoted == ""


def test_outlook_block_is_a_forward_only_when_subject_says_so() -> None:
    text = "Zie hieronder.\n\nVan: Piet <p@x.nl>\nVerzonden: dinsdag\nAan: Jan\nOnderwerp: a\n\n60 plekken."
    assert split_reply(text, "FW: a").forwarded.endswith("60 plekken.")
    assert split_reply(text, "Doorst: a").forwarded.endswith("60 plekken.")
    assert split_reply(text, "RE: a").quoted.endswith("60 plekken.")


@pytest.mark.parametrize("sign_off", ["Met vriendelijke groet,", "Met vriendelijke groeten,",
                                      "Vriendelijke groet,", "Groet,", "Hartelijke groet,", "Mvg,",
                                      "Kind regards,", "Best regards,", "Groeten", "Met vriendelijke groet"])
def test_sign_offs(sign_off: str) -> None:
    text = f"{OFFER}\n\n{sign_off}\nJan Jansen\nteamleider\nT 06-12345678"
    parts = split_reply(text)
    assert parts.new_text == OFFER and parts.signature.startswith(sign_off)


def test_disclaimer_and_device_line_stay_in_signature() -> None:
    text = (f"{OFFER}\n\nMvg\nJan\n\nDit bericht is uitsluitend bestemd voor de geadresseerde.\n\n"
            "Verzonden vanaf mijn iPhone")
    parts = split_reply(text)
    assert parts.new_text == OFFER
    assert parts.signature.endswith("Verzonden vanaf mijn iPhone") and "uitsluitend" in parts.signature


def test_device_line_alone_is_a_signature() -> None:
    parts = split_reply(f"{OFFER}\n\nSent from my iPhone")
    assert (parts.new_text, parts.signature) == (OFFER, "Sent from my iPhone")


def test_trailing_signature_without_salutation() -> None:
    parts = split_reply(f"{OFFER}\n\nBart Wolters\nmedewerker Team Samenleving\nGemeente Bronckhorst\n0575-750263")
    assert parts.new_text == OFFER and parts.signature.startswith("Bart Wolters")


def test_no_signature_leaves_text_alone() -> None:
    text = "Wij hebben geen locaties.\n\nHet eiland is vol."
    assert split_reply(text).new_text == text and split_reply(text).signature == ""


def test_greeting_inside_a_sentence_is_not_a_sign_off() -> None:
    text = "Hij zei nog dat je de groeten kreeg van de wethouder.\nDe locatie is vrij."
    assert split_reply(text).signature == ""


def test_interleaved_quotes_are_removed_from_new_text() -> None:
    text = "Op 1 maart schreef VNG:\n> Hoeveel plekken?\n40 plekken.\n> Per wanneer?\nPer 1 april."
    parts = split_reply(text)
    assert parts.new_text == "40 plekken.\nPer 1 april."
    assert "Hoeveel plekken?" in parts.quoted


def test_html_outlook_divider_and_gmail_quote() -> None:
    outlook = ('<p class="MsoNormal">40 plekken</p><div style="border:none;border-top:solid #E1E1E1 1.0pt">'
               '<p class="MsoNormal"><b>Van:</b> VNG<br><b>Verzonden:</b> dinsdag</p></div><p>Geacht college</p>')
    text, line = html_to_text_with_quote(outlook)
    assert text.splitlines()[line].startswith("Van: VNG")
    assert split_reply(text, "", line).new_text == "40 plekken"
    gmail = ('<div dir="ltr">40 plekken</div><div class="gmail_quote"><div class="gmail_attr">'
             'Op di 1 mrt. 2022 schreef VNG:</div><blockquote>Geacht college</blockquote></div>')
    text, line = html_to_text_with_quote(gmail)
    parts = split_reply(text, "", line)
    assert parts.new_text == "40 plekken" and "Geacht college" in parts.quoted


def test_html_to_text_layout() -> None:
    html = ("<html><head><style>p{}</style><script>x()</script></head><body>"
            "<p>Een&nbsp;paragraaf</p><p>Twee</p><ul><li>punt 1</li><li>punt 2</li></ul>"
            "<table><tr><th>Plaats</th><th>Plekken</th></tr><tr><td>Assen</td><td>45</td></tr></table>"
            "</body></html>")
    assert html_to_text(html) == ("Een paragraaf\n\nTwee\n\n- punt 1\n- punt 2\n"
                                  "Plaats | Plekken\nAssen | 45")


# --- external fixtures (Dutch cases) --------------------------------------------------------

def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] \
        if path.is_file() else []


def _norm(text: str) -> str:
    return " ".join(text.split())


_WEBRIDGE_NL = [c for c in _jsonl(REPLY_QUOTE / "webridge_email_reply_parser/combinations.jsonl")
                if "nl" in c["quoted_reply"] or "dutch" in c["quoted_reply"].lower()]


@needs_fixtures
def test_webridge_dutch_quote_headers_mostly_split() -> None:
    assert _WEBRIDGE_NL, "no Dutch combinations found"
    ok = sum(_norm(split_reply(c["text"]).new_text) == _norm(c["expected_reply"]) for c in _WEBRIDGE_NL)
    assert ok / len(_WEBRIDGE_NL) >= 0.6, f"{ok}/{len(_WEBRIDGE_NL)}"


@needs_fixtures
def test_talon_dutch_inline_cases() -> None:
    cases = [c for c in _jsonl(REPLY_QUOTE / "mailgun_talon/inline_cases.jsonl")
             if c["kind"] == "quotations.extract_from_plain" and ("schreef" in c["input"]
                                                                  or "geschreven" in c["input"])]
    assert cases
    for case in cases:
        parts = split_reply(case["input"])
        assert _norm(parts.new_text) == _norm(case["expected"]), case["input"]
