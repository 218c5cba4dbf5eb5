"""Opening the store and bringing its schema up to date with Alembic.

Schema changes are atomic: the whole upgrade runs in one transaction that also serializes
concurrent first starts (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: transactional DDL under
``pg_advisory_xact_lock``). A process killed half-way leaves the store as it was.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, MetaData, create_engine, event, inspect, literal, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from vng_ingest.errors import DatabaseError, database_problem

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"
MIGRATION_LOCK = 0x766E67_0001       # pg_advisory_xact_lock key: "vng" + 1, held while the schema changes
SQLITE_BEGIN = "vng_sqlite_begin"    # execution option: begin the transaction at once with this statement
BATCH_LEFTOVER = "_alembic_tmp_"     # prefix of the copies Alembic's SQLite batch mode makes


class StoreError(DatabaseError):
    """The store cannot be opened or upgraded. The message is one line for the operator."""


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# --- SQLite transactions ---------------------------------------------------------------------------
# pysqlite's own transaction handling commits each DDL statement on its own and breaks SAVEPOINT.
# SQLAlchemy's documented recipe: switch it off (isolation_level=None) and say BEGIN ourselves.
# Reads before a session's first write run outside a transaction, as before; the first write
# (or savepoint, or DDL) begins with BEGIN IMMEDIATE, which takes the write lock before reading,
# so a transaction never fails because another process wrote after it had read. A connection
# with the SQLITE_BEGIN execution option begins at once (migrations: BEGIN IMMEDIATE).

def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    begin = connection.get_execution_options().get(SQLITE_BEGIN)
    if begin:
        connection.connection.dbapi_connection.execute(begin)


def _reads_only(statement: str) -> bool:
    return statement.lstrip()[:6].upper() in ("SELECT", "PRAGMA")


def _sqlite_begin_before_write(connection: Connection, _cursor, statement: str, *_args) -> None:
    dbapi_connection = connection.connection.dbapi_connection
    if connection.in_transaction() and not dbapi_connection.in_transaction and not _reads_only(statement):
        dbapi_connection.execute("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: SQLAlchemy would otherwise put the bound values (mail, addresses) into
    # every exception text, and from there into logs and tracebacks.
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "before_cursor_execute", _sqlite_begin_before_write)
    return engine


# --- migrations ----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration: idempotent, atomic, safe to start twice at once."""
    try:
        with engine.connect() as connection:
            if current_revision(connection) == head_revision():
                return
        _upgrade(engine)
    except CommandError as error:
        raise StoreError(f"the store's schema cannot be upgraded: {str(error).splitlines()[0]} "
                         f"(is the store newer than this vng-ingest?)") from None
    except DBAPIError as error:
        url = engine.url.render_as_string(hide_password=True)
        problem = database_problem(error, url)      # unreachable, disk full, read-only: said as such
        raise problem or StoreError(f"the store at {url} cannot be opened or upgraded: "
                                    f"{_first_line(error)}") from None


def _first_line(error: DBAPIError) -> str:
    return (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0]


def _upgrade(engine: Engine) -> None:
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect().execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"}) as connection:
        if sqlite:
            # Batch migrations copy tables; with foreign keys enforced, dropping the old copy fails.
            # The pragma is a no-op inside a transaction, so it is set before BEGIN and checked after.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(select(text(f"pg_advisory_xact_lock({MIGRATION_LOCK})")))
                if sqlite:
                    _drop_batch_leftovers(connection)
                _repair_half_created(connection)
                cfg = alembic_config(engine.url.render_as_string(hide_password=False))
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "head")
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


def _drop_batch_leftovers(connection: Connection) -> None:
    """Drop the table copies an older, non-atomic upgrade left behind when it failed half-way."""
    tables = set(inspect(connection).get_table_names())
    for leftover in sorted(t for t in tables if t.startswith(BATCH_LEFTOVER)):
        original = leftover[len(BATCH_LEFTOVER):]
        if original not in tables:
            raise StoreError(f"the store is damaged: table {leftover} is left from a failed upgrade and "
                             f"table {original} is missing; restore a backup")
        log.warning("dropping %s, left over from an earlier failed upgrade", leftover)
        connection.exec_driver_sql(f'DROP TABLE "{leftover}"')


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise StoreError(f"upgrading the store would break {len(broken)} references in {', '.join(tables)}; "
                         f"nothing was changed")


# --- stores left half-created by older versions --------------------------------------------------

def _repair_half_created(connection: Connection) -> None:
    """An older version, killed while creating the store, left tables but no schema version.

    Only empty tables of the first revision: dropped, and the store is created afresh. Exactly
    the first revision's tables and indexes: stamped as that revision, and upgraded. Anything
    else is not ours to guess about.
    """
    if current_revision(connection) is not None:
        return
    found = _schema(connection)
    if not found:
        return
    first = first_revision_schema()
    if set(found) <= set(first) and _all_empty(connection, found):
        log.warning("the store was left half-created (%d of %d tables, no data): creating it afresh",
                    len(found), len(first))
        metadata = MetaData()
        metadata.reflect(connection, only=list(found))
        metadata.drop_all(connection)
    elif found == first:
        log.warning("the store has the first schema but no version: recording it as revision %s",
                    FIRST_REVISION)
        cfg = alembic_config("sqlite://")
        cfg.attributes["connection"] = connection
        command.stamp(cfg, FIRST_REVISION)
    else:
        raise StoreError("the database has tables but no vng-ingest schema version (alembic_version); "
                         "it was not made by vng-ingest or is damaged: use an empty database or restore a backup")


def _schema(connection: Connection) -> dict[str, frozenset[str]]:
    """Tables (but Alembic's own) and the names of their indexes."""
    inspector = inspect(connection)
    return {table: frozenset(index["name"] for index in inspector.get_indexes(table)
                             if not index.get("duplicates_constraint"))
            for table in inspector.get_table_names() if table != "alembic_version"}


def _all_empty(connection: Connection, tables) -> bool:
    metadata = MetaData()
    metadata.reflect(connection, only=list(tables))
    return not any(connection.execute(select(literal(1)).select_from(table).limit(1)).first()
                   for table in metadata.tables.values())


@lru_cache(maxsize=1)
def first_revision_schema() -> dict[str, frozenset[str]]:
    """The tables and indexes revision 0001 creates, read from the migration itself (in memory)."""
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as connection:
            cfg = alembic_config("sqlite://")
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, FIRST_REVISION)
            return _schema(connection)
    finally:
        engine.dispose()


# --- the store -------------------------------------------------------------------------------------

class Store:
    """A database with an up-to-date schema; ``session()`` gives a transaction."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            with session.begin():
                yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str, upgrade: bool = True) -> Store:
    """The store at ``url``, its schema upgraded; ``StoreError`` (one line) when that is impossible."""
    engine = make_engine(url)
    if upgrade:
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
    return Store(engine)
