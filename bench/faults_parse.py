#!/usr/bin/env python3
"""Hostile mail through ``parsers.extract.read_message``: seconds and peak RSS per input.

The inputs a fault campaign found to stop, slow down or blow up parsing, at their large
sizes: a 20 MB HTML table, an HTML table row without closing tags, a 1 MB header of
unterminated encoded-words, a 3 MB body of location-like text, 800 location lines, a
3 MB line without newlines, deeply nested HTML, and a 2.8 MB mail whose .docx inflates
to 2 GB while its zip directory claims a few hundred bytes.

Each input runs in a child process of its own (so peak RSS is that input's, read with
``resource.getrusage``); a child that passes --timeout is killed and reported as such.

    .venv/bin/python bench/faults_parse.py [--timeout 120] [--only NAME ...] [--small]

The builders are shared with tests/parsers/test_hostile.py and test_linear.py, which use
them at small sizes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HEAD = "From: Gemeente Test <info@gemeente.example>\r\nTo: info@vng.example\r\n" \
       "Subject: Opvang\r\nDate: Mon, 14 Mar 2022 10:00:00 +0100\r\n"


# --- builders (sizes in bytes or counts) --------------------------------------------------

def plain_mail(text: str, subject: str = "Opvang") -> bytes:
    head = HEAD.replace("Subject: Opvang", f"Subject: {subject}")
    return (head + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" + text).encode("utf-8")


def alternative_mail(plain: str, html: str) -> bytes:
    return (HEAD + 'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + plain + "\r\n"
            "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n--b--\r\n").encode()


def unclosed_table_mail(rows: int) -> bytes:
    """'<table>' and rows of three unclosed cells: backtracked ~n^5 in the old DATA_TABLE regex."""
    return alternative_mail("Zie de tabel hieronder voor de locaties.", "<table>" + "<tr><td><td><td>" * rows)


def table_html(size: int) -> str:
    row = ("<tr><td>Schoolstraat {i}</td><td>{pc} AB Assen</td><td>{n} personen</td>"
           "<td>1 april 2022</td></tr>\n")
    rows, total, i = [], 0, 0
    while total < size:
        line = row.format(i=i % 900 + 1, pc=1000 + i % 8999, n=10 + i % 90)
        rows.append(line)
        total += len(line)
        i += 1
    return "<html><body><table>" + "".join(rows) + "</table></body></html>"


def table_mail(size: int) -> bytes:
    return alternative_mail("Zie de tabel.", table_html(size))


def deep_html_mail(depth: int) -> bytes:
    return alternative_mail("x", "<div>" * depth + "Schoolstraat 1, 1234 AB Assen" + "</div>" * depth)


def encoded_word_header(size: int) -> bytes:
    """A subject of unterminated encoded-words: each restarted the old pattern's scan to the end."""
    return plain_mail("Wij bieden 20 plekken aan.", subject="=?a?q?x " * (size // 8))


LINE_PARTS = [
    "- Locatie {i}: voormalige basisschool De Linde, Schoolstraat {n}, {pc} AB Assen,",
    " {p} personen vanaf {d} april 2022 tot 1 juli 2022; contact J. de Vries 06-1234{k:04d}",
]


def location_line(i: int) -> str:
    return "".join(LINE_PARTS).format(i=i + 1, n=i % 400 + 1, pc=1000 + (i * 7) % 8999,
                                      p=10 + i % 80, d=1 + i % 28, k=i % 10000)


def location_lines_text(lines: int) -> str:
    return "Geachte heer, mevrouw,\n\nWij bieden de volgende locaties aan:\n\n" + \
        "\n".join(location_line(i) for i in range(lines)) + "\n\nMet vriendelijke groet,\nGemeente Assen\n"


def location_text(size: int) -> str:
    """Location-like lines up to `size` characters."""
    text, i = [], 0
    total = 0
    while total < size:
        line = location_line(i)
        text.append(line)
        total += len(line) + 1
        i += 1
    return "\n".join(text)


def long_line_text(size: int) -> str:
    """The same content without a single newline or full stop."""
    return location_text(size).replace("\n", " ").replace(".", " ")


def random_bytes(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def garbage_base64_mail() -> bytes:
    return (HEAD + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + "!!!! ~~~~ ****\r\n" * 20).encode()


def no_separator_mail() -> bytes:
    """Header lines and then text, without the blank line between them."""
    return (HEAD + "Content-Type: text/plain\r\nWij bieden 20 plekken aan in Assen.\r\n").encode()


def _deflate(real_size: int) -> tuple[bytes, int]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    out, crc, left = [], 0, real_size
    while left > 0:
        piece = chunk[:min(left, len(chunk))]
        out.append(compressor.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    out.append(compressor.flush())
    return b"".join(out), crc


def office_members(kind: str = "docx") -> dict[str, bytes]:
    """The members of a real, empty .docx/.xlsx written by python-docx/openpyxl."""
    out = io.BytesIO()
    if kind == "docx":
        import docx
        docx.Document().save(out)
    else:
        import openpyxl
        openpyxl.Workbook().save(out)
    with zipfile.ZipFile(out) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def lying_zip(real_size: int, claimed: int = 500, kind: str = "docx") -> bytes:
    """A real Office file whose main part inflates to `real_size` bytes while its local header
    and central directory both claim `claimed` bytes."""
    member = "word/document.xml" if kind == "docx" else "xl/worksheets/sheet1.xml"
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in office_members(kind).items():
            if name != member:
                archive.writestr(name, data)
    raw = good.getvalue()
    count, cd_size, cd_offset = struct.unpack("<HII", raw[-12:-2])
    data, crc = _deflate(real_size)
    name = member.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), claimed,
                        len(name), 0) + name
    entry = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data),
                        claimed, len(name), 0, 0, 0, 0, 0, cd_offset) + name
    blob = raw[:cd_offset] + local + data
    central = raw[cd_offset:cd_offset + cd_size] + entry
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count + 1, count + 1, len(central), len(blob), 0)
    return blob + central + end


