"""Retention of personal data (AVG/GDPR): contact details are kept no longer than configured.

After ``retention.personal_data_days`` a message loses everything that says who wrote it or who
to call: its raw bytes, parsed text, subject and error details are erased, its sender address is
cut to the domain (``@gemeente.nl``: not personal, and the reports may use it), its offers lose
their contact person and evidence, and the audit log keeps who corrected which contact field
when, but not the old and new values. Earlier workbooks on disk that show those contacts are
rewritten without them (their ``reports`` row gets the new sha256). What stays: sha256,
Message-ID and IMAP position (so the message is never fetched again), and the locations, dates
and places the reports count.

Each erasure is written to the audit log, without the erased values. On SQLite the purge runs
with ``secure_delete`` and is followed by a VACUUM, so the erased bytes are gone from the
database file too, not only from its tables; on PostgreSQL by ``VACUUM FULL`` of the tables.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, insert, null, or_, select, text, update
from sqlalchemy.orm import Session

from store.db import Store
from store.schema import AuditEntry, Message, OfferRow, Report, utcnow

log = logging.getLogger(__name__)

ERASED_FIELDS = ("contact_name", "contact_role", "contact_phone", "contact_email")
#: The contact fields that name a person on their own; a role ("wethouder") only with one of them.
IDENTIFYING_FIELDS = ("contact_name", "contact_phone", "contact_email")
#: What an erased audit value reads as (KCC staff read the audit log in the review screen).
ERASED = "gewist"
RECLAIMED_TABLES = ("messages", "offers", "audit_log")


class RetentionError(ValueError):
    """A retention period that makes no sense (negative days)."""


@dataclass
class Purged:
    """What one purge erased, per kind of personal data."""

    messages: int = 0         # raw bytes, parsed text, subject, error details
    senders: int = 0          # sender addresses cut to their domain
    offers: int = 0           # contact person and evidence
    audit_values: int = 0     # audit rows whose old/new contact values were replaced by "gewist"
    workbooks: int = 0        # earlier workbook files rewritten without those contacts

    def text(self) -> str:
        return (f"erased: {self.messages} messages (text and subject), {self.senders} sender addresses "
                f"(domain kept), {self.offers} offers' contact details, {self.audit_values} audited contact "
                f"values, contacts in {self.workbooks} earlier workbooks")

    @property
    def anything(self) -> bool:
        return any(vars(self).values())


def cutoff_for(days: int, now: datetime | None = None) -> datetime:
    """The moment before which personal data goes; ``days`` 0 means everything received until now."""
    if days < 0:
        raise RetentionError(f"the number of days must be 0 or more, not {days}")
    return (now or utcnow()) - timedelta(days=days)


def purge(store: Store, days: int | None, now: datetime | None = None) -> Purged:
    """Erase personal data older than ``days`` (None: retention off) and reclaim the space it used."""
    with store.session() as session:
        purged = purge_personal_data(session, days, now)
    if purged.anything:
        reclaim_space(store)
    return purged


def purge_personal_data(session: Session, days: int | None, now: datetime | None = None) -> Purged:
    """Erase personal data of messages received more than ``days`` ago (None keeps everything).

    Idempotent, and it also finishes what an older version left behind (e.g. sender addresses, or
    a contact a reviewer added to an already purged message). Raises ``RetentionError`` for
    negative ``days``.
    """
    result = Purged()
    if days is None:
        return result
    cutoff = cutoff_for(days, now)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete=ON"))   # freed pages are zeroed, not just unlinked
    old = select(Message.id).where(Message.received_at < cutoff)
    old_offers = select(OfferRow.id).where(OfferRow.message_pk.in_(old))
    erasing = list(session.execute(select(Message.id, Message.from_addr)
                                   .where(Message.received_at < cutoff, _holds_personal_data())))
    values, roles = _contact_values(session, old_offers)
    result.workbooks = _erase_from_workbooks(session, values, roles)
    result.offers = _erase_offers(session, old, [pk for pk, _ in erasing])
    result.audit_values = _erase_audit_values(session, old_offers)
    result.messages, result.senders = _erase_messages(session, erasing)
    return result


def _holds_personal_data():
    return or_(Message.size > 0, Message.subject.is_not(None),
               and_(Message.from_addr.is_not(None), Message.from_addr.not_like("@%")),
               and_(Message.error.is_not(None), Message.error != ERASED))


def sender_domain(address: str | None) -> str | None:
    """``j.jansen@assen.nl`` → ``@assen.nl``; no domain, nothing."""
    if not address or "@" not in address:
        return None
    return "@" + address.rpartition("@")[2].strip().strip(">").lower()


def _erase_messages(session: Session, erasing: list[tuple[int, str | None]]) -> tuple[int, int]:
    senders = 0
    for pk, address in erasing:
        domain = sender_domain(address)
        senders += address is not None and address != domain
        session.execute(update(Message).where(Message.id == pk).values(
            raw=b"", size=0, parsed=null(), subject=None, from_addr=domain,
            error=case((Message.error.is_(None), None), else_=ERASED)))
    if erasing:
        session.execute(insert(AuditEntry), [
            {"at": utcnow(), "actor": "system", "action": "retention", "entity": "message", "entity_id": pk,
             "new": "persoonsgegevens gewist"} for pk, _ in erasing])
    return len(erasing), senders


def _erase_offers(session: Session, old, erasing: list[int]) -> int:
    """Contact and evidence of the messages erased now, and any contact left on older ones."""
    table = OfferRow.__table__
    contact_left = or_(*(table.c[name].is_not(None) for name in ERASED_FIELDS))
    targets = [table.c.message_pk.in_(old) & contact_left]
    for start in range(0, len(erasing), 500):
        targets.append(table.c.message_pk.in_(erasing[start:start + 500]))
    done = session.execute(update(table).where(or_(*targets)).values(
        **dict.fromkeys(ERASED_FIELDS), evidence={}, version=table.c.version + 1, updated_at=utcnow()))
    return done.rowcount


def _erase_audit_values(session: Session, old_offers) -> int:
    still = or_(and_(AuditEntry.old.is_not(None), AuditEntry.old != ERASED),
                and_(AuditEntry.new.is_not(None), AuditEntry.new != ERASED))
    done = session.execute(update(AuditEntry).where(
        AuditEntry.entity == "offer", AuditEntry.field.in_(ERASED_FIELDS), AuditEntry.entity_id.in_(old_offers),
        still).values(old=case((AuditEntry.old.is_(None), None), else_=ERASED),
                      new=case((AuditEntry.new.is_(None), None), else_=ERASED)))
    return done.rowcount


def _contact_values(session: Session, old_offers) -> tuple[set[str], set[str]]:
    """Every contact value about to be erased (offers and audit rows): what earlier workbooks may show."""
    rows = session.execute(select(*(getattr(OfferRow, name) for name in ERASED_FIELDS))
                           .where(OfferRow.id.in_(old_offers))).mappings().all()
    identifying = {row[name] for row in rows for name in IDENTIFYING_FIELDS if row[name]}
    roles = {row["contact_role"] for row in rows if row["contact_role"]}
    audited = session.execute(select(AuditEntry.field, AuditEntry.old, AuditEntry.new).where(
        AuditEntry.entity == "offer", AuditEntry.field.in_(ERASED_FIELDS),
        AuditEntry.entity_id.in_(old_offers))).all()
    for field, *pair in audited:
        kept = {value for value in pair if value and value != ERASED}
        (identifying if field in IDENTIFYING_FIELDS else roles).update(kept)
    return identifying, roles


def _erase_from_workbooks(session: Session, identifying: set[str], roles: set[str]) -> int:
    if not identifying:
        return 0
    from reports.erasure import erase_contacts   # the workbook format is the reports' business
    rewritten = 0
    for report in session.scalars(select(Report).where(Report.sha256.is_not(None)).order_by(Report.id)):
        sha256 = erase_contacts(report.path, identifying, roles)
        if sha256 is not None:
            report.sha256 = sha256
            rewritten += 1
            session.add(AuditEntry(actor="system", action="retention", entity="report", entity_id=report.id,
                                   field="contact", new="contactgegevens van verlopen berichten gewist"))
    return rewritten


def reclaim_space(store: Store) -> None:
    """Make erased values unrecoverable from the database files, not just unreachable from tables."""
    engine = store.engine
    if engine.dialect.name == "sqlite":
        # Straight on the driver's connection, which store.db keeps out of any transaction until
        # one is begun (an AUTOCOMMIT execution option would reset it to pysqlite's own handling).
        with engine.connect() as connection:
            driver = connection.connection.dbapi_connection
            driver.execute("PRAGMA secure_delete=ON")
            driver.execute("VACUUM")
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM FULL {', '.join(RECLAIMED_TABLES)}")
    log.info("retention: database space of erased data reclaimed")
