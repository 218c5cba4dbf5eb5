"""Reference data shipped with the package: the municipalities of 2022 (CBS).

A location is counted per province and per veiligheidsregio through its
municipality's CBS code, so the report needs this table; the extractor needs
it to spell municipality names the CBS way. Loaded once and cached: the file
never changes while the program runs.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
MUNICIPALITIES_CSV = DATA_DIR / "gemeenten_2022.csv"


@dataclass(frozen=True)
class Municipality:
    """One municipality of 1 January 2022 and the regions it belongs to."""

    code: str                    # CBS code, e.g. "GM0344"
    name: str                    # CBS spelling, e.g. "'s-Gravenhage"
    province_code: str           # e.g. "PV26"
    province: str                # e.g. "Utrecht"
    veiligheidsregio_code: str   # e.g. "VR09"
    veiligheidsregio: str        # e.g. "Utrecht"


@dataclass(frozen=True)
class Municipalities:
    """All municipalities, by CBS code and by name (case-insensitive)."""

    by_code: dict[str, Municipality]
    by_name: dict[str, Municipality]

    def get(self, code_or_name: str | None) -> Municipality | None:
        """The municipality with this CBS code or CBS name; None when unknown."""
        if not code_or_name:
            return None
        key = code_or_name.strip()
        return self.by_code.get(key.upper()) or self.by_name.get(key.casefold())

    def provinces(self) -> list[str]:
        """Province names, sorted by province code (deterministic order for reports)."""
        seen = {m.province_code: m.province for m in self.by_code.values()}
        return [seen[code] for code in sorted(seen)]

    def veiligheidsregios(self) -> list[str]:
        """Veiligheidsregio names, sorted by VR code (VR01 … VR25)."""
        seen = {m.veiligheidsregio_code: m.veiligheidsregio for m in self.by_code.values()}
        return [seen[code] for code in sorted(seen)]


@lru_cache(maxsize=1)
def municipalities() -> Municipalities:
    with MUNICIPALITIES_CSV.open(encoding="utf-8", newline="") as handle:
        rows = [Municipality(code=row["code"], name=row["name"], province_code=row["province_code"],
                             province=row["province"], veiligheidsregio_code=row["veiligheidsregio_code"],
                             veiligheidsregio=row["veiligheidsregio_name"])
                for row in csv.DictReader(handle)]
    return Municipalities(by_code={m.code: m for m in rows},
                          by_name={m.name.casefold(): m for m in rows})
