"""The review CLI commands and the labelled corpus made from reviews, through the real CLI."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from review import actions
from review.fields import FIELDS
from review.security import session_secret
from review.users import authenticate
from store.schema import Message, OfferRow
from tests.review.conftest import offer

ROOT = Path(__file__).resolve().parents[2]


def _cli(config_file: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vng_ingest.cli", "--config", str(config_file), *args],
                          input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.fixture
def config_file(server, tmp_path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"database:\n  url: {server.config.database.url}\n", encoding="utf-8")
    return path


def test_user_add_and_disable(server, config_file):
    done = _cli(config_file, "user-add", "carla", "--role", "admin", "--password-stdin",
                stdin="een-lang-wachtwoord\n")
    assert done.returncode == 0, done.stderr
    with server.store.session() as session:
        user = authenticate(session, "carla", "een-lang-wachtwoord")
        assert user is not None and user.role == "admin"
        assert authenticate(session, "carla", "fout-wachtwoord") is None
    short = _cli(config_file, "user-add", "dirk", "--password-stdin", stdin="kort\n")
    assert short.returncode == 1 and "at least" in short.stderr
    assert _cli(config_file, "user-disable", "carla").returncode == 0
    with server.store.session() as session:
        assert authenticate(session, "carla", "een-lang-wachtwoord") is None
    assert _cli(config_file, "user-disable", "niemand").returncode == 1


def test_export_labels_writes_only_fully_reviewed_messages(server, config_file, tmp_path):
    _, (done_id,) = server.seed("Wij bieden 40 plekken in Sporthal De Vliet.",
                                [offer("Sporthal De Vliet", 40, 0.3)])
    server.seed("Wij bieden 25 plekken in Hotel Noord.", [offer("Hotel Noord", 25, 0.3)])
    server.seed("Ik ben afwezig tot maandag.", [], kind="auto_reply")
    other_pk, _ = server.seed("Vraag over subsidie.", [], kind="offer")
    with server.store.session() as session:
        row = session.get(OfferRow, done_id)
        values = {c: getattr(row, c) for c in ("municipality", "location", "address", "postcode", "place",
                                               "available_from", "available_until", "places_max", "status",
                                               "contact_name", "contact_role", "contact_phone",
                                               "contact_email")}
        actions.review_offer(session, row, "anna", row.version, "approve", {**values, "places": 45})
        message = session.get(Message, other_pk)
        actions.reclassify(session, message, "anna", "other", "offer")

    folder = tmp_path / "labels"
    done = _cli(config_file, "export-labels", str(folder))
    assert done.returncode == 0, done.stderr
    truth = [json.loads(line) for line in (folder / "truth.jsonl").read_text().splitlines()]
    assert [t["kind"] for t in truth] == ["offer", "other"]
    (labelled,) = truth[0]["offers"]
    assert (labelled["location"], labelled["places"], labelled["contact"]["name"]) == \
        ("Sporthal De Vliet", 45, "Jan de Vries")
    assert truth[1]["offers"] == []
    for record in truth:
        raw = (folder / record["file"]).read_bytes()
        assert raw.startswith(b"From:") or b"Message-ID" in raw
        assert record["file"].endswith("@utrecht.nl.eml")
    assert sorted(p.name for p in folder.glob("*.eml")) == sorted(t["file"] for t in truth)

    pytest.importorskip("parsers.offers")
    scored = _cli(config_file, "score-labels", str(folder))
    assert scored.returncode == 0, scored.stderr
    assert "messages 2" in scored.stdout
    assert "kind accuracy" in scored.stdout and "scored with" in scored.stdout


def test_builtin_metrics_agree_on_a_perfect_prediction():
    from review.labels import basic_score
    record = {"kind": "offer", "offers": [{"municipality": "Utrecht", "location": "Sporthal", "places": 40,
                                           "contact": {"name": "Jan", "phone": "+31612345678"}}]}
    result = basic_score({"a.eml": record}, {"a.eml": record})
    assert result["kind_accuracy"] == 1.0 and result["offer_f1"] == 1.0 and result["key_field_mean"] == 1.0
    worse = basic_score({"a.eml": record}, {"a.eml": {"kind": "other", "offers": []}})
    assert worse["kind_accuracy"] == 0.0 and worse["offer_recall"] == 0.0


def test_session_secret_file_is_private(server):
    config = server.config
    config.review.session_secret.env = None
    first = session_secret(config)
    path = Path(config.database.url[len("sqlite:///"):]).parent / "review-session-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 40 and session_secret(config) == first


def _approve(server, offer_id: int) -> None:
    with server.store.session() as session:
        row = session.get(OfferRow, offer_id)
        actions.review_offer(session, row, "anna", row.version, "approve", {c: getattr(row, c) for c in FIELDS})


def test_export_labels_after_a_purge_leaves_erased_messages_out_and_counts_them(server, config_file, tmp_path):
    _, (purged_id,) = server.seed("Wij bieden 40 plekken in Sporthal De Vliet.", [offer("Sporthal De Vliet", 40, 0.3)])
    _approve(server, purged_id)
    purge = _cli(config_file, "purge", "--days", "0")
    assert purge.returncode == 0, purge.stderr
    assert _cli(config_file, "reprocess", "--all").returncode == 0      # an erased message read again
    _, (kept_id,) = server.seed("Wij bieden 25 plekken in Hotel Noord.", [offer("Hotel Noord", 25, 0.3)])
    _approve(server, kept_id)

    folder = tmp_path / "labels"
    done = _cli(config_file, "export-labels", str(folder))
    assert done.returncode == 0, done.stderr
    assert "wrote 1 reviewed messages" in done.stdout and "1 whose text was erased" in done.stdout
    (record,) = [json.loads(line) for line in (folder / "truth.jsonl").read_text().splitlines()]
    assert record["kind"] == "offer" and [o["location"] for o in record["offers"]] == ["Hotel Noord"]
    assert [p.name for p in folder.glob("*.eml")] == [record["file"]]
