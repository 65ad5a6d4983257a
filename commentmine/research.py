"""Researcher tools: compare models, find label errors, pick comments to label, discover new themes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.model_selection import StratifiedKFold

from .model import load_model
from .themes import ThemeClassifier
from .training import Labeled, read_labels


def _indicator(labels: list[list[str]], names: list[str]) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    Y = np.zeros((len(labels), len(names)), dtype=np.int8)
    for r, ls in enumerate(labels):
        for label in ls:
            if label in index:
                Y[r, index[label]] = 1
    return Y


def _f1s(Y: np.ndarray, P: np.ndarray) -> np.ndarray:
    tp = (Y & P).sum(0)
    denom = Y.sum(0) + P.sum(0)
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), np.nan)


def compare(labels_path: str | Path, model_a, model_b, n_boot: int = 1000, seed: int = 0) -> dict:
    """Per-theme and macro F1 of two models on the same labels, with bootstrap 95% intervals
    and a paired bootstrap test of the macro-F1 difference (share of resamples where it flips sign)."""
    data = read_labels(labels_path)
    models = [m if isinstance(m, ThemeClassifier) else load_model(m) for m in (model_a, model_b)]
    names = [n for n in models[0].classes_ if n in set(models[1].classes_)]
    Y = _indicator(data.themes, names)
    preds = []
    for m in models:
        cols = [list(m.classes_).index(n) for n in names]
        preds.append(m.predict(data.texts)[:, cols].astype(np.int8))
    present = Y.sum(0) > 0
    rng = np.random.default_rng(seed)
    boots = np.zeros((n_boot, 2, len(names)))
    for b in range(n_boot):
        idx = rng.integers(0, len(Y), len(Y))
        for k in range(2):
            boots[b, k] = _f1s(Y[idx], preds[k][idx])
    macro_boot = np.nanmean(boots[:, :, present], axis=2)
    diff = macro_boot[:, 1] - macro_boot[:, 0]
    point = [_f1s(Y, p) for p in preds]
    out = {"n": len(Y), "themes": {}, "models": [str(getattr(m, "path_", "A")) for m in models]}
    for j, name in enumerate(names):
        ci = [np.nanpercentile(boots[:, k, j], [2.5, 97.5]).round(4).tolist() for k in range(2)]
        out["themes"][name] = {"support": int(Y[:, j].sum()), "f1_a": _r(point[0][j]), "f1_b": _r(point[1][j]),
                               "ci_a": ci[0], "ci_b": ci[1]}
    macro = [float(np.nanmean(p[present])) for p in point]
    out["macro_f1_a"], out["macro_f1_b"] = round(macro[0], 4), round(macro[1], 4)
    out["macro_ci_a"] = np.percentile(macro_boot[:, 0], [2.5, 97.5]).round(4).tolist()
    out["macro_ci_b"] = np.percentile(macro_boot[:, 1], [2.5, 97.5]).round(4).tolist()
    out["diff_b_minus_a"] = round(macro[1] - macro[0], 4)
    out["diff_ci"] = np.percentile(diff, [2.5, 97.5]).round(4).tolist()
    out["p_value"] = round(float(min(1.0, 2 * min((diff <= 0).mean(), (diff >= 0).mean()))), 4)
    return out


def _r(x) -> float | None:
    return None if np.isnan(x) else round(float(x), 4)


def out_of_fold(data: Labeled, folds: int = 5, seed: int = 0, **params) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold theme probabilities for every labeled comment (each scored by a model that never saw it)."""
    names: list[str] = []
    model = ThemeClassifier(random_state=seed, **params)
    texts = data.texts
    strata = np.array([len(t) > 0 for t in data.themes], dtype=int)
    P = None
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, strata):
        m = ThemeClassifier(**{**model.get_params(), "cv": 3}).fit([texts[i] for i in tr], [data.themes[i] for i in tr])
        proba = m.decision_scores([texts[i] for i in te])
        if P is None:
            P = np.zeros((len(texts), proba.shape[1]))
            names = [str(c) for c in m.classes_]
        P[te] = proba
    return P, names


def label_issues(labels_path: str | Path, folds: int = 5, seed: int = 0, top: int = 50, **params) -> list[dict]:
    """Probable label errors, confident-learning style: labels that out-of-fold scores contradict most.

    A given label with a very low out-of-fold score suggests removing it; a missing label with a very
    high score suggests adding it. Ranked by how far the score sits on the wrong side of 0.5.
    """
    data = read_labels(labels_path)
    P, names = out_of_fold(data, folds, seed, **params)
    Y = _indicator(data.themes, names)
    issues = []
    for i in range(len(Y)):
        for j, name in enumerate(names):
            if Y[i, j] and P[i, j] < 0.15:
                issues.append((0.5 - P[i, j], i, name, "remove"))
            elif not Y[i, j] and P[i, j] > 0.85:
                issues.append((P[i, j] - 0.5, i, name, "add"))
    issues.sort(key=lambda t: -t[0])
    out = []
    for margin, i, name, action in issues[:top]:
        rec = data.records[i]
        suggested = sorted({n for n, y in zip(names, Y[i]) if y} - {name}) if action == "remove" else \
            sorted({n for n, y in zip(names, Y[i]) if y} | {name})
        out.append({"id": rec.get("id", i + 1), "text": data.texts[i], "given": data.themes[i], "action": action,
                    "theme": name, "oof_score": round(float(P[i, names.index(name)]), 4),
                    "suggested": suggested, "confidence": round(float(margin) * 2, 4)})
    return out


