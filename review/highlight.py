"""Marking the evidence of each field in the message text, safely.

Every piece of mail text is escaped; only the ``<mark>`` tags are ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

#: Evidence ``part`` → the key of that text in ``messages.parsed``.
PART_KEYS = {"body": "new_text", "new_text": "new_text", "signature": "signature",
             "quoted": "quoted", "forwarded": "forwarded"}


@dataclass
class Span:
    start: int
    end: int
    fields: list[str]


def part_key(part: str | None) -> str:
    """``attachment:<name>`` stays as is; the rest maps to a parsed key (default: new text)."""
    part = part or "body"
    return part if part.startswith("attachment:") else PART_KEYS.get(part, "new_text")


def find_spans(texts: dict[str, str], evidence: dict) -> dict[str, list[Span]]:
    """Per text key, the spans to mark: by position when it fits, else by searching the text."""
    found: dict[str, list[Span]] = {}
    for field_name, ev in (evidence or {}).items():
        if not isinstance(ev, dict) or not ev.get("text"):
            continue
        located = _locate(texts, ev)
        if located:
            key, start, end = located
            found.setdefault(key, []).append(Span(start, end, [field_name]))
    return {key: _merge(spans) for key, spans in found.items()}


def _locate(texts: dict[str, str], ev: dict) -> tuple[str, int, int] | None:
    needle = str(ev["text"])
    key = part_key(ev.get("part"))
    text = texts.get(key) or ""
    start, end = ev.get("start"), ev.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        if text[start:end] == needle or text[start:end].strip().lower() == needle.strip().lower():
            return key, start, end
    order = [key] + [k for k in texts if k != key]
    for candidate in order:
        index = (texts.get(candidate) or "").lower().find(needle.strip().lower())
        if index >= 0 and needle.strip():
            return candidate, index, index + len(needle.strip())
    return None


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if out and span.start < out[-1].end:
            out[-1].end = max(out[-1].end, span.end)
            out[-1].fields += span.fields
        else:
            out.append(Span(span.start, span.end, list(span.fields)))
    return out


def render(text: str, spans: list[Span], labels: dict[str, str] | None = None) -> Markup:
    """The text escaped piece by piece, with each span wrapped in a labelled ``<mark>``."""
    labels = labels or {}
    pieces: list[Markup] = []
    position = 0
    for span in spans:
        pieces.append(escape(text[position:span.start]))
        title = ", ".join(labels.get(f, f) for f in span.fields)
        pieces.append(Markup('<mark title="%s" data-fields="%s">%s</mark>')
                      % (title, " ".join(span.fields), text[span.start:span.end]))
        position = span.end
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)
