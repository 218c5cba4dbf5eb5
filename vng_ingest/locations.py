"""Location identity: when two offers describe the same reception location.

Pure functions, no I/O beyond reading the shared vocabulary once. The store keeps the keys
computed here on each location (indexed) and links an offer by looking them up.

The rules (``tests/store/test_locations.py`` holds them as a spec table):

1. Postcode + house number identifies a building nationally: equal → same, different → not.
2. Two different postcodes → different locations, whatever the names say.
3. Street + house number (normalised) identifies a building within one municipality:
   equal → same, different → not, whatever the names say.
4. Only when one side has no address (an update or withdrawal that names only the
   location): the names decide, within the same municipality. Names are compared as keys
   (lower case, no diacritics or punctuation, without articles and "voormalig"/"leegstaand").
   Equal keys → same. Otherwise the names are the same only when one of them is the bare
   proper name of the other ("De Vliet" ~ "Sporthal De Vliet"): what is left after removing
   the building words is equal and non-empty, and one side had no building word at all. So
   "Sporthal 1" and "Sporthal 2" differ, and so do "Sporthal De Vliet" and "Basisschool De Vliet".
5. Without a municipality on either side, names never link two offers (two senders' "Vakantiepark"
   are not known to be one); only rule 1 does, or, within one message, the same identity.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, TypeVar

import yaml

from vng_ingest.refdata import fold

#: The building words of the extractor's vocabulary (data, shared with parsers/locations.py).
VOCABULARY = Path(__file__).resolve().parents[1] / "parsers" / "patterns" / "vocabulary.yaml"
#: Words that do not tell one location from another.
FILLER_WORDS = frozenset({"de", "het", "den", "der", "t", "voormalig", "voormalige", "leegstaand",
                          "leegstaande", "huidige", "huidig"})
KEY_LENGTH = 200       # the indexed columns' width; longer names are cut (consistently)
#: A Dutch postcode as written in an address: capitals, so "1015 te Nijmegen" is not one.
POSTCODE = re.compile(r"\b([1-9]\d{3})\s?([A-Z]{2})\b")
#: Street, then the first house number after it, with an optional letter addition (7a, 7 A, 7-a).
HOUSE = re.compile(r"^(?P<street>.*?[^\W\d].*?)\s*(?P<number>\d+)(?:\s*-?\s*(?P<addition>[a-z])\b)?")

#: What a name's core needs to tell a location by itself: a word, not just a number ("Sporthal 2").
PROPER_NAME = re.compile(r"[a-z]{3}")

K = TypeVar("K")


@dataclass(frozen=True)
class Identity:
    """The keys that say which location an offer (or a stored location) is."""

    municipality_code: str | None = None
    address_key: str | None = None      # "sportlaan 1": street + house number
    postcode: str | None = None         # "7891AB"
    postcode_key: str | None = None     # "7891AB 1": postcode + house number
    name_key: str | None = None         # "sporthal vliet"
    name_core: str | None = None        # "vliet": the name without building words

    @property
    def has_address(self) -> bool:
        return bool(self.address_key or self.postcode_key)

    @property
    def bare_name(self) -> bool:
        """The name is a proper name only, with no building word ("De Vliet")."""
        return bool(self.name_key) and self.name_key == self.name_core


@lru_cache(maxsize=1)
def building_words() -> re.Pattern:
    words = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))["building_words"]
    folded = sorted({fold(word) for word in words if fold(word)}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(word) for word in folded) + r")\b")


def _cut(key: str) -> str | None:
    return key[:KEY_LENGTH].strip() or None


def postcode_of(text: str | None, written: bool = False) -> str | None:
    """'7891 ab' → '7891AB'; None when the text holds no Dutch postcode.

    ``written``: the text is an address, where only a postcode in capitals counts.
    """
    match = POSTCODE.search((text or "") if written else (text or "").upper())
    return f"{match.group(1)}{match.group(2).upper()}" if match else None


def house_address(address: str | None) -> tuple[str, str] | None:
    """(street, house number) of an address, normalised: 'Vaart N.Z. 60' → ('vaart nz', '60')."""
    text = unicodedata.normalize("NFKD", POSTCODE.sub(" ", address or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace(".", "")
    match = HOUSE.match(text.strip())
    if not match:
        return None
    street = fold(match.group("street"))
    if not street:
        return None
    return street, match.group("number").lstrip("0") + (match.group("addition") or "")


def address_key(address: str | None) -> str | None:
    """Street + house number: 'Sportlaan 1' → 'sportlaan 1'. None without a house number."""
    found = house_address(address)
    return _cut(f"{found[0]} {found[1]}") if found else None


def postcode_key(address: str | None, postcode: str | None) -> str | None:
    """Postcode + house number: ('Sportlaan 1', '7891 AB') → '7891AB 1'."""
    code = postcode_of(postcode) or postcode_of(address, written=True)
    found = house_address(address)
    return f"{code} {found[1]}" if code and found else None


def name_key(name: str | None) -> str | None:
    """'Voormalige basisschool De Kloostertuin' → 'basisschool kloostertuin'."""
    words = [word for word in fold(name or "").split() if word not in FILLER_WORDS]
    return _cut(" ".join(words))


def name_core(name: str | None) -> str | None:
    """The name without its building words: 'Sporthal De Vliet' → 'vliet'."""
    key = name_key(name)
    return _cut(" ".join(building_words().sub(" ", key).split())) if key else None


def identity(municipality_code: str | None, name: str | None, address: str | None,
             postcode: str | None) -> Identity:
    return Identity(municipality_code=municipality_code or None, address_key=address_key(address),
                    postcode=postcode_of(postcode) or postcode_of(address, written=True),
                    postcode_key=postcode_key(address, postcode), name_key=name_key(name),
                    name_core=name_core(name))


def same_name(a: Identity, b: Identity) -> bool:
    if not a.name_key or not b.name_key:
        return False
    if a.name_key == b.name_key:
        return True
    return (a.name_core == b.name_core and PROPER_NAME.search(a.name_core or "") is not None
            and (a.bare_name or b.bare_name))


def same_location(a: Identity, b: Identity, within_message: bool = False) -> bool:
    """Whether two offers describe the same location (the module docstring gives the rules).

    ``within_message``: both come from one message (a re-extraction of it), so an unknown
    municipality on both sides counts as the same municipality.
    """
    if a.postcode_key and b.postcode_key:
        return a.postcode_key == b.postcode_key
    if a.postcode and b.postcode and a.postcode != b.postcode:
        return False
    same_municipality = a.municipality_code == b.municipality_code and (
        a.municipality_code is not None or within_message)
    if a.address_key and b.address_key:
        return same_municipality and a.address_key == b.address_key
    if a.has_address and b.has_address:
        return False
    return same_municipality and same_name(a, b)


def best_match(offer: Identity, candidates: Iterable[tuple[K, Identity]], within_message: bool = False) -> K | None:
    """The candidate the offer belongs to: an address match first (the oldest), else the one name match.

    Several name matches and no address to choose between them: None (a new location, not a guess).
    """
    matches = [(ref, ident) for ref, ident in candidates if same_location(offer, ident, within_message)]
    by_address = [ref for ref, ident in matches if offer.has_address and ident.has_address]
    if by_address:
        return by_address[0]
    if len(matches) > 1:
        matches = [(ref, ident) for ref, ident in matches if ident.name_key == offer.name_key]
    return matches[0][0] if len(matches) == 1 else None


def merged(location: Identity, offer: Identity) -> Identity:
    """A location's keys after an offer linked to it: what the location did not know yet, filled in."""
    fill = {name: getattr(offer, name) for name in ("address_key", "postcode", "postcode_key")
            if getattr(location, name) is None}
    if location.name_key is None:
        fill.update(name_key=offer.name_key, name_core=offer.name_core)
    if location.municipality_code is None:
        fill.update(municipality_code=offer.municipality_code)
    return replace(location, **fill)
