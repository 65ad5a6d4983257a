import pytest

from commentmine.errors import TaxonomyError
from commentmine.rules import RuleMatcher
from commentmine.taxonomy import load_taxonomy, taxonomy_from_dict


@pytest.fixture(scope="module")
def matcher():
    return RuleMatcher(load_taxonomy())


def test_phrase_and_pattern_spans(matcher):
    text = "I waited 40 minutes on hold and the agent was rude"
    hits, spans = matcher.match([text])
    names = load_taxonomy().names
    assert hits[0, names.index("hold_time")] == 1
    span = spans[0]["hold_time"]
    assert text[span.start:span.end] == span.text == "waited 40 minutes"
    assert spans[0]["rude_agent"].text == "rude"


def test_hinglish_praise(matcher):
    _, spans = matcher.match(["bahut accha service"])
    assert spans[0]["agent_praise"].text == "bahut accha"


def test_empty_and_odd_texts(matcher):
    hits, spans = matcher.match(["", "   ", "🙂🙂"])
    assert hits.sum() == 0 and spans == [{}, {}, {}]


def test_invalid_pattern_is_a_taxonomy_error():
    tax = taxonomy_from_dict({"theme": [{"name": "x", "patterns": [[{"NOT_AN_ATTR": "a"}]]}]}, "t.toml")
    with pytest.raises(TaxonomyError, match="invalid spaCy pattern"):
        RuleMatcher(tax)
