"""Reference facts shipped with the package: municipalities of 2022, safety regions, names.

Source and licence notes: ``vng_ingest/data/PROVENANCE.md``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str
    province: str
    region_code: str
    region_name: str
    domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    merged_into_code: str | None = None
    merged_on: str | None = None


@dataclass(frozen=True)
class SafetyRegion:
    code: str
    name: str
    province: str
    aliases: tuple[str, ...] = field(default=())


def fold(text: str) -> str:
    """Lower case without diacritics or punctuation: 'Súdwest-Fryslân' → 'sudwest fryslan'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in (cell or "").split("|") if part.strip())


@lru_cache(maxsize=1)
def municipalities() -> tuple[Municipality, ...]:
    with (DATA / "gemeenten_2022.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(Municipality(
        code=row["code"], name=row["name"], province=row["province"],
        region_code=row["veiligheidsregio_code"], region_name=row["veiligheidsregio_name"],
        domains=tuple(d.lower() for d in (row["website_domain"], *_split(row["other_domains"])) if d),
        aliases=_split(row["aliases"]), merged_into_code=row["merged_into_code"] or None,
        merged_on=row["merged_on"] or None) for row in rows)


@lru_cache(maxsize=1)
def safety_regions() -> tuple[SafetyRegion, ...]:
    with (DATA / "veiligheidsregios_2022.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(SafetyRegion(row["code"], row["name"], row["province"], _split(row["aliases"]))
                     for row in csv.DictReader(handle))


@lru_cache(maxsize=1)
def _by_code() -> dict[str, Municipality]:
    return {m.code: m for m in municipalities()}


@lru_cache(maxsize=1)
def _by_name() -> dict[str, Municipality]:
    """Folded names and aliases; also the name without a qualifier ('Bergen (NH.)' → 'bergen' is ambiguous, so skipped)."""
    index: dict[str, Municipality] = {}
    for m in municipalities():
        for name in (m.name, *m.aliases):
            index[fold(name)] = m
    index.setdefault("den haag", _by_code().get("GM0518"))
    index.setdefault("s gravenhage", _by_code().get("GM0518"))
    return {k: v for k, v in index.items() if v is not None}


@lru_cache(maxsize=1)
def _by_domain() -> dict[str, Municipality]:
    return {domain: m for m in municipalities() for domain in m.domains}


def by_code(code: str) -> Municipality | None:
    return _by_code().get(code)


def by_name(name: str) -> Municipality | None:
    return _by_name().get(fold(name))


def by_domain(address_or_domain: str) -> Municipality | None:
    """'j.smit@midden-groningen.nl' or 'gemeente.groningen.nl' → the municipality of that domain."""
    domain = address_or_domain.rsplit("@", 1)[-1].lower().strip().rstrip(".")
    parts = domain.split(".")
    for start in range(len(parts) - 1):
        found = _by_domain().get(".".join(parts[start:]))
        if found:
            return found
    return None


def name_pattern() -> re.Pattern:
    """A regex matching any municipality name or alias as written (longest first)."""
    return _name_pattern()


@lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern:
    names = {name for m in municipalities() for name in (m.name, *m.aliases)}
    names |= {"Den Haag"}
    escaped = sorted((re.escape(n) for n in names), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(escaped) + r")(?![\w-])")


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    names = set()
    for file in ("given_names_nl.txt", "given_names_nl_be.txt"):
        names |= {line.strip() for line in (DATA / file).read_text(encoding="utf-8").splitlines() if line.strip()}
    return frozenset(names)


@lru_cache(maxsize=1)
def surname_particles() -> frozenset[str]:
    text = (DATA / "surname_particles_nl.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def by_place(name: str) -> Municipality | None:
    """A town that names a municipality: exactly, or as the first part of a longer name
    ('Nuenen' → 'Nuenen, Gerwen en Nederwetten', 'Valkenburg' → 'Valkenburg aan de Geul');
    None when that is ambiguous ('Bergen')."""
    exact = by_name(name)
    if exact:
        return exact
    key = fold(name)
    if not key:
        return None
    starts = [m for m in municipalities() if fold(m.name).startswith(key + " ")
              and not m.merged_into_code]
    return starts[0] if len(starts) == 1 else None
