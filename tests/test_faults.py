"""The fault campaign, replayed end to end at small sizes: hostile and broken mail imported
with the real CLI next to ordinary replies. Nothing may hold the queue, nothing may vanish,
and every broken message is visible in `status` and in the review screen's problem list."""

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bench import faults_parse as hostile
from store import open_store
from store.schema import Message, OfferRow

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "vng_ingest" / "samples" / "mailbox"
UNREADABLE = {"empty.eml", "random.eml", "base64.eml", "noseparator.eml"}


def nul_and_long_headers() -> bytes:
    """A NUL byte in the subject, a From of 400 characters and a Message-ID of 1,200."""
    return (b"From: " + b"a" * 390 + b"@example.nl\r\nTo: info@vng.nl\r\nSubject: nul\x00byte\r\n"
            b"Message-ID: <" + b"m" * 1200 + b"@example.nl>\r\nDate: Mon, 14 Mar 2022 10:00:00 +0100\r\n\r\nHallo\r\n")


def hostile_mail() -> dict[str, bytes]:
    """Every input of the fault campaign at a size a test can afford (each held the old pipeline
    for seconds to minutes, or was stored as an ordinary message)."""
    return {"table.eml": hostile.unclosed_table_mail(150), "header.eml": hostile.encoded_word_header(50_000),
            "body.eml": hostile.plain_mail(hostile.location_text(300_000)),
            "lines.eml": hostile.plain_mail(hostile.location_lines_text(300)),
            "bomb.eml": hostile.bomb_mail(200_000_000), "empty.eml": b"",
            "random.eml": hostile.random_bytes(4096), "base64.eml": hostile.garbage_base64_mail(),
            "noseparator.eml": hostile.no_separator_mail(), "nul.eml": nul_and_long_headers()}


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_ingest.py"), "--config", str(config), *args],
                          cwd=config.parent, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    folder = tmp_path_factory.mktemp("campaign")
    mail = folder / "mail"
    mail.mkdir()
    for name, raw in hostile_mail().items():
        (mail / name).write_bytes(raw)
    for sample in ("s02.eml", "s03.eml", "s04.eml"):
        (mail / sample).write_bytes((SAMPLES / sample).read_bytes())
    database = folder / "store.sqlite"
    config = folder / "config.yaml"
    config.write_text(f"database:\n  url: sqlite:///{database}\nsource:\n  kind: folder\n  path: {mail}\n")
    imported = _cli(config, "import", "--quiet", str(mail))
    status = _cli(config, "status")
    return imported, status, open_store(f"sqlite:///{database}")


def test_every_message_is_stored_once_and_read(campaign):
    imported, _, store = campaign
    assert imported.returncode == 0, imported.stderr
    assert "Traceback" not in imported.stderr
    with store.session() as session:
        messages = session.scalars(select(Message)).all()
        assert len(messages) == len(hostile_mail()) + 3
        assert [m.id for m in messages if m.state == "new"] == []


def test_ordinary_replies_behind_hostile_ones_are_extracted(campaign):
    _, _, store = campaign
    with store.session() as session:
        offers = session.scalars(select(OfferRow).join(Message, OfferRow.message_pk == Message.id)
                                 .where(Message.subject.is_not(None))).all()
        samples = {m.id for m in session.scalars(select(Message).where(Message.state == "extracted"))
                   if m.kind == "offer" and not m.problems}
        assert len(samples) >= 3
        assert {o.message_pk for o in offers} >= samples


def test_broken_input_is_failed_with_a_dutch_reason_and_counted_in_status(campaign):
    _, status, store = campaign
    assert status.returncode == 0, status.stderr
    with store.session() as session:
        unreadable = [m for m in session.scalars(select(Message)) if m.problems
                      and any(p["code"] == "unreadable" for p in m.problems)]
        assert len(unreadable) >= len(UNREADABLE)
        assert all(m.state == "failed" for m in unreadable)
        assert all(" de " in p["text"] or " het " in p["text"] or " niet " in p["text"]
                   for m in unreadable for p in m.problems)
    line = next(line for line in status.stdout.splitlines() if line.startswith("messages with problems:"))
    assert "unreadable" in line and "attachment_refused" in line
    assert status.stdout.count("failed: message") >= len(UNREADABLE)


def test_the_refused_bomb_is_listed_with_its_reason(campaign):
    _, _, store = campaign
    with store.session() as session:
        bombs = [m for m in session.scalars(select(Message)) if m.problems
                 and any(p["code"] == "attachment_refused" for p in m.problems)]
        assert len(bombs) == 1
        assert "locaties.docx" in " ".join(p["text"] for p in bombs[0].problems)


def test_kill_9_at_random_moments_of_an_import_loses_and_duplicates_nothing(tmp_path):
    """Twelve imports, each given new mail and killed at a random moment after it began storing,
    then one import to the end: every file stored exactly once, every one read, none left `new`."""
    import random
    import signal
    import sqlite3
    import time

    from vng_ingest.shared import DEV_CORPUS

    files = sorted(DEV_CORPUS.glob("*.eml")) + sorted(SAMPLES.glob("*.eml"))
    mail = tmp_path / "mail"
    mail.mkdir()
    database = tmp_path / "db.sqlite"
    config = tmp_path / "config.yaml"
    config.write_text(f"database:\n  url: sqlite:///{database}\nsource:\n  kind: folder\n  path: {mail}\n")
    command = [sys.executable, str(ROOT / "run_ingest.py"), "--config", str(config), "import", "--quiet", str(mail)]
    chance, killed, rounds = random.Random(10), 0, 12

    def stored() -> int:
        if not database.exists():
            return 0
        with sqlite3.connect(database, timeout=30) as connection:
            try:
                return connection.execute("select count(*) from messages").fetchone()[0]
            except sqlite3.OperationalError:        # schema not created yet
                return 0

    for round_number in range(rounds):
        for path in files[round_number::rounds]:          # each run has new mail to store and read
            (mail / f"{path.parent.name}-{path.name}").write_bytes(path.read_bytes())
        before = stored()
        running = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while stored() == before and running.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(chance.uniform(0.0, 1.5))             # somewhere in storing, reading or extracting
        if running.poll() is None:
            running.send_signal(signal.SIGKILL)
            killed += 1
        running.wait(60)
    print(f"killed {killed} of {rounds} imports")
    assert killed >= rounds // 3
    final = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert final.returncode == 0, final.stderr
    store = open_store(f"sqlite:///{database}")
    with store.session() as session:
        messages = session.scalars(select(Message)).all()
        assert len(messages) == len({path.read_bytes() for path in files})
        assert [m.id for m in messages if m.state == "new"] == []
        assert [m.id for m in messages if m.state == "failed"] == []
