"""The vocabulary of offers (parsers/patterns/vocabulary.yaml) as compiled regex fragments."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

FILE = Path(__file__).resolve().parent / "patterns" / "vocabulary.yaml"


@lru_cache(maxsize=1)
def words() -> dict[str, list[str]]:
    return yaml.safe_load(FILE.read_text(encoding="utf-8"))


def alternation(key: str, escape: bool = True) -> str:
    items = sorted(words()[key], key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w) if escape else w for w in items) + ")"


@lru_cache(maxsize=None)
def regex(key: str, escape: bool = True, whole_word: bool = True) -> re.Pattern:
    body = alternation(key, escape)
    return re.compile(r"(?<!\w)" + body + r"(?!\w)" if whole_word else body, re.IGNORECASE)
