"""Train and evaluate theme models on labeled comments."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, precision_recall_fscore_support

from .alerts import AlertClassifier, alert_rules
from .preferences import PreferenceExtractor, PreferenceGate, preference_metrics
from .encoders import sha256_file
from .sentiment import CLASSES, SentimentClassifier
from .errors import LabelsError
from .model import load_model, save_model
from .taxonomy import load_taxonomy
from .themes import ENCODER_STATIC, ThemeClassifier

SEED_EXAMPLES = Path(__file__).resolve().parent / "data" / "seed_examples.jsonl"
SEED_WEIGHT = 5.0


@dataclass
class Labeled:
    """Labeled comments: texts, theme lists and the source file's sha256."""

    texts: list[str]
    themes: list[list[str]]
    records: list[dict] = field(repr=False)
    sha256: str = ""


def read_labels(path: str | Path) -> Labeled:
    """Read labels from JSONL (``text``, ``themes`` list) or CSV (``text``, ``themes`` joined by ';')."""
    path = Path(path)
    if not path.is_file():
        raise LabelsError(f"{path}: labeled file not found; check the path")
    records: list[dict] = []
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        with open(path, encoding="utf-8-sig") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    raise LabelsError(f"{path}: line {n} is not valid JSON; fix or remove it") from None
                if not isinstance(rec, dict):
                    raise LabelsError(f"{path}: line {n} is not a JSON object")
                records.append(rec)
    elif path.suffix.lower() in (".csv", ".tsv"):
        frame = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
        for rec in frame.to_dict("records"):
            rec["themes"] = [t.strip() for t in str(rec.get("themes", "")).split(";") if t.strip()]
            records.append(rec)
    else:
        raise LabelsError(f"{path}: unknown labels extension {path.suffix!r}; use .jsonl or .csv")
    if not records:
        raise LabelsError(f"{path}: no labeled records found")
    texts, themes = [], []
    for n, rec in enumerate(records, 1):
        if "text" not in rec:
            raise LabelsError(f"{path}: record {n} has no 'text' field; each record needs text and themes")
        labels = rec.get("themes")
        if not isinstance(labels, list) or not all(isinstance(t, str) for t in labels):
            raise LabelsError(f"{path}: record {n} needs 'themes' as a list of theme names")
        texts.append("" if rec["text"] is None else str(rec["text"]))
        themes.append(labels)
    return Labeled(texts, themes, records, sha256_file(path))


def train(labels_path: str | Path, out: str | Path, taxonomy: str | Path | None = None, seed: int = 0,
          encoder=ENCODER_STATIC, eval_path: str | Path | None = None,
          sentiment_extra: str | Path | None = None, seed_examples: bool = True, alert_recall: float = 0.9,
          sentiment_accurate: bool = False, **params) -> tuple[ThemeClassifier, Path]:
    """Fit a :class:`ThemeClassifier` on a labeled file and save it as a model folder.

    `eval_path`, a held-out labeled file, is only scored after fitting; its metrics
    go into ``meta.json`` and the model card and never influence training.
    `seed_examples` adds the packaged ``data/seed_examples.jsonl`` (idioms such as
    "no complaints", "not bad", Hinglish praise) with weight ``SEED_WEIGHT``.
    """
    data = read_labels(labels_path)
    n_labeled = len(data.texts)
    if seed_examples:
        seeds = read_labels(SEED_EXAMPLES)
        data = Labeled(data.texts + seeds.texts, data.themes + seeds.themes, data.records + seeds.records,
                       data.sha256)
    weights = np.ones(len(data.texts))
    weights[n_labeled:] = SEED_WEIGHT
    tax = load_taxonomy(taxonomy)
    model = ThemeClassifier(taxonomy=tax, encoder=encoder, random_state=seed, **params)
    model.fit(data.texts, data.themes, sample_weight=weights)
    heads = fit_heads(model, data, sentiment_extra, seed, weights, alert_recall, sentiment_accurate)
    cvm = model.cv_metrics_
    f1s = [m["f1"] for m in cvm.values()]
    meta = {
        "name": Path(out).name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training_data": {"file": Path(labels_path).name, "sha256": data.sha256, "records": n_labeled,
                          "seed_examples": len(data.texts) - n_labeled,
                          "seed_examples_sha256": sha256_file(SEED_EXAMPLES) if seed_examples else None},
        "seed": seed,
        "cv_macro_f1": round(float(np.mean(f1s)), 4) if f1s else None,
        **heads,
    }
    dev = None
    if eval_path is not None:
        # the held-out numbers describe the default pipeline (fast sentiment), plus the accurate head's 3-class F1
        fast = copy.copy(model)
        fast.sentiment_accurate_ = None
        dev = evaluate(fast, eval_path, accurate=getattr(model, "sentiment_accurate_", None))
        meta["heldout"] = {"file": Path(eval_path).name, "sha256": sha256_file(eval_path), **dev}
    card = model_card(model, meta, dev)
    return model, save_model(model, out, meta, card)