def attachment_mail(filename: str, data: bytes, text: str = "Zie bijlage.") -> bytes:
    message = EmailMessage()
    message["From"] = "Gemeente Test <info@gemeente.example>"
    message["To"] = "info@vng.example"
    message["Subject"] = "Opvang"
    message["Date"] = "Mon, 14 Mar 2022 10:00:00 +0100"
    message.set_content(text)
    message.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    return message.as_bytes()


def bomb_mail(real_size: int) -> bytes:
    return attachment_mail("locaties.docx", lying_zip(real_size))


# --- the large inputs -----------------------------------------------------------------------

LARGE = {
    "unclosed_table_120_rows": lambda: unclosed_table_mail(120),
    "html_table_20MB": lambda: table_mail(20_000_000),
    "deep_html_100k": lambda: deep_html_mail(100_000),
    "encoded_words_1MB": lambda: encoded_word_header(1_000_000),
    "body_3MB": lambda: plain_mail(location_text(3_000_000)),
    "long_line_3MB": lambda: plain_mail(long_line_text(3_000_000)),
    "location_lines_800": lambda: plain_mail(location_lines_text(800)),
    "zip_bomb_2GB_docx": lambda: bomb_mail(2_000_000_000),
    "random_bytes_1MB": lambda: random_bytes(1_000_000),
}
SMALL = {
    "unclosed_table_30_rows": lambda: unclosed_table_mail(30),
    "html_table_1MB": lambda: table_mail(1_000_000),
    "encoded_words_200KB": lambda: encoded_word_header(200_000),
    "body_600KB": lambda: plain_mail(location_text(600_000)),
    "location_lines_100": lambda: plain_mail(location_lines_text(100)),
    "zip_bomb_200MB_docx": lambda: bomb_mail(200_000_000),
}


def _child(name: str) -> None:
    from parsers.extract import read_message

    raw = {**LARGE, **SMALL}[name]()
    read_message(plain_mail("warm-up: Schoolstraat 1, 1234 AB Assen, 20 personen"))
    started = time.perf_counter()
    parsed, extraction = read_message(raw)
    seconds = time.perf_counter() - started
    print(json.dumps({
        "seconds": round(seconds, 2), "input_bytes": len(raw),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "offers": len(extraction.offers),
        "problems": sorted({p.code for p in getattr(parsed, "problems", [])}),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--small", action="store_true", help="the smaller sizes instead")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    names = args.only or list(SMALL if args.small else LARGE)
    print(f"{'input':28} {'seconds':>8} {'peak RSS MB':>12}  problems / offers")
    for name in names:
        try:
            done = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True,
                                  text=True, timeout=args.timeout, env={**os.environ, "PYTHONHASHSEED": "0"})
        except subprocess.TimeoutExpired:
            print(f"{name:28} {'>' + str(int(args.timeout)):>8} {'-':>12}  killed at the timeout", flush=True)
            continue
        if done.returncode != 0:
            print(f"{name:28} {'failed':>8}  {done.stderr.strip().splitlines()[-1:]}", flush=True)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{name:28} {row['seconds']:8.2f} {row['peak_rss_mb']:12}  {row['problems']} / "
              f"{row['offers']} offers ({row['input_bytes']:,} bytes in)", flush=True)


if __name__ == "__main__":
    main()
