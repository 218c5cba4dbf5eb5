"""Benchmark: IMAP sync from a local Dovecot into SQLite (fetch + store only, no parsing).

    .venv/bin/python bench/imap_sync.py [--messages 10000] [--batch-size 200]

Appends ~5 KB messages into a private Dovecot (Debian package dovecot-imapd), then runs
each sync in a fresh child process so its peak RSS is its own: once with a quarter of the
messages and once with all of them (memory must not grow with the message count). Last,
the time of a poll with nothing new (median of 5). Targets: >= 500 msg/s stored,
no-news poll < 50 ms, peak RSS flat.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "ingest")]


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def make_config(port: int, folder: str, batch_size: int, db: str):
    from dovecot import PASSWORD, USER

    from vng_ingest.config import Config
    os.environ["VNG_BENCH_PASSWORD"] = PASSWORD
    return Config.model_validate({
        "source": {"kind": "imap", "imap": {
            "host": "127.0.0.1", "port": port, "security": "none", "username": USER,
            "password": {"env": "VNG_BENCH_PASSWORD"}, "folders": [folder],
            "batch_size": batch_size, "after_action": "none"}},
        "database": {"url": f"sqlite:///{db}"}})


def child(port: int, folder: str, batch_size: int, db: str) -> None:
    """One sync in this process; prints JSON with the figures."""
    from ingest.imap import poll_account
    from store import open_store
    config = make_config(port, folder, batch_size, db)
    store = open_store(config.database.url)
    before = rss_kib("VmRSS")
    started = time.perf_counter()
    outcome = poll_account(config, store)
    elapsed = time.perf_counter() - started
    assert outcome.error is None, outcome.error
    idle = []
    for _ in range(5):
        started = time.perf_counter()
        again = poll_account(config, store)
        idle.append(time.perf_counter() - started)
        assert again.error is None and not again.ingested.new
    print(json.dumps({"stored": len(outcome.ingested.new), "seconds": elapsed,
                      "rate": len(outcome.ingested.new) / elapsed, "rss_before_kib": before,
                      "peak_rss_kib": rss_kib("VmHWM"), "no_news_ms": [s * 1000 for s in idle]}))


def generate(index: int, size: int) -> bytes:
    head = (f"From: Gemeente {index % 342} <opvang{index}@gemeente.test>\r\nTo: info@vng.test\r\n"
            f"Subject: Opvanglocatie {index}\r\nMessage-ID: <bench-{index}@gemeente.test>\r\n"
            "Date: Tue, 01 Mar 2022 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
    line = f"Wij bieden {index % 90 + 10} plaatsen vanaf 1 april 2022 in locatie {index}.\r\n"
    return (head + line * ((size - len(head)) // len(line))).encode()


def fill(server, folder: str, count: int, size: int) -> float:
    from conftest import connect  # noqa: F401  (same login as the tests)
    from imapclient import IMAPClient

    from dovecot import PASSWORD, USER
    started = time.perf_counter()
    with IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
        client.login(USER, PASSWORD)
        client.create_folder(folder)
        for start in range(0, count, 500):
            client.multiappend(folder, [generate(i, size) for i in range(start, min(count, start + 500))])
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=5_000)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--child", nargs=3, metavar=("PORT", "FOLDER", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1], args.batch_size, args.child[2])
        return 0
    from dovecot import Dovecot
    server = Dovecot()
    server.start()
    work = Path(tempfile.mkdtemp(prefix="vng-bench-"))
    try:
        small = max(1, args.messages // 4)
        print(f"appending {args.messages} + {small} messages of ~{args.size} bytes ...", flush=True)
        fill(server, "Groot", args.messages, args.size)
        fill(server, "Klein", small, args.size)
        results = {}
        for folder, count in (("Klein", small), ("Groot", args.messages)):
            out = subprocess.run([sys.executable, __file__, "--batch-size", str(args.batch_size), "--child",
                                  str(server.port), folder, str(work / f"{folder}.sqlite")],
                                 capture_output=True, text=True, check=True)
            results[count] = json.loads(out.stdout.strip().splitlines()[-1])
        for count, r in results.items():
            print(f"{count:>6} messages: {r['stored']} stored in {r['seconds']:.2f} s = {r['rate']:.0f} msg/s; "
                  f"RSS {r['rss_before_kib'] / 1024:.0f} MiB before, peak {r['peak_rss_kib'] / 1024:.0f} MiB; "
                  f"no-news poll median {statistics.median(r['no_news_ms']):.1f} ms "
                  f"(of {', '.join(f'{m:.1f}' for m in r['no_news_ms'])})")
        big, little = results[args.messages], results[small]
        print(f"peak RSS growth from {small} to {args.messages} messages: "
              f"{(big['peak_rss_kib'] - little['peak_rss_kib']) / 1024:.1f} MiB")
        print(f"targets: >= 500 msg/s: {'met' if big['rate'] >= 500 else 'NOT met'}; no-news poll < 50 ms: "
              f"{'met' if statistics.median(big['no_news_ms']) < 50 else 'NOT met'}")
    finally:
        server.cleanup()
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
