"""The spaCy pipeline for Dutch offers: ``spacy.blank("nl")`` with our own components.

No pretrained Dutch pipeline is available, so the components are rules kept as data:

* ``vng_municipalities``: a ``PhraseMatcher`` over every CBS municipality name and alias
  (``vng_ingest/data/gemeenten_2022.csv``), case-insensitive → ``doc.spans["municipality"]``.
* ``vng_fields``: the field finders of :mod:`parsers.fields` and :mod:`parsers.dates`
  → ``doc.spans["postcode" | "street" | "date" | "places" | "phone" | "email"]``.

Every span carries the normalised value in ``span._.value`` (a :class:`parsers.fields.Found`,
:class:`parsers.dates.DateMention` or :class:`vng_ingest.refdata.Municipality`) with the
exact character offsets, so the review screen can show where each value came from.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from parsers.dates import find_dates
from parsers.fields import find_emails, find_phones, find_places, find_postcodes, find_streets
from vng_ingest.refdata import by_name, municipalities

if not Span.has_extension("value"):
    Span.set_extension("value", default=None)
if not Doc.has_extension("sent"):
    Doc.set_extension("sent", default=None)

FIELD_KEYS = ("postcode", "street", "date", "places", "phone", "email")


def _span(doc: Doc, start: int, end: int, label: str, value: object) -> Span | None:
    span = doc.char_span(start, end, label=label, alignment_mode="expand")
    if span is not None:
        span._.value = value
    return span


class FieldTagger:
    """Marks every field candidate in the text; which one an offer uses is decided later."""

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text
        found = {
            "postcode": find_postcodes(text), "street": find_streets(text), "places": find_places(text),
            "phone": find_phones(text), "email": find_emails(text),
            "date": find_dates(text, doc._.sent) if doc._.sent else [],
        }
        for key, items in found.items():
            spans = [_span(doc, item.start, item.end, key.upper(), item) for item in items]
            doc.spans[key] = [span for span in spans if span is not None]
        return doc


class MunicipalityMatcher:
    """CBS names and aliases as phrase patterns (data, not code)."""

    def __init__(self, nlp: Language):
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        names = {name for m in municipalities() for name in (m.name, *m.aliases)} | {"Den Haag"}
        self.matcher.add("MUNICIPALITY", list(nlp.tokenizer.pipe(sorted(names))))

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for _, start, end in self.matcher(doc):
            span = Span(doc, start, end, label="MUNICIPALITY")
            span._.value = by_name(span.text)
            spans.append(span)
        doc.spans["municipality"] = spacy.util.filter_spans(spans)
        return doc


@Language.factory("vng_fields")
def make_field_tagger(nlp: Language, name: str) -> FieldTagger:
    return FieldTagger()


@Language.factory("vng_municipalities")
def make_municipality_matcher(nlp: Language, name: str) -> MunicipalityMatcher:
    return MunicipalityMatcher(nlp)


@lru_cache(maxsize=1)
def pipeline() -> Language:
    nlp = spacy.blank("nl")
    nlp.add_pipe("vng_municipalities")
    nlp.add_pipe("vng_fields")
    return nlp


def analyse(text: str, sent: date | None) -> Doc:
    """Run the pipeline over a piece of a message; dates resolve against the sending day."""
    nlp = pipeline()
    doc = nlp.make_doc(text)
    doc._.sent = sent
    for _, component in nlp.pipeline:
        doc = component(doc)
    return doc


def municipality_doc(text: str) -> Doc:
    """Only the municipality names of a text (no field tagging): for questions about names alone."""
    nlp = pipeline()
    return nlp.get_pipe("vng_municipalities")(nlp.make_doc(text))


def values(doc: Doc, key: str) -> list:
    """The normalised values of one kind of span, in text order."""
    return [span._.value for span in doc.spans[key]] if key in doc.spans else []
