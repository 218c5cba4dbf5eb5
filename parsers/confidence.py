"""Per-field confidence as a probability → whether a person must check the offer.

The finders give every field a hand-set score (``settle`` fills what they left out). Those
scores are not probabilities, so ``assess`` turns them into one per field, P(field right),
with a small model learned from the labelled sets (``parsers/calibration.py`` trains it into
``models/confidence/model.json``; ``vng-ingest train-confidence`` rebuilds it). Its features
describe how a value was found: the hand score, whether the value is empty, where its
evidence came from, how many offers the message has, how sure triage was.

An offer is accepted without review when P(every key field right) reaches the accept
threshold (``review.accept_threshold`` in the config, passed in by ``configure``).
Key fields here are the ones the scorer counts for "all key fields right": the record's
key fields plus the contact's phone and e-mail.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from parsers.message import ParsedMessage
from vng_ingest.models import KEY_FIELDS, Kind, Offer

#: The fields whose being right decides whether an offer may skip review.
ASSESSED_FIELDS = KEY_FIELDS + ("contact.phone", "contact.email")
#: Where the shipped model lives (package data).
MODEL_PATH = Path(__file__).resolve().parent / "models" / "confidence" / "model.json"
#: Accept threshold on P(all key fields right) when nobody configured one (config.yaml sets it).
ACCEPT_THRESHOLD = 0.99
#: Where a field's evidence was found; anything else counts as "other".
PARTS = ("body", "signature", "forwarded", "attachment", "table", "header")

_accept_threshold = ACCEPT_THRESHOLD


def configure(accept_threshold: float) -> None:
    """Set the accept threshold for this process (the reader's child inherits it)."""
    global _accept_threshold
    _accept_threshold = float(accept_threshold)


def accept_threshold() -> float:
    return _accept_threshold


def settle(offer: Offer, kind: Kind) -> Offer:
    """Fill the hand scores the finders left out (absent value → low)."""
    for name in KEY_FIELDS:
        if name not in offer.confidence:
            offer.confidence[name] = 0.3
    if offer.status == "withdrawn":
        for name in ("available_from", "available_until", "places"):
            offer.confidence[name] = 0.9
    return offer


@dataclass(frozen=True)
class MessageFacts:
    """What the whole message tells about each of its offers' fields."""

    offers: int
    kind: Kind
    kind_confidence: float
    candidates: dict[str, int] = field(default_factory=dict)   # competing values the text holds, per field
    signature: bool = False
    sender_named: bool = False


def message_facts(parsed: ParsedMessage, offers: list[Offer], kind: Kind, kind_confidence: float) -> MessageFacts:
    """Counts of competing candidates in the text an offer was read from (pure)."""
    from parsers.contacts import named_contacts
    from parsers.dates import find_dates
    from parsers.fields import find_emails, find_phones, find_places
    from parsers.signals import content_text
    text = content_text(parsed)
    reach = text + "\n" + parsed.signature
    sent = parsed.date.date() if parsed.date else date.today()
    dates = {m.value for m in find_dates(text, sent) if m.value}
    candidates = {
        "contact.phone": len({f.value for f in find_phones(reach)}),
        "contact.email": len({f.value for f in find_emails(reach)}),
        "contact.name": len([p for _, p in named_contacts(text) if p is not None and p.name]),
        "places": len({f.value for f in find_places(text)}),
        "available_from": len(dates),
        "available_until": len(dates),
        "municipality": 0,
    }
    return MessageFacts(len(offers), kind, kind_confidence, candidates, bool(parsed.signature.strip()),
                        bool(parsed.from_name))


def value(offer: Offer, name: str):
    if name.startswith("contact."):
        return getattr(offer.contact, name.split(".", 1)[1])
    return getattr(offer, name)


def _part(offer: Offer, name: str) -> str:
    evidence = offer.evidence.get(name)
    if evidence is None:
        return "none"
    part = evidence.part.split(":", 1)[0]
    return part if part in PARTS else "other"


def features(offer: Offer, name: str, facts: MessageFacts) -> dict[str, float]:
    """How the value of ``name`` was found, as numbers (pure: the same for training and use)."""
    hand = offer.confidence.get(name, offer.confidence.get("contact.name", 0.3))
    hand = min(max(float(hand), 0.01), 0.99)
    part = _part(offer, name)
    evidence = offer.evidence.get(name)
    empty = value(offer, name) in (None, "")
    seen = facts.candidates.get(name, 0)
    out = {
        "hand": hand,
        "hand_logit": math.log(hand / (1 - hand)),
        "empty": float(empty),
        "empty_but_seen": float(empty and seen > 0),           # the text has one, the offer has none
        "value_among_several": float(not empty and seen > 1),  # which of them is this offer's?
        "span": float(evidence is not None and evidence.start is not None),
        "contact_named": float(bool(offer.contact.name)),
        "withdrawn": float(offer.status == "withdrawn"),
        "several_offers": float(facts.offers > 1),
        "log_offers": math.log(max(facts.offers, 1)),
        "kind_confidence": float(facts.kind_confidence),
        "third_party": float(facts.kind == Kind.THIRD_PARTY_OFFER),
        "has_address": float(bool(offer.address or offer.postcode)),
        "log_candidates": math.log1p(facts.candidates.get(name, 0)),
        "competing": float(facts.candidates.get(name, 0) > max(facts.offers, 1)),
        "no_candidate": float(facts.candidates.get(name, 0) == 0),
        "header_but_seen": float(part == "header" and seen > 0),      # the From address, while the text has one
        "signature_among_several": float(part == "signature" and seen > 1),
        "table_row": float(any(e.part == "table" for e in offer.evidence.values())),
        "signature": float(facts.signature),
        "sender_named": float(facts.sender_named),
    }
    for known in PARTS + ("other", "none"):
        out[f"part={known}"] = float(part == known)
    return out


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    z = math.exp(x)
    return z / (1 + z)


def _interpolate(xs: list[float], ys: list[float], x: float) -> float:
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    i = bisect_right(xs, x)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def apply_model(model: dict, row: dict[str, float]) -> float:
    """One fitted model (logistic coefficients or isotonic steps, as in model.json) → a probability."""
    if model["type"] == "logistic":
        z = model["intercept"] + sum(c * row.get(n, 0.0) for n, c in zip(model["features"], model["coef"]))
        return _sigmoid(z)
    if model["type"] == "isotonic":
        return _interpolate(model["x"], model["y"], row[model["feature"]])
    if model["type"] == "constant":
        return model["p"]
    raise ValueError(f"unknown model type {model['type']!r}")


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> dict:
    with open(path, encoding="utf-8") as handle:
        model = json.load(handle)
    missing = [name for name in ASSESSED_FIELDS if name not in model["fields"]]
    if missing:
        raise ValueError(f"confidence model {path} lacks fields {missing}")
    return model


def field_probabilities(offer: Offer, facts: MessageFacts, model: dict) -> dict[str, float]:
    return {name: apply_model(model["fields"][name], features(offer, name, facts)) for name in ASSESSED_FIELDS}


def all_right(probabilities: dict[str, float], model: dict) -> float:
    """P(every key field right): the product, recalibrated when the model has a step for it."""
    product = math.prod(probabilities[name] for name in ASSESSED_FIELDS)
    combined = model.get("all")
    if combined is None:
        return product
    return apply_model(combined, {"product": product, "log_product": math.log(max(product, 1e-9)),
                                  "minimum": min(probabilities.values())})


def all_key_probability(offer: Offer, model: dict | None = None) -> float:
    """P(all key fields right) of an assessed offer, from the probabilities it carries."""
    return all_right({name: offer.confidence[name] for name in ASSESSED_FIELDS}, model or load_model())


def assess(parsed: ParsedMessage, offers: list[Offer], kind: Kind, kind_confidence: float,
           threshold: float | None = None, model: dict | None = None) -> list[Offer]:
    """Replace hand scores by probabilities and decide needs_review against the threshold."""
    if not offers:
        return offers
    model = model or load_model()
    threshold = accept_threshold() if threshold is None else threshold
    facts = message_facts(parsed, offers, kind, kind_confidence)
    for offer in offers:
        probabilities = field_probabilities(offer, facts, model)
        offer.confidence.update(probabilities)
        offer.needs_review = all_right(probabilities, model) < threshold
    return offers
