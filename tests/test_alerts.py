import numpy as np

from commentmine.alerts import alert_rules, decide


def test_reason_rules():
    m = alert_rules()
    hits, spans = m.match(["I will take you to consumer court", "this is a scam, fraud company",
                           "never buy from you again", "I will post this on social media", "called 5 times"])
    names = m.taxonomy.names
    assert hits[0, names.index("legal_threat")] and hits[1, names.index("abuse_or_harassment")]
    assert hits[2, names.index("churn_threat")] and hits[3, names.index("public_complaint_threat")]
    assert spans[4]["repeated_contact_unresolved"].text == "5 times"


def _decide(prob, sent, hits=None, scores=None, themes=None):
    names = ["legal_threat", "repeated_contact_unresolved"]
    hits = np.array(hits if hits is not None else [[0, 0]] * len(prob), dtype=float)
    themes = themes or [{"themes": []} for _ in prob]
    return decide(np.array(prob), 0.5, names, hits, np.array(sent), scores, themes)


def test_decide_model_and_reasons():
    out = _decide([0.7, 0.1], [-0.95, 0.8])
    assert out[0] == {"alert": True, "alert_priority": "medium", "alert_reasons": ["very_negative"]}
    assert out[1] == {"alert": False, "alert_priority": None, "alert_reasons": []}


def test_hard_reason_is_high_priority():
    out = _decide([0.3], [-0.4], hits=[[1, 0]])
    assert out[0]["alert"] and out[0]["alert_priority"] == "high" and out[0]["alert_reasons"] == ["legal_threat"]


def test_calm_threat_word_needs_agreement():
    assert not _decide([0.05], [0.6], hits=[[1, 0]])[0]["alert"]


def test_low_score_and_repeated_contact():
    out = _decide([0.2], [-0.5], hits=[[0, 1]], scores=np.array([0.0]), themes=[{"themes": ["unresolved_issue"]}])
    assert out[0]["alert"] and out[0]["alert_reasons"] == ["repeated_contact_unresolved", "low_score"]
    out = _decide([0.2], [-0.5], hits=[[0, 1]], scores=np.array([np.nan]), themes=[{"themes": []}])
    assert not out[0]["alert"]


def test_lower_target_recall_gives_a_surer_threshold(tiny_model, tiny_data):
    from commentmine.alerts import AlertClassifier
    from conftest import ALERT

    texts = tiny_data[0]
    shared = tiny_model.features(texts)
    sent = np.zeros((len(texts), 3))
    hits = np.zeros((len(texts), 5))
    t = {r: AlertClassifier(target_recall=r, cv=2).fit(shared, sent, hits, ALERT).threshold_ for r in (0.5, 1.0)}
    assert t[0.5] >= t[1.0]
