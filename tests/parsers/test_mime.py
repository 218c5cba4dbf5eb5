"""parse_message on the labelled dev corpus, the external MIME samples and random junk.

The corpus assertions pin what later extraction relies on: the new text holds the
offer, the quoted VNG letter is kept apart, signatures name the sender, and odd
encodings (windows-1252, format=flowed, HTML tables) come out readable.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.message import ParsedMessage
from parsers.mime import decode_bytes, decode_header_value, parse_message, unflow
from vng_ingest.shared import DEV_CORPUS, EXTERNAL

CORPUS = DEV_CORPUS
MIME_SAMPLES = EXTERNAL / "mime"
FUZZ_EXAMPLES = int(os.environ.get("VNG_FUZZ_EXAMPLES", "300"))
VNG_LETTER = "Geacht college en gemeenteraad"

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"dev corpus not found at {CORPUS}")
needs_samples = pytest.mark.skipif(not MIME_SAMPLES.is_dir(),
                                   reason=f"external MIME samples not found at {MIME_SAMPLES}")


def parsed(name: str) -> ParsedMessage:
    return parse_message((CORPUS / f"{name}.eml").read_bytes())


# --- dev corpus --------------------------------------------------------------------------

@needs_corpus
@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.eml")) if CORPUS.is_dir() else [],
                         ids=lambda p: p.stem)
def test_every_corpus_message_parses_cleanly(path: Path) -> None:
    msg = parse_message(path.read_bytes())
    assert msg.errors == []
    assert msg.subject and msg.from_addr == msg.from_addr.lower()
    assert isinstance(msg.date, datetime) and msg.date.tzinfo is not None
    assert msg.message_id and "<" not in msg.message_id
    assert msg.new_text.strip()
    assert VNG_LETTER not in msg.new_text and "Lbr. 22/011" not in msg.new_text
    assert VNG_LETTER not in msg.signature


@needs_corpus
def test_d003_outlook_reply_is_split_into_text_signature_and_letter() -> None:
    msg = parsed("d003")
    assert "Oude Molenstraat 14" in msg.new_text
    assert "Geacht college" not in msg.new_text
    assert VNG_LETTER in msg.quoted and msg.quoted.startswith("Van: VNG")
    assert "Lisa Bakker" in msg.signature and "Postbus 30018" in msg.signature
    assert "Lisa Bakker" not in msg.new_text
    assert msg.in_reply_to == "20220301161204.7A3C41E0052@smtp01.vng.nl"
    assert msg.references == ["20220301161204.7A3C41E0052@smtp01.vng.nl"]
    assert msg.subject == "RE: Ledenbrief: Opvang vluchtelingen uit Oekraïne"
    assert msg.from_name == "Bakker, Lisa" and msg.from_addr == "l.bakker@assen.nl"
    assert "Oude Molenstraat 14" in msg.body and VNG_LETTER in msg.body


@needs_corpus
def test_d004_oorspronkelijk_bericht_and_frisian_sign_off() -> None:
    msg = parsed("d004")
    assert msg.quoted.startswith("-----Oorspronkelijk bericht-----")
    assert msg.signature.startswith("Mei freonlike groetnis")
    assert "Sint Franciscusstraat 8" in msg.new_text


@needs_corpus
def test_d005_apple_mail_quote_removed() -> None:
    msg = parsed("d005")
    assert "Wilhelminastraat 41" in msg.new_text
    assert "het volgende geschreven" not in msg.new_text + msg.signature
    assert "het volgende geschreven" in msg.quoted and VNG_LETTER in msg.quoted
    assert "Verstuurd vanaf mijn iPad" in msg.signature


@needs_corpus
def test_d008_html_table_rows_become_lines_and_quote_is_cut() -> None:
    msg = parsed("d008")
    lines = msg.new_text.splitlines()
    assert "Nr | Locatie | Adres | Beschikbaar | Aantal plekken" in lines
    assert any(line.startswith("1 | Voormalig Hotel Parkzicht | Rijksstraatweg 301") for line in lines)
    assert any(line.startswith("2 | Kantoorpand Helperpark") for line in lines)
    assert "Dit bericht is uitsluitend bestemd" in msg.signature
    assert VNG_LETTER in msg.quoted and "<" not in msg.new_text


@needs_corpus
def test_d009_windows_1252_body_and_subject() -> None:
    msg = parsed("d009")
    assert "2.350 m²" in msg.new_text and "€ 145.000" in msg.new_text
    assert "‘De Bosrand’" in msg.new_text
    assert msg.subject == "Aanmelding opvanglocatie Oekraïne – gemeente Ede"


@needs_corpus
def test_d015_xlsx_rows_keyed_by_header() -> None:
    (att,) = parsed("d015").attachments
    assert att.filename == "Opvanglocaties Oekraïne UH 8-3-2022.xlsx" and att.error is None
    rows = att.tables[0]
    assert {"Locatie", "Adres", "Postcode", "Beschikbaar vanaf", "Aantal plekken"} <= set(rows[0])
    assert rows[0]["Beschikbaar vanaf"] == "2022-03-21"
    assert rows[1]["Beschikbaar vanaf"] == "per direct" and rows[1]["Aantal plekken"] == "20-25"
    assert len(att.tables) == 2                      # the rejected location on sheet 2
    assert "Blad: Locaties" in att.text and "Adres: Hoofdstraat 131" in att.text


@needs_corpus
def test_d016_docx_table_and_folded_from() -> None:
    msg = parsed("d016")
    (att,) = msg.attachments
    record = att.tables[0][0]
    assert record["Aantal plekken"].startswith("50 tot 60")
    assert record["E-mail"] == "P.Hofman@apeldoorn.nl"
    assert "Naar aanleiding van de ledenbrief" in att.text
    assert msg.from_addr == "secretariaat.mo@apeldoorn.nl"


@needs_corpus
def test_d018_csv_windows_1252_with_semicolons() -> None:
    (att,) = parsed("d018").attachments
    rows = att.tables[0]
    assert len(rows) == 3
    assert rows[0]["functie"] == "teamleider Opvang Oekraïne"
    assert rows[0]["opmerking"] == "Geschikt voor gezinnen; rolstoeltoegankelijk"  # quoted ";"
    assert rows[2]["beschikbaar_vanaf"] == "per direct"


@needs_corpus
def test_d019_forwarded_thread_goes_to_forwarded() -> None:
    msg = parsed("d019")
    assert "35 plekken" in msg.new_text
    assert msg.quoted == ""
    assert "De brandweer is vanmiddag geweest" in msg.forwarded
    assert "Hanneke Prins" in msg.signature


@needs_corpus
def test_d024_format_flowed_keeps_phone_number_whole() -> None:
    msg = parsed("d024")
    assert "06-18 27 45 09" in msg.new_text
    assert "Op 01-03-2022 om 16:12 schreef VNG:" in msg.quoted
    assert "schreef" not in msg.new_text + msg.signature


@needs_corpus
def test_d025_html_list_items_and_nbsp() -> None:
    msg = parsed("d025")
    assert "- Capaciteit: ca. 250 personen" in msg.new_text
    assert "Harlingerstraatweg 73, 8914 AZ Leeuwarden" in msg.new_text
    assert "06 - 11 94 37 82" in msg.new_text
    assert "Telefoon 14 058" in msg.signature


@needs_corpus
def test_d035_base64_body() -> None:
    assert "Kerkenbos 1015" in parsed("d035").new_text


@needs_corpus
def test_d037_pdf_text_layer() -> None:
    (att,) = parsed("d037").attachments
    assert "maximaal 18 personen" in att.text


@needs_corpus
def test_d043_outlook_thread_quoted() -> None:
    msg = parsed("d043")
    assert "maximaal 36 personen" in msg.new_text
    assert "ca. 30 mensen" in msg.quoted and "Baukje Postma" in msg.signature


@needs_corpus
def test_d050_apple_forward_inside_quote_is_forwarded() -> None:
    msg = parsed("d050")
    assert msg.forwarded.startswith("Begin doorgestuurd bericht:")
    assert "Wilhelminastraat 41" in msg.forwarded and "> " not in msg.forwarded
    assert "Wilhelminastraat 41" not in msg.new_text


@needs_corpus
def test_signature_without_salutation_is_detected() -> None:
    msg = parsed("d014")
    assert msg.signature.startswith("Bart Wolters") and "0575-75 02 63" in msg.signature
    assert "Vragen? Bel of mail mij gerust." in msg.new_text


# --- unit cases -------------------------------------------------------------------------

def test_broken_and_8bit_headers_decode() -> None:
    assert decode_header_value("=?utf-8?q?Oekra=C3=AFne?=") == "Oekraïne"
    assert decode_header_value("=?utf-8?b?T2VrcmHDr25l?=") == "Oekraïne"  # padding missing
    assert decode_header_value("=?x-unknown?q?caf=E9?=") == "café"
    assert decode_header_value("Caf\udce9 m\udcb2") == "Café m²"            # raw windows-1252
    assert decode_header_value("=?utf-8?q?a?= =?utf-8?q?b?=") == "ab"


def test_latin1_declared_but_windows_1252_used() -> None:
    assert decode_bytes(b"\x80 5 \x96 m\xb2", "iso-8859-1")[0] == "€ 5 – m²"
    assert decode_bytes("Oekraïne".encode(), None)[0] == "Oekraïne"


def test_unflow_joins_soft_breaks_and_respects_delsp() -> None:
    assert unflow("tel. 06-18 27 \n45 09.\nNext") == "tel. 06-18 27 45 09.\nNext"
    assert unflow("Ver \nzonden", delsp=True) == "Verzonden"
    assert unflow("> a \n> b\nc") == "> a b\nc"


def test_rfc2231_filename_and_message_rfc822_attachment() -> None:
    inner = (b"From: Piet <piet@ede.nl>\r\nSubject: Locatie\r\nDate: Tue, 01 Mar 2022 10:00:00 +0100\r\n"
             b"Content-Type: text/plain; charset=utf-8\r\n\r\nWij bieden 40 plekken aan.\r\n")
    raw = (b"From: A <A@X.NL>\r\nSubject: Fwd: Locatie\r\nDate: Tue, 01 Mar 2022 11:00:00 +0100\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nZie bijlage.\r\n"
           b"--b\r\nContent-Type: message/rfc822\r\n"
           b"Content-Disposition: attachment; filename*=utf-8''Oekra%C3%AFne.eml\r\n\r\n"
           + inner + b"--b--\r\n")
    msg = parse_message(raw)
    assert msg.from_addr == "a@x.nl" and msg.new_text == "Zie bijlage."
    assert "Wij bieden 40 plekken aan." in msg.forwarded
    assert msg.attachments[0].filename == "Oekraïne.eml"


def test_plain_part_that_is_trivial_defers_to_html() -> None:
    raw = (b"Subject: x\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\n \r\n"
           b"--b\r\nContent-Type: text/html\r\n\r\n<p>Er zijn <b>40</b>&nbsp;plekken.</p>\r\n--b--\r\n")
    assert parse_message(raw).new_text == "Er zijn 40 plekken."


def test_garbage_never_raises() -> None:
    for raw in [b"", b"\x00\xff" * 100, b"Content-Type: multipart/mixed\r\n\r\n--x",
                b"Content-Transfer-Encoding: base64\r\n\r\n@@@!!", "text as str"]:
        assert isinstance(parse_message(raw), ParsedMessage)


# --- external MIME samples ---------------------------------------------------------------

def _sample_paths() -> list[Path]:
    if not MIME_SAMPLES.is_dir():
        return []
    index = MIME_SAMPLES / "index.jsonl"
    return [MIME_SAMPLES / json.loads(line)["file"] for line in index.read_text().splitlines() if line]


@needs_samples
@pytest.mark.parametrize("path", _sample_paths(), ids=lambda p: p.name)
def test_external_mime_sample_parses_without_exception(path: Path) -> None:
    msg = parse_message(path.read_bytes())
    assert isinstance(msg, ParsedMessage)
    assert not any("could not be parsed" in e for e in msg.errors), msg.errors


# --- fuzzing ------------------------------------------------------------------------------

_HEADER_LINES = st.sampled_from([
    b"Content-Type: multipart/mixed; boundary=XYZ", b"Content-Type: multipart/alternative",
    b"Content-Type: text/plain; charset=x-unknown", b"Content-Type: text/html; charset=utf-16",
    b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: quoted-printable",
    b"Content-Type: message/rfc822", b"Subject: =?utf-8?b?broken", b"From: =?x?q?=ZZ?= <a@",
    b"Date: Mon, 99 Foo 2022 25:61:00 +9999", b"Content-Disposition: attachment; filename*=bad''%ZZ",
    b"Content-Type: application/vnd.ms-excel; name=a.xls", b"Content-Type: text/plain; format=flowed",
])
_BODY_CHUNKS = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"--XYZ", b"--XYZ--", b"--XYZ\r\nContent-Type: text/html\r\n\r\n<p><table>",
                     b"=E9=8", b"SGVsbG8=QUJD!!", b"> quoted\r\n", b"Van: x\r\nAan: y\r\nOnderwerp: z",
                     b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF-1.4"]),
)


@st.composite
def malformed_messages(draw) -> bytes:
    headers = draw(st.lists(_HEADER_LINES, max_size=6))
    body = draw(st.lists(_BODY_CHUNKS, max_size=8))
    raw = b"\r\n".join(headers) + b"\r\n\r\n" + b"\r\n".join(body)
    cut = draw(st.integers(min_value=0, max_value=len(raw)))
    return raw[:cut] if draw(st.booleans()) else raw


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.one_of(malformed_messages(), st.binary(max_size=2000)))
def test_parse_message_never_raises_on_malformed_input(raw: bytes) -> None:
    assert isinstance(parse_message(raw), ParsedMessage)
