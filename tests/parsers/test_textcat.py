"""The triage classifier: deterministic training, a shipped model that loads, and its narrow use in triage."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from parsers import textcat
from parsers.message import ParsedMessage
from parsers.triage import _rules, classify, weigh
from vng_ingest.models import Kind
from vng_ingest.shared import DEV_CORPUS

ROOT = Path(__file__).resolve().parents[2]
DEV = DEV_CORPUS
PROBES = [
    "Ik ben tot en met 14 maart afwezig en lees mijn e-mail niet.",
    "De gemeente biedt de sporthal aan de Parkweg 2 aan voor 40 personen vanaf 1 april.",
    "Wij hebben thuis een logeerkamer voor een moeder met kind.",
    "Wie betaalt de kosten van de opvang?",
]


def message(text: str, **headers: str) -> ParsedMessage:
    return ParsedMessage(subject="RE: Opvang vluchtelingen uit Oekraïne", from_addr="iemand@example.com",
                         date=datetime(2022, 3, 8, 10, tzinfo=timezone.utc), headers=dict(headers),
                         body=text, new_text=text)


def test_training_data_is_balanced_and_labelled():
    examples = textcat.load_examples()
    counts = {label: sum(1 for _, kind in examples if kind == label) for label in textcat.LABELS}
    assert len(examples) >= 240
    assert all(count >= 55 for count in counts.values()), counts


def test_training_is_deterministic_and_the_saved_model_loads(tmp_path):
    first = textcat.train(out=tmp_path / "a", holdout=0)
    second = textcat.train(out=tmp_path / "b", holdout=0)
    assert (first.path / "textcat" / "model").read_bytes() == (second.path / "textcat" / "model").read_bytes()
    scores = textcat.predict(PROBES[0], model_dir=first.path)
    assert set(scores) == set(textcat.LABELS)
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert max(scores, key=scores.get) == "auto_reply"
    # The shipped model is the one the committed training data gives.
    for text in PROBES:
        fresh, shipped = textcat.predict(text, model_dir=first.path), textcat.predict(text)
        assert fresh == pytest.approx(shipped, abs=1e-4)


def test_no_model_folder_gives_no_scores(tmp_path):
    assert textcat.predict("Ik ben afwezig.", model_dir=tmp_path / "absent") == {}


def test_held_out_accuracy():
    result = textcat.train(out=None, holdout=0.2)
    assert result.n_test >= 40
    assert result.accuracy >= 0.9


def test_classifier_decides_where_the_rules_are_weak():
    # No out-of-office phrase the rules know, no offer signal but a date: rules say 'other' at 0.7.
    parsed = message("Ik zit tot en met 14 maart zonder e-mail in het buitenland. Na mijn terugkomst "
                     "lees ik uw bericht. Voor vragen kunt u bellen met het algemene nummer.")
    assert _rules(parsed) == (Kind.OTHER, 0.7)
    kind, confidence = classify(parsed)
    assert kind is Kind.AUTO_REPLY
    assert confidence == pytest.approx(textcat.predict(parsed.new_text + "\n")["auto_reply"], abs=1e-3)
    assert classify(parsed, use_model=False) == (Kind.OTHER, 0.7)


def test_certain_rules_are_not_overruled():
    offer = ("De gemeente biedt de sporthal aan de Parkweg 2, 1234 AB Voorbeeld aan voor 40 personen "
             "vanaf 1 april tot 1 juli. Contact: Jan Jansen, 06-12340000.")
    assert classify(message(offer, **{"auto-submitted": "auto-replied"})) == (Kind.AUTO_REPLY, 0.99)
    newsletter = "Ik ben afwezig tot en met 14 maart. Uw e-mail wordt niet doorgestuurd."
    assert classify(message(newsletter, **{"list-id": "<nieuws.example.nl>"})) == (Kind.OTHER, 0.95)


def test_weigh_keeps_confidence_honest():
    scores = {"offer": 0.1, "third_party_offer": 0.1, "auto_reply": 0.05, "other": 0.75}
    assert weigh(Kind.OTHER, 0.7, scores) == (Kind.OTHER, 0.75)          # agreement: the surer of both
    assert weigh(Kind.OFFER, 0.75, scores) == (Kind.OTHER, 0.75)         # sure classifier decides
    hesitant = {"offer": 0.3, "third_party_offer": 0.1, "auto_reply": 0.0, "other": 0.6}
    assert weigh(Kind.OFFER, 0.75, hesitant) == (Kind.OFFER, 0.4)        # rules stand, less sure
    assert weigh(Kind.OFFER, 0.75, {}) == (Kind.OFFER, 0.75)             # no model: rules alone


def test_train_triage_command(tmp_path):
    out = tmp_path / "model"
    done = subprocess.run([sys.executable, str(ROOT / "run_ingest.py"), "train-triage", "--out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert re.search(r"held-out accuracy (0\.9\d\d|1\.000)", done.stdout), done.stdout
    assert (out / "meta.json").is_file()


@pytest.mark.skipif(not (DEV / "truth.jsonl").is_file(), reason="dev corpus not present")
def test_triage_accuracy_on_dev_corpus():
    from parsers.mime import parse_message
    truth = [json.loads(line) for line in (DEV / "truth.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    right = sum(classify(parse_message((DEV / record["file"]).read_bytes()))[0].value == record["kind"]
                for record in truth)
    assert right / len(truth) >= 0.97
