"""Local mail sources: .eml files, folders of them, Maildirs and mbox files."""

from __future__ import annotations

import mailbox
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from vng_ingest.models import RawMessage


class SourceError(Exception):
    """A local source that cannot be read, in plain words."""


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def is_mbox(path: Path) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)


def read_eml(path: Path) -> RawMessage:
    return RawMessage(raw=path.read_bytes(), source=f"file:{path.resolve()}", folder=str(path.parent),
                      received_at=_mtime(path))


def read_folder(path: Path) -> Iterator[RawMessage]:
    for file in sorted(path.rglob("*.eml")):
        yield read_eml(file)


def read_maildir(path: Path) -> Iterator[RawMessage]:
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.keys()):
        raw = box.get_bytes(key)
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
            total += len(mailbox.Maildir(path, factory=None, create=False))
        elif path.is_dir():
            total += sum(1 for _ in path.rglob("*.eml"))
        elif is_mbox(path):
            total += len(mailbox.mbox(path, factory=None, create=False))
        else:
            total += 1
    return total


def read_paths(paths: list[Path]) -> Iterator[RawMessage]:
    """Every message under the paths, whatever each path is."""
    for path in paths:
        if not path.exists():
            raise SourceError(f"{path}: no such file or folder")
        if is_maildir(path):
            yield from read_maildir(path)
        elif path.is_dir():
            yield from read_folder(path)
        elif is_mbox(path):
            yield from read_mbox(path)
        else:
            yield read_eml(path)
