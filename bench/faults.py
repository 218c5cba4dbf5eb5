"""The fault campaign's inputs at full size, each imported with the real CLI into a new store.

    .venv/bin/python bench/faults.py [--only NAME ...]

Prints, per input: wall seconds of the whole `import` (parse, extract, store), the peak RSS
of the largest process involved (the CLI or its reader child), and how the message ended
(state and problem codes). Before issue 10 several of these ran for minutes or were stored
as ordinary mail; the reader's budget (vng_ingest.reader.MESSAGE_SECONDS) bounds each one.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import faults_parse as hostile  # noqa: E402
from tests.test_faults import nul_and_long_headers  # noqa: E402

#: The parse benchmark's large inputs, plus what only the store and the pipeline see.
INPUTS = {
    **hostile.LARGE,
    "body_20MB": lambda: hostile.plain_mail(hostile.location_text(20_000_000)),
    "empty": lambda: b"",
    "garbage_base64": hostile.garbage_base64_mail,
    "no_separator": hostile.no_separator_mail,
    "nul_and_long_headers": nul_and_long_headers,
}


#: Runs the command and prints its exit code and the peak RSS (KiB) of its largest process.
MEASURED = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_one(name: str, raw: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "mail").mkdir()
        (folder / "mail" / f"{name}.eml").write_bytes(raw)
        config = folder / "config.yaml"
        config.write_text(f"database:\n  url: sqlite:///{folder / 'db.sqlite'}\n"
                          f"source:\n  kind: folder\n  path: {folder / 'mail'}\n")
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", MEASURED, sys.executable, str(ROOT / "run_ingest.py"),
                               "--config", str(config), "import", "--quiet", str(folder / "mail")],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - started
        exit_code, peak = (int(v) for v in done.stdout.split()[-2:])
        outcome = _outcome(folder / "db.sqlite")
        return (f"{name:28} {len(raw) / 1e6:8.2f} MB {seconds:8.2f} s  peak RSS {peak / 1024:7.0f} MiB  "
                f"exit {exit_code}  {outcome}")


def _outcome(database: Path) -> str:
    import sqlite3
    with sqlite3.connect(database) as connection:
        rows = connection.execute("select state, problems from messages").fetchall()
    return "; ".join(f"{state} {problems or ''}"[:120] for state, problems in rows) or "not stored"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(INPUTS), help="run only these inputs")
    args = parser.parse_args()
    print("peak RSS: the largest single process of that import (the CLI or its reader child)")
    for name in args.only or INPUTS:
        print(run_one(name, INPUTS[name]()), flush=True)


if __name__ == "__main__":
    main()
