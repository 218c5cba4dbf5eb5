#!/usr/bin/env python3
"""Extraction throughput on one core: read_message per message, in-process, on the dev corpus.

The dev corpus is repeated until it holds --messages messages (default 5 000).
Each run times ``parsers.extract.read_message`` over all of them and, in the same
run, bare ``email.message_from_bytes`` (standard library, compat32 policy) on the
very same messages, so the two figures share machine conditions. The process is
pinned to one CPU. Reported: messages/s for both (median of --runs runs) and the
ratio. Target: at least 200 messages/s for read_message.

One warm-up pass over the distinct messages loads the reference data and compiles
the patterns first, as a long-running poller would have done.

    .venv/bin/python bench/extract_speed.py [--messages 5000] [--runs 3] [--profile]

--profile runs one extra pass under cProfile and prints the top functions by
cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import email
import gc
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsers import clear_caches  # noqa: E402
from parsers.extract import read_message  # noqa: E402
from vng_ingest.shared import DEV_CORPUS

CORPUS = DEV_CORPUS
TARGET = 200.0


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def timed(function, messages: list[bytes]) -> tuple[float, float]:
    """Wall-clock and CPU seconds; CPU time shows what other load on the machine took away."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    for raw in messages:
        function(raw)
    return time.perf_counter() - start, time.process_time() - cpu


def fresh_read(raw: bytes):
    """read_message as for a message never seen: the corpus repeats, so the per-text caches
    of the field finders are emptied first (the cost of that is included, and small)."""
    clear_caches()
    return read_message(raw)


def profile(messages: list[bytes], top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for raw in messages:
        read_message(raw)
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--profile", action="store_true", help="profile one pass with cProfile")
    parser.add_argument("--top", type=int, default=25, help="functions to list with --profile")
    args = parser.parse_args()
    distinct = [path.read_bytes() for path in sorted(args.corpus.glob("*.eml"))]
    if not distinct:
        sys.exit(f"no .eml files in {args.corpus}")
    messages = [distinct[i % len(distinct)] for i in range(args.messages)]
    pinning = pin_to_one_core()
    for raw in distinct:                    # warm-up: reference data, compiled patterns
        read_message(raw)
    ours, bare, ours_cpu, bare_cpu = [], [], [], []
    for run in range(args.runs):
        wall, cpu = timed(fresh_read, messages)
        ours.append(wall), ours_cpu.append(cpu)
        wall, cpu = timed(email.message_from_bytes, messages)
        bare.append(wall), bare_cpu.append(cpu)
        print(f"run {run + 1}: read_message {len(messages) / ours[-1]:8.1f} msg/s (cpu {len(messages) / ours_cpu[-1]:6.1f})"
              f"   message_from_bytes {len(messages) / bare[-1]:9.1f} msg/s (cpu {len(messages) / bare_cpu[-1]:7.1f})")
    ours_rate = len(messages) / statistics.median(ours)
    bare_rate = len(messages) / statistics.median(bare)
    ours_cpu_rate = len(messages) / statistics.median(ours_cpu)
    bare_cpu_rate = len(messages) / statistics.median(bare_cpu)
    size = sum(len(raw) for raw in messages) / len(messages)
    print(f"\n{len(messages)} messages ({len(distinct)} distinct, mean {size / 1024:.1f} KiB), "
          f"{pinning}, median of {args.runs} runs")
    print(f"read_message:              {ours_rate:9.1f} msg/s  {1000 / ours_rate:7.3f} ms/msg")
    print(f"email.message_from_bytes:  {bare_rate:9.1f} msg/s  {1000 / bare_rate:7.3f} ms/msg")
    print(f"ratio (time):              {bare_rate / ours_rate:9.1f}x")
    print(f"by CPU time: read_message {ours_cpu_rate:.1f} msg/s, message_from_bytes {bare_cpu_rate:.1f} msg/s, "
          f"ratio {bare_cpu_rate / ours_cpu_rate:.1f}x (wall/CPU {statistics.median(ours) / statistics.median(ours_cpu):.2f})")
    print(f"target {TARGET:.0f} msg/s: {'met' if ours_rate >= TARGET else 'NOT met'}")
    if args.profile:
        profile(distinct * 4, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
