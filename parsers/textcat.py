"""A small spaCy text classifier for triage, used only where the rules are unsure.

The rules in ``parsers.triage`` decide whenever they are certain (RFC 3834 headers,
bulk mail, explicit out-of-office wording). Between those certainties lies wording the
rules cannot enumerate: a question that mentions a building, an offer without a postcode,
an auto-reply phrased in a new way. There a bag-of-words classifier trained on invented
replies (``parsers/training/triage.jsonl``) weighs the whole text.

Train with ``vng-ingest train-triage`` or ``python -m parsers.textcat``; the model is
written to ``parsers/models/triage/`` and shipped with the package. Without that folder
``predict`` returns ``{}`` and triage runs on the rules alone.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LABELS = ("offer", "third_party_offer", "auto_reply", "other")
HERE = Path(__file__).resolve().parent
DATA = HERE / "training" / "triage.jsonl"
MODEL_DIR = HERE / "models" / "triage"
SEED = 0
EPOCHS = 20

#: Bag of words and word pairs; 2**16 hashed features keep the model under 1 MB.
TEXTCAT_MODEL = {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True,
                 "ngram_size": 2, "no_output_layer": False, "length": 2 ** 16}


@dataclass
class TrainResult:
    """What training measured: accuracy on the held-out split, and where the model went."""

    accuracy: float
    n_train: int
    n_test: int
    path: Path | None


def normalise(text: str) -> str:
    """Lower case, digits as 0, at most 2,000 characters: the model sees words, not numbers."""
    text = re.sub(r"\d", "0", text[:2000].lower())
    return re.sub(r"\s+", " ", text).strip()


def load_examples(path: Path = DATA) -> list[tuple[str, str]]:
    """(text, label) pairs from a JSONL file of {"text": ..., "label": ...} objects."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        if record["label"] not in LABELS:
            raise ValueError(f"{path}:{number}: unknown label {record['label']!r}")
        examples.append((record["text"], record["label"]))
    return examples


def split(examples: list[tuple[str, str]], holdout: float, seed: int = SEED):
    """A stratified split: the same share of every label is held out."""
    rng = random.Random(seed)
    train_part, test_part = [], []
    for label in LABELS:
        group = [e for e in examples if e[1] == label]
        rng.shuffle(group)
        cut = round(len(group) * holdout)
        test_part += group[:cut]
        train_part += group[cut:]
    return train_part, test_part


def fit(examples: list[tuple[str, str]], seed: int = SEED, epochs: int = EPOCHS):
    """A blank Dutch pipeline with a trained ``textcat``; the same examples and seed give the same model."""
    import spacy
    from spacy.training import Example
    from spacy.util import fix_random_seed, minibatch

    fix_random_seed(seed)
    nlp = spacy.blank("nl")
    textcat = nlp.add_pipe("textcat", config={"model": TEXTCAT_MODEL})
    for label in LABELS:
        textcat.add_label(label)
    data = [Example.from_dict(nlp.make_doc(normalise(text)),
                              {"cats": {name: float(name == label) for name in LABELS}})
            for text, label in examples]
    optimizer = nlp.initialize(lambda: data)
    rng = random.Random(seed)
    for _ in range(epochs):
        order = data[:]
        rng.shuffle(order)
        for batch in minibatch(order, size=8):
            nlp.update(batch, sgd=optimizer, drop=0.0)
    return nlp


def accuracy(nlp, examples: list[tuple[str, str]]) -> float:
    if not examples:
        return float("nan")
    docs = nlp.pipe(normalise(text) for text, _ in examples)
    right = sum(max(doc.cats, key=doc.cats.get) == label for doc, (_, label) in zip(docs, examples))
    return right / len(examples)


def train(data: Path = DATA, out: Path | None = MODEL_DIR, holdout: float = 0.2,
          seed: int = SEED, epochs: int = EPOCHS) -> TrainResult:
    """Measure on a held-out split, then train on every example and save to ``out`` (if given)."""
    examples = load_examples(Path(data))
    train_part, test_part = split(examples, holdout, seed)
    held_out = accuracy(fit(train_part, seed, epochs), test_part) if test_part else float("nan")
    if out is not None:
        out = Path(out)
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        fit(examples, seed, epochs).to_disk(out)
        _load.cache_clear()
    return TrainResult(held_out, len(train_part), len(test_part), out)


def cross_validate(data: Path = DATA, folds: int = 5, seed: int = SEED, epochs: int = EPOCHS) -> float:
    """Mean accuracy over stratified folds (every example is tested once)."""
    examples = load_examples(Path(data))
    rng = random.Random(seed)
    fold_of: dict[int, int] = {}
    for label in LABELS:
        indices = [i for i, e in enumerate(examples) if e[1] == label]
        rng.shuffle(indices)
        fold_of.update({index: n % folds for n, index in enumerate(indices)})
    right = 0
    for fold in range(folds):
        train_part = [e for i, e in enumerate(examples) if fold_of[i] != fold]
        test_part = [e for i, e in enumerate(examples) if fold_of[i] == fold]
        right += round(accuracy(fit(train_part, seed, epochs), test_part) * len(test_part))
    return right / len(examples)


@lru_cache(maxsize=4)
def _load(path: str):
    """The saved pipeline, loaded once per process; None when it is not there."""
    if not (Path(path) / "meta.json").is_file():
        return None
    import spacy
    return spacy.load(path)


def predict(text: str, model_dir: Path | None = None) -> dict[str, float]:
    """Probability of every kind for a text; {} when no trained model is installed."""
    nlp = _load(str(model_dir or MODEL_DIR))
    if nlp is None:
        return {}
    return {label: float(score) for label, score in nlp(normalise(text)).cats.items()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DATA, help="training data (JSONL)")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="where the model is written")
    parser.add_argument("--holdout", type=float, default=0.2, help="share held out to measure accuracy")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--cv", type=int, default=0, metavar="K", help="also report K-fold cross-validation")


def run(args: argparse.Namespace) -> int:
    result = train(args.data, args.out, holdout=args.holdout, seed=args.seed)
    print(f"held-out accuracy {result.accuracy:.3f} ({result.n_test} examples, trained on {result.n_train}); "
          f"model trained on all examples written to {result.path}")
    if args.cv:
        print(f"{args.cv}-fold cross-validated accuracy {cross_validate(args.data, args.cv, args.seed):.3f}")
    return 0


if __name__ == "__main__":
    cli = argparse.ArgumentParser(prog="python -m parsers.textcat", description="Train the triage classifier.")
    add_arguments(cli)
    raise SystemExit(run(cli.parse_args()))
