"""Read-only questions for ``status``: last polls and the last report."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.schema import Report, SyncState


def last_polls(session: Session) -> list[SyncState]:
    return list(session.scalars(select(SyncState).order_by(SyncState.account, SyncState.folder)))


def last_report(session: Session) -> Report | None:
    return session.scalars(select(Report).order_by(Report.generated_at.desc()).limit(1)).first()
