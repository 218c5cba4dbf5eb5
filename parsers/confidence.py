"""Per-field confidence → whether a person must check the offer.

Calibrated on the dev corpus so that offers accepted without review have every
key field right, while most offers need no review (see bench/extract_score.py).
"""

from __future__ import annotations

from vng_ingest.models import KEY_FIELDS, Kind, Offer

#: An offer is accepted without review when every key field reaches this confidence.
ACCEPT_THRESHOLD = 0.8


def settle(offer: Offer, kind: Kind, threshold: float = ACCEPT_THRESHOLD) -> Offer:
    """Fill missing confidences (absent value → low) and decide needs_review."""
    for name in KEY_FIELDS:
        if name not in offer.confidence:
            offer.confidence[name] = 0.3
    if offer.status == "withdrawn":
        for name in ("available_from", "available_until", "places"):
            offer.confidence[name] = 0.9
    offer.needs_review = any(offer.confidence[name] < threshold for name in KEY_FIELDS)
    return offer
