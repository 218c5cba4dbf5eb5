"""Named locks held in the store, so two processes never write the same thing at once.

A lock row names its holder: host, process id, the process's start time, the command and
a token per acquisition (``vng01:4242:8812345:import:3f9a1c``; two threads of one process
are two holders). A holder that died is recognised at once: on the same
host its pid is gone or belongs to a process that started at another time (a reused
pid). A holder on another host cannot be checked, so its lock expires instead; a live
holder keeps extending it (a heartbeat thread), so the expiry can be short.

``writer_lock(store, command, part)`` is what the commands take. There are two parts,
each with its own lock, so that storing new mail never waits for a slow extraction:

- ``INTAKE``: storing raw messages and acting on the IMAP server (``import``, ``poll``,
  the poll job of ``run``);
- ``EXTRACTION``: extracting, reprocessing and erasing personal data (``import``,
  ``poll``, the extraction job of ``run``, ``reprocess``, ``purge``).

A second writer of the same part waits, printing once on stderr who holds the lock,
and gives up with ``StoreBusy`` after ``wait``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from store.db import Store
from vng_ingest.errors import OperatorError
from store.schema import Lock, utcnow

log = logging.getLogger(__name__)

INTAKE = "intake"
EXTRACTION = "extraction"

#: How long a lock of a holder on another host lives without a heartbeat.
TTL = timedelta(minutes=2)
#: How long a command waits for a busy store before giving up.
DEFAULT_WAIT = timedelta(minutes=30)

class StoreBusy(OperatorError):
    """Another vng-ingest process kept the store busy for longer than we were willing to wait."""


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int | None
    started: str | None      # the process's start time, in clock ticks after boot (Linux)
    command: str | None
    token: str | None = None

    def text(self) -> str:
        return f"{self.host}:{self.pid}:{self.started or ''}:{self.command or ''}:{self.token or ''}"[:200]

    @classmethod
    def parse(cls, text: str) -> "Holder":
        parts = text.split(":", 4) + [""] * 4
        pid = int(parts[1]) if parts[1].isdigit() else None
        return cls(parts[0], pid, parts[2] or None, parts[3] or None, parts[4] or None)

    def describe(self, since: datetime | None = None) -> str:
        """``import on vng01, pid 4242, since 10:02:13 UTC`` (no personal data)."""
        what = f"{self.command or 'a command'} on {self.host}" + (f", pid {self.pid}" if self.pid else "")
        return what + (f", since {_aware(since).strftime('%Y-%m-%d %H:%M:%S UTC')}" if since else "")


def process_started(pid: int) -> str | None:
    """The start time of process ``pid`` (field 22 of /proc/PID/stat), None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read().decode("ascii", "replace")
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()[19]     # fields after "(comm)": state is field 3


def this_process(command: str | None = None, token: str | None = None) -> Holder:
    pid = os.getpid()
    return Holder(socket.gethostname(), pid, process_started(pid), command, token)


def default_holder(command: str | None = None, unique: bool = False) -> str:
    """Who holds a lock: host, pid, process start time, command (no personal data).

    ``unique`` adds a fresh token, so another thread of this process is another holder.
    """
    return this_process(command, secrets.token_hex(3) if unique else None).text()


