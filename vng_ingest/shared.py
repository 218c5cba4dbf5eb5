"""Where the team's shared material lives (labelled corpus, scorer, external fixtures).

It is read from there, never copied into the repository: ``$VNG_SHARED``, else the
``shared`` folder beside the repository, else ``/work/shared``. Only tests, benchmarks
and ``score-labels`` use it; the service never needs it.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    candidates = [os.environ.get("VNG_SHARED"), REPO.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return REPO.parent / "shared"


SHARED = shared_dir()
DEV_CORPUS = SHARED / "corpus" / "dev"
SCORER = SHARED / "bench" / "score.py"
EXTERNAL = SHARED / "bench" / "external"
