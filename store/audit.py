"""The audit log: who changed what, when, from which value to which."""

from __future__ import annotations

from sqlalchemy.orm import Session

from store.schema import AuditEntry


def record(session: Session, actor: str, action: str, entity: str, entity_id: int | None,
           field: str | None = None, old: object = None, new: object = None) -> AuditEntry:
    entry = AuditEntry(actor=actor, action=action, entity=entity, entity_id=entity_id, field=field,
                       old=None if old is None else str(old), new=None if new is None else str(new))
    session.add(entry)
    return entry
