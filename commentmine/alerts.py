"""Service-recovery alerts: who should a manager call back, how soon, and why.

An alert combines a trained head (probability that a manager should call this
customer back, trained on the ``alert`` labels) with explicit reasons: rule hits
for churn, legal, public-complaint and abuse/fraud threats and for repeated
contact, a very negative sentiment score, and a low survey rating.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from .features import FeatureBlocks, join_blocks
from .rules import RuleMatcher
from .taxonomy import taxonomy_from_dict

HARD_REASONS = ("legal_threat", "public_complaint_threat", "abuse_or_harassment", "churn_threat")
VERY_NEGATIVE = -0.7
LOW_SCORE = 0.25


def alert_rules(nlp=None) -> RuleMatcher:
    """The packaged reason rules (``data/alert_rules.toml``); `nlp` shares a tokenizer with the theme rules."""
    import tomllib

    text = resources.files("commentmine.data").joinpath("alert_rules.toml").read_text("utf-8")
    return RuleMatcher(taxonomy_from_dict(tomllib.loads(text), "alert rules"), nlp)


class AlertClassifier(ClassifierMixin, BaseEstimator):
    """Alert head over shared features, sentiment probabilities and reason-rule hits.

    Parameters
    ----------
    C : float
        Inverse regularisation of the logistic head.
    target_recall : float
        The threshold is the highest one whose out-of-fold recall reaches this.
    cv : int
    random_state : int
    """

    def __init__(self, C: float = 1.0, target_recall: float = 0.9, cv: int = 5, random_state: int = 0):
        self.C = C
        self.target_recall = target_recall
        self.cv = cv
        self.random_state = random_state

    @staticmethod
    def _features(shared, sentiment_proba: np.ndarray, reason_hits: np.ndarray) -> FeatureBlocks:
        return join_blocks(shared, np.asarray(sentiment_proba, dtype=np.float32),
                           np.asarray(reason_hits, dtype=np.float32))

    def fit(self, shared, sentiment_proba, reason_hits, y) -> "AlertClassifier":
        X = self._features(shared, sentiment_proba, reason_hits).tocsr()
        y = np.asarray(y, dtype=int)
        head = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000)
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        oof = cross_val_predict(head, X, y, cv=folds, method="predict_proba")[:, 1]
        grid = np.round(np.arange(0.05, 0.951, 0.01), 3)
        ok = [t for t in grid if (oof[y == 1] >= t).mean() >= self.target_recall]
        self.threshold_ = float(max(ok)) if ok else 0.05
        pred = oof >= self.threshold_
        self.cv_metrics_ = {"precision": round(float(y[pred].mean()) if pred.any() else 0.0, 4),
                            "recall": round(float(pred[y == 1].mean()), 4), "threshold": self.threshold_}
        head.fit(X, y)
        self.coef_ = head.coef_[0].astype(np.float32)
        self.intercept_ = float(head.intercept_[0])
        self.classes_ = np.array([False, True])
        return self

    def predict_proba(self, shared, sentiment_proba, reason_hits) -> np.ndarray:
        check_is_fitted(self, "coef_")
        z = np.asarray(self._features(shared, sentiment_proba, reason_hits).dot(self.coef_)).ravel() + self.intercept_
        p = 1.0 / (1.0 + np.exp(-z))
        return np.column_stack([1 - p, p])


def decide(prob: np.ndarray, threshold: float, reason_names: list[str], reason_hits: np.ndarray,
           sentiment_scores: np.ndarray, scores: np.ndarray | None, themes: list[dict]) -> list[dict]:
    """Alert flag, priority and reasons per comment.

    Parameters
    ----------
    prob : ndarray (n,)
        Alert probability from :class:`AlertClassifier`.
    reason_names, reason_hits
        Reason rules and their (n, r) hit matrix.
    sentiment_scores : ndarray (n,)
        In [-1, 1].
    scores : ndarray (n,) or None
        Normalised survey rating in [0, 1] (NaN where missing).
    themes : list of dict
        Theme output, used to tell repeated contact from a plain "many times".
    """
    out = []
    any_hit = reason_hits.any(axis=1)
    for i in range(len(prob)):
        reasons = [reason_names[j] for j in np.flatnonzero(reason_hits[i])] if any_hit[i] else []
        if "repeated_contact_unresolved" in reasons and "unresolved_issue" not in themes[i]["themes"]:
            reasons.remove("repeated_contact_unresolved")
        if sentiment_scores[i] <= VERY_NEGATIVE:
            reasons.insert(0, "very_negative")
        low = scores is not None and not np.isnan(scores[i]) and scores[i] <= LOW_SCORE
        if low:
            reasons.append("low_score")
        hard = [r for r in reasons if r in HARD_REASONS]
        # a threat word in a calm comment ("no fraud here") needs the model or a negative tone to agree
        hard_ok = bool(hard) and (sentiment_scores[i] < 0 or prob[i] >= threshold * 0.5)
        alert = bool(prob[i] >= threshold or hard_ok or (low and sentiment_scores[i] < -0.3))
        if not alert:
            out.append({"alert": False, "alert_priority": None, "alert_reasons": []})
            continue
        if not reasons:
            reasons = ["very_negative"] if sentiment_scores[i] < 0 else ["model"]
        high = hard_ok or (low and sentiment_scores[i] <= VERY_NEGATIVE) or prob[i] >= min(0.95, threshold + 0.35)
        out.append({"alert": True, "alert_priority": "high" if high else "medium", "alert_reasons": reasons})
    return out
