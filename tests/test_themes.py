import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from commentmine.encoders import HashEncoder
from commentmine.errors import LabelsError
from commentmine.themes import ThemeClassifier, best_threshold, rescale


def test_estimator_contract(tiny_data):
    est = ThemeClassifier(encoder=HashEncoder(8), C=2.0, cv=2, min_examples=3)
    assert est.get_params()["C"] == 2.0
    assert not [k for k in vars(est) if k.endswith("_")]
    twin = clone(est)
    assert twin.get_params()["C"] == 2.0
    texts, labels = tiny_data
    assert est.fit(texts, labels) is est
    assert est.coef_.shape[0] == len(est.classes_)


def test_unfitted_raises():
    with pytest.raises(NotFittedError):
        ThemeClassifier(encoder=None).predict(["x"])


def test_predicts_and_explains(tiny_model):
    out = tiny_model.tag(["I was on hold for an hour, so long wait", "very polite and helpful agent", ""])
    assert "hold_time" in out[0]["themes"]
    assert "agent_praise" in out[1]["themes"]
    assert out[2] == {"themes": [], "theme_scores": {}, "evidence": {}}
    for r in out:
        for name in r["themes"]:
            assert 0.5 <= r["theme_scores"][name] <= 1.0
            assert r["evidence"][name]


def test_deterministic(tiny_data):
    texts, labels = tiny_data
    a = ThemeClassifier(encoder=HashEncoder(8), cv=2, min_examples=3).fit(texts, labels)
    b = ThemeClassifier(encoder=HashEncoder(8), cv=2, min_examples=3).fit(texts, labels)
    np.testing.assert_array_equal(a.predict_proba(texts), b.predict_proba(texts))


def test_rule_only_theme_for_rare_labels(tiny_model):
    names = list(tiny_model.classes_)
    j = names.index("transfer_routing")
    assert not tiny_model.trained_[j]
    out = tiny_model.tag(["they transferred me to another department three times"])
    assert "transfer_routing" in out[0]["themes"]
    assert out[0]["evidence"]["transfer_routing"].lower().startswith("transfer")


def test_unknown_label_is_clear(tiny_data):
    with pytest.raises(LabelsError, match="'billing' is not in the taxonomy"):
        ThemeClassifier(encoder=None, cv=2).fit(["a", "b"], [["billing"], []])


def test_rescale_puts_threshold_at_half():
    p = np.array([[0.0, 0.2, 0.3, 1.0]])
    s = rescale(p, np.array([0.2, 0.2, 0.2, 0.2]))
    assert s[0, 0] == 0 and s[0, 1] == pytest.approx(0.5) and s[0, 3] == 1.0 and s[0, 2] > 0.5


def test_best_threshold_separable():
    y = np.array([0, 0, 1, 1])
    t, m = best_threshold(y, np.array([0.1, 0.2, 0.8, 0.9]))
    assert 0.2 < t <= 0.8 and m["f1"] == 1.0


def test_works_in_gridsearch(tiny_data):
    from sklearn.model_selection import GridSearchCV

    texts, labels = tiny_data
    est = ThemeClassifier(encoder=HashEncoder(8), cv=2, min_examples=3)
    Y = est.fit(texts, labels).predict(texts) * 0
    names = list(est.classes_)
    for i, ls in enumerate(labels):
        for name in ls:
            Y[i, names.index(name)] = 1
    search = GridSearchCV(est, {"C": [1.0, 4.0]}, cv=2, scoring="f1_micro").fit(texts * 2, np.vstack([Y, Y]))
    assert search.best_params_["C"] in (1.0, 4.0)