def is_dead(holder: Holder, host: str | None = None) -> bool:
    """True when ``holder`` certainly runs no more: on this host, its pid is gone or was reused."""
    if holder.host != (host or socket.gethostname()) or holder.pid is None:
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass                # alive, under another user
    if holder.started is None:
        return False
    started = process_started(holder.pid)
    return started is not None and started != holder.started


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def acquire(store: Store, name: str, holder: str, ttl: timedelta) -> bool:
    """Take the lock (or extend our own); False when a live holder has an unexpired one.

    Every step is one conditional statement, so two processes racing for the same lock
    cannot both win, on SQLite or PostgreSQL. A dead holder's lock is taken over at once.
    """
    now = utcnow()
    with store.session() as session:
        if session.execute(update(Lock).where(Lock.name == name, Lock.holder == holder)
                           .values(expires_at=now + ttl)).rowcount:
            return True
        if session.execute(update(Lock).where(Lock.name == name, Lock.expires_at <= now)
                           .values(holder=holder, acquired_at=now, expires_at=now + ttl)).rowcount:
            return True
        current = session.scalars(select(Lock.holder).where(Lock.name == name)).first()
        if current is not None:
            if not is_dead(Holder.parse(current)):
                return False
            log.warning("lock %s: its holder (%s) is no longer running; taking it over",
                        name, Holder.parse(current).describe())
            return bool(session.execute(update(Lock).where(Lock.name == name, Lock.holder == current)
                                        .values(holder=holder, acquired_at=now, expires_at=now + ttl))
                        .rowcount)
    try:
        with store.session() as session:
            session.add(Lock(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
        return True
    except IntegrityError:
        return False        # inserted by someone else a moment before us


def release(store: Store, name: str, holder: str) -> bool:
    """Give the lock back; only its holder can. True when it was ours."""
    with store.session() as session:
        result = session.execute(delete(Lock).where(Lock.name == name, Lock.holder == holder))
        return result.rowcount > 0


def current_lock(store: Store, name: str) -> Lock | None:
    """The lock row while a live holder has it (unexpired), or None."""
    with store.session() as session:
        lock = session.scalars(select(Lock).where(Lock.name == name)).first()
    if lock is None or _aware(lock.expires_at) <= utcnow() or is_dead(Holder.parse(lock.holder)):
        return None
    return lock


def holder_of(store: Store, name: str) -> str | None:
    """The current holder of a live lock, or None."""
    lock = current_lock(store, name)
    return lock.holder if lock else None


def busy_text(store: Store, name: str) -> str:
    """``import on vng01, pid 4242, since …`` for the holder of ``name`` (or 'another process')."""
    lock = current_lock(store, name)
    if lock is None:
        return "another vng-ingest process"
    return Holder.parse(lock.holder).describe(lock.acquired_at)


class _Heartbeat(threading.Thread):
    """Extends a held lock every third of its life until stopped."""

    def __init__(self, store: Store, name: str, holder: str, ttl: timedelta):
        super().__init__(name=f"lock-{name}", daemon=True)
        self.store, self.lock_name, self.holder, self.ttl = store, name, holder, ttl
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.ttl.total_seconds() / 3):
            try:
                if not acquire(self.store, self.lock_name, self.holder, self.ttl):
                    log.error("lock %s was taken over by another process", self.lock_name)
                    return
            except Exception as error:     # noqa: BLE001 - a missed beat is retried; the TTL has slack
                log.warning("lock %s: could not extend it (%s)", self.lock_name, error.__class__.__name__)


@contextmanager
def writer_lock(store: Store, command: str, part: str = INTAKE, wait: timedelta = DEFAULT_WAIT,
                ttl: timedelta = TTL, poll_seconds: float = 0.5) -> Iterator[str]:
    """Hold the ``part`` lock of the store while the block runs; yields the holder text.

    When another process holds it, say so once on stderr and wait up to ``wait``; then
    raise ``StoreBusy``. ``wait=timedelta(0)`` tries once.
    """
    holder = default_holder(command, unique=True)
    deadline = time.monotonic() + wait.total_seconds()
    told = False
    while not acquire(store, part, holder, ttl):
        if time.monotonic() >= deadline:
            raise StoreBusy(f"the store is busy: {busy_text(store, part)} is still working on it "
                            f"({part}); try again later")
        if not told:
            print(f"waiting: {busy_text(store, part)} is working on the store ({part})", file=sys.stderr)
            told = True
        time.sleep(poll_seconds)
    beat = _Heartbeat(store, part, holder, ttl)
    beat.start()
    try:
        yield holder
    finally:
        beat.stopped.set()
        beat.join()
        release(store, part, holder)
