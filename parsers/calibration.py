"""Training the confidence model (``parsers/confidence.py``) on the labelled sets.

Training time only: it needs scikit-learn and the team's scorer (``shared/bench/score.py``,
whose rules decide whether a field is right and which predicted offer is which labelled one).
Neither is needed to use the model, which is a small JSON file of coefficients.

Each predicted offer of a labelled message gives one example per assessed field: its
features (``confidence.features``) and whether the value equals the truth. A predicted offer
that pairs with no labelled offer is wrong in every field (accepting it would send a location
that does not exist). Models are compared out of fold, leaving one labelled set out at a time,
and the better one per field is fitted on all sets.

    vng-ingest train-confidence            # write parsers/models/confidence/model.json
    vng-ingest train-confidence --check    # only compare a fresh fit with the shipped file
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from parsers.confidence import ASSESSED_FIELDS, MODEL_PATH, apply_model, features, message_facts, value
from parsers.confidence import MessageFacts
from vng_ingest.models import Offer
from vng_ingest.shared import DEV_CORPUS, SCORER

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
#: The labelled sets the model learns from. heldout7 and heldout8 are the final check: never here.
TRAINING_SETS = {"dev": DEV_CORPUS, **{name: FIXTURES / name for name in
                                       ("heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6")}}
FINAL_SETS = {name: FIXTURES / name for name in ("heldout7", "heldout8")}
#: Regularisation of the logistic models (inverse strength, scikit-learn's C).
C = 1.0
#: Coefficients are stored rounded to this many decimals.
DECIMALS = 6


@dataclass
class Example:
    """One predicted offer of a labelled message: its features and labels per assessed field."""

    group: str
    file: str
    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    right: dict[str, bool] = field(default_factory=dict)

    @property
    def all_right(self) -> bool:
        return all(self.right.values())


def load_scorer(path: Path = SCORER):
    if not path.is_file():
        raise FileNotFoundError(f"the scorer is not at {path} (set VNG_SHARED)")
    spec = importlib.util.spec_from_file_location("vng_shared_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_truth(folder: Path) -> dict[str, dict]:
    records = {}
    for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            records[Path(record["file"]).name] = record
    return records


def hand_scored(folder: Path) -> list[tuple[str, list[Offer], MessageFacts]]:
    """Every message of a folder through the extractor, with the finders' hand scores."""
    from parsers.extract import read_message
    out = []
    for path in sorted(folder.glob("*.eml")):
        parsed, extraction = read_message(path.read_bytes(), calibrated=False)
        facts = message_facts(parsed, extraction.offers, extraction.kind, extraction.kind_confidence)
        out.append((path.name, extraction.offers, facts))
    return out


def label(group: str, truth: dict[str, dict], messages, scorer) -> list[Example]:
    examples = []
    for name, offers, facts in messages:
        true_offers = (truth.get(name) or {}).get("offers") or []
        predicted = [offer.record(with_meta=False) for offer in offers]
        paired = {j: i for i, j in scorer.pair(true_offers, predicted)}
        for j, offer in enumerate(offers):
            example = Example(group, name)
            for field_name in ASSESSED_FIELDS:
                example.rows[field_name] = features(offer, field_name, facts)
                example.right[field_name] = j in paired and scorer.same(
                    field_name, scorer.get(true_offers[paired[j]], field_name), value(offer, field_name))
            examples.append(example)
    return examples


def collect(sets: dict[str, Path] = TRAINING_SETS, scorer=None) -> list[Example]:
    scorer = scorer or load_scorer()
    examples = []
    for group, folder in sets.items():
        examples += label(group, read_truth(folder), hand_scored(folder), scorer)
    return examples


# --- fitting ---------------------------------------------------------------------------------

def _matrix(rows: list[dict[str, float]], names: list[str]):
    return [[row[name] for name in names] for row in rows]


def fit_logistic(rows: list[dict[str, float]], labels: list[bool], names: list[str] | None = None) -> dict:
    from sklearn.linear_model import LogisticRegression
    if len(set(labels)) < 2:
        return {"type": "constant", "p": float(labels[0]) if labels else 0.5}
    names = names or sorted(rows[0])
    model = LogisticRegression(C=C, max_iter=5000)
    model.fit(_matrix(rows, names), labels)
    return {"type": "logistic", "features": names,
            "coef": [round(float(c), DECIMALS) for c in model.coef_[0]],
            "intercept": round(float(model.intercept_[0]), DECIMALS)}