def read_sentiment_extra(path: str | Path) -> tuple[list[str], list[str]]:
    """Extra sentiment examples from a CSV with ``text`` and ``sentiment`` (or ``airline_sentiment``)."""
    path = Path(path)
    if not path.is_file():
        raise LabelsError(f"{path}: sentiment file not found; check the path")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    label_col = next((c for c in ("sentiment", "airline_sentiment", "label") if c in frame.columns), None)
    if "text" not in frame.columns or label_col is None:
        raise LabelsError(f"{path}: needs a 'text' and a 'sentiment' column; columns are: {', '.join(frame.columns)}")
    frame = frame[frame[label_col].isin(CLASSES)]
    texts = frame["text"].str.replace(r"http\S+", "url", regex=True).str.replace(r"@\w+", "@user", regex=True)
    return texts.tolist(), frame[label_col].tolist()


def split_extra(texts: list[str], labels: list[str], seed: int = 0):
    """Fixed 80/20 stratified split of extra sentiment data; the 20% is never trained on."""
    from sklearn.model_selection import train_test_split

    return train_test_split(texts, labels, test_size=0.2, random_state=seed, stratify=labels)


def fit_heads(model: ThemeClassifier, data: Labeled, sentiment_extra=None, seed: int = 0, weights=None,
              alert_recall: float = 0.9, sentiment_accurate: bool = False) -> dict:
    """Fit the sentiment, alert and preference heads the labels allow; returns their metrics for meta.json.

    `alert_recall` is the out-of-fold recall the alert threshold is set for: lower it
    when the recovery team cannot call back that many customers. `sentiment_accurate`
    also fine-tunes MiniLM on the same sentiment data (about 15 minutes on 2 cores).
    """
    info: dict = {}
    sent_rows = [i for i, r in enumerate(data.records) if r.get("sentiment") in CLASSES]
    # seed examples alone do not make a sentiment or alert training set
    if len({data.records[i]["sentiment"] for i in sent_rows if not str(data.records[i].get("id", "")).startswith("seed-")}) < 3:
        sent_rows = []
    if sent_rows:
        texts = [data.texts[i] for i in sent_rows]
        labels = [data.records[i]["sentiment"] for i in sent_rows]
        w = [1.0 if weights is None else float(weights[i]) for i in sent_rows]
        held = None
        if sentiment_extra is not None:
            xt, yt = read_sentiment_extra(sentiment_extra)
            tr_x, te_x, tr_y, te_y = split_extra(xt, yt, seed)
            texts, labels, held = texts + tr_x, labels + tr_y, (te_x, te_y)
            w += [1.0] * len(tr_x)
        head = SentimentClassifier().fit(texts, labels, model.features(texts), sample_weight=np.array(w))
        model.sentiment_ = head
        info["sentiment"] = {"trained_on": len(texts), "extra": Path(sentiment_extra).name if sentiment_extra else None}
        if held is not None:
            pred = head.predict(held[0], model.features(held[0]))
            info["sentiment"]["extra_heldout_macro_f1"] = round(float(f1_score(held[1], pred, average="macro")), 4)
            info["sentiment"]["extra_heldout_n"] = len(held[0])
        if sentiment_accurate:
            from .sentiment_accurate import AccurateSentiment, FineTuneArguments

            args = FineTuneArguments(seed=seed)
            model.sentiment_accurate_ = AccurateSentiment.fine_tune(texts, labels, args, np.array(w))
            info["sentiment"]["accurate"] = {"arguments": asdict(args)}
            if held is not None:
                pred = model.sentiment_accurate_.predict(held[0])
                info["sentiment"]["accurate"]["extra_heldout_macro_f1"] = round(
                    float(f1_score(held[1], pred, average="macro")), 4)
    alert_rows = [i for i, r in enumerate(data.records) if isinstance(r.get("alert"), bool)]
    if len({data.records[i]["alert"] for i in alert_rows}) < 2:
        alert_rows = []
    if alert_rows and getattr(model, "sentiment_", None) is not None:
        texts = [data.texts[i] for i in alert_rows]
        y = [data.records[i]["alert"] for i in alert_rows]
        shared = model.features(texts)
        sent_p = _oof_sentiment(model, data, alert_rows, shared, seed)
        hits, _ = alert_rules().match(texts)
        model.alerts_ = AlertClassifier(target_recall=alert_recall, random_state=seed).fit(shared, sent_p, hits, y)
        info["alerts"] = {"trained_on": len(texts), "cv": model.alerts_.cv_metrics_}
    pref_rows = [i for i, r in enumerate(data.records) if isinstance(r.get("preferences"), list)
                 and not str(r.get("id", "")).startswith("seed-")]
    if pref_rows and sum(bool(data.records[i]["preferences"]) for i in pref_rows) >= 20:
        extractor = PreferenceExtractor()
        cands = extractor.candidates([data.texts[i] for i in pref_rows])
        gold = [data.records[i]["preferences"] for i in pref_rows]
        try:
            model.preferences_ = PreferenceGate(random_state=seed).fit(cands, gold)
        except LabelsError:
            model.preferences_ = None
        else:
            info["preferences"] = {"trained_on": len(pref_rows), "cv": model.preferences_.cv_metrics_}
    return info


