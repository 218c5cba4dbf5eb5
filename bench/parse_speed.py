"""Time parse_message against bare email.message_from_bytes on the dev corpus.

The corpus is parsed REPEAT times per run; the median of RUNS runs is reported per
message for both, with the ratio. This shows what the extra robustness, HTML
conversion, reply splitting and attachment reading cost.

    .venv/bin/python bench/parse_speed.py [--repeat 10] [--runs 5]
"""

from __future__ import annotations

import argparse
import email
import statistics
import sys
import time
from email import policy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsers.mime import parse_message  # noqa: E402
from vng_ingest.shared import DEV_CORPUS

CORPUS = DEV_CORPUS


def per_message_seconds(parse, messages: list[bytes], repeat: int, runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(repeat):
            for raw in messages:
                parse(raw)
        timings.append((time.perf_counter() - start) / (repeat * len(messages)))
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    messages = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    if not messages:
        sys.exit(f"no messages in {CORPUS}")
    ours = per_message_seconds(parse_message, messages, args.repeat, args.runs)
    bare = per_message_seconds(lambda raw: email.message_from_bytes(raw, policy=policy.default),
                               messages, args.repeat, args.runs)
    print(f"{len(messages)} messages x {args.repeat}, median of {args.runs} runs")
    print(f"parse_message:               {ours * 1000:8.3f} ms/message")
    print(f"email.message_from_bytes:    {bare * 1000:8.3f} ms/message")
    print(f"ratio:                       {ours / bare:8.1f}x")


if __name__ == "__main__":
    main()
