"""Fixtures for the review screen: a real server on loopback and Debian's headless Chromium.

The app runs under uvicorn in a thread on a free 127.0.0.1 port, on a fresh SQLite
store per test. Offers are put in with ``store.offers.replace_offers`` so these
tests do not depend on the parsers.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
import uvicorn

from review.app import create_app
from review.users import add_user
from store import open_store
from store.messages import store_raw
from store.offers import replace_offers
from store.schema import Message, MessageState
from vng_ingest.config import Config
from vng_ingest.models import Contact, FieldEvidence, Offer, RawMessage
from tests.net import free_port as _free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "correct-horse-battery"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Server:
    url: str
    store: object
    config: Config

    def seed(self, text: str, offers: list[Offer], subject: str = "Opvanglocatie",
             from_name: str = "Jan de Vries", kind: str = "offer", state: str = MessageState.EXTRACTED,
             error: str | None = None, quoted: str = "", attachments: list | None = None,
             problems: list[dict] | None = None) -> tuple[int, list[int]]:
        """A stored message with the given parsed text and offers; returns (message pk, offer ids)."""
        mail = EmailMessage()
        mail["From"] = f"{from_name} <jan@utrecht.nl>"
        mail["To"] = "info@vng.nl"
        mail["Subject"] = subject
        mail["Message-ID"] = f"<{time.monotonic_ns()}@utrecht.nl>"
        mail["Date"] = "Thu, 03 Mar 2022 10:00:00 +0100"
        mail.set_content(text)
        raw = bytes(mail)
        with self.store.session() as session:
            pk = store_raw(session, RawMessage(raw=raw, source="test")).pk
            message = session.get(Message, pk)
            message.parsed = {"subject": subject, "from_name": from_name, "from_addr": "jan@utrecht.nl",
                              "date": "2022-03-03T10:00:00+01:00", "new_text": text, "signature": "",
                              "quoted": quoted, "forwarded": "", "attachments": attachments or [],
                              "errors": []}
            message.subject, message.from_addr, message.kind = subject, "jan@utrecht.nl", kind
            message.state, message.error, message.problems = state, error, problems
            rows = replace_offers(session, message, offers, "test-1")
            return pk, [row.id for row in rows]


def offer(location: str, places: int, confidence: float, text: str = "", **values) -> Offer:
    """An offer needing review; evidence for places points into ``text`` when it is given."""
    evidence = {}
    if text and f"{places} plekken" in text:
        start = text.index(f"{places} plekken")
        evidence["places"] = FieldEvidence(f"{places} plekken", start, start + len(f"{places} plekken"))
    if text and location in text:
        evidence["location"] = FieldEvidence(location, None, None)   # found by searching
    return Offer(municipality=values.pop("municipality", "Utrecht"), municipality_code="GM0344",
                 location=location, places=places, available_from="2022-03-14",
                 contact=Contact(name="Jan de Vries", email="jan@utrecht.nl"),
                 confidence={"municipality": 0.95, "places": confidence, "available_from": 0.9,
                             "available_until": 0.9, "contact.name": 0.9},
                 evidence=evidence, needs_review=True, **values)


@pytest.fixture
def server(tmp_path) -> Server:
    config = Config()
    config.database.url = f"sqlite:///{tmp_path / 'review.sqlite'}"
    config.report.folder = tmp_path / "reports"
    store = open_store(config.database.url)
    with store.session() as session:
        add_user(session, "anna", PASSWORD)
        add_user(session, "bram", PASSWORD, role="admin")
    app = create_app(config, store)
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                       lifespan="off"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "review server did not start"
        time.sleep(0.02)
    yield Server(f"http://127.0.0.1:{port}", store, config)
    uv.should_exit = True
    thread.join(timeout=10)
    store.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(10000)
    yield page
    context.close()


def login(page, server: Server, username: str = "anna", password: str = PASSWORD) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/?done=login")


def http_login(server: Server, username: str = "anna") -> httpx.Client:
    """An httpx client with a logged-in session (real HTTP against the running server)."""
    client = httpx.Client(base_url=server.url, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": token, "username": username, "password": PASSWORD})
    assert response.status_code == 303
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)