def _heads_card(meta: dict, dev: dict | None) -> list[str]:
    """Model-card lines for the sentiment, alert and preference-gate heads that were trained."""
    dev = dev or {}
    lines = []
    if "sentiment" in meta:
        s, d = meta["sentiment"], dev.get("sentiment", {})
        lines += ["## Sentiment head", "",
                  f"- 3-class logistic head (negative / neutral / positive) on {s['trained_on']} texts; "
                  "`mixed` is decided per clause.",
                  f"- Held-out 20% of `{s['extra']}`: macro F1 {s.get('extra_heldout_macro_f1')} "
                  f"on {s.get('extra_heldout_n')} texts." if s.get("extra") else "- No extra sentiment data."]
        if d:
            lines.append(f"- Held-out labeled file: 3-class macro F1 {d['macro_f1_3class']}, 4-class "
                         f"{d['macro_f1_4class']}, mixed F1 {d['mixed_f1']}.")
        acc = s.get("accurate")
        if acc:
            lines.append(f"- Accurate head (`tag --sentiment accurate`): all-MiniLM-L6-v2 with LoRA adapters "
                         f"({acc['arguments']['epochs']} epochs, rank {acc['arguments']['rank']}); held-out tweets "
                         f"macro F1 {acc.get('extra_heldout_macro_f1')}"
                         + (f", held-out labeled file 3-class {d['accurate_macro_f1_3class']}"
                            if "accurate_macro_f1_3class" in d else "") + ".")
        lines.append("")
    if "alerts" in meta:
        c, d = meta["alerts"]["cv"], dev.get("alerts")
        lines += ["## Alert head", "",
                  f"- Logistic head over the shared features, sentiment and reason rules; threshold {c['threshold']} "
                  f"chosen for out-of-fold recall 0.9 (CV precision {c['precision']}, recall {c['recall']})."]
        if d:
            lines.append(f"- Held-out labeled file: precision {d['precision']}, recall {d['recall']} "
                         f"({d['predicted']} flagged, {d['support']} true).")
        lines.append("")
    if "preferences" in meta:
        lines += ["## Preference gate", "",
                  "- Logistic gate over hashed context of each rule candidate; thresholds per type from grouped "
                  "5-fold CV. Types with too few examples keep the rules' verdict.", "",
                  "| type | CV precision | CV recall | rules precision | rules recall | positive candidates |",
                  "|---|---|---|---|---|---|"]
        for t, m in meta["preferences"]["cv"].items():
            lines.append(f"| {t} | {m['precision']:.3f} | {m['recall']:.3f} | {m['rules']['precision']:.3f} | "
                         f"{m['rules']['recall']:.3f} | {m['support']} |")
        d = dev.get("preferences")
        if d:
            lines += ["", f"- Held-out labeled file, type level: precision {d['precision']}, recall {d['recall']} "
                      f"({d['support']} gold); value accuracy {d['value_accuracy']} on {d['value_n']}."]
        lines.append("")
    return lines


