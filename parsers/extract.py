"""Extraction: a parsed message → its kind and the offers it makes, each field with confidence and span."""

from __future__ import annotations

import traceback

from parsers.message import UNREADABLE, ParsedMessage
from vng_ingest.models import Extraction, Kind

EXTRACTOR_VERSION = "0.2.1"
KIND_THRESHOLD = 0.75


def extract(parsed: ParsedMessage, calibrated: bool = True) -> Extraction:
    """``calibrated=False`` leaves the finders' hand scores in place (what the confidence model learns from)."""
    from parsers.confidence import assess
    from parsers.triage import classify
    from parsers.offers import find_offers
    if any(problem.code == UNREADABLE for problem in parsed.problems):
        return Extraction(Kind.OTHER, kind_confidence=0.0)   # no offers from text that is not there
    kind, kind_confidence = classify(parsed)
    offers = find_offers(parsed, kind) if kind in (Kind.OFFER, Kind.THIRD_PARTY_OFFER) else []
    if calibrated:
        assess(parsed, offers, kind, kind_confidence)
    if kind_confidence < KIND_THRESHOLD:
        for offer in offers:            # unsure what the message is: a person checks its offers too
            offer.needs_review = True
    return Extraction(kind=kind, offers=offers, kind_confidence=kind_confidence)


def extract_as(parsed: ParsedMessage, kind: Kind, previous: Extraction) -> Extraction:
    """Extraction under a kind a person chose (their re-classification wins over triage)."""
    from parsers.confidence import assess
    from parsers.offers import find_offers
    if previous.error:
        return previous
    offers = find_offers(parsed, kind) if kind in (Kind.OFFER, Kind.THIRD_PARTY_OFFER) else []
    assess(parsed, offers, kind, 1.0)
    return Extraction(kind=kind, offers=offers, kind_confidence=1.0)


def read_message(raw: bytes, calibrated: bool = True) -> tuple[ParsedMessage, Extraction]:
    """Parse and extract; never raises: a failure becomes an Extraction with its error, for review."""
    from parsers.mime import parse_message
    try:
        parsed = parse_message(raw)
    except Exception as error:   # noqa: BLE001 - nothing may escape: the message goes to review
        parsed = ParsedMessage(errors=[type(error).__name__])
        parsed.add_problem(UNREADABLE, "Dit bericht kon niet worden gelezen.")
        return parsed, Extraction(Kind.OTHER, error=_describe(error))
    try:
        return parsed, extract(parsed, calibrated)
    except Exception as error:   # noqa: BLE001
        return parsed, Extraction(Kind.OTHER, kind_confidence=0.0, error=_describe(error))


def _describe(error: Exception) -> str:
    """The error's type and where it happened; never its message, which may quote mail text."""
    frames = "".join(traceback.format_tb(error.__traceback__, limit=-5))
    return f"{type(error).__name__} (message text not shown)\n{frames}"
