"""The spaCy pipeline: blank Dutch with our own components, spans carrying normalised values."""

from datetime import date

from parsers.nlp import analyse, pipeline, values


def test_pipeline_is_blank_dutch_with_our_components():
    nlp = pipeline()
    assert nlp.lang == "nl"
    assert nlp.pipe_names == ["vng_municipalities", "vng_fields"]


def test_fields_become_spans_with_values_and_exact_offsets():
    text = ("3. Raalte (kern Heino) - groepsaccommodatie Het Lageveld, Schoolstraat 19, 8141 BJ Heino\n"
            "   beschikbaar: vanaf 21 maart tot 21 juni, capaciteit: 25 personen, tel. 06-22159043")
    doc = analyse(text, date(2022, 3, 9))
    assert [p.value for p in values(doc, "postcode")] == ["8141 BJ"]
    assert [s.value for s in values(doc, "street")] == ["Schoolstraat 19"]
    assert [(d.role, d.value) for d in values(doc, "date")] == [("from", "2022-03-21"), ("until", "2022-06-21")]
    assert [p.value for p in values(doc, "places")] == [25]
    assert [p.value for p in values(doc, "phone")] == ["+31622159043"]
    postcode = values(doc, "postcode")[0]
    assert text[postcode.start:postcode.end] == "8141 BJ"
    assert [span.label_ for span in doc.spans["places"]] == ["PLACES"]


def test_municipality_names_and_aliases_match_case_insensitively():
    doc = analyse("Namens de gemeente den haag en Súdwest Fryslân, niet Heino.", None)
    assert [span._.value.name for span in doc.spans["municipality"]] == ["'s-Gravenhage", "Súdwest-Fryslân"]


def test_without_a_sending_day_no_dates_are_resolved():
    assert values(analyse("per 1 april", None), "date") == []