def suggest_labels(texts: list[str], model: ThemeClassifier, n: int = 100, seed: int = 0) -> list[dict]:
    """Comments to label next: the most uncertain (scores nearest 0.5), spread over k-means clusters
    of their embeddings so the batch is diverse."""
    scores = model.decision_scores(texts)
    uncertainty = 1 - 2 * np.abs(scores - 0.5).min(axis=1)
    keep = np.array([bool(t.strip()) for t in texts])
    pool = np.flatnonzero(keep)
    pool = pool[np.argsort(-uncertainty[pool])][: max(n * 5, n)]
    if len(pool) <= n:
        chosen = pool
    else:
        emb = _embed(model, [texts[i] for i in pool])
        k = min(n, len(pool))
        clusters = KMeans(k, n_init=1, random_state=seed).fit_predict(emb)
        chosen = []
        for c in range(k):
            members = pool[clusters == c]
            if len(members):
                chosen.append(members[np.argmax(uncertainty[members])])
        chosen = np.array(chosen[:n])
    names = [str(c) for c in model.classes_]
    return [{"id": int(i) + 1, "text": texts[i], "uncertainty": round(float(uncertainty[i]), 4),
             "themes": [], "model_themes": [names[j] for j in np.flatnonzero(scores[i] >= 0.5)]}
            for i in sorted(chosen, key=lambda i: -uncertainty[i])]


def _embed(model: ThemeClassifier, texts: list[str]) -> np.ndarray:
    if model.encoder_ is not None:
        return model.encoder_.encode(texts)
    from sklearn.decomposition import TruncatedSVD

    X = model.word_vectorizer_.transform(texts)
    return TruncatedSVD(min(32, X.shape[1] - 1), random_state=0).fit_transform(X)


_TOKEN = re.compile(r"[a-z][a-z]{2,}")


def discover(texts: list[str], model: ThemeClassifier, min_size: int = 30, n_clusters: int = 40,
             max_score: float = 0.5, seed: int = 0) -> list[dict]:
    """Candidate new themes among comments the taxonomy covers weakly.

    Comments with no theme scoring above `max_score` (and at least three words) are embedded and
    clustered with k-means; clusters of at least `min_size` become candidates, with their most
    distinctive words (c-TF-IDF against all weak comments), size, examples and a TOML snippet.
    """
    texts = list(dict.fromkeys(t.strip() for t in texts if len(t.split()) >= 5))
    scores = model.decision_scores(texts)
    weak = [t for t, s in zip(texts, scores.max(axis=1)) if s < max_score]
    if len(weak) < min_size:
        return []
    emb = _embed(model, weak)
    k = max(2, min(n_clusters, len(weak) // min_size))
    labels = KMeans(k, n_init=3, random_state=seed).fit_predict(emb)
    stop = set(ENGLISH_STOP_WORDS) | {"shopzilla", "customer", "service", "please", "product", "order", "good",
                                      "bad", "very", "nice", "thank", "thanks"}
    vec = CountVectorizer(token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]{2,}\b", stop_words=list(stop), min_df=2,
                          ngram_range=(1, 2))
    counts = vec.fit_transform(weak)
    vocab = np.array(vec.get_feature_names_out())
    total = np.asarray(counts.sum(0)).ravel() + 1
    out = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if len(members) < min_size:
            continue
        tf = np.asarray(counts[members].sum(0)).ravel()
        # class-based TF-IDF (as in BERTopic): frequent in this cluster, rare across the weak comments
        score = np.where(tf >= 3, tf / max(tf.sum(), 1) * np.log1p(total.mean() / total), 0.0)
        words = [str(w) for w, sc in zip(vocab[np.argsort(-score)][:6], np.sort(score)[::-1][:6]) if sc > 0]
        if not words:
            continue
        centre = emb[members].mean(0)
        order = members[np.argsort(-(emb[members] @ centre))]
        name = re.sub(r"[^a-z0-9]+", "_", "_".join(words[:2]).lower()).strip("_") or f"cluster_{c}"
        out.append({"name": name, "size": int(len(members)), "keywords": words,
                    "examples": [weak[i][:200] for i in order[:5]],
                    "toml": f'[[theme]]\nname = "{name}"\ndescription = "TODO: {", ".join(words[:4])}"\n'
                            f'phrases = [{", ".join(repr(w).replace(chr(39), chr(34)) for w in words[:6])}]\n'})
    out.sort(key=lambda d: -d["size"])
    return out
