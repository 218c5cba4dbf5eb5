#!/usr/bin/env python3
"""Triage accuracy of the rules alone, rules + classifier, and the classifier alone; prediction time.

    python bench/triage_textcat.py [CORPUS_DIR ...] [--cv K]

Each CORPUS_DIR holds *.eml files and a truth.jsonl with a "kind" per "file"
(default: /work/shared/corpus/dev and the bundled sample mailbox). Prints, per
corpus, the kind accuracy of the three modes and the messages where they
disagree with the truth; then the median time of one classifier prediction; with
--cv K also the K-fold cross-validated accuracy on parsers/training/triage.jsonl.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsers import textcat  # noqa: E402
from parsers.mime import parse_message  # noqa: E402
from parsers.triage import classifier_text, classify  # noqa: E402
from vng_ingest.shared import DEV_CORPUS

DEFAULT = [DEV_CORPUS, Path(__file__).resolve().parents[1] / "vng_ingest/samples/mailbox"]


def modes(parsed) -> dict[str, str]:
    scores = textcat.predict(classifier_text(parsed))
    return {"rules": classify(parsed, use_model=False)[0].value,
            "rules+classifier": classify(parsed)[0].value,
            "classifier": max(scores, key=scores.get) if scores else "-"}


def score(folder: Path) -> list[str]:
    truth = {json.loads(line)["file"]: json.loads(line)["kind"]
             for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()}
    right = {"rules": 0, "rules+classifier": 0, "classifier": 0}
    texts, misses = [], []
    for name, kind in sorted(truth.items()):
        parsed = parse_message((folder / name).read_bytes())
        texts.append(classifier_text(parsed))
        for mode, predicted in modes(parsed).items():
            right[mode] += predicted == kind
            if predicted != kind:
                misses.append(f"    {mode:17s} {name}: {predicted} (truth {kind})")
    print(f"{folder} ({len(truth)} messages)")
    for mode, count in right.items():
        print(f"  {mode:17s} kind accuracy {count / len(truth):.3f}")
    print("\n".join(misses) or "    no misses")
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--cv", type=int, default=0)
    args = parser.parse_args()
    texts = []
    for folder in args.corpora:
        if (folder / "truth.jsonl").is_file():
            texts += score(folder)
    if texts:
        textcat.predict(texts[0])
        times = []
        for text in texts * 5:
            start = time.perf_counter()
            textcat.predict(text)
            times.append(time.perf_counter() - start)
        print(f"classifier prediction: median {statistics.median(times) * 1000:.3f} ms, "
              f"p95 {sorted(times)[int(len(times) * 0.95)] * 1000:.3f} ms over {len(times)} calls")
    if args.cv:
        print(f"{args.cv}-fold cross-validated accuracy on the training data: {textcat.cross_validate(folds=args.cv):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
