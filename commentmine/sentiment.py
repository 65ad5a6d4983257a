"""Sentiment: a trained 3-class head (negative / neutral / positive) plus clause-level mixed detection.

The head reads the theme model's feature matrix (char n-grams, static embeddings,
rule hits) plus its own word n-grams in which words after a negation are marked
(``not bad`` -> ``not bad NEG_bad``), so "no complaints" and "not bad" read as
they are meant. ``score = P(positive) - P(negative)`` in [-1, 1]. A comment is
``mixed`` when one clause is clearly positive and another clearly negative
("agent was lovely but my refund is still stuck").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from .errors import LabelsError
from .features import FeatureBlocks, join_blocks

CLASSES = ("negative", "neutral", "positive")
POSITIVE_THEMES = frozenset({"agent_praise", "issue_resolved"})
_NEGATION = re.compile(
    r"\b(not|no|never|nothing|nobody|none|dont|don't|didn't|didnt|doesn't|doesnt|isn't|isnt|wasn't|wasnt|"
    r"can't|cant|cannot|won't|wont|couldn't|without|nahi|nhi|nahin|na)\b\s+(\w+)(\s+\w+)?", re.IGNORECASE)
_CLAUSE = re.compile(r"\s*(?:[.!?;]+|\bbut\b|\bhowever\b|\bthough\b|\balthough\b|\bwhereas\b|\bexcept\b|\blekin\b|\bpar\b)\s*",
                     re.IGNORECASE)


# words, negation-marked words, "!" / "?", emoji and ASCII emoticons
TOKEN_PATTERN = r"(?u)\b\w\w+\b|NEG_\w+|[!?]|[\U0001F300-\U0001FAFF\u2600-\u27BF]|[:;]-?[)(DPp]"


def word_vectorizer() -> TfidfVectorizer:
    """The sentiment head's own word 1-2-gram TF-IDF (unfitted)."""
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32,
                           token_pattern=TOKEN_PATTERN)


def mark_negation(text: str) -> str:
    """Append ``NEG_word`` tokens for the one or two words after a negation."""
    return _NEGATION.sub(lambda m: m.group(0) + " " + " ".join("NEG_" + w for w in m.group(0).split()[1:]), text)


def clauses(text: str) -> list[tuple[int, int]]:
    """Character spans of the clauses of `text`, split at sentence ends and contrast words."""
    spans, start = [], 0
    for m in _CLAUSE.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [s for s in spans if text[s[0]:s[1]].strip()]