def fit_isotonic(rows: list[dict[str, float]], labels: list[bool], feature: str = "hand") -> dict:
    from sklearn.isotonic import IsotonicRegression
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    model.fit([row[feature] for row in rows], [float(y) for y in labels])
    return {"type": "isotonic", "feature": feature,
            "x": [round(float(x), DECIMALS) for x in model.X_thresholds_],
            "y": [round(float(y), DECIMALS) for y in model.y_thresholds_]}


FITTERS = {"logistic": fit_logistic, "isotonic": fit_isotonic}


def log_loss(probabilities: list[float], labels: list[bool]) -> float:
    eps = 1e-4
    return -sum(math.log(min(max(p if y else 1 - p, eps), 1)) for p, y in zip(probabilities, labels)) / len(labels)


def out_of_fold(examples: list[Example], fit, field_name: str) -> list[float]:
    """Predictions for every example from a model fitted without its set."""
    out = [0.0] * len(examples)
    for group in sorted({e.group for e in examples}):
        train = [e for e in examples if e.group != group]
        model = fit([e.rows[field_name] for e in train], [e.right[field_name] for e in train])
        for i, e in enumerate(examples):
            if e.group == group:
                out[i] = apply_model(model, e.rows[field_name])
    return out


def _combined_rows(probabilities: list[dict[str, float]]) -> list[dict[str, float]]:
    rows = []
    for p in probabilities:
        product = math.prod(p[name] for name in ASSESSED_FIELDS)
        rows.append({"product": product, "log_product": math.log(max(product, 1e-9)), "minimum": min(p.values())})
    return rows


COMBINERS = {
    "product": None,
    "logistic": lambda rows, labels: fit_logistic(rows, labels, ["log_product"]),
    "isotonic": lambda rows, labels: fit_isotonic(rows, labels, "product"),
}


@dataclass
class Evaluation:
    """Out-of-fold figures: which model per field, and every example's probabilities."""

    choice: dict[str, str]
    losses: dict[str, dict[str, float]]
    field_probabilities: list[dict[str, float]]
    combiner: str
    combiner_losses: dict[str, float]
    all_probabilities: list[float]


def evaluate(examples: list[Example]) -> Evaluation:
    choice, losses = {}, {}
    oof = {}
    for name in ASSESSED_FIELDS:
        labels = [e.right[name] for e in examples]
        candidates = {kind: out_of_fold(examples, fit, name) for kind, fit in FITTERS.items()}
        losses[name] = {kind: round(log_loss(p, labels), 4) for kind, p in candidates.items()}
        choice[name] = min(losses[name], key=losses[name].get)
        oof[name] = candidates[choice[name]]
    field_probabilities = [{name: oof[name][i] for name in ASSESSED_FIELDS} for i in range(len(examples))]
    combined = _combined_rows(field_probabilities)
    labels = [e.all_right for e in examples]
    candidates = {}
    for kind, fit in COMBINERS.items():
        if fit is None:
            candidates[kind] = [row["product"] for row in combined]
            continue
        out = [0.0] * len(examples)
        for group in sorted({e.group for e in examples}):
            train = [i for i, e in enumerate(examples) if e.group != group]
            model = fit([combined[i] for i in train], [labels[i] for i in train])
            for i, e in enumerate(examples):
                if e.group == group:
                    out[i] = apply_model(model, combined[i])
        candidates[kind] = out
    combiner_losses = {kind: round(log_loss(p, labels), 4) for kind, p in candidates.items()}
    combiner = min(combiner_losses, key=combiner_losses.get)
    return Evaluation(choice, losses, field_probabilities, combiner, combiner_losses, candidates[combiner])


