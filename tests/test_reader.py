"""Reading a message in a child process under a time and memory budget (vng_ingest.reader)."""

import os
import time
from pathlib import Path

from parsers.extract import read_message
from parsers.message import ParsedMessage
from vng_ingest.models import Extraction, Kind
from vng_ingest.reader import Budget, Reader

SAMPLES = Path(__file__).resolve().parents[1] / "vng_ingest" / "samples" / "mailbox"


def misbehaving_read(raw: bytes, kind=None):
    """A read that hangs, dies or eats memory when the message says so (a test stand-in for
    the hostile inputs of tests/parsers: the reader must survive whatever a read does)."""
    if raw.startswith(b"HANG"):
        time.sleep(60)
    if raw.startswith(b"DIE"):
        os._exit(9)
    if raw.startswith(b"EAT"):
        hog = bytearray(4 * 1024 * 1024 * 1024)   # more than the budget allows
        return ParsedMessage(subject=str(len(hog))), Extraction(Kind.OTHER)
    return ParsedMessage(subject=raw.decode()), Extraction(Kind.OTHER, kind_confidence=0.5)


def test_a_message_that_hangs_is_stopped_and_the_next_one_is_read():
    reader = Reader(Budget(seconds=1.5), read=misbehaving_read)
    try:
        started = time.monotonic()
        parsed, extraction = reader.read(b"HANG")
        assert time.monotonic() - started < 10
        assert [p.code for p in parsed.problems] == ["too_slow"]
        assert "1.5 seconden" in parsed.problems[0].text
        assert extraction.error and extraction.kind is Kind.OTHER
        parsed, extraction = reader.read(b"next")
        assert parsed.subject == "next" and extraction.error is None
    finally:
        reader.close()


def test_a_reader_that_dies_is_replaced():
    reader = Reader(Budget(seconds=20), read=misbehaving_read)
    try:
        parsed, extraction = reader.read(b"DIE")
        assert [p.code for p in parsed.problems] == ["reader_stopped"]
        assert "exit code 9" in extraction.error
        assert reader.read(b"after")[0].subject == "after"
    finally:
        reader.close()


def test_a_read_over_the_memory_budget_fails_alone():
    reader = Reader(Budget(seconds=20, memory=512 * 1024 * 1024), read=misbehaving_read)
    try:
        parsed, _ = reader.read(b"EAT")
        assert [p.code for p in parsed.problems] == ["reader_stopped"]
        assert reader.read(b"fine")[0].subject == "fine"
    finally:
        reader.close()


def test_the_child_reads_exactly_what_the_extractor_reads_in_process():
    reader = Reader()
    try:
        for path in sorted(SAMPLES.glob("*.eml"))[:5]:
            raw = path.read_bytes()
            _, here = read_message(raw)
            _, there = reader.read(raw)
            assert there.record() == here.record()
    finally:
        reader.close()


def test_a_kind_chosen_by_a_person_is_read_under_that_kind():
    raw = (SAMPLES / "s07.eml").read_bytes()            # a question: triage says "other"
    reader = Reader()
    try:
        assert reader.read(raw)[1].kind is Kind.OTHER
        assert reader.read(raw, Kind.AUTO_REPLY)[1].kind is Kind.AUTO_REPLY
    finally:
        reader.close()


def test_the_config_sets_the_budget_of_the_extract_command(tmp_path):
    """`reading.message_seconds` reaches the reader the commands use: a mail that takes longer
    than the budget comes back from `extract` as stopped, with its reason."""
    import json
    import subprocess
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.faults_parse import plain_mail, location_text

    slow = tmp_path / "slow.eml"
    slow.write_bytes(plain_mail(location_text(150_000)))
    config = tmp_path / "config.yaml"
    outcomes = {}
    for seconds in (0.05, 120):
        config.write_text(f"reading:\n  message_seconds: {seconds}\n")
        done = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "run_ingest.py"),
                               "--config", str(config), "extract", str(slow)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        outcomes[seconds] = json.loads(done.stdout)
    assert "stopped" in outcomes[0.05]["error"]
    assert "error" not in outcomes[120] and outcomes[120]["offers"]
