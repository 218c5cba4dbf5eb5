"""The mistakes an operator can make, and how each is told: one line, exit status 2.

Exception tree::

    OperatorError                  exit 2: something the operator must fix; never a traceback
    ├── ConfigError                the config file: missing, unreadable, not YAML, a wrong key or value
    ├── DatabaseError              database.url cannot be used
    │   └── DatabaseUnreachable    the database server does not answer (down, wrong host or port)
    ├── StorageError               a folder or disk refuses writes: full, read-only, no permission
    └── PathError                  a path named on the command line is missing or cannot be read

``operator_error(exc, url)`` turns the library exceptions these come from (SQLAlchemy's
OperationalError / ArgumentError / NoSuchModuleError, OSError with ENOSPC, EROFS, EACCES, ENOENT,
...) into one of the above, or None when the exception is not an operator's mistake (a bug:
that keeps its traceback). The messages never quote mail text, SQL parameters or a password:
a database URL is shown with ``hide_password``.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

#: Exit statuses of every command (documented in README.md).
EXIT_OK = 0
EXIT_SOURCE_FAILED = 1      # the mail source or the mailing failed: the data is safe, try later
EXIT_OPERATOR_ERROR = 2     # an operator's mistake: the line on stderr says what to fix


class OperatorError(Exception):
    """A problem the operator must fix, already phrased as the one line they see."""

    exit_status = EXIT_OPERATOR_ERROR
    prefix = "error"

    def line(self) -> str:
        return f"{self.prefix}: {self}"


class ConfigError(OperatorError):
    """A config problem, naming the file (and the key or line where known)."""

    prefix = "config error"


class DatabaseError(OperatorError):
    """The configured database cannot be used (wrong URL, not a database, refuses writes)."""

    prefix = "database error"


class DatabaseUnreachable(DatabaseError):
    """The database server does not answer."""


class StorageError(OperatorError):
    """A file cannot be written: the disk is full, the folder read-only or not ours."""

    prefix = "storage error"


class PathError(OperatorError):
    """A path the operator named is missing or cannot be read."""

    prefix = "cannot read"


#: OSError numbers that mean the operator must fix a path, a disk or a permission.
STORAGE_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
PATH_ERRNOS = {
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.ELOOP: "too many levels of symbolic links",
    errno.ENAMETOOLONG: "the name is too long",
}

#: What SQLite says (its messages hold no data), and what it means for the operator.
SQLITE_PROBLEMS = [
    ("database or disk is full", StorageError, "the disk of the database is full"),
    ("attempt to write a readonly database", StorageError, "the database is read-only"),
    ("unable to open database file", StorageError, "the database file cannot be opened or created "
                                                   "(is its folder writable?)"),
    ("disk i/o error", StorageError, "the disk of the database failed to read or write"),
    ("file is not a database", DatabaseError, "the file is not an SQLite database"),
    ("database is locked", DatabaseError, "the database is locked by another process"),
]


def safe_url(url: str) -> str:
    """The database URL as it may be shown: the password replaced by ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0].strip() if text else type(error).__name__


def os_problem(error: OSError) -> OperatorError | None:
    """An OSError as one operator line, or None when its errno is not an operator's matter."""
    where = f"{error.filename}: " if error.filename else ""
    if error.errno in STORAGE_ERRNOS:
        return StorageError(where + STORAGE_ERRNOS[error.errno])
    if error.errno in PATH_ERRNOS:
        return PathError(where + PATH_ERRNOS[error.errno])
    return None


def database_problem(error: Exception, url: str) -> OperatorError | None:
    """A SQLAlchemy error met while opening or using the database, as one line (no SQL, no data)."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
    shown = safe_url(url)
    if isinstance(error, NoSuchModuleError):
        return DatabaseError(f"{shown}: unknown database kind (use sqlite:///FILE or "
                             f"postgresql+psycopg://USER@HOST/NAME)")
    if isinstance(error, ArgumentError):
        return DatabaseError(f"database.url is not a database URL ({shown})")
    if not isinstance(error, DBAPIError):
        return None
    cause = getattr(error, "orig", None) or error
    text = _first_line(cause).lower()
    if url.startswith("sqlite") and (problem := _sqlite_folder_problem(url)):
        return problem
    for words, kind, meaning in SQLITE_PROBLEMS:
        if words in text:
            return kind(f"{shown}: {meaning}")
    if isinstance(cause, OSError) and (problem := os_problem(cause)):
        return problem
    if isinstance(error, OperationalError) and not url.startswith("sqlite"):
        return DatabaseUnreachable(f"{shown}: the database cannot be reached or refused the "
                                   f"connection ({_server_reason(text)})")
    return None


def _sqlite_folder_problem(url: str) -> StorageError | None:
    """Whether the SQLite file's folder is on a full or read-only disk (SQLite's own words vary)."""
    from sqlalchemy.engine import make_url
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    folder = Path(database).resolve().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        disk = os.statvfs(folder)
    except OSError:
        return None
    if disk.f_flag & os.ST_RDONLY:
        return StorageError(f"{safe_url(url)}: the database's folder {folder} is on a read-only file system")
    if disk.f_bavail == 0:
        return StorageError(f"{safe_url(url)}: the disk of the database is full ({folder})")
    if not os.access(folder, os.W_OK):
        return StorageError(f"{safe_url(url)}: the database's folder {folder} is not writable")
    return None


def _server_reason(text: str) -> str:
    """The server's own reason, without the connection details the driver adds around it."""
    for reason in ("connection refused", "timeout expired", "password authentication failed",
                   "does not exist", "could not translate host name", "no route to host",
                   "server closed the connection", "too many clients"):
        if reason in text:
            return reason
    return "see the database server's log"


def operator_error(error: BaseException, url: str = "") -> OperatorError | None:
    """Any exception as the operator's one line, or None when it is not theirs to fix."""
    if isinstance(error, OperatorError):
        return error
    if isinstance(error, OSError):
        return os_problem(error)
    from sqlalchemy.exc import SQLAlchemyError
    if isinstance(error, SQLAlchemyError):
        return database_problem(error, url)
    return None