def fit_all(examples: list[Example], evaluation: Evaluation) -> dict:
    """The shipped model: the chosen kind per field fitted on every training set."""
    fields = {name: FITTERS[evaluation.choice[name]]([e.rows[name] for e in examples],
                                                    [e.right[name] for e in examples])
              for name in ASSESSED_FIELDS}
    model = {"version": 1, "trained_on": sorted({e.group for e in examples}), "examples": len(examples),
             "fields": fields, "all": None}
    fit = COMBINERS[evaluation.combiner]
    if fit is not None:
        probabilities = [{name: apply_model(fields[name], e.rows[name]) for name in ASSESSED_FIELDS}
                         for e in examples]
        model["all"] = fit(_combined_rows(probabilities), [e.all_right for e in examples])
    return model


# --- figures ---------------------------------------------------------------------------------

def reliability(probabilities: list[float], labels: list[bool], bins: int = 10) -> list[tuple[float, float, float, int]]:
    """(lower edge, mean predicted, observed rate, count) per populated decile."""
    table = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(p, y) for p, y in zip(probabilities, labels) if low <= p < high or (b == bins - 1 and p == 1.0)]
        if inside:
            table.append((low, sum(p for p, _ in inside) / len(inside), sum(y for _, y in inside) / len(inside),
                          len(inside)))
    return table


def acceptance(probabilities: list[float], labels: list[bool], threshold: float) -> tuple[float, float | None, int]:
    """(review rate, accuracy of the accepted, number accepted) at a threshold."""
    accepted = [y for p, y in zip(probabilities, labels) if p >= threshold]
    review_rate = 1 - len(accepted) / len(labels) if labels else 0.0
    return review_rate, (sum(accepted) / len(accepted) if accepted else None), len(accepted)


THRESHOLDS = [round(0.5 + 0.01 * i, 2) for i in range(50)]


def choose_threshold(probabilities: list[float], labels: list[bool], target: float = 0.95) -> float:
    """The lowest threshold (fewest reviews) at which the accepted reach ``target`` out of fold."""
    for threshold in THRESHOLDS:
        _, accuracy, accepted = acceptance(probabilities, labels, threshold)
        if accuracy is not None and accuracy >= target:
            return threshold
    return THRESHOLDS[-1]


def model_json(model: dict) -> str:
    return json.dumps(model, indent=1, sort_keys=True) + "\n"


def same_model(a: dict, b: dict, tolerance: float = 1e-3) -> list[str]:
    """Where two models differ by more than ``tolerance`` (empty: the same)."""
    differences = []

    def walk(x, y, where):
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y)):
                if key in ("trained_on", "examples") and where == "":
                    if x.get(key) != y.get(key):
                        differences.append(f"{key}")
                    continue
                walk(x.get(key), y.get(key), f"{where}/{key}")
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                differences.append(f"{where}: length {len(x)} != {len(y)}")
            else:
                for i, (u, v) in enumerate(zip(x, y)):
                    walk(u, v, f"{where}[{i}]")
        elif isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
            if abs(x - y) > tolerance:
                differences.append(f"{where}: {x} != {y}")
        elif x != y:
            differences.append(f"{where}: {x!r} != {y!r}")

    walk(a, b, "")
    return differences


# --- command ---------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model "
                                                                     "(default: the shipped file)")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 when a fresh fit "
                                                             "differs from the shipped model")


def run(args) -> int:
    examples = collect()
    evaluation = evaluate(examples)
    model = fit_all(examples, evaluation)
    labels = [e.all_right for e in examples]
    threshold = choose_threshold(evaluation.all_probabilities, labels)
    review_rate, accuracy, _ = acceptance(evaluation.all_probabilities, labels, threshold)
    print(f"{len(examples)} predicted offers from {len(TRAINING_SETS)} sets; models per field: "
          + ", ".join(f"{name} {kind}" for name, kind in evaluation.choice.items())
          + f"; all key fields: {evaluation.combiner}")
    shown = "none accepted" if accuracy is None else f"accepted accuracy {accuracy:.3f}"
    print(f"out of fold: threshold {threshold}: {shown}, review rate {review_rate:.3f}")
    if args.check:
        shipped = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
        differences = same_model(model, shipped)
        for line in differences[:20]:
            print(f"differs: {line}", file=sys.stderr)
        print("the shipped model matches a fresh fit" if not differences else "the shipped model is stale")
        return 1 if differences else 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(model_json(model), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0
