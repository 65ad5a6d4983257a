"""Model folders: save and load a :class:`ThemeClassifier` without pickle.

A model folder holds
- ``config.json``: estimator parameters and the word vocabulary,
- ``weights.safetensors``: linear heads, thresholds and IDF vectors,
- ``heads.safetensors``: sentiment, alert and preference-gate heads, when trained,
- ``sentiment-accurate/``: LoRA adapter of the opt-in fine-tuned MiniLM sentiment head, when trained,
- ``taxonomy.toml``: the themes the model was trained with,
- ``encoder/``: static embeddings (model2vec, safetensors), when used,
- ``meta.json``: versions, training-data hash, metrics and the sha256 of every file,
- ``README.md``: the model card.
Loading checks every file against ``meta.json`` so a corrupt or tampered folder
fails with a clear message instead of loading silently.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
import tomli_w
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

from .encoders import HashEncoder, StaticEncoder, sha256_file
from .errors import CommentmineError, ModelError
from .rules import RuleMatcher
from .taxonomy import load_taxonomy
from .themes import ThemeClassifier

FORMAT_VERSION = 1
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "themes-default"
_PACKAGES = ("commentmine", "scikit-learn", "spacy", "numpy", "scipy", "model2vec", "safetensors", "torch",
             "sentence-transformers")


def default_model_path() -> Path:
    """The shipped model: ``$COMMENTMINE_MODEL`` if set, else ``models/themes-default``."""
    return Path(os.environ.get("COMMENTMINE_MODEL", DEFAULT_MODEL))


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def save_model(model: ThemeClassifier, folder: str | Path, meta: dict | None = None, card: str = "") -> Path:
    """Write `model` as a model folder (atomically: built aside, then renamed into place)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    tmp.chmod(0o755)
    try:
        params = model.get_params(deep=False)
        encoder = model.encoder_
        if isinstance(encoder, StaticEncoder):
            encoder.save(tmp / "encoder")
            enc_cfg = {"type": "static"}
        elif isinstance(encoder, HashEncoder):
            enc_cfg = {"type": "hash", "dim": encoder.dim}
        elif encoder is None:
            enc_cfg = None
        else:
            raise ModelError(f"cannot save encoder of type {type(encoder).__name__}; use a StaticEncoder")
        config = {
            "format_version": FORMAT_VERSION,
            "kind": "commentmine.ThemeClassifier",
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()
                       if k not in ("taxonomy", "encoder")},
            "encoder": enc_cfg,
            "classes": [str(c) for c in model.classes_],
            "trained": [bool(b) for b in model.trained_],
            "n_features": int(model.n_features_),
            "word_vocabulary": {t: int(i) for t, i in model.word_vectorizer_.vocabulary_.items()},
        }
        (tmp / "config.json").write_text(json.dumps(config, ensure_ascii=False, sort_keys=True), "utf-8")
        save_file({
            "coef": model.coef_.astype(np.float32),
            "intercept": model.intercept_.astype(np.float32),
            "thresholds": model.thresholds_.astype(np.float32),
            "word_idf": model.word_vectorizer_.idf_.astype(np.float32),
            "char_idf": model.char_tfidf_.idf_.astype(np.float32),
        }, str(tmp / "weights.safetensors"))
        heads = {}
        sentiment = getattr(model, "sentiment_", None)
        if sentiment is not None:
            config["sentiment"] = {"params": sentiment.get_params(), "classes": [str(c) for c in sentiment.classes_],
                                   "vocabulary": {t: int(i) for t, i in sentiment.vectorizer_.vocabulary_.items()}}
            heads.update({"sentiment_coef": sentiment.coef_, "sentiment_intercept": sentiment.intercept_,
                          "sentiment_idf": sentiment.vectorizer_.idf_.astype(np.float32)})
        alerts = getattr(model, "alerts_", None)
        if alerts is not None:
            config["alerts"] = {"params": alerts.get_params(), "threshold": alerts.threshold_,
                                "intercept": alerts.intercept_, "cv_metrics": alerts.cv_metrics_}
            heads["alert_coef"] = alerts.coef_
        gate = getattr(model, "preferences_", None)
        if gate is not None:
            config["preferences"] = {"params": gate.get_params(), "intercept": gate.intercept_,
                                     "thresholds": gate.thresholds_, "cv_metrics": gate.cv_metrics_}
            heads["preference_coef"] = gate.coef_
        accurate = getattr(model, "sentiment_accurate_", None)
        if accurate is not None:
            from .sentiment_accurate import FOLDER

            accurate.save(tmp / FOLDER)
        if heads:
            (tmp / "config.json").write_text(json.dumps(config, ensure_ascii=False, sort_keys=True), "utf-8")
            save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in heads.items()},
                      str(tmp / "heads.safetensors"))
        (tmp / "taxonomy.toml").write_text(tomli_w.dumps(model.taxonomy_.to_dict()), "utf-8")
        meta = dict(meta or {})
        meta.update({"format_version": FORMAT_VERSION, "libraries": library_versions(),
                     "cv_metrics": model.cv_metrics_})
        for p in tmp.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        meta["files"] = {str(p.relative_to(tmp)): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), "utf-8")
        if card:
            (tmp / "README.md").write_text(card, "utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def read_meta(folder: str | Path) -> dict:
    folder = Path(folder)
    try:
        return json.loads((folder / "meta.json").read_text("utf-8"))
    except (OSError, ValueError):
        raise ModelError(f"{folder}: meta.json missing or unreadable; not a commentmine model folder") from None


def load_model(folder: str | Path | None = None, taxonomy: str | Path | None = None,
               verify: bool = True, sentiment: str = "fast") -> ThemeClassifier:
    """Load a model folder; `taxonomy` (a TOML file) edits or adds themes on top of the model's.

    ``sentiment="accurate"`` also loads the fine-tuned MiniLM sentiment head (needs torch).
    """
    if sentiment not in ("fast", "accurate"):
        raise ModelError(f"unknown sentiment mode {sentiment!r}; use fast or accurate")
    folder = Path(folder) if folder is not None else default_model_path()
    if not folder.is_dir():
        raise ModelError(f"{folder}: model folder not found; pass --model DIR or train one with: commentmine train LABELED.jsonl --out DIR")
    meta = read_meta(folder)
    if verify:
        for name, digest in meta.get("files", {}).items():
            path = folder / name
            if not path.is_file():
                raise ModelError(f"{folder}: file {name} is missing; restore or retrain the model folder")
            if sha256_file(path) != digest:
                raise ModelError(f"{folder}: file {name} does not match its checksum in meta.json (corrupt or edited); restore or retrain the model folder")
    try:
        config = json.loads((folder / "config.json").read_text("utf-8"))
        arrays = load_file(str(folder / "weights.safetensors"))
        base_tax = load_taxonomy(folder / "taxonomy.toml")
    except CommentmineError:
        raise
    except Exception as e:
        raise ModelError(f"{folder}: cannot read model files ({e.__class__.__name__}); restore or retrain the model folder") from None
    if config.get("format_version") != FORMAT_VERSION or config.get("kind") != "commentmine.ThemeClassifier":
        raise ModelError(f"{folder}: unsupported model format {config.get('format_version')!r}; retrain with this commentmine version")

    tax = base_tax.merge(load_taxonomy(taxonomy)) if taxonomy is not None else base_tax
    params = dict(config["params"])
    for key in ("word_ngram_range", "char_ngram_range"):
        params[key] = tuple(params[key])
    enc_cfg = config["encoder"]
    if enc_cfg is None:
        encoder = None
    elif enc_cfg["type"] == "static":
        encoder = StaticEncoder.load(folder / "encoder")
    elif enc_cfg["type"] == "hash":
        encoder = HashEncoder(enc_cfg["dim"])
    else:
        raise ModelError(f"{folder}: unknown encoder type {enc_cfg['type']!r}")

    model = ThemeClassifier(taxonomy=tax, encoder=encoder, **params)
    classes = config["classes"]
    model.taxonomy_ = tax
    model.encoder_ = encoder
    model.rules_ = RuleMatcher(tax)
    wv = TfidfVectorizer(ngram_range=params["word_ngram_range"], min_df=2, sublinear_tf=True, dtype=np.float32)
    wv.vocabulary_ = config["word_vocabulary"]
    wv.idf_ = arrays["word_idf"]
    model.word_vectorizer_ = wv
    ct = TfidfTransformer(sublinear_tf=True)
    ct.idf_ = arrays["char_idf"]
    model.char_tfidf_ = ct
    # a user taxonomy may add themes: their rule columns are inserted and the rule block re-ordered,
    # so every head's weights over the old feature layout are moved to the new one
    k, n_old = len(tax.names), config["n_features"]
    old_index = {c: i for i, c in enumerate(classes)}
    n_word, n_char = len(wv.vocabulary_), arrays["char_idf"].shape[0]
    rule_start = n_word + n_char
    n_new = n_old + k - len(classes)
    position = np.concatenate([np.arange(rule_start), np.zeros(len(classes), dtype=int),
                               np.arange(rule_start + k, n_new)])
    for i, name in enumerate(classes):
        position[rule_start + i] = rule_start + tax.names.index(name) if name in tax.names else -1
    keep = position >= 0

    def relayout(old: np.ndarray) -> np.ndarray:
        new = np.zeros(old.shape[:-1] + (n_new,), dtype=np.float32)
        new[..., position[keep]] = old[..., keep]
        return new

    coef = np.zeros((k, n_new), dtype=np.float32)
    intercept = np.zeros(k, dtype=np.float32)
    thresholds = np.full(k, 0.5, dtype=np.float32)
    trained = np.zeros(k, dtype=bool)
    for j, name in enumerate(tax.names):
        i = old_index.get(name)
        if i is None:
            continue
        coef[j] = relayout(arrays["coef"][i])
        intercept[j] = arrays["intercept"][i]
        thresholds[j] = arrays["thresholds"][i]
        trained[j] = config["trained"][i]
    _load_heads(model, folder, config, relayout, n_old)
    model.classes_ = np.array(tax.names)
    model.coef_, model.intercept_, model.thresholds_, model.trained_ = coef, intercept, thresholds, trained
    model.n_features_ = coef.shape[1]
    model.cv_metrics_ = meta.get("cv_metrics", {})
    model.meta_ = meta
    model.path_ = str(folder)
    model.sentiment_accurate_ = None
    if sentiment == "accurate":
        from .sentiment_accurate import FOLDER, AccurateSentiment

        model.sentiment_accurate_ = AccurateSentiment.load(folder / FOLDER)
    return model


def _load_heads(model: ThemeClassifier, folder: Path, config: dict, relayout, n_old: int) -> None:
    """Attach the sentiment, alert and preference-gate heads, if the folder has them."""
    model.sentiment_ = model.alerts_ = model.preferences_ = None
    if not {"sentiment", "alerts", "preferences"} & set(config):
        return
    try:
        heads = load_file(str(folder / "heads.safetensors"))
    except Exception as e:
        raise ModelError(f"{folder}: cannot read heads.safetensors ({e.__class__.__name__}); restore or retrain") from None
    if "sentiment" in config:
        from .sentiment import SentimentClassifier, word_vectorizer

        cfg = config["sentiment"]
        head = SentimentClassifier(**cfg["params"])
        vec = word_vectorizer()
        vec.vocabulary_ = cfg["vocabulary"]
        vec.idf_ = heads["sentiment_idf"]
        head.vectorizer_ = vec
        n_words = len(cfg["vocabulary"])
        c = heads["sentiment_coef"]
        head.coef_ = np.hstack([c[:, :n_words], relayout(c[:, n_words:])])
        head.intercept_ = heads["sentiment_intercept"]
        head.classes_ = np.array(cfg["classes"])
        model.sentiment_ = head
    if "alerts" in config:
        from .alerts import AlertClassifier

        cfg = config["alerts"]
        head = AlertClassifier(**cfg["params"])
        c = heads["alert_coef"]
        head.coef_ = np.concatenate([relayout(c[:n_old]), c[n_old:]])
        head.intercept_ = float(cfg["intercept"])
        head.threshold_ = float(cfg["threshold"])
        head.cv_metrics_ = cfg["cv_metrics"]
        head.classes_ = np.array([False, True])
        model.alerts_ = head
    if "preferences" in config:
        from .preferences import PreferenceGate

        cfg = config["preferences"]
        gate = PreferenceGate(**cfg["params"])
        gate.coef_ = heads["preference_coef"]
        gate.intercept_ = float(cfg["intercept"])
        gate.thresholds_ = {str(k): float(v) for k, v in cfg["thresholds"].items()}
        gate.cv_metrics_ = cfg["cv_metrics"]
        gate.classes_ = np.array([False, True])
        model.preferences_ = gate


__all__ = ["save_model", "load_model", "read_meta", "default_model_path", "library_versions"]
