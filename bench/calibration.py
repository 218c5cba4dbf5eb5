#!/usr/bin/env python3
"""How well the confidence model's probabilities hold, out of fold, and on the final check.

    python bench/calibration.py            # out-of-fold figures on the training sets
    python bench/calibration.py --final    # then, once, heldout7 and heldout8 with the scorer

Out of fold means leave one labelled set out: every offer's probability comes from models
fitted on the other sets. Printed: the reliability table per key field and for "all key
fields right" (mean predicted vs observed per decile, with counts), the accepted accuracy
and review rate over thresholds 0.50…0.99, the threshold that reaches 0.95, and per left-out
set the review rate and accepted accuracy at that threshold. ``--final`` runs the real
``extract`` command over heldout7 and heldout8 (never trained or tuned on) and scores it
with the shared scorer at the configured threshold.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parsers.calibration import (FINAL_SETS, THRESHOLDS, acceptance, choose_threshold, collect,  # noqa: E402
                                 evaluate, load_scorer, reliability)
from parsers.extract import KIND_THRESHOLD  # noqa: E402
from parsers.confidence import ASSESSED_FIELDS  # noqa: E402
from vng_ingest.shared import SCORER  # noqa: E402


def print_reliability(title: str, probabilities: list[float], labels: list[bool]) -> None:
    print(f"\n{title}  (n={len(labels)}, observed right {sum(labels) / len(labels):.3f})")
    print("  decile    predicted  observed  count")
    for low, predicted, observed, count in reliability(probabilities, labels):
        print(f"  {low:.1f}-{low + 0.1:.1f}   {predicted:9.3f} {observed:9.3f} {count:6d}")


def out_of_fold() -> float:
    started = time.perf_counter()
    examples = collect()
    print(f"collected {len(examples)} predicted offers in {time.perf_counter() - started:.1f} s")
    evaluation = evaluate(examples)
    print("model per field (out-of-fold log loss):")
    for name in ASSESSED_FIELDS:
        print(f"  {name:16s} {evaluation.choice[name]:9s} {evaluation.losses[name]}")
    print(f"  all key fields   {evaluation.combiner:9s} {evaluation.combiner_losses}")
    for name in ASSESSED_FIELDS:
        print_reliability(f"P({name} right)", [p[name] for p in evaluation.field_probabilities],
                          [e.right[name] for e in examples])
    labels = [e.all_right for e in examples]
    print_reliability("P(all key fields right)", evaluation.all_probabilities, labels)
    print("\nthreshold  review_rate  accepted_accuracy  accepted")
    for threshold in THRESHOLDS:
        review_rate, accuracy, accepted = acceptance(evaluation.all_probabilities, labels, threshold)
        print(f"  {threshold:.2f}     {review_rate:.3f}        {'-' if accuracy is None else f'{accuracy:.3f}'}"
              f"          {accepted}")
    threshold = choose_threshold(evaluation.all_probabilities, labels)
    review_rate, accuracy, _ = acceptance(evaluation.all_probabilities, labels, threshold)
    shown = "none accepted" if accuracy is None else f"accepted accuracy {accuracy:.3f}"
    print(f"\nchosen threshold {threshold} (lowest reaching 0.95): {shown}, review rate {review_rate:.3f}")
    print("\nleave-one-set-out at that threshold:")
    for group in sorted({e.group for e in examples}):
        inside = [(p, e.all_right) for p, e in zip(evaluation.all_probabilities, examples) if e.group == group]
        rate, acc, accepted = acceptance([p for p, _ in inside], [y for _, y in inside], threshold)
        print(f"  {group:10s} offers {len(inside):4d}  review_rate {rate:.3f}  accepted_accuracy "
              f"{'-' if acc is None else f'{acc:.3f}'} ({accepted} accepted)")
    return threshold


def final_check() -> None:
    print("\nfinal check (the extract command, scored by the shared scorer):")
    for name, folder in FINAL_SETS.items():
        files = sorted(str(p) for p in folder.glob("*.eml"))
        done = subprocess.run([sys.executable, str(ROOT / "run_ingest.py"), "--config", str(ROOT / "config.yaml"),
                               "extract", *files], cwd=ROOT, capture_output=True, text=True, check=True)
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as out:
            out.write(done.stdout)
        scored = subprocess.run([sys.executable, str(SCORER), str(folder / "truth.jsonl"), out.name, "--json"],
                                capture_output=True, text=True, check=True)
        result = json.loads(scored.stdout)
        accepted = result["accepted_accuracy"]
        print(f"  {name}: review_rate {result['review_rate']:.3f} accepted_accuracy "
              f"{'-' if accepted is None else f'{accepted:.3f}'} "
              f"all_key_right {result['offers_all_key_fields_right']:.3f} key_fields {result['key_field_mean']:.3f}")
        Path(out.name).unlink()
        print_final_curve(folder, [json.loads(line) for line in done.stdout.splitlines() if line.strip()])


def print_final_curve(folder: Path, records: list[dict]) -> None:
    """The same single run at other thresholds (P(all key right) is the product of the fields' P)."""
    scorer = load_scorer()
    truth = scorer.load(folder / "truth.jsonl")
    line = []
    for threshold in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9):
        predicted = {}
        for record in records:
            record = json.loads(json.dumps(record))
            for offer in record["offers"]:
                whole = math.prod(offer["confidence"][name] for name in ASSESSED_FIELDS)
                unsure_kind = record.get("kind_confidence", 1.0) < KIND_THRESHOLD
                offer["needs_review"] = unsure_kind or whole < threshold
            predicted[record["file"]] = record
        result = scorer.score(truth, predicted)
        accepted = result["accepted_accuracy"]
        line.append(f"{threshold:.2f}: {result['review_rate']:.3f}/{'-' if accepted is None else f'{accepted:.3f}'}")
    print("    at other thresholds (review_rate/accepted_accuracy): " + "  ".join(line))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--final", action="store_true", help="also score heldout7 and heldout8, once")
    parser.add_argument("--skip-oof", action="store_true", help="with --final: only the final check")
    args = parser.parse_args()
    if not args.skip_oof:
        out_of_fold()
    if args.final:
        final_check()
    return 0


if __name__ == "__main__":
    sys.exit(main())
