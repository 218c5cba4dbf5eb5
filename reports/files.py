"""Writing report files safely: never half a file, never over another report, nothing left behind.

A workbook is written to a temporary file in its own folder (so the final step is a rename or a
link within one file system), flushed to disk, and only then put in place. On any failure (disk
full, no permission) the temporary file is removed and ``ReportWriteError`` raised, with one line
saying what went wrong and where.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Iterable

from vng_ingest.errors import StorageError


class ReportWriteError(StorageError):
    """A report file could not be written; no temporary file was left behind."""


def write_new_file(data: bytes, names: Iterable[Path]) -> Path:
    """Write ``data`` under the first of ``names`` that does not exist yet; returns that path.

    A hard link puts the file in place, so a name taken meanwhile (another process) is skipped
    instead of overwritten. All names must be in one folder.
    """
    names = iter(names)
    first = next(names)
    temporary = _write_temporary(first, data)
    try:
        for path in itertools.chain([first], names):
            try:
                os.link(temporary, path)
                return path
            except FileExistsError:
                continue
        raise ReportWriteError(f"could not write the report in {first.parent}: every name is taken")
    except OSError as error:
        raise _write_error(first, error) from error
    finally:
        temporary.unlink(missing_ok=True)


def replace_file(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` at once: a reader sees the old file or the new, never half."""
    temporary = _write_temporary(path, data)
    try:
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise _write_error(path, error) from error


def _write_temporary(path: Path, data: bytes) -> Path:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise _write_error(path, error) from error
    return temporary


def _write_error(path: Path, error: OSError) -> ReportWriteError:
    return ReportWriteError(f"could not write the report in {path.parent}: {error.strerror or error}")
