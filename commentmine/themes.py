"""The theme classifier: rules + word/char TF-IDF + static embeddings, one linear head per theme.

It follows the scikit-learn estimator contract: ``__init__`` only stores
parameters, ``fit`` returns ``self`` and fitted attributes end in ``_``, so it
works with ``clone``, ``Pipeline`` and ``GridSearchCV``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from .errors import LabelsError
from .features import FeatureBlocks
from .rules import RuleMatcher
from .taxonomy import Taxonomy, load_taxonomy

ENCODER_STATIC = "minilm-static"


def _as_texts(X) -> list[str]:
    return ["" if t is None or (isinstance(t, float) and t != t) else str(t) for t in X]


def rescale(proba: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Map probabilities monotonically to [0, 1] so that each theme's threshold lands on 0.5."""
    t = np.clip(thresholds, 1e-6, 1 - 1e-6)
    low = 0.5 * proba / t
    high = 0.5 + 0.5 * (proba - t) / (1 - t)
    return np.clip(np.where(proba < t, low, high), 0.0, 1.0)


def best_threshold(y: np.ndarray, p: np.ndarray) -> tuple[float, dict]:
    """Threshold maximising F1 on out-of-fold probabilities; the middle of the near-best plateau."""
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3)
    stats = []
    for t in grid:
        pred = p >= t
        tp = float(np.sum(pred & (y == 1)))
        prec = tp / max(pred.sum(), 1)
        rec = tp / max((y == 1).sum(), 1)
        f1 = 2 * prec * rec / max(prec + rec, 1e-12)
        stats.append((f1, prec, rec))
    f1s = np.array([s[0] for s in stats])
    near = np.flatnonzero(f1s >= f1s.max() - 0.01)
    i = int(near[len(near) // 2])
    f1, prec, rec = stats[i]
    return float(grid[i]), {"f1": round(f1, 4), "precision": round(prec, 4), "recall": round(rec, 4),
                            "support": int((y == 1).sum())}


class ThemeClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label theme classifier with per-theme thresholds and evidence spans.

    Parameters
    ----------
    taxonomy : Taxonomy or None
        Themes to predict; ``None`` uses the packaged default.
    encoder : object with ``encode(list[str]) -> ndarray``, ``"minilm-static"`` or None
        Sentence embeddings added to the features. ``"minilm-static"`` distills
        static embeddings from the bundled all-MiniLM-L6-v2 during ``fit``.
    C : float
        Inverse regularisation strength of each logistic head.
    word_ngram_range, char_ngram_range : tuple of int
        N-gram ranges of the word TF-IDF and the hashed char TF-IDF blocks.
    char_features : int
        Hash space of the char n-grams.
    rule_weight, embed_weight : float
        Scale of the rule-hit and embedding blocks relative to TF-IDF.
    min_examples : int
        Themes with fewer positive examples are predicted from their rules alone.
    cv : int
        Folds used to pick each theme's threshold from out-of-fold probabilities.
    random_state : int
    """

    def __init__(self, taxonomy: Taxonomy | None = None, encoder=ENCODER_STATIC, C: float = 8.0,
                 word_ngram_range=(1, 2), char_ngram_range=(3, 4), char_features: int = 2**18,
                 rule_weight: float = 1.0, embed_weight: float = 1.0, min_examples: int = 8,
                 cv: int = 5, random_state: int = 0):
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.C = C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.char_features = char_features
        self.rule_weight = rule_weight
        self.embed_weight = embed_weight
        self.min_examples = min_examples
        self.cv = cv
        self.random_state = random_state

    # ------------------------------------------------------------------ features
    def _char_hasher(self) -> HashingVectorizer:
        return HashingVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngram_range),
                                 n_features=self.char_features, alternate_sign=False, norm=None,
                                 dtype=np.float32)

    def _features(self, texts: list[str], rule_hits: np.ndarray) -> FeatureBlocks:
        blocks = [self.word_vectorizer_.transform(texts),
                  self.char_tfidf_.transform(self._char_hasher().transform(texts)),
                  rule_hits * np.float32(self.rule_weight)]
        if self.encoder_ is not None:
            blocks.append(self.encoder_.encode(texts) * np.float32(self.embed_weight))
        return FeatureBlocks(blocks)

    # ----------------------------------------------------------------------- fit
    def _label_matrix(self, y, names: list[str]) -> np.ndarray:
        if isinstance(y, np.ndarray) and y.ndim == 2:
            if y.shape[1] != len(names):
                raise LabelsError(f"label matrix has {y.shape[1]} columns but the taxonomy has {len(names)} themes")
            return (y > 0).astype(np.int8)
        index = {n: i for i, n in enumerate(names)}
        Y = np.zeros((len(y), len(names)), dtype=np.int8)
        for row, labels in enumerate(y):
            for label in labels:
                if label not in index:
                    raise LabelsError(f"label row {row + 1}: theme {label!r} is not in the taxonomy; "
                                      "add it to the taxonomy file or fix the label")
                Y[row, index[label]] = 1
        return Y

    def fit(self, X: Sequence[str], y, sample_weight=None) -> "ThemeClassifier":
        """Fit from texts and labels (lists of theme names, or an indicator matrix)."""
        texts = _as_texts(X)
        self.taxonomy_ = self.taxonomy if self.taxonomy is not None else load_taxonomy()
        self.classes_ = np.array(self.taxonomy_.names)
        Y = self._label_matrix(y, list(self.classes_))
        if len(texts) != len(Y):
            raise LabelsError(f"{len(texts)} texts but {len(Y)} label rows")
        if self.encoder == ENCODER_STATIC:
            from .encoders import StaticEncoder, distill_static

            self.encoder_ = StaticEncoder(distill_static())
        else:
            self.encoder_ = self.encoder
        self.rules_ = RuleMatcher(self.taxonomy_)
        rule_hits, _ = self.rules_.match(texts)
        self.word_vectorizer_ = TfidfVectorizer(ngram_range=tuple(self.word_ngram_range), min_df=2,
                                                sublinear_tf=True, dtype=np.float32).fit(texts)
        self.char_tfidf_ = TfidfTransformer(sublinear_tf=True).fit(self._char_hasher().transform(texts))
        F = self._features(texts, rule_hits).tocsr()

        k = len(self.classes_)
        self.trained_ = np.array([Y[:, j].sum() >= self.min_examples and Y[:, j].sum() < len(Y) for j in range(k)])
        self.coef_ = np.zeros((k, F.shape[1]), dtype=np.float32)
        self.intercept_ = np.zeros(k, dtype=np.float32)
        self.thresholds_ = np.full(k, 0.5, dtype=np.float32)
        self.cv_metrics_ = {}
        for j in np.flatnonzero(self.trained_):
            head = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000)
            folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
            fit_params = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight)}
            oof = cross_val_predict(head, F, Y[:, j], cv=folds, method="predict_proba", params=fit_params)[:, 1]
            self.thresholds_[j], self.cv_metrics_[self.classes_[j]] = best_threshold(Y[:, j], oof)
            head.fit(F, Y[:, j], **fit_params)
            self.coef_[j] = head.coef_[0]
            self.intercept_[j] = head.intercept_[0]
        self.n_features_ = F.shape[1]
        return self

    # ------------------------------------------------------------------- predict
    def _proba_and_spans(self, texts: list[str], docs=None):
        if not texts:
            return np.zeros((0, len(self.classes_))), [], sp.csr_matrix((0, self.n_features_))
        rule_hits, spans = self.rules_.match(texts, docs)
        F = self._features(texts, rule_hits)
        logits = F.dot(self.coef_.T) + self.intercept_
        proba = 1.0 / (1.0 + np.exp(-logits))
        # a theme without a trained head scores from its rules alone
        rule_only = ~self.trained_
        proba[:, rule_only] = rule_hits[:, rule_only] * self.taxonomy_.rule_score
        return proba, spans, F

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Probability of each theme, shape (n_texts, n_themes)."""
        check_is_fitted(self, "coef_")
        return self._proba_and_spans(_as_texts(X))[0]

    def decision_scores(self, X: Sequence[str]) -> np.ndarray:
        """Scores in [0, 1] where 0.5 is each theme's threshold."""
        check_is_fitted(self, "coef_")
        return rescale(self.predict_proba(X), self.thresholds_)

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """Indicator matrix (n_texts, n_themes) of predicted themes."""
        return (self.decision_scores(X) >= 0.5).astype(np.int8)

    def features(self, X: Sequence[str]) -> FeatureBlocks:
        """The feature matrix the heads see (word, char, rule and embedding blocks)."""
        check_is_fitted(self, "coef_")
        texts = _as_texts(X)
        return self._features(texts, self.rules_.match(texts)[0])

    def tag(self, X: Sequence[str], return_features: bool = False):
        """Themes, scores and evidence spans for each text.

        Returns
        -------
        list of dict with keys ``themes`` (list of names), ``theme_scores``
        (name -> score, predicted themes only) and ``evidence`` (name -> span text);
        with `return_features`, also the feature matrix and the spaCy Docs, for heads that share them.
        """
        check_is_fitted(self, "coef_")
        texts = _as_texts(X)
        if not texts:
            return ([], sp.csr_matrix((0, self.n_features_)), []) if return_features else []
        docs = self.rules_.tokenize(texts) if return_features else None
        proba, spans, F = self._proba_and_spans(texts, docs)
        scores = rescale(proba, self.thresholds_)
        pred = scores >= 0.5
        empty = np.array([not t.strip() for t in texts], dtype=bool)
        pred[empty] = False
        W = F.blocks[0]
        vocab = self._inverse_vocab()
        out = []
        for i, text in enumerate(texts):
            names, sc, ev = [], {}, {}
            for j in np.flatnonzero(pred[i]):
                name = str(self.classes_[j])
                names.append(name)
                sc[name] = round(float(scores[i, j]), 4)
                ev[name] = self._evidence(text, spans[i].get(name), W, i, j, vocab)
            out.append({"themes": names, "theme_scores": sc, "evidence": ev})
        return (out, F, docs) if return_features else out

    def _inverse_vocab(self) -> np.ndarray:
        if getattr(self, "_inv_vocab", None) is None:
            inv = np.empty(len(self.word_vectorizer_.vocabulary_), dtype=object)
            for term, idx in self.word_vectorizer_.vocabulary_.items():
                inv[idx] = term
            self._inv_vocab = inv
        return self._inv_vocab

    def _evidence(self, text: str, hit, W: sp.csr_matrix, i: int, j: int, vocab: np.ndarray) -> str:
        """The rule span if a rule fired, else the word n-gram that pushed the theme most."""
        if hit is not None:
            return hit.text
        lo, hi = W.indptr[i], W.indptr[i + 1]
        if hi > lo:
            idx = W.indices[lo:hi]
            contrib = W.data[lo:hi] * self.coef_[j, idx]
            k = int(np.argmax(contrib))
            if contrib[k] > 0:
                term = vocab[idx[k]]
                pattern = r"\W+".join(re.escape(w) for w in term.split())
                m = re.search(pattern, text, flags=re.IGNORECASE)
                return m.group(0) if m else term
        return text.strip()[:80]
