"""Local mail sources: .eml files, folders of them, Maildirs and mbox files.

Only regular files are read: a FIFO, a device, a socket or a symlink to one is refused with
a reason instead of hanging the import, and so is an .eml file larger than the size budget
(it is refused before it is read). Symlinks are followed and what they point to is checked.
".eml" is matched whatever its case.
"""

from __future__ import annotations

import logging
import mailbox
import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from vng_ingest.models import RawMessage

log = logging.getLogger(__name__)

#: The largest .eml file (or Maildir file) read; a message this size is not a municipality's reply.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
EML_SUFFIX = ".eml"


class SourceError(Exception):
    """A local source that cannot be read, in plain words."""


class RefusedFile(SourceError):
    """A file that is not read: not a regular file, too large, or unreadable."""


def is_eml(name: str) -> bool:
    return name.lower().endswith(EML_SUFFIX)


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def is_mbox(path: Path) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size_refusal(size: int, budget: int) -> str:
    return f"{size / 1e6:.0f} MB is more than the {budget / 1e6:.0f} MB a message may be"


def refusal(path: Path, budget: int = MAX_MESSAGE_BYTES) -> str | None:
    """Why a path given to import cannot be read (None: it can), without opening it.

    A folder (plain, Maildir) is fine if it can be listed; a file must be a regular file (after
    following symlinks) that can be opened, and an .eml file must fit the size budget.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return "no such file or folder" if not path.is_symlink() else "a symlink to nothing"
    except OSError as error:
        return error.strerror or str(error)
    if stat.S_ISDIR(info.st_mode):
        return None if os.access(path, os.R_OK | os.X_OK) else "the folder cannot be read (permission denied)"
    if not stat.S_ISREG(info.st_mode):
        return _kind(info.st_mode)
    if not os.access(path, os.R_OK):
        return "the file cannot be read (permission denied)"
    if not is_mbox(path) and info.st_size > budget:
        return _size_refusal(info.st_size, budget)
    return None


def read_regular(path: Path, budget: int = MAX_MESSAGE_BYTES) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most ``budget`` bytes, or RefusedFile saying why not.

    Opened without blocking (a FIFO would wait for a writer) and checked on the open file, so
    what is read is what was checked.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise RefusedFile(f"{path}: {error.strerror or error}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedFile(f"{path}: {_kind(info.st_mode)}")
        if info.st_size > budget:
            raise RefusedFile(f"{path}: {_size_refusal(info.st_size, budget)}")
        raw = handle.read(budget + 1)
    if len(raw) > budget:
        raise RefusedFile(f"{path}: {_size_refusal(len(raw), budget)}")
    return raw, info


def read_eml(path: Path) -> RawMessage:
    raw, info = read_regular(path)
    return RawMessage(raw=raw, source=f"file:{path.resolve()}", folder=str(path.parent),
                      received_at=datetime.fromtimestamp(info.st_mtime, timezone.utc))


def eml_files(folder: Path) -> list[Path]:
    """The .eml files under a folder (any case of the suffix), sorted; symlinked folders not followed."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found += [Path(root, name) for name in files if is_eml(name)]
    return sorted(found)


def _skipped(error: RefusedFile) -> None:
    log.warning("skipped %s", error)


def read_folder(path: Path) -> Iterator[RawMessage]:
    for file in eml_files(path):
        try:
            yield read_eml(file)
        except RefusedFile as error:
            _skipped(error)


def maildir_files(path: Path) -> list[tuple[str, Path]]:
    """(key, file) of a Maildir's messages in new/ and cur/, sorted by key (as ``mailbox.Maildir``)."""
    found = {}
    for sub in ("new", "cur"):
        for entry in os.scandir(path / sub):
            if entry.name.startswith(".") or entry.is_dir():
                continue
            found[entry.name.split(mailbox.Maildir.colon)[0]] = Path(entry.path)
    return sorted(found.items())


def read_maildir(path: Path) -> Iterator[RawMessage]:
    for key, file in maildir_files(path):
        try:
            raw, _ = read_regular(file)
        except RefusedFile as error:
            _skipped(error)
            continue
        yield RawMessage(raw=raw, source=f"maildir:{path.resolve()}", folder=key)


def read_mbox(path: Path) -> Iterator[RawMessage]:
    box = mailbox.mbox(path, factory=None, create=False)
    for key in box.keys():
        yield RawMessage(raw=box.get_bytes(key), source=f"mbox:{path.resolve()}", folder=str(key))


def count(paths: list[Path]) -> int:
    """How many messages the paths hold (for a progress bar)."""
    total = 0
    for path in paths:
        if is_maildir(path):
            total += len(maildir_files(path))
        elif path.is_dir():
            total += len(eml_files(path))
        elif is_mbox(path):
            total += len(mailbox.mbox(path, factory=None, create=False))
        else:
            total += 1
    return total


def split_readable(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The paths that can be read, and one line for each that cannot ("PATH: why")."""
    readable, refused = [], []
    for path in paths:
        why = refusal(path)
        if why is None:
            readable.append(path)
        else:
            refused.append(f"{path}: {why}")
    return readable, refused


def read_paths(paths: list[Path]) -> Iterator[RawMessage]:
    """Every message under the paths, whatever each path is."""
    for path in paths:
        if (why := refusal(path)) is not None:
            raise SourceError(f"{path}: {why}")
        if is_maildir(path):
            yield from read_maildir(path)
        elif path.is_dir():
            yield from read_folder(path)
        elif is_mbox(path):
            yield from read_mbox(path)
        else:
            yield read_eml(path)
