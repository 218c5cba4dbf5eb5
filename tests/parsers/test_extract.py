"""End-to-end extraction quality: the ``extract`` command scored against labelled mail.

The quality gates run the real command line (``run_ingest.py extract``) in a
subprocess, exactly as an operator would, and score its JSON lines with the
shared scorer (/work/shared/bench/score.py). Thresholds sit a little below the
current figures so that a regression fails the test while small, deliberate
trade-offs (e.g. sending one more offer to review) do not.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.extract import read_message
from vng_ingest.models import Kind
from vng_ingest.shared import DEV_CORPUS
from vng_ingest.shared import SCORER as SHARED_SCORER

ROOT = Path(__file__).resolve().parents[2]
DEV_CORPUS = DEV_CORPUS
SAMPLE_MAILBOX = ROOT / "vng_ingest" / "samples" / "mailbox"
SCORER = SHARED_SCORER
KINDS = {kind.value for kind in Kind}


def _extract_lines(folder: Path, out: Path) -> list[dict]:
    """Run the extract command over every .eml in ``folder``; write and return its JSON lines."""
    files = sorted(str(path) for path in folder.glob("*.eml"))
    assert files, f"no .eml files in {folder}"
    done = subprocess.run([sys.executable, str(ROOT / "run_ingest.py"), "extract", *files],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out.write_text(done.stdout, encoding="utf-8")
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert len(records) == len(files), "one record per message"
    return records


def _score(truth: Path, predictions: Path) -> dict:
    done = subprocess.run([sys.executable, str(SCORER), str(truth), str(predictions), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def dev_run(tmp_path_factory) -> tuple[list[dict], dict]:
    if not DEV_CORPUS.is_dir() or not SCORER.is_file():
        pytest.skip(f"dev corpus ({DEV_CORPUS}) or scorer ({SCORER}) not present")
    out = tmp_path_factory.mktemp("extract") / "dev.jsonl"
    records = _extract_lines(DEV_CORPUS, out)
    return records, _score(DEV_CORPUS / "truth.jsonl", out)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> tuple[list[dict], dict]:
    if not SCORER.is_file():
        pytest.skip(f"scorer not present at {SCORER}")
    out = tmp_path_factory.mktemp("extract") / "samples.jsonl"
    records = _extract_lines(SAMPLE_MAILBOX, out)
    return records, _score(SAMPLE_MAILBOX / "truth.jsonl", out)


HELDOUT = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module", params=["heldout", "heldout2", "heldout3"])
def heldout_run(request, tmp_path_factory) -> tuple[list[dict], dict]:
    if not SCORER.is_file():
        pytest.skip(f"scorer not present at {SCORER}")
    folder = HELDOUT / request.param
    out = tmp_path_factory.mktemp("extract") / f"{request.param}.jsonl"
    records = _extract_lines(folder, out)
    return records, _score(folder / "truth.jsonl", out)


def _failures(result: dict, minimum: dict[str, float], maximum: dict[str, float]) -> list[str]:
    failed = [f"{name} {result[name]} < {bound}" for name, bound in minimum.items()
              if result[name] is None or result[name] < bound]
    failed += [f"{name} {result[name]} > {bound}" for name, bound in maximum.items()
               if result[name] is None or result[name] > bound]
    return failed


def _accepted_failures(result: dict, minimum: float = 0.99) -> list[str]:
    """Whatever is accepted without review must be right (nothing accepted passes)."""
    accepted = result["accepted_accuracy"]
    return [] if accepted is None or accepted >= minimum else [f"accepted_accuracy {accepted} < {minimum}"]


def test_dev_corpus_quality(dev_run):
    _, result = dev_run
    assert result["missing_predictions"] == []
    # Review is decided by P(all key fields right) >= review.accept_threshold (config.yaml: 0.99,
    # because out of fold no lower threshold gets accepted offers to 0.95 right; see
    # bench/calibration.py). Measured at that default: review_rate 1.000, nothing accepted (was
    # 0.083 / 1.000 with the hand-set 0.8 rule, which was tuned on these very messages).
    failed = _failures(result,
                       minimum={"kind_accuracy": 0.97, "offer_f1": 0.95, "key_field_mean": 0.95},
                       maximum={"review_rate": 1.0})
    failed += _accepted_failures(result)
    assert not failed, f"{failed}; misses: {result['misses']}; confusion: {result['kind_confusion']}"


def test_sample_mailbox_quality(sample_run):
    _, result = sample_run
    assert result["missing_predictions"] == []
    failed = _failures(result, minimum={"kind_accuracy": 0.9, "offer_f1": 0.9, "key_field_mean": 0.9},
                       maximum={})
    assert not failed, f"{failed}; misses: {result['misses']}; confusion: {result['kind_confusion']}"


def test_heldout_quality(heldout_run):
    """Replies written by people who never saw the extractor (tests/fixtures/heldout*). Their first,
    blind runs scored key fields 0.671, 0.913 and 0.866; the rules were then generalised, so this now guards
    against regressions. The review rate may exceed the dev target: these sets are harder on purpose."""
    _, result = heldout_run
    # Review rate and accepted accuracy: see test_dev_corpus_quality (measured at the default
    # threshold: review_rate 1.000 on heldout 1-3, nothing accepted).
    failed = _failures(result,
                       minimum={"kind_accuracy": 0.95, "offer_f1": 0.95, "key_field_mean": 0.95},
                       maximum={"review_rate": 1.0})
    failed += _accepted_failures(result)
    assert not failed, f"{failed}; misses: {result['misses']}; confusion: {result['kind_confusion']}"


def _check_record_shape(record: dict) -> None:
    assert isinstance(record.get("file"), str) and record["file"].endswith(".eml")
    assert record.get("kind") in KINDS
    assert isinstance(record.get("offers"), list)
    if record["kind"] not in (Kind.OFFER.value, Kind.THIRD_PARTY_OFFER.value):
        assert record["offers"] == []
    for offer in record["offers"]:
        assert isinstance(offer.get("needs_review"), bool)
        confidence = offer.get("confidence")
        assert isinstance(confidence, dict)
        for field, value in confidence.items():
            assert isinstance(field, str)
            assert isinstance(value, float) and 0.0 <= value <= 1.0, (record["file"], field, value)
        assert set(offer["contact"]) == {"name", "role", "phone", "email"}


@pytest.mark.parametrize("run", ["dev_run", "sample_run"])
def test_every_record_has_file_kind_review_and_confidence(run, request):
    records, _ = request.getfixturevalue(run)
    assert any(record["offers"] for record in records), "the corpus holds offers"
    for record in records:
        _check_record_shape(record)


# -- malformed input: a record, never an exception ------------------------------------------------

def _junk_messages() -> list[bytes]:
    rng = random.Random(20220301)
    return [
        b"",
        b"\x00" * 64,
        bytes(rng.randrange(256) for _ in range(4096)),
        b"\xff\xfe\xfd" * 500,
        b"Subject: =?utf-8?B?!!!not-base64?=\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n\xe9\xe8",
        b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>per",
        b"Content-Type: multipart/alternative\r\n\r\nno boundary at all",
        b"Content-Transfer-Encoding: base64\r\n\r\n@@@@ not base64 @@@@",
        b"Date: 31 Feb 99999 99:99:99 +9999\r\nFrom: <<<>>>\r\n\r\nper direct 40 plekken",
        b"From: a@b.nl\r\n" + b"X" * 200_000,
        "Subject: opvang\r\n\r\nWij bieden 40 à 50 plekken per 1 april".encode("utf-16"),
    ]


def _as_record(raw: bytes) -> dict:
    _, extraction = read_message(raw)
    record = extraction.record(file="junk.eml")
    json.dumps(record)          # serialisable, as the CLI and the store need
    return record


@pytest.mark.parametrize("raw", _junk_messages(), ids=lambda raw: f"{len(raw)}-bytes")
def test_malformed_message_gives_a_record(raw):
    _check_record_shape(_as_record(raw))


def test_empty_message_is_not_an_offer():
    record = _as_record(b"")
    assert record["kind"] != Kind.OFFER.value and record["offers"] == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_give_a_record(raw):
    _check_record_shape(_as_record(raw))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_random_body_after_headers_gives_a_record(body):
    raw = ("From: Gemeente <info@gemeente.nl>\r\nSubject: Opvang Oekraine\r\n"
           "Date: Fri, 04 Mar 2022 10:00:00 +0100\r\n\r\n" + body).encode("utf-8", "surrogatepass")
    _check_record_shape(_as_record(raw))


def test_extract_command_survives_a_junk_file(tmp_path):
    junk = tmp_path / "junk.eml"
    junk.write_bytes(bytes(random.Random(7).randrange(256) for _ in range(2048)))
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    done = subprocess.run([sys.executable, str(ROOT / "run_ingest.py"), "extract", str(junk), str(empty)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [record["file"] for record in records] == ["junk.eml", "empty.eml"]
    for record in records:
        _check_record_shape(record)