def _oof_sentiment(model, data: Labeled, rows: list[int], shared, seed: int) -> np.ndarray:
    """Out-of-fold sentiment probabilities, so the alert head does not learn from overconfident ones."""
    from sklearn.model_selection import KFold

    texts = [data.texts[i] for i in rows]
    labels = np.array([data.records[i].get("sentiment") for i in rows], dtype=object)
    out = np.zeros((len(rows), 3))
    for tr, te in KFold(5, shuffle=True, random_state=seed).split(texts):
        tr = [i for i in tr if labels[i] in CLASSES]
        head = SentimentClassifier().fit([texts[i] for i in tr], list(labels[tr]), shared.rows(tr))
        out[te] = head.predict_proba([texts[i] for i in te], shared.rows(te))
    return out


def model_card(model: ThemeClassifier, meta: dict, dev: dict | None = None) -> str:
    """Markdown model card: what the model is, its data, and its metrics."""
    lines = [
        f"# {meta.get('name', 'commentmine theme model')}",
        "",
        "Multi-label theme classifier for contact-center survey comments (commentmine).",
        "",
        "## Model",
        "- Features: spaCy rule hits from the taxonomy's phrases and patterns, word 1-2-gram TF-IDF, "
        "hashed char 3-4-gram TF-IDF, static sentence embeddings distilled from all-MiniLM-L6-v2 (model2vec).",
        "- One logistic-regression head per theme (class-balanced); per-theme threshold picked from "
        "5-fold out-of-fold probabilities on the training labels. Scores are rescaled so 0.5 is the threshold.",
        "- Themes with fewer than `min_examples` positives are predicted from their rules alone.",
        "",
        "## Training data",
        f"- `{meta['training_data']['file']}`: {meta['training_data']['records']} records, "
        f"sha256 `{meta['training_data']['sha256']}`, seed {meta.get('seed')}.",
        "",
        "## Cross-validated metrics (training labels, out-of-fold)",
        "",
        "| theme | precision | recall | F1 | support | threshold |",
        "|---|---|---|---|---|---|",
    ]
    for j, name in enumerate(model.classes_):
        m = model.cv_metrics_.get(str(name))
        if m:
            lines.append(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} | "
                         f"{model.thresholds_[j]:.3f} |")
        else:
            lines.append(f"| {name} | rules only | | | | |")
    lines += ["", f"Macro F1 (CV): {meta.get('cv_macro_f1')}", ""]
    if dev:
        lines += ["## Held-out evaluation", "", f"`{meta['heldout']['file']}`: macro F1 {dev['macro_f1']:.3f}, "
                  f"micro F1 {dev['micro_f1']:.3f} on {dev['n']} comments (never used for training or thresholds).",
                  "", "| theme | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        lines += [f"| {n} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |"
                  for n, m in dev["themes"].items()]
        lines.append("")
    lines += _heads_card(meta, dev)
    lines += ["## Limits",
              "- Trained on one e-commerce contact center's comments (English and Hinglish); other domains may need "
              "taxonomy phrases or retraining.",
              "- Training labels are single-annotated and noisy; rare themes (transfer_routing, ivr_confusion) "
              "have few examples.", ""]
    return "\n".join(lines)


