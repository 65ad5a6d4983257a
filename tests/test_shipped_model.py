"""Checks of the real shipped model and the bundled MiniLM (slow; CI runs them)."""

import numpy as np
import pytest

from commentmine.model import default_model_path, load_model
from commentmine.training import evaluate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped():
    return load_model(default_model_path())


def test_shipped_model_loads_and_tags(shipped):
    out = shipped.tag(["I was on hold for 45 minutes and the call got disconnected",
                       "Agent Priya was very polite and helpful, my issue got resolved",
                       "They transferred me to three departments"])
    assert {"hold_time", "call_quality"} <= set(out[0]["themes"])
    assert {"agent_praise", "issue_resolved"} <= set(out[1]["themes"])
    assert "transfer_routing" in out[2]["themes"]


def test_shipped_model_on_dev_set(shipped, shared_data):
    result = evaluate(shipped, shared_data / "survey_comments_dev_labeled.jsonl")
    # a regression guard: the measured numbers are in the model card and the closing notes
    assert result["macro_f1"] >= 0.70 and result["micro_f1"] >= 0.77


def test_bundled_minilm_is_verified_and_offline():
    pytest.importorskip("sentence_transformers")
    from commentmine.encoders import load_minilm

    model = load_minilm()
    emb = model.encode(["the agent was helpful"])
    assert emb.shape == (1, 384) and np.isfinite(emb).all()


@pytest.mark.parametrize("text, expected", [
    ("no complaints", "positive"), ("not bad", "positive"), ("could have been better", "negative"),
    ("bahut accha", "positive"), ("agent was lovely but my refund is still stuck", "mixed"),
    ("the executive was rude and I am still waiting for my refund", "negative"),
])
def test_contact_center_phrasing(shipped, text, expected):
    from commentmine.pipeline import analyze

    assert analyze([text], shipped)[0]["sentiment"] == expected


def test_alerts_for_threats(shipped):
    from commentmine.pipeline import analyze

    out = analyze(["I will file a case in consumer court, this is fraud", "very polite agent, thanks"], shipped)
    assert out[0]["alert"] and out[0]["alert_priority"] == "high" and "legal_threat" in out[0]["alert_reasons"]
    assert not out[1]["alert"]


def test_sentiment_and_alerts_on_dev_set(shipped, shared_data):
    result = evaluate(shipped, shared_data / "survey_comments_dev_labeled.jsonl")
    assert result["sentiment"]["macro_f1_3class"] >= 0.85
    assert result["alerts"]["recall"] >= 0.85


def test_shipped_accurate_sentiment(shared_data):
    pytest.importorskip("peft")
    from commentmine.pipeline import analyze

    accurate = load_model(default_model_path(), sentiment="accurate")
    texts = ["no complaints", "not bad", "could have been better", "bahut accha", "worst service ever"]
    assert [r["sentiment"] for r in analyze(texts, accurate)] == ["positive", "positive", "negative", "positive",
                                                                 "negative"]
    result = evaluate(accurate, shared_data / "survey_comments_dev_labeled.jsonl")
    assert result["sentiment"]["accurate_macro_f1_3class"] >= 0.85
