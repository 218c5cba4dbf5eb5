"""Named locks held in the store, so two processes started by mistake never poll at once.

A lock has a holder and an expiry: a process that dies without releasing it blocks the
others only until the expiry, not for ever.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from store.db import Store
from store.schema import Lock, utcnow


def default_holder() -> str:
    """Who holds a lock: host and process id (no personal data)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def acquire(store: Store, name: str, holder: str, ttl: timedelta) -> bool:
    """Take the lock (or extend our own); False when someone else holds an unexpired one.

    One conditional UPDATE, then an INSERT: both atomic, so two processes racing for
    the same lock cannot both win, on SQLite or PostgreSQL.
    """
    now = utcnow()
    with store.session() as session:
        taken = session.execute(
            update(Lock).where(Lock.name == name, or_(Lock.holder == holder, Lock.expires_at <= now))
            .values(holder=holder, acquired_at=now, expires_at=now + ttl))
        if taken.rowcount:
            return True
    try:
        with store.session() as session:
            session.add(Lock(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
        return True
    except IntegrityError:
        return False        # held by someone else (or inserted by them a moment before us)


def release(store: Store, name: str, holder: str) -> bool:
    """Give the lock back; only its holder can. True when it was ours."""
    with store.session() as session:
        result = session.execute(delete(Lock).where(Lock.name == name, Lock.holder == holder))
        return result.rowcount > 0


def holder_of(store: Store, name: str) -> str | None:
    """The current holder of an unexpired lock, or None."""
    with store.session() as session:
        lock = session.scalars(select(Lock).where(Lock.name == name)).first()
        if lock is None or _aware(lock.expires_at) <= utcnow():
            return None
        return lock.holder