def evaluate(model: ThemeClassifier | str | Path | None, labels_path: str | Path, sentiment: str = "fast",
             accurate=None) -> dict:
    """Per-theme precision, recall, F1 and support plus macro and micro F1 on a labeled file.

    Also sentiment, alert and preference metrics where the labels carry them;
    ``sentiment="accurate"`` runs the pipeline with the model's fine-tuned sentiment head,
    and `accurate` (an ``AccurateSentiment``) is scored 3-class next to a fast pipeline.
    """
    if not isinstance(model, ThemeClassifier):
        model = load_model(model, sentiment=sentiment)
    data = read_labels(labels_path)
    names = [str(c) for c in model.classes_]
    index = {n: i for i, n in enumerate(names)}
    Y = np.zeros((len(data.texts), len(names)), dtype=int)
    for row, labels in enumerate(data.themes):
        for label in labels:
            if label in index:
                Y[row, index[label]] = 1
    from .pipeline import analyze

    # one pass: the same themes `tag` writes, and the sentiment/alert fields for the head metrics
    results = analyze(data.texts, model)
    P = np.array([[n in r["themes"] for n in names] for r in results], dtype=int).reshape(len(results), len(names))
    extra = _evaluate_heads(model, data, results, accurate)
    present = [j for j in range(len(names)) if Y[:, j].sum() > 0]
    p, r, f, s = precision_recall_fscore_support(Y, P, average=None, zero_division=0)
    per = {names[j]: {"precision": round(float(p[j]), 4), "recall": round(float(r[j]), 4),
                      "f1": round(float(f[j]), 4), "support": int(s[j])} for j in range(len(names))}
    _, _, micro, _ = precision_recall_fscore_support(Y[:, present], P[:, present], average="micro", zero_division=0)
    macro = float(np.mean([f[j] for j in present])) if present else 0.0
    return {"n": len(data.texts), "themes": per, "macro_f1": round(macro, 4), "micro_f1": round(float(micro), 4),
            **extra}


def _evaluate_heads(model: ThemeClassifier, data: Labeled, results: list[dict], accurate=None) -> dict:
    """Sentiment (3-class on non-mixed gold, and 4-class) and alert metrics where labels exist."""
    from sklearn.metrics import precision_score, recall_score

    out: dict = {}
    gold = [r.get("sentiment") for r in data.records]
    rows = [i for i, g in enumerate(gold) if g in CLASSES + ("mixed",)]
    if getattr(model, "sentiment_", None) is None:
        rows = []
    if rows:
        three = [i for i in rows if gold[i] != "mixed"]
        texts3 = [data.texts[i] for i in three]
        pred3 = model.sentiment_.predict(texts3, model.features(texts3))
        y3 = [gold[i] for i in three]
        per = f1_score(y3, pred3, labels=list(CLASSES), average=None, zero_division=0)
        y4 = [gold[i] for i in rows]
        p4 = [results[i]["sentiment"] for i in rows]
        accurate = accurate if accurate is not None else getattr(model, "sentiment_accurate_", None)
        if accurate is not None:
            acc3 = accurate.predict(texts3)
        out["sentiment"] = {
            **({"accurate_macro_f1_3class": round(float(f1_score(y3, acc3, average="macro", zero_division=0)), 4)}
               if accurate is not None else {}),
            "macro_f1_3class": round(float(f1_score(y3, pred3, average="macro", zero_division=0)), 4),
            "f1_per_class": {c: round(float(f), 4) for c, f in zip(CLASSES, per)},
            "n_3class": len(three),
            "macro_f1_4class": round(float(f1_score(y4, p4, average="macro", zero_division=0)), 4),
            "mixed_f1": round(float(f1_score([g == "mixed" for g in y4], [p == "mixed" for p in p4],
                                             zero_division=0)), 4),
        }
    arows = [i for i, r in enumerate(data.records) if isinstance(r.get("alert"), bool)]
    if arows and getattr(model, "alerts_", None) is not None:
        ya = [data.records[i]["alert"] for i in arows]
        pa = [results[i]["alert"] for i in arows]
        out["alerts"] = {"precision": round(float(precision_score(ya, pa, zero_division=0)), 4),
                         "recall": round(float(recall_score(ya, pa, zero_division=0)), 4),
                         "support": int(sum(ya)), "predicted": int(sum(pa))}
        ph = [results[i]["alert_priority"] == "high" for i in arows]
        out["alerts"]["high_priority"] = {"precision": round(float(precision_score(ya, ph, zero_division=0)), 4),
                                          "recall": round(float(recall_score(ya, ph, zero_division=0)), 4),
                                          "predicted": int(sum(ph))}
    prows = [i for i, r in enumerate(data.records) if isinstance(r.get("preferences"), list)]
    if prows:
        extractor = PreferenceExtractor(getattr(model, "preferences_", None))
        pred = extractor.extract([data.texts[i] for i in prows])
        out["preferences"] = preference_metrics(pred, [data.records[i]["preferences"] for i in prows])
    return out
