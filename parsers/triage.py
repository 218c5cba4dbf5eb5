"""Triage: is a message an offer, a third party's offer, an automatic reply, or something else?

Rules decide where they are certain (RFC 3834 headers, bulk mail, out-of-office
wording); the content decides the rest: does the sender offer a location, and is
the sender a municipality (or a body acting for municipalities)?
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from parsers import textcat
from parsers.message import ParsedMessage
from parsers.segments import is_withdrawal
from parsers.signals import offer_like, offer_signals
from vng_ingest.models import Kind
from vng_ingest.refdata import by_domain, name_pattern

PATTERNS = Path(__file__).resolve().parent / "patterns" / "triage.yaml"
PUBLIC_BODY = re.compile(r"\b(gemeente|veiligheidsregio|vr[a-z]*\.nl|ggd|provincie|regio)\b", re.IGNORECASE)
FREE_MAIL = re.compile(r"@(gmail|hotmail|outlook|live|yahoo|ziggo|kpnmail|kpnplanet|planet|home|xs4all|"
                       r"icloud|me|casema|upcmail|chello|hetnet|quicknet|telfort|tele2)\.", re.IGNORECASE)


@lru_cache(maxsize=1)
def patterns() -> dict[str, list[re.Pattern]]:
    data = yaml.safe_load(PATTERNS.read_text(encoding="utf-8"))
    return {key: [re.compile(p, re.IGNORECASE | re.DOTALL) for p in values] for key, values in data.items()}


def _any(key: str, text: str) -> bool:
    return any(p.search(text) for p in patterns()[key])


def is_automatic(parsed: ParsedMessage) -> bool:
    """RFC 3834 headers and their common vendor forms, delivery reports, and auto-reply subjects."""
    headers = parsed.headers
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        return True
    if any(h in headers for h in ("x-autoreply", "x-autorespond", "x-auto-response-suppress-reply")):
        return True
    if headers.get("precedence", "").strip().lower() in ("auto_reply", "auto-reply"):
        return True
    if "multipart/report" in headers.get("content-type", "").lower():
        return True
    if re.match(r"(mailer-daemon|postmaster)@", parsed.from_addr or "", re.IGNORECASE):
        return True
    return _any("auto_reply_subject", parsed.subject.strip())


def is_bulk(parsed: ParsedMessage) -> bool:
    return ("list-unsubscribe" in parsed.headers or "list-id" in parsed.headers
            or parsed.headers.get("precedence", "").strip().lower() in ("bulk", "list", "junk"))


def is_public_sender(parsed: ParsedMessage) -> bool:
    """A municipality, a safety region or another public body writes (not a citizen or a company)."""
    address = parsed.from_addr or ""
    if by_domain(address):
        return True
    if FREE_MAIL.search(address):
        return False
    domain = address.rsplit("@", 1)[-1]
    if re.match(r"(vr|veiligheidsregio)", domain):
        return True
    sign = parsed.signature + "\n" + (parsed.from_name or "")
    return bool(re.search(r"\b(gemeente|veiligheidsregio)\s+" + name_pattern().pattern, sign, re.IGNORECASE)
                or re.search(r"\bveiligheidsregio\b", sign, re.IGNORECASE))


#: Below this rule confidence the rules are unsure, and the trained classifier is asked.
UNSURE_BELOW = 0.8
#: The classifier overrules the rules only when it is at least this sure of another kind.
OVERRULE_AT = 0.7
#: 'other' for want of offer content may still be an auto-reply in words no rule knows.
AUTO_REPLY_AT = 0.9
BULK_CONFIDENCE = 0.95


def classify(parsed: ParsedMessage, use_model: bool = True) -> tuple[Kind, float]:
    """The kind of a message and how sure we are: rules first, the classifier only where they are weak."""
    kind, confidence = _rules(parsed)
    if not use_model:
        return kind, confidence
    if confidence < UNSURE_BELOW:
        return weigh(kind, confidence, textcat.predict(classifier_text(parsed)))
    if kind is Kind.OTHER and confidence < BULK_CONFIDENCE:
        auto = textcat.predict(classifier_text(parsed)).get(Kind.AUTO_REPLY.value, 0.0)
        if auto >= AUTO_REPLY_AT:
            return Kind.AUTO_REPLY, round(auto, 3)
    return kind, confidence


def weigh(kind: Kind, confidence: float, scores: dict[str, float]) -> tuple[Kind, float]:
    """Combine an unsure rule decision with the classifier's probabilities (none: the rules stand).

    Agreement keeps the kind with the higher of both confidences; a classifier that is
    sure of another kind decides, with its own probability; a hesitant one leaves the
    rules' kind, but no surer than the probability the classifier leaves for it.
    """
    if not scores:
        return kind, confidence
    best = max(scores, key=scores.get)
    if best == kind.value:
        return kind, round(max(confidence, scores[best]), 3)
    if scores[best] >= OVERRULE_AT:
        return Kind(best), round(scores[best], 3)
    return kind, round(min(confidence, 1 - scores[best]), 3)


def classifier_text(parsed: ParsedMessage) -> str:
    """What the sender wrote and the start of the signature (who they are), as in the training data."""
    return (parsed.new_text or parsed.body) + "\n" + parsed.signature[:300]


def _rules(parsed: ParsedMessage) -> tuple[Kind, float]:
    text = parsed.new_text or parsed.body
    if is_automatic(parsed):
        return Kind.AUTO_REPLY, 0.99
    if is_bulk(parsed):
        return Kind.OTHER, BULK_CONFIDENCE
    if _any("auto_reply_body", text[:1500]):
        return Kind.AUTO_REPLY, 0.9
    signals = offer_signals(parsed)
    if is_withdrawal(text) and (signals.address or signals.building) and is_public_sender(parsed):
        return Kind.OFFER, 0.8
    if _any("not_an_offer", text) and (signals.strength < 3 or not offer_like(text)):
        return Kind.OTHER, 0.85
    if not (signals.address or signals.attachment_table) and _question_like(parsed, text):
        return Kind.OTHER, 0.75
    if signals.strength < 2:
        return Kind.OTHER, 0.9 if signals.strength == 0 else 0.7
    if _any("private_offer", text) or not is_public_sender(parsed):
        return Kind.THIRD_PARTY_OFFER, 0.85
    return Kind.OFFER, 0.9 if signals.strength >= 3 else 0.75


def _question_like(parsed: ParsedMessage, text: str) -> bool:
    """A message that mainly asks something (and names no address) is not an offer."""
    return text.count("?") >= 2 or bool(re.match(r"\s*(?:vraag|vragen)\b", parsed.subject, re.IGNORECASE))
