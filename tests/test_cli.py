"""The command line as a user runs it: ``python run_ingest.py ...`` in a separate process.

Each test works in its own tmp folder with its own config.yaml and SQLite file; the
mail comes from the labelled dev corpus in shared/, copied into tmp at test time.
"""

from __future__ import annotations

import json
import mailbox
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from vng_ingest.cli import build_parser
from vng_ingest.models import Kind
from vng_ingest.shared import DEV_CORPUS

REPO = Path(__file__).resolve().parent.parent
ENTRY = REPO / "run_ingest.py"
CORPUS = DEV_CORPUS
SUBCOMMANDS = ["run", "poll", "import", "extract", "reprocess", "report", "review", "status",
               "user-add", "user-disable", "export-labels", "score-labels"]


def corpus_files() -> list[Path]:
    files = sorted(CORPUS.glob("*.eml"))
    if not files:
        pytest.fail(f"no .eml files in {CORPUS} (the shared dev corpus)")
    return files


def cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "VNG_INGEST_CONFIG"}
    return subprocess.run([sys.executable, str(ENTRY), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def write_config(folder: Path, text: str) -> Path:
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def mail(tmp_path) -> Path:
    """A tmp folder of the dev corpus's .eml files."""
    folder = tmp_path / "mail"
    folder.mkdir()
    for file in corpus_files():
        shutil.copyfile(file, folder / file.name)
    return folder


@pytest.fixture
def config(tmp_path, mail) -> Path:
    """A config with a relative SQLite path (so it must resolve next to the config file)."""
    return write_config(tmp_path, f"source:\n  kind: folder\n  path: {mail}\n"
                                  "database:\n  url: sqlite:///state/vng.sqlite\n")


def message_count(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "state" / "vng.sqlite") as db:
        return db.execute("SELECT count(*) FROM messages").fetchone()[0]


def stored_raw(tmp_path: Path) -> list[bytes]:
    with sqlite3.connect(tmp_path / "state" / "vng.sqlite") as db:
        return [bytes(row[0]) for row in db.execute("SELECT raw FROM messages ORDER BY id")]


# --- help and config errors ---------------------------------------------------------------------

def test_help_and_every_subcommand_help(tmp_path):
    listed = list(build_parser()._subparsers._group_actions[0].choices)
    assert set(SUBCOMMANDS) <= set(listed)
    top = cli("--help", cwd=tmp_path)
    assert top.returncode == 0, top.stderr
    for name in listed:
        assert name in top.stdout
        done = cli(name, "--help", cwd=tmp_path)
        assert done.returncode == 0, f"{name} --help: {done.stderr}"
        assert done.stdout.startswith(f"usage: vng-ingest {name}")


@pytest.mark.parametrize("text, key", [
    ("source: {hots: x}\n", "source.hots"),
    ("poll: {interval_minutes: abc}\n", "poll.interval_minutes"),
])
def test_config_mistake_is_one_line_naming_key_and_file(tmp_path, text, key):
    path = write_config(tmp_path, text)
    done = cli("--config", str(path), "status", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert key in lines[0] and str(path) in lines[0]
    assert done.stdout == ""
    assert not (tmp_path / "data").exists(), "a bad config must not create a database"


def test_missing_config_file_is_exit_2(tmp_path):
    done = cli("--config", str(tmp_path / "nope.yaml"), "status", cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "nope.yaml" in done.stderr


# --- import ---------------------------------------------------------------------------------------

def test_import_folder_twice_stores_each_message_once(tmp_path, mail, config):
    files = corpus_files()
    first = cli("--config", str(config), "import", "-q", str(mail), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"messages: {len(files)} new, 0 already stored" in first.stdout
    assert "failed to parse: 0" in first.stdout, first.stdout
    second = cli("--config", str(config), "import", "-q", str(mail), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert f"messages: 0 new, {len(files)} already stored" in second.stdout
    assert message_count(tmp_path) == len(files)
    assert sorted(stored_raw(tmp_path)) == sorted(file.read_bytes() for file in files)


def test_import_maildir(tmp_path, config):
    files = corpus_files()[:5]
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for file in files:
        box.add(file.read_bytes())
    box.close()
    done = cli("--config", str(config), "import", "-q", str(tmp_path / "Maildir"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"messages: {len(files)} new" in done.stdout
    assert sorted(stored_raw(tmp_path)) == sorted(file.read_bytes() for file in files)


def test_import_mbox(tmp_path, config):
    files = corpus_files()[:5]
    box = mailbox.mbox(tmp_path / "inbox.mbox", create=True)
    for file in files:
        box.add(file.read_bytes())
    box.close()
    done = cli("--config", str(config), "import", "-q", str(tmp_path / "inbox.mbox"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"messages: {len(files)} new" in done.stdout
    assert message_count(tmp_path) == len(files)
    # Stored exactly as the mbox holds each message (mbox itself may escape body lines "From ").
    held = mailbox.mbox(tmp_path / "inbox.mbox", create=False)
    expected = [held.get_bytes(key) for key in held.keys()]
    assert sorted(stored_raw(tmp_path)) == sorted(expected)


# --- extract and status ---------------------------------------------------------------------------

def test_extract_prints_one_json_line_per_file(tmp_path, mail):
    files = sorted(mail.glob("*.eml"))[:4]
    done = cli("extract", *map(str, files), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["file"] for r in records] == [f.name for f in files]
    kinds = {kind.value for kind in Kind}
    for record in records:
        assert record["kind"] in kinds
        assert "error" not in record, record.get("error")
        assert isinstance(record["offers"], list)
    assert not (tmp_path / "data").exists(), "extract must not touch a database"


def test_status_after_import(tmp_path, mail, config):
    files = corpus_files()
    empty = cli("--config", str(config), "status", cwd=tmp_path)
    assert empty.returncode == 0, empty.stderr
    assert "messages per state: none" in empty.stdout
    assert cli("--config", str(config), "import", "-q", str(mail), cwd=tmp_path).returncode == 0
    done = cli("--config", str(config), "status", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("messages per state:"))
    counts = [int(part.split()[-1]) for part in line.split(":", 1)[1].split(",")]
    assert sum(counts) == len(files)
    assert "vng.sqlite" in done.stdout
