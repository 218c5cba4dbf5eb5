"""Reviewed decisions as a labelled corpus (shared/corpus/SCHEMA.md), and scoring the extractor on it.

``export_labels`` writes each fully reviewed message's raw bytes as ``<Message-ID>.eml``
plus one ``truth.jsonl`` line per message. A message whose text retention erased is left out
and counted: without its mail the extractor reads nothing, and a person's decision about it
can no longer be scored. ``score_labels`` runs the current extractor over such a folder and
scores it with the project's scorer (``shared/bench/score.py``, loaded by path when present),
or with the few metrics below when it is not.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.offers import HUMAN_STATES, row_to_record
from vng_ingest.shared import SCORER
from store.schema import Message, OfferRow, ReviewState

OFFER_KINDS = ("offer", "third_party_offer")
LABELLED = (ReviewState.APPROVED, ReviewState.CORRECTED)
REPO = Path(__file__).resolve().parents[1]


@dataclass
class ExportResult:
    written: list[str] = field(default_factory=list)
    skipped: int = 0          # reviewed in part: some offer still pending or only machine-accepted
    erased: int = 0           # reviewed, but its text was erased by retention


def file_name(message: Message, taken: set[str]) -> str:
    """The Message-ID as a safe file name (the store's number when there is none, or on a clash)."""
    stem = re.sub(r"[^A-Za-z0-9._@+-]", "_", message.message_id or "")[:150].strip("._")
    stem = stem or f"message-{message.id}"
    if stem + ".eml" in taken:
        stem = f"{stem}-{message.id}"
    return stem + ".eml"


def labelled_record(message: Message) -> dict | None:
    """The truth line of a message a person has reviewed completely, else None."""
    offers = [row for row in message.offers if row.review_state != ReviewState.SUPERSEDED]
    human = message.kind_reviewed_by or any(row.review_state in HUMAN_STATES for row in offers)
    unsettled = any(row.review_state not in HUMAN_STATES for row in offers)
    if not human or unsettled:
        return None
    kept = sorted((row for row in offers if row.review_state in LABELLED), key=lambda r: (r.position, r.id))
    return {"kind": message.kind or "other",
            "offers": [row_to_record(row) for row in kept] if message.kind in OFFER_KINDS else []}


def export_labels(session: Session, folder: Path) -> ExportResult:
    folder.mkdir(parents=True, exist_ok=True)
    reviewed = select(OfferRow.message_pk).where(OfferRow.review_state.in_(HUMAN_STATES))
    query = (select(Message).where(Message.kind_reviewed_by.is_not(None) | Message.id.in_(reviewed))
             .order_by(Message.id))
    result = ExportResult()
    lines = []
    for message in session.scalars(query):
        if not message.raw:
            result.erased += 1
            continue
        record = labelled_record(message)
        if record is None:
            result.skipped += 1
            continue
        name = file_name(message, set(result.written))
        (folder / name).write_bytes(message.raw)
        lines.append(json.dumps({"file": name, **record}, ensure_ascii=False))
        result.written.append(name)
    (folder / "truth.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return result


def load_truth(folder: Path) -> dict[str, dict]:
    records = {}
    for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            records[Path(record["file"]).name] = record
    return records


def predict(folder: Path, names) -> dict[str, dict]:
    """What the current extractor makes of each labelled message."""
    from parsers.extract import read_message
    out = {}
    for name in names:
        _, extraction = read_message((folder / name).read_bytes())
        out[name] = extraction.record(file=name, with_meta=True)
    return out


def scorer_path() -> Path | None:
    """The project's scorer: $VNG_SCORE_PY, else the shared folder's (see vng_ingest.shared)."""
    candidates = [os.environ.get("VNG_SCORE_PY"), SCORER]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def score_labels(folder: Path) -> tuple[dict, str]:
    """Scores of the current extractor on a labelled folder, and which scorer computed them."""
    truth = load_truth(folder)
    predictions = predict(folder, truth)
    path = scorer_path()
    if path is not None:
        spec = importlib.util.spec_from_file_location("vng_bench_score", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.score(truth, predictions), str(path)
    return basic_score(truth, predictions), "built-in metrics"


def format_scores(result: dict) -> str:
    lines = [f"messages {result['messages']}",
             f"kind accuracy {result['kind_accuracy']:.3f}",
             f"offers: truth {result['offers_truth']} predicted {result['offers_predicted']}  "
             f"P {result['offer_precision']:.3f} R {result['offer_recall']:.3f} F1 {result['offer_f1']:.3f}"]
    lines += [f"  {name:16s} {value:.3f}" for name, value in result["field_accuracy"].items()]
    lines.append(f"key fields {result['key_field_mean']:.3f}")
    return "\n".join(lines)


# --- the few metrics, for when the project's scorer is not at hand ---------------------------

KEY_FIELDS = ("municipality", "available_from", "available_until", "places",
              "contact.name", "contact.phone", "contact.email")
OTHER_FIELDS = ("location", "address", "postcode", "place", "places_max", "status", "contact.role")
FREE_TEXT = {"location", "address", "place", "contact.role", "contact.name"}


def _norm(value) -> str:
    text = "".join(c for c in unicodedata.normalize("NFKD", str(value)) if not unicodedata.combining(c))
    return " ".join(text.split()).casefold()


def _value(offer: dict, name: str):
    head, _, tail = name.partition(".")
    value = offer.get(head)
    return (value or {}).get(tail) if tail else value


def _equal(name: str, a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if name == "contact.phone":
        return re.sub(r"\D", "", str(a)) == re.sub(r"\D", "", str(b))
    left, right = _norm(a), _norm(b)
    if name == "postcode":
        return left.replace(" ", "") == right.replace(" ", "")
    if name in FREE_TEXT:
        return left == right or difflib.SequenceMatcher(None, left, right).ratio() >= 0.8
    return left == right


def _pairs(truths: list, preds: list) -> dict[int, int]:
    """Each labelled offer with the most alike unused prediction (by location, address, municipality)."""
    def alike(t, p):
        return sum(weight for name, weight in (("location", 3), ("address", 2), ("municipality", 1))
                   if _value(t, name) is not None and _equal(name, _value(t, name), _value(p, name)))
    ranked = sorted(((alike(t, p), i, j) for i, t in enumerate(truths) for j, p in enumerate(preds)),
                    reverse=True)
    pairs: dict[int, int] = {}
    for weight, i, j in ranked:
        if (weight > 0 or len(truths) == len(preds) == 1) and i not in pairs and j not in pairs.values():
            pairs[i] = j
    return pairs


def basic_score(truth: dict[str, dict], predictions: dict[str, dict]) -> dict:
    fields = KEY_FIELDS + OTHER_FIELDS
    right = dict.fromkeys(fields, 0)
    kinds = n_truth = n_pred = n_paired = 0
    for name, labelled in truth.items():
        predicted = predictions.get(name, {})
        kinds += labelled.get("kind") == predicted.get("kind")
        t_offers, p_offers = labelled.get("offers") or [], predicted.get("offers") or []
        n_truth, n_pred = n_truth + len(t_offers), n_pred + len(p_offers)
        pairs = _pairs(t_offers, p_offers)
        n_paired += len(pairs)
        for i, j in pairs.items():
            for name_ in fields:
                right[name_] += _equal(name_, _value(t_offers[i], name_), _value(p_offers[j], name_))
    precision = n_paired / n_pred if n_pred else 1.0
    recall = n_paired / n_truth if n_truth else 1.0
    return {"messages": len(truth), "kind_accuracy": kinds / len(truth) if truth else 0.0,
            "offers_truth": n_truth, "offers_predicted": n_pred, "offer_precision": precision,
            "offer_recall": recall,
            "offer_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "field_accuracy": {f: right[f] / n_truth if n_truth else 0.0 for f in fields},
            "key_field_mean": sum(right[f] for f in KEY_FIELDS) / (len(KEY_FIELDS) * n_truth) if n_truth else 0.0}
