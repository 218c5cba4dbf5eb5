"""Measure the reply/quote/signature split on the external reply_quote fixtures.

For every fixture whose upstream test pins the reply text, compare our `new_text` with
the expected reply (whitespace normalised), side by side with the `email_reply_parser`
package on the same input. The libraries disagree on whether the sign-off belongs to
the reply ("Thanks,\\nAlex" is part of talon's reply, not of alfonsrv's), so a case
also counts as matched ("visible") when the expected text equals new_text plus
signature; both figures are reported.

    .venv/bin/python bench/reply_quote.py [--show-failures N]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsers.html_text import html_to_text_with_quote  # noqa: E402
from parsers.quotes import split_reply  # noqa: E402
from vng_ingest.shared import EXTERNAL

ROOT = EXTERNAL / "reply_quote"


def norm(text: str) -> str:
    return " ".join((text or "").split())


def squash(text: str) -> str:
    return "".join((text or "").split())


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_fixture(folder: Path, name: str) -> str:
    return (folder / name).read_bytes().decode("utf-8", errors="replace")


def cases() -> list[dict]:
    """(source, id, input text, is_html, expected reply, compare mode) for every pinned case."""
    out = []
    for project in ["github_email_reply_parser", "zapier_email_reply_parser",
                    "alfonsrv_mail_parser_reply", "crisp_email_reply_parser"]:
        folder = ROOT / project
        for row in read_jsonl(folder / "expected.jsonl"):
            if row.get("expected_reply") and row.get("file"):
                out.append(dict(source=project, id=row["file"], text=read_fixture(folder, row["file"]),
                                html=False, expected=row["expected_reply"], mode="norm"))
    talon = ROOT / "mailgun_talon"
    for row in read_jsonl(talon / "expected.jsonl"):
        kind, expected = row.get("kind", ""), row.get("expected_reply")
        if not expected or "signature" in kind:
            continue
        text = read_fixture(talon, row["file"])
        if "first text/plain part" in kind:
            text = _first_plain_part(text)
        out.append(dict(source="mailgun_talon", id=row["file"], text=text, html=row["file"].endswith(".html"),
                        expected=expected, mode="squash" if "whitespace" in row.get("compare", "") else "norm"))
    for row in read_jsonl(talon / "inline_cases.jsonl"):
        if row["kind"] == "quotations.extract_from_plain" and not row.get("settings"):
            out.append(dict(source="mailgun_talon(inline)", id=row["test"], text=row["input"],
                            html=False, expected=row["expected"], mode="norm"))
    webridge = ROOT / "webridge_email_reply_parser"
    for name in ["combinations.jsonl", "inline_cases.jsonl"]:
        for row in read_jsonl(webridge / name):
            out.append(dict(source=f"webridge({name.split('.')[0]})", id=row.get("id") or row.get("test"),
                            text=row["text"], html=False, expected=row["expected_reply"], mode="norm"))
    return out


def _first_plain_part(raw: str) -> str:
    import email
    from email import policy

    msg = email.message_from_string(raw, policy=policy.default)
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else raw


def ours(case: dict) -> tuple[str, str]:
    quote_line = None
    text = case["text"]
    if case["html"]:
        text, quote_line = html_to_text_with_quote(text)
    parts = split_reply(text, "", quote_line)
    visible = "\n\n".join(t for t in (parts.new_text, parts.signature) if t)
    return parts.new_text, visible


def theirs(case: dict) -> str:
    from email_reply_parser import EmailReplyParser

    text = case["text"]
    if case["html"]:
        from parsers.html_text import html_to_text

        text = html_to_text(text)
    return EmailReplyParser.parse_reply(text)


def same(a: str, b: str, mode: str) -> bool:
    return (squash(a) == squash(b)) if mode == "squash" else (norm(a) == norm(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show-failures", type=int, default=0, metavar="N")
    args = parser.parse_args()
    if not ROOT.is_dir():
        sys.exit(f"fixtures not found at {ROOT}")
    stats = defaultdict(lambda: [0, 0, 0, 0])   # n, new_text, new_text|visible, email_reply_parser
    failures = []
    for case in cases():
        new_text, visible = ours(case)
        expected, mode = case["expected"], case["mode"]
        ok_new = same(new_text, expected, mode)
        ok_any = ok_new or same(visible, expected, mode)
        try:
            ok_theirs = same(theirs(case), expected, mode)
        except Exception:  # noqa: BLE001 — count as a miss for the baseline
            ok_theirs = False
        row = stats[case["source"]]
        row[0] += 1
        row[1] += ok_new
        row[2] += ok_any
        row[3] += ok_theirs
        if not ok_any:
            failures.append((case, new_text))
    print(f"{'source':38} {'cases':>5} {'new_text':>9} {'new|visible':>12} {'email_reply_parser':>19}")
    total = [0, 0, 0, 0]
    for source, row in sorted(stats.items()):
        total = [t + r for t, r in zip(total, row)]
        print(f"{source:38} {row[0]:5d} {_pct(row[1], row[0]):>9} {_pct(row[2], row[0]):>12} "
              f"{_pct(row[3], row[0]):>19}")
    print(f"{'TOTAL':38} {total[0]:5d} {_pct(total[1], total[0]):>9} {_pct(total[2], total[0]):>12} "
          f"{_pct(total[3], total[0]):>19}")
    for case, got in failures[: args.show_failures]:
        print("\n=====", case["source"], case["id"])
        print("--- expected:\n" + case["expected"][:600])
        print("--- got:\n" + got[:600])


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}%" if n else "-"


if __name__ == "__main__":
    main()
