#!/usr/bin/env python3
"""How fast the review screen answers with a big queue (run on demand; prints medians).

    .venv/bin/python bench/review_pages.py [--offers 2000] [--rounds 20]

Builds a tmp SQLite store with that many pending offers, serves the app with
uvicorn on a free loopback port and times the queue page, an item page and a save.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from review.app import create_app  # noqa: E402
from review.users import add_user  # noqa: E402
from store import open_store  # noqa: E402
from store.offers import replace_offers  # noqa: E402
from store.schema import Message, OfferRow  # noqa: E402
from vng_ingest.config import Config  # noqa: E402
from vng_ingest.models import Contact, Offer  # noqa: E402


def build(folder: Path, offers: int):
    config = Config()
    config.database.url = f"sqlite:///{folder / 'bench.sqlite'}"
    config.report.folder = folder / "reports"
    store = open_store(config.database.url)
    text = "Wij bieden per 14 maart 40 plekken in Sporthal De Vliet, tot 30 september. " * 20
    with store.session() as session:
        add_user(session, "bench", "bench-wachtwoord")
        for n in range(offers):
            message = Message(sha256=f"{n:064x}", body_sha256=f"{n:064x}", source="bench", raw=b"x", size=1,
                              state="extracted", kind="offer", subject=f"Aanbod {n}",
                              parsed={"new_text": text, "subject": f"Aanbod {n}"})
            session.add(message)
            session.flush()
            replace_offers(session, message, [Offer(municipality="Utrecht", location=f"Locatie {n}", places=40,
                                                    contact=Contact(name="Jan"),
                                                    confidence={"places": (n % 97) / 100})], "bench")
    return config, store


def timed(call, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--offers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, store = build(Path(tmp), args.offers)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(config, store), host="127.0.0.1", port=port,
                                               log_level="warning", lifespan="off"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.02)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"csrf": token, "username": "bench", "password": "bench-wachtwoord"})
        queue_ms = timed(lambda: client.get("/").raise_for_status(), args.rounds)
        item_ms = timed(lambda: client.get("/offers/1").raise_for_status(), args.rounds)
        ids = iter(range(2, args.offers + 1))

        def save():
            offer_id = next(ids)
            with store.session() as session:
                version = session.get(OfferRow, offer_id).version
            response = client.post(f"/offers/{offer_id}", data={
                "csrf": token, "version": version, "action": "approve", "municipality": "Utrecht",
                "location": f"Locatie {offer_id - 1}", "places": "40", "status": "available",
                "contact_name": "Jan"})
            assert response.status_code == 303, response.text[:300]
        # the login rotated the token: read the current one from a page
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/offers/1").text).group(1)
        save_ms = timed(save, args.rounds)
        server.should_exit = True
    print(f"review pages with {args.offers} pending offers, median of {args.rounds}: "
          f"queue {queue_ms:.0f} ms, item {item_ms:.0f} ms, approve {save_ms:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
