"""Shared fixtures: real databases for the tests.

* ``sqlite_url``: a SQLite file in a tmp folder (one per session).
* ``pg_url``: a real PostgreSQL server started for the test session on 127.0.0.1
  (its own cluster in a tmp folder, a free port), stopped and removed at the end.
  Skips with a reason when PostgreSQL is not installed; ``scripts/test.sh`` installs it.
* ``store_url`` / ``store``: the same store test on SQLite and on PostgreSQL, each
  test with a fresh, empty database.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from tests.net import free_port as _free_port

PG_USER = "postgres"
PG_DATABASE = "vngtest"


def _pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian layout), or one on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _as_server_user() -> tuple[list[str], str | None]:
    """PostgreSQL refuses to run as root: run its programs as the ``postgres`` system user."""
    if os.geteuid() != 0:
        return [], None
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' system user to run PostgreSQL as")
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root and 'runuser' is missing, so PostgreSQL cannot be started")
    return [runuser, "-u", PG_USER, "--"], PG_USER


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'vng-test.sqlite'}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL server of our own for this session: ``postgresql+psycopg://postgres@127.0.0.1:PORT/vngtest``."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); "
                    "scripts/test.sh installs the Debian package 'postgresql'")
    prefix, owner = _as_server_user()
    # Not under pytest's tmp folder: that is 0700 root, which the postgres user cannot enter.
    base = Path(tempfile.mkdtemp(prefix="vng-pg-"))
    data, socket_dir = base / "data", base / "run"
    socket_dir.mkdir()
    if owner:
        for path in (base, socket_dir):
            shutil.chown(path, owner)
    port = _free_port()
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        _run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust",
              "-E", "UTF8", "--locale=C"], "initdb")
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={socket_dir} "
                   f"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        _run([*pg_ctl, "-l", str(base / "server.log"), "-o", options, "-w", "-t", "60", "start"],
             "starting PostgreSQL")
        started = True
        _run([*prefix, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER,
              PG_DATABASE], "createdb")
        yield f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/{PG_DATABASE}"
    finally:
        if started:
            subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True, stdin=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)


def _admin_connection(url: str):
    """An autocommit psycopg connection to the session database (CREATE/DROP DATABASE need one)."""
    import psycopg
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    return psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                           dbname=parsed.database, autocommit=True)


@pytest.fixture
def fresh_pg_url(pg_url) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    from sqlalchemy.engine import make_url
    name = f"t_{uuid.uuid4().hex}"
    with _admin_connection(pg_url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    with _admin_connection(pg_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_sqlite_url(tmp_path) -> str:
    """A new SQLite file for one test."""
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request) -> str:
    """A fresh empty database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "postgres":
        return request.getfixturevalue("fresh_pg_url")
    return request.getfixturevalue("fresh_sqlite_url")


@pytest.fixture
def store(store_url):
    """A migrated store on a fresh database (SQLite and PostgreSQL)."""
    from store import open_store
    opened = open_store(store_url)
    yield opened
    opened.dispose()

