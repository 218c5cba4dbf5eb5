"""The types that cross between stages.

source → raw store → parse → extract → store → review → report

* ``RawMessage``: the exact bytes of one e-mail and where they came from (ingest → store).
* ``parsers.message.ParsedMessage``: the text a person would read (parse → extract).
* ``Extraction``: what a message is and the offers it makes (extract → store).
* ``Offer`` / ``Contact`` / ``FieldEvidence``: one offered location with a confidence
  and the text span behind every field.

The JSON form of ``Extraction`` is the record format of the labelled corpus
(``shared/corpus/SCHEMA.md``), so the scorer can read what ``extract`` prints.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class Kind(str, Enum):
    """What a message is (SCHEMA.md, message level)."""

    OFFER = "offer"
    THIRD_PARTY_OFFER = "third_party_offer"
    AUTO_REPLY = "auto_reply"
    OTHER = "other"


class Status(str, Enum):
    AVAILABLE = "available"
    WITHDRAWN = "withdrawn"


LOCATION_FIELDS = (
    "municipality", "location", "address", "postcode", "place",
    "available_from", "available_until", "places", "places_max", "status",
)
CONTACT_FIELDS = ("name", "role", "phone", "email")
#: Fields a wrong value of which makes the record useless to the ministries.
KEY_FIELDS = ("municipality", "available_from", "available_until", "places", "contact.name")


@dataclass
class RawMessage:
    """One e-mail exactly as it arrived, and where it came from."""

    raw: bytes
    source: str                      # e.g. "imap:info@vng.nl" or "file:/path"
    folder: str | None = None        # IMAP folder or local path
    uidvalidity: int | None = None
    uid: int | None = None
    received_at: datetime | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


@dataclass
class FieldEvidence:
    """Where a value came from: the original text and its span in the parsed text."""

    text: str
    start: int | None = None
    end: int | None = None
    part: str = "body"               # body | signature | quoted | header | attachment:<name>


@dataclass
class Contact:
    name: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass
class Offer:
    """One offered (or withdrawn) location, as the ministries' sheet needs it."""

    municipality: str | None = None
    municipality_code: str | None = None
    location: str | None = None
    address: str | None = None
    postcode: str | None = None
    place: str | None = None
    available_from: str | None = None      # ISO date
    available_until: str | None = None     # ISO date or "indefinite"
    places: int | None = None
    places_max: int | None = None
    status: str = Status.AVAILABLE.value
    contact: Contact = field(default_factory=Contact)
    confidence: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, FieldEvidence] = field(default_factory=dict)
    needs_review: bool = True

    def record(self, with_meta: bool = True) -> dict[str, Any]:
        """The SCHEMA.md form (plus needs_review/confidence/evidence when asked)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in LOCATION_FIELDS}
        out["contact"] = asdict(self.contact)
        if with_meta:
            out["municipality_code"] = self.municipality_code
            out["needs_review"] = self.needs_review
            out["confidence"] = {k: round(v, 3) for k, v in self.confidence.items()}
            out["evidence"] = {k: asdict(v) for k, v in self.evidence.items()}
        return out

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> "Offer":
        contact = Contact(**{k: (data.get("contact") or {}).get(k) for k in CONTACT_FIELDS})
        evidence = {k: FieldEvidence(**v) for k, v in (data.get("evidence") or {}).items()}
        values = {k: data.get(k) for k in LOCATION_FIELDS}
        values["status"] = values["status"] or Status.AVAILABLE.value
        return cls(**values, municipality_code=data.get("municipality_code"), contact=contact,
                   confidence=dict(data.get("confidence") or {}), evidence=evidence,
                   needs_review=bool(data.get("needs_review", True)))


@dataclass
class Extraction:
    """What one message is and what it offers."""

    kind: Kind
    offers: list[Offer] = field(default_factory=list)
    kind_confidence: float = 1.0
    error: str | None = None         # set when the message could not be parsed

    def record(self, file: str | None = None, with_meta: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if file is not None:
            out["file"] = file
        out["kind"] = self.kind.value
        out["offers"] = [offer.record(with_meta) for offer in self.offers]
        if with_meta:
            out["kind_confidence"] = round(self.kind_confidence, 3)
            if self.error:
                out["error"] = self.error
        return out
