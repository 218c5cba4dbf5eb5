"""Benchmark: linking one offer to its location, with 0, 300 and 1,200 locations in its municipality.

Fills a fresh SQLite store with that many locations of one municipality (all in one, the worst
case for a per-municipality scan), then times ``link_location`` for new offers: the median of
several runs, in ms per offer. ``--old`` also times the name-scan linking the store used before
location keys (kept here only, for the before/after figure). Run on demand:

    .venv/bin/python bench/location_link.py [--sizes 0 300 1200] [--runs 5] [--offers 50] [--old]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from difflib import SequenceMatcher
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from store import open_store  # noqa: E402
from store.messages import store_raw  # noqa: E402
from store.offers import link_location, offer_to_row  # noqa: E402
from store.schema import Location, Message, utcnow  # noqa: E402
from vng_ingest.models import Contact, Offer, RawMessage  # noqa: E402

CODE, MUNICIPALITY = "GM0344", "Utrecht"
WORDS = ["Sporthal", "Kantoorpand", "Basisschool", "Hotel", "Dorpshuis", "Kazerne", "Wijkcentrum"]
STREETS = ["Sportlaan", "Parkweg", "Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenweg"]


def an_offer(n: int) -> Offer:
    return Offer(municipality=MUNICIPALITY, municipality_code=CODE, location=f"{WORDS[n % len(WORDS)]} {n}",
                 address=f"{STREETS[n % len(STREETS)]} {n + 1}", postcode=f"{3500 + n % 400} AB", places=20,
                 contact=Contact(name="Contact"), confidence={"places": 0.9}, needs_review=False)


# --- the linking before location keys (a per-municipality scan with SequenceMatcher) --------------

def _fold(text: str | None) -> str:
    text = re.sub(r"\b(voormalige?|het|de|locatie|pand)\b", " ", (text or "").lower())
    return " ".join(re.findall(r"[a-z0-9à-ÿ]+", text))


def _old_same(a_name, a_address, b_name, b_address) -> bool:
    if _fold(a_address) and _fold(a_address) == _fold(b_address):
        return True
    left, right = _fold(a_name), _fold(b_name)
    if len(left) < 4 or len(right) < 4:
        return False
    return left in right or right in left or SequenceMatcher(None, left, right).ratio() >= 0.75


def old_link_location(session, row, message=None) -> None:
    candidates = session.scalars(select(Location).where(Location.municipality_code == row.municipality_code))
    found = next((loc for loc in candidates if row.municipality_code
                  and _old_same(loc.name, loc.address, row.location, row.address)), None)
    if found is None:
        found = Location(municipality_code=row.municipality_code, municipality=row.municipality,
                         name=row.location, address=row.address)
        session.add(found)
        session.flush()
    row.location_id = found.id
    found.current_offer_id = row.id
    found.updated_at = utcnow()


# --- timing ---------------------------------------------------------------------------------------

def fill(store, size: int) -> int:
    raw = f"Message-ID: <bench-{size}@gemeente.example>\r\nSubject: opvang\r\n\r\nbench\r\n".encode()
    with store.session() as session:
        pk = store_raw(session, RawMessage(raw=raw, source="bench")).pk
        message = session.get(Message, pk)
        for n in range(size):
            row = offer_to_row(an_offer(n), pk, n, "bench")
            session.add(row)
            session.flush()
            link_location(session, row, message)
    return pk


def time_links(store, pk: int, link, first: int, count: int) -> float:
    """ms per offer for ``count`` new offers (rolled back, so every run sees the same store)."""
    with store.session() as session:
        message = session.get(Message, pk)
        rows = [offer_to_row(an_offer(first + n), pk, first + n, "bench") for n in range(count)]
        session.add_all(rows)
        session.flush()
        start = time.perf_counter()
        for row in rows:
            link(session, row, message)
        session.flush()
        elapsed = time.perf_counter() - start
        session.rollback()
    return elapsed * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 300, 1200])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--offers", type=int, default=50)
    parser.add_argument("--old", action="store_true", help="also time the linking before location keys")
    args = parser.parse_args()
    links = {"keys (now)": link_location, **({"name scan (before)": old_link_location} if args.old else {})}
    print(f"link per offer, median of {args.runs} runs of {args.offers} new offers, one municipality")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            store = open_store(f"sqlite:///{Path(folder) / f'link-{size}.sqlite'}")
            pk = fill(store, size)
            for label, link in links.items():
                times = [time_links(store, pk, link, 100_000, args.offers) for _ in range(args.runs)]
                print(f"{size:>6} locations  {label:<20} {statistics.median(times):8.2f} ms/offer")
            store.dispose()


if __name__ == "__main__":
    main()
