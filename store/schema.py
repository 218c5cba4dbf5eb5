"""Tables. Portable across SQLite and PostgreSQL: no dialect-specific types.

Changing a table means writing an Alembic migration in ``store/migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class MessageState:
    NEW = "new"              # raw bytes stored, not parsed yet
    EXTRACTED = "extracted"  # parsed and extracted (offers may be empty)
    FAILED = "failed"        # parsing or extraction failed; error text says why; shown for review


class ReviewState:
    PENDING = "pending"
    AUTO_ACCEPTED = "auto_accepted"
    APPROVED = "approved"
    CORRECTED = "corrected"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"    # a newer extraction of the same message replaced it


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    body_sha256: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True, info={"label": "Message-ID"})
    source: Mapped[str] = mapped_column(String(500), info={"label": "bron"})
    folder: Mapped[str | None] = mapped_column(String(500), info={"label": "map"})
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default=MessageState.NEW, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(30), index=True)
    kind_confidence: Mapped[float | None] = mapped_column(Float)
    kind_reviewed_by: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(Text, info={"label": "onderwerp"})
    from_addr: Mapped[str | None] = mapped_column(String(320), info={"label": "afzender"})
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    parsed: Mapped[dict | None] = mapped_column(JSON)     # new_text, signature, quoted, ... for review
    extractor_version: Mapped[str | None] = mapped_column(String(40))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    problems: Mapped[list | None] = mapped_column(JSON(none_as_null=True))   # [{"code": str, "text": str (Dutch)}, ...]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))   # processing starts

    offers: Mapped[list["OfferRow"]] = relationship(back_populates="message")


class MailboxUid(Base):
    """Every (folder, UIDVALIDITY, UID) a message was seen under, so nothing is fetched twice."""

    __tablename__ = "mailbox_uids"
    __table_args__ = (UniqueConstraint("account", "folder", "uidvalidity", "uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(500))
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    after_action_done: Mapped[bool] = mapped_column(Boolean, default=False)


class Location(Base):
    """A location over time: its current offer and, through its offers, its history.

    The ``*_key`` columns are its identity (``vng_ingest.locations``), indexed so an offer is
    linked by lookup.
    """

    __tablename__ = "locations"
    __table_args__ = (Index("ix_locations_address_key", "municipality_code", "address_key"),
                      Index("ix_locations_postcode_key", "postcode_key"),
                      Index("ix_locations_name_key", "municipality_code", "name_key"),
                      Index("ix_locations_name_core", "municipality_code", "name_core"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str | None] = mapped_column(String(10), index=True)
    municipality: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(10))         # "7891AB"
    address_key: Mapped[str | None] = mapped_column(String(200))     # street + house number
    postcode_key: Mapped[str | None] = mapped_column(String(20))     # postcode + house number
    name_key: Mapped[str | None] = mapped_column(String(200))
    name_core: Mapped[str | None] = mapped_column(String(200))       # the name without building words
    current_offer_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OfferRow(Base):
    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    municipality: Mapped[str | None] = mapped_column(String(100))
    municipality_code: Mapped[str | None] = mapped_column(String(10), index=True)
    location: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(10))
    place: Mapped[str | None] = mapped_column(String(200))
    available_from: Mapped[str | None] = mapped_column(String(20))
    available_until: Mapped[str | None] = mapped_column(String(20))
    places: Mapped[int | None] = mapped_column(Integer)
    places_max: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="available")
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_role: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    confidence: Mapped[dict] = mapped_column(JSON, default=dict)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    review_state: Mapped[str] = mapped_column(String(20), default=ReviewState.PENDING, index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    extractor_version: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)    # optimistic locking
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    message: Mapped[Message] = relationship(back_populates="offers")

    __mapper_args__ = {"version_id_col": version}


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))         # user name, or "system"
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))         # offer | message | user | location
    entity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    field: Mapped[str | None] = mapped_column(String(60))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)


class SyncState(Base):
    """Per account and folder: where the last poll got to, and how it went."""

    __tablename__ = "sync_state"
    __table_args__ = (UniqueConstraint("account", "folder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(500))
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    token_cache: Mapped[str | None] = mapped_column(Text)


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    locations: Mapped[int] = mapped_column(Integer, default=0)
    places: Mapped[int] = mapped_column(Integer, default=0)
    snapshot: Mapped[dict | None] = mapped_column(JSON)       # location states, for the change sheet
    sent_to: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="kcc")   # kcc | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Lock(Base):
    """A named lock held in the store, so two processes never poll at once."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