class SentimentClassifier(ClassifierMixin, BaseEstimator):
    """3-class sentiment head over shared features plus negation-marked word n-grams.

    Parameters
    ----------
    C : float
        Inverse regularisation of the multinomial logistic regression.
    class_weight : "balanced" or None
        "balanced" favours the rarer classes (+1 point macro-F1 on tweets in our runs, -1 on survey comments).
    mixed_threshold : float
        A clause counts as clearly positive / negative above this probability.
    """

    def __init__(self, C: float = 2.0, class_weight: str | None = None, mixed_threshold: float = 0.6):
        self.C = C
        self.class_weight = class_weight
        self.mixed_threshold = mixed_threshold

    def _features(self, texts: list[str], shared) -> FeatureBlocks:
        words = self.vectorizer_.transform([mark_negation(t) for t in texts])
        return FeatureBlocks([words]) if shared is None else join_blocks(words, shared)

    def fit(self, texts: Sequence[str], y: Sequence[str], shared: sp.spmatrix, sample_weight=None) -> "SentimentClassifier":
        """Fit on texts, labels in {negative, neutral, positive} and the theme model's features."""
        texts = list(texts)
        bad = sorted({v for v in y if v not in CLASSES})
        if bad:
            raise LabelsError(f"sentiment labels {bad} are not one of {list(CLASSES)}; map or drop them")
        self.vectorizer_ = word_vectorizer().fit([mark_negation(t) for t in texts])
        head = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=3000).fit(self._features(texts, shared).tocsr(), list(y),
                                                               sample_weight=sample_weight)
        self.classes_ = head.classes_
        self.coef_ = head.coef_.astype(np.float32)
        self.intercept_ = head.intercept_.astype(np.float32)
        return self

    def predict_proba(self, texts: Sequence[str], shared: sp.spmatrix) -> np.ndarray:
        check_is_fitted(self, "coef_")
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        logits = self._features(texts, shared).dot(self.coef_.T) + self.intercept_
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str], shared: sp.spmatrix) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(texts, shared), axis=1)]

    def score_comments(self, texts: list[str], shared: sp.spmatrix, themes: list[dict],
                       featurize, proba: np.ndarray | None = None) -> list[dict]:
        """Sentiment label, score and per-theme polarity for each comment.

        Parameters
        ----------
        texts : list of str
        shared : sparse matrix
            The theme model's features of `texts`.
        themes : list of dict
            The theme model's output for `texts` (``themes``, ``evidence``).
        featurize : callable
            ``featurize(list[str]) -> sparse matrix``, the theme model's features, for clauses.
        proba : ndarray, optional
            ``predict_proba(texts, shared)`` if the caller already has it.
        """
        P = proba if proba is not None else self.predict_proba(texts, shared)
        ci = {c: i for i, c in enumerate(self.classes_)}
        neg, pos = P[:, ci["negative"]], P[:, ci["positive"]]
        labels = self.classes_[np.argmax(P, axis=1)].astype(object)
        # clause-level scoring only where polarity can differ inside the comment: a two-sided probability,
        # or a praise theme next to a complaint theme
        todo, clause_texts, owners = [], [], []
        for i, text in enumerate(texts):
            names = themes[i]["themes"]
            two_sided = min(neg[i], pos[i]) > 0.1 or (
                any(n in POSITIVE_THEMES for n in names) and any(n not in POSITIVE_THEMES for n in names))
            if not two_sided:
                continue
            spans = clauses(text)
            if len(spans) > 1:
                todo.append((i, spans))
                for a, b in spans:
                    clause_texts.append(text[a:b])
                    owners.append(i)
        clause_p = self.predict_proba(clause_texts, featurize(clause_texts)) if clause_texts else np.zeros((0, 3))
        out = [{"sentiment": str(labels[i]), "sentiment_score": round(float(pos[i] - neg[i]), 4),
                "theme_sentiment": {}} for i in range(len(texts))]
        k = 0
        t = self.mixed_threshold
        for i, spans in todo:
            cp = clause_p[k:k + len(spans)]
            k += len(spans)
            if cp[:, ci["positive"]].max() > t and cp[:, ci["negative"]].max() > t:
                out[i]["sentiment"] = "mixed"
            for name, ev in themes[i]["evidence"].items():
                where = texts[i].find(ev)
                j = next((n for n, (a, b) in enumerate(spans) if a <= where < b), None) if where >= 0 else None
                if j is not None:
                    out[i]["theme_sentiment"][name] = str(self.classes_[int(np.argmax(cp[j]))])
        for i, r in enumerate(out):
            for name in themes[i]["themes"]:
                ts = r["theme_sentiment"].get(name)
                prior = "positive" if name in POSITIVE_THEMES else "negative"
                # a clause read as neutral falls back to what the theme itself says
                if ts is None or ts == "neutral":
                    ts = prior if r["sentiment"] in ("mixed", "neutral") or r["sentiment"] == prior else r["sentiment"]
                r["theme_sentiment"][name] = ts
            r["theme_sentiment"] = {n: r["theme_sentiment"][n] for n in themes[i]["themes"]}
            if r["sentiment"] != "mixed":
                polar = set(r["theme_sentiment"].values()) & {"positive", "negative"}
                if len(polar) == 2 and min(neg[i], pos[i]) > 0.15:
                    r["sentiment"] = "mixed"
        return out
