import numpy as np
import pytest

from commentmine.errors import LabelsError
from commentmine.sentiment import SentimentClassifier, clauses, mark_negation


def test_mark_negation():
    assert mark_negation("not bad at all") == "not bad at NEG_bad NEG_at all"
    assert "NEG_complaints" in mark_negation("no complaints")


def test_clauses_split_on_contrast():
    text = "agent was lovely but my refund is still stuck. Thanks"
    parts = [text[a:b] for a, b in clauses(text)]
    assert parts == ["agent was lovely", "my refund is still stuck", "Thanks"]
    assert clauses("") == []


def test_sentiment_head_on_tiny_model(tiny_model, tiny_data):
    texts, _ = tiny_data
    head = tiny_model.sentiment_
    P = head.predict_proba(texts, tiny_model.features(texts))
    assert P.shape == (len(texts), 3) and np.allclose(P.sum(1), 1)


def test_mixed_and_theme_sentiment(tiny_model):
    from commentmine.pipeline import analyze

    out = analyze(["the agent was very polite and helpful but my refund for the damaged product is late"],
                  tiny_model)[0]
    assert -1 <= out["sentiment_score"] <= 1
    assert set(out["theme_sentiment"]) == set(out["themes"])
    if {"agent_praise", "policy_process"} <= set(out["themes"]):
        assert out["theme_sentiment"]["agent_praise"] == "positive"
        assert out["theme_sentiment"]["policy_process"] == "negative"


def test_bad_labels():
    with pytest.raises(LabelsError, match="not one of"):
        SentimentClassifier().fit(["a", "b"], ["good", "bad"], None)
