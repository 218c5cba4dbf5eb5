"""Benchmark: the weekly workbook for 10 000 locations (target: under 5 s).

Fills a fresh SQLite store through the store's own functions (store_raw, replace_offers), then runs
``generate_report`` three times and prints the median wall time, the peak Python heap of one extra
run (tracemalloc) and the process's peak RSS. Run on demand:

    .venv/bin/python bench/report_bench.py [--locations 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import string
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.weekly import build_content, generate_report  # noqa: E402
from reports.workbook import build_workbook, workbook_bytes  # noqa: E402
from store import open_store  # noqa: E402
from store.messages import store_raw  # noqa: E402
from store.offers import replace_offers  # noqa: E402
from store.schema import Message  # noqa: E402
from vng_ingest import refdata  # noqa: E402
from vng_ingest.config import Config, ReportConfig  # noqa: E402
from vng_ingest.models import Contact, Offer, RawMessage  # noqa: E402

NOW = datetime(2022, 3, 7, 7, 0, tzinfo=timezone.utc)
PER_MESSAGE = 50


def random_offer(rng: random.Random, municipality) -> Offer:
    name = "".join(rng.choices(string.ascii_lowercase, k=14))
    start = date(2022, 3, 1) + timedelta(days=rng.randrange(60))
    until = rng.choice(["indefinite", None, (start + timedelta(days=rng.randrange(10, 200))).isoformat()])
    return Offer(municipality=municipality.name, municipality_code=municipality.code, location=name.title(),
                 address=f"{name[:8].title()}straat {rng.randrange(1, 200)}", postcode=f"{rng.randrange(1000, 9999)} AB",
                 place=municipality.name, available_from=start.isoformat(), available_until=until,
                 places=rng.randrange(5, 400), status="withdrawn" if rng.random() < 0.05 else "available",
                 contact=Contact(f"Contact {name[:6]}", "beleidsmedewerker", f"+316{rng.randrange(10**7, 10**8)}",
                                 f"{name[:6]}@gemeente.example"),
                 confidence={"municipality": 0.99, "places": 0.9}, needs_review=rng.random() < 0.1)


def fill(url: str, locations: int) -> None:
    rng = random.Random(2022)
    municipalities = list(refdata.municipalities())
    store = open_store(url)
    for batch in range(0, locations, PER_MESSAGE):
        raw = (f"Message-ID: <bench{batch}@gemeente.example>\r\nSubject: opvang\r\n\r\nbatch {batch}\r\n").encode()
        with store.session() as session:
            stored = store_raw(session, RawMessage(raw=raw, source="bench", received_at=NOW - timedelta(days=3)))
            message = session.get(Message, stored.pk)
            municipality = municipalities[(batch // PER_MESSAGE) % len(municipalities)]
            count = min(PER_MESSAGE, locations - batch)
            replace_offers(session, message, [random_offer(rng, municipality) for _ in range(count)], "bench")
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--locations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="report-bench-"))
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    started = time.perf_counter()
    fill(url, args.locations)
    print(f"filled {args.locations} locations in {time.perf_counter() - started:.1f} s")

    store = open_store(url)
    config = Config(report=ReportConfig(folder=folder / "reports"))
    timings, cpu = [], []
    for run in range(args.runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        # the first run lists every location as new (10 000 change rows); later runs have no changes
        path = generate_report(config, store, now=NOW + timedelta(minutes=run))
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(f"generate_report: median {statistics.median(timings):.2f} s wall, {statistics.median(cpu):.2f} s CPU "
          f"over {args.runs} runs (wall {', '.join(f'{t:.2f}' for t in timings)}); "
          f"file {path.stat().st_size / 1e6:.1f} MB; target < 5 s")

    started = time.perf_counter()
    content = build_content(config, store, NOW)
    workbook_bytes(build_workbook(content, include_contacts=False), NOW)
    print(f"extra audience version (without contacts, incl. reading the store): "
          f"{time.perf_counter() - started:.2f} s")

    tracemalloc.start()
    generate_report(config, store, now=NOW + timedelta(hours=1))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak Python heap during one report (tracemalloc): {peak / 2**20:.0f} MiB")
    print(f"peak RSS of this process (incl. filling the store): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    store.dispose()


if __name__ == "__main__":
    main()
