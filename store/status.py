"""Read-only questions for ``status``: last polls and the last report."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.schema import Message, Report, SyncState

#: What a failed message without a more precise reason shows (KCC reads Dutch).
FAILED_REASON = "Het bericht kon niet worden verwerkt door een fout in het programma. Lees het bericht zelf."


def last_polls(session: Session) -> list[SyncState]:
    return list(session.scalars(select(SyncState).order_by(SyncState.account, SyncState.folder)))


def last_report(session: Session) -> Report | None:
    return session.scalars(select(Report).order_by(Report.generated_at.desc()).limit(1)).first()


def problem_counts(session: Session) -> dict[str, int]:
    """How many messages have each kind of problem (a message with two counts under both)."""
    counted: Counter[str] = Counter()
    for problems in session.scalars(select(Message.problems).where(Message.problems.is_not(None))):
        counted.update({problem.get("code", "?") for problem in problems or []})
    return dict(counted)


def problem_messages(session: Session, limit: int = 10) -> list[Message]:
    """The newest messages that failed or have a problem."""
    query = (select(Message).where((Message.state == "failed") | Message.problems.is_not(None))
             .order_by(Message.id.desc()).limit(limit))
    return list(session.scalars(query))


def reason(problems: list[dict] | None, error: str | None) -> str | None:
    """Why a message could not (wholly) be read, in Dutch: its problems, else a plain sentence."""
    texts = [problem.get("text") for problem in problems or [] if problem.get("text")]
    if texts:
        return " ".join(dict.fromkeys(texts))
    return FAILED_REASON if error else None
