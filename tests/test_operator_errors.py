"""Operator mistakes through the real CLI in a subprocess: one line on stderr, exit 2, no traceback.

A source that fails (the data is safe, try again later) is exit 1, the same for `run --once` and
`poll`. The read-only and full disks are real tmpfs mounts (root only, as in CI).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.net import free_port
from tests.test_cli import ENTRY, corpus_files, message_count, write_config

SAMPLE = Path(__file__).resolve().parent.parent / "vng_ingest" / "samples" / "mailbox"
#: Address space for the CLI: reading /dev/zero to its end must fail the test, not the machine.
MEMORY_LIMIT = 2 * 1024 ** 3


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "VNG_INGEST_CONFIG"}
    return subprocess.run([sys.executable, str(ENTRY), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, preexec_fn=_limit_memory)


def one_line(done: subprocess.CompletedProcess, status: int, *words: str) -> str:
    """The single stderr line of a command that ended with ``status``; it names ``words``."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == status, (done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture
def mail(tmp_path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    for file in corpus_files()[:3]:
        shutil.copyfile(file, folder / file.name)
    return folder


def sqlite_config(tmp_path: Path, database: str = "state/vng.sqlite", source: Path | None = None) -> Path:
    text = f"database:\n  url: sqlite:///{database}\n"
    if source is not None:
        text += f"source:\n  kind: folder\n  path: {source}\n"
    return write_config(tmp_path, text)


@contextmanager
def tmpfs(folder: Path, options: str):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs the tests as root)")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


# --- the config file ----------------------------------------------------------------------------

def test_config_path_is_a_folder(tmp_path):
    (tmp_path / "conf").mkdir()
    one_line(cli("--config", str(tmp_path / "conf"), "status", cwd=tmp_path), 2, "conf", "folder")


def test_config_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes("log_level: INFO\nreport:\n  folder: r\xe9ports\n".encode("latin-1"))
    one_line(cli("--config", str(path), "status", cwd=tmp_path), 2, str(path), "line 3", "UTF-8")


def test_unknown_database_scheme_is_a_config_error_without_password(tmp_path):
    path = write_config(tmp_path, "database:\n  url: mongodb://vng:geheim@localhost/vng\n")
    line = one_line(cli("--config", str(path), "status", cwd=tmp_path), 2, str(path), "database.url", "mongodb")
    assert "geheim" not in line


def test_duplicate_top_level_key_names_both_lines(tmp_path, mail):
    path = write_config(tmp_path, f"source:\n  path: {mail}\nlog_level: INFO\nsource:\n  path: elsewhere\n")
    one_line(cli("--config", str(path), "status", cwd=tmp_path), 2, str(path), "'source'", "line 4", "line 1")
    assert not (tmp_path / "data").exists(), "a bad config must not fall back to the default database"


def test_empty_config_is_an_error_but_no_config_is_the_default(tmp_path):
    path = write_config(tmp_path, "# nothing here yet\n")
    one_line(cli("--config", str(path), "status", cwd=tmp_path), 2, str(path), "empty")
    assert not (tmp_path / "data").exists(), "an empty config must not fall back to the sample mailbox"
    path.unlink()
    default = cli("status", cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    assert (tmp_path / "data" / "vng-ingest.sqlite").exists()


@pytest.mark.parametrize("field, value", [("timezone", "Mars/Olympus"), ("day_of_week", "funday")])
def test_report_schedule_is_validated_at_load(tmp_path, field, value):
    path = write_config(tmp_path, f"report:\n  schedule:\n    {field}: {value}\n")
    one_line(cli("--config", str(path), "status", cwd=tmp_path), 2, str(path), "line 3",
             f"report.schedule.{field}", value)


# --- the database -------------------------------------------------------------------------------

def test_postgresql_down_is_one_line_without_password(tmp_path):
    url = f"postgresql+psycopg://vng:geheim@127.0.0.1:{free_port()}/vng"
    path = write_config(tmp_path, f"database:\n  url: {url}\n")
    line = one_line(cli("--config", str(path), "status", cwd=tmp_path), 2, "127.0.0.1", "cannot be reached")
    assert "geheim" not in line and "***" in line


def test_database_folder_read_only(tmp_path):
    with tmpfs(tmp_path / "state", "ro,size=1m"):
        path = sqlite_config(tmp_path)
        one_line(cli("--config", str(path), "status", cwd=tmp_path), 2, "vng.sqlite", "read-only")


def test_disk_full_while_importing(tmp_path, mail):
    with tmpfs(tmp_path / "state", "size=2m") as state:
        path = sqlite_config(tmp_path)
        assert cli("--config", str(path), "status", cwd=tmp_path).returncode == 0     # the schema fits
        with (state / "filler").open("wb", buffering=0) as filler:
            with pytest.raises(OSError):
                while True:
                    filler.write(b"\0" * 65536)
        one_line(cli("--config", str(path), "import", "-q", str(mail), cwd=tmp_path), 2, "vng.sqlite", "full")


# --- import paths -------------------------------------------------------------------------------

def test_missing_import_path_is_named_and_the_valid_paths_are_stored(tmp_path, mail):
    path = sqlite_config(tmp_path)
    done = cli("--config", str(path), "import", "-q", str(mail), str(tmp_path / "nope.eml"), cwd=tmp_path)
    one_line(done, 2, "nope.eml", "no such file")
    assert message_count(tmp_path) == 3


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_special_file_named_eml_is_refused_not_read(tmp_path, mail, kind):
    special = tmp_path / "special.eml"
    if kind == "fifo":
        os.mkfifo(special)
    else:
        special.symlink_to("/dev/zero")
    path = sqlite_config(tmp_path)
    done = cli("--config", str(path), "import", "-q", str(special), str(mail), cwd=tmp_path, timeout=120)
    one_line(done, 2, "special.eml", "pipe" if kind == "fifo" else "device")
    assert message_count(tmp_path) == 3


def test_eml_over_the_size_budget_is_refused_before_reading(tmp_path, mail):
    big = tmp_path / "big.eml"
    with big.open("wb") as handle:                 # sparse: over the 64 MB budget without the disk space
        handle.truncate(65 * 1024 * 1024)
    path = sqlite_config(tmp_path)
    done = cli("--config", str(path), "import", "-q", str(big), str(mail), cwd=tmp_path)
    one_line(done, 2, "big.eml", "MB")
    assert message_count(tmp_path) == 3


def test_extract_refuses_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "pipe.eml")
    one_line(cli("extract", str(tmp_path / "pipe.eml"), cwd=tmp_path, timeout=120), 2, "pipe.eml", "pipe")


def test_special_files_in_a_folder_are_skipped_with_a_reason(tmp_path, mail):
    os.mkfifo(mail / "pipe.eml")
    path = sqlite_config(tmp_path)
    done = cli("--config", str(path), "import", "-q", str(mail), cwd=tmp_path, timeout=120)
    one_line(done, 0, "pipe.eml", "skipped", "pipe")
    assert message_count(tmp_path) == 3


def test_upper_case_eml_is_imported(tmp_path, mail):
    first = sorted(mail.iterdir())[0]
    first.rename(mail / "BERICHT.EML")
    path = sqlite_config(tmp_path)
    done = cli("--config", str(path), "import", "-q", str(mail), cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert message_count(tmp_path) == 3


# --- a source that fails: exit 1, the same for run --once and poll --------------------------------

@pytest.mark.parametrize("command", [["run", "--once", "--no-report"], ["poll"]])
def test_source_failure_is_exit_1_for_run_once_and_poll(tmp_path, command):
    path = sqlite_config(tmp_path, source=tmp_path / "gone")
    one_line(cli("--config", str(path), *command, cwd=tmp_path), 1, "source error", "gone")
