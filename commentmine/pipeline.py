"""The tagging pipeline: ``tag_frame`` on one DataFrame, ``tag_file`` streaming an export.

``tag_frame`` is a pure function of one partition: the CLI streams chunks
through it and distributed engines can map it over partitions.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .alerts import alert_rules, decide
from .errors import InputError
from .io import AtomicWriter, Rendered, open_export, render
from .scores import detect_score_column, normalise_scores, score_kind as detect_kind
from .model import load_model
from .themes import ThemeClassifier

OUTPUT_COLUMNS = ("themes", "theme_scores", "evidence", "sentiment", "sentiment_score", "theme_sentiment",
                  "alert", "alert_priority", "alert_reasons")


# explicit dtypes: pandas would otherwise turn None into NaN in text columns (alert_priority)
OUTPUT_DTYPES = {**{c: object for c in OUTPUT_COLUMNS}, "sentiment_score": "float64", "alert": "bool",
                 "score_normalized": "float64"}


def output_columns(model: ThemeClassifier) -> list[str]:
    """The fields `model` adds to each row: themes always, sentiment and alerts when it has those heads."""
    cols = list(OUTPUT_COLUMNS[:3])
    if getattr(model, "sentiment_", None) is not None:
        cols += OUTPUT_COLUMNS[3:6]
        if getattr(model, "alerts_", None) is not None:
            cols += OUTPUT_COLUMNS[6:]
    return cols


def _texts(series: pd.Series) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in series.tolist()]


def analyze(texts: list[str], model: ThemeClassifier, scores: np.ndarray | None = None) -> list[dict]:
    """Themes, sentiment and alerts for each text.

    Parameters
    ----------
    texts : list of str
    model : ThemeClassifier
        A loaded model; its sentiment and alert heads are used when present.
    scores : ndarray, optional
        Survey ratings normalised to [0, 1] (NaN where missing), used by alerts.
    """
    results, F, docs = model.tag(texts, return_features=True)
    sentiment = getattr(model, "sentiment_", None)
    if sentiment is None or not texts:
        return results
    sent_p = sentiment.predict_proba(texts, F)
    accurate = getattr(model, "sentiment_accurate_", None)
    # the alert head was trained on the fast head's probabilities, so it keeps reading those
    shown = accurate.predict_proba(texts) if accurate is not None else sent_p
    sent = sentiment.score_comments(texts, F, results, model.features, shown)
    empty = [not t.strip() for t in texts]
    for r, s_, e in zip(results, sent, empty):
        r.update(s_)
        if e:
            r.update(sentiment="neutral", sentiment_score=0.0, theme_sentiment={})
    alerts = getattr(model, "alerts_", None)
    if alerts is not None:
        if getattr(model, "_alert_rules", None) is None:
            model._alert_rules = alert_rules(model.rules_.nlp)
        matcher = model._alert_rules
        hits, _ = matcher.match(texts, docs)
        prob = alerts.predict_proba(F, sent_p, hits)[:, 1]
        prob[np.array(empty, dtype=bool)] = 0.0
        decided = decide(prob, alerts.threshold_, matcher.taxonomy.names, hits,
                         np.array([r["sentiment_score"] for r in results]), scores, results)
        for r, d in zip(results, decided):
            r.update(d)
    return results


def tag_frame(df: pd.DataFrame, model: ThemeClassifier | None = None, text_column: str = "comment",
              score_column: str | None = None, score_kind: str | None = None) -> pd.DataFrame:
    """Tag one DataFrame: input columns plus themes, scores, evidence, sentiment and alerts.

    Parameters
    ----------
    df : DataFrame
        Any rows; only `text_column` (and `score_column`) are read.
    model : ThemeClassifier, optional
        A fitted or loaded model; default: the shipped model.
    text_column : str
        Column holding the free-text comment.
    score_column : str, optional
        A CSAT / NPS / Likert rating column; adds ``score_normalized`` and feeds alerts.
    score_kind : str, optional
        ``csat5``, ``scale7``, ``nps``, ``scale10`` or ``likert``; detected from the values if omitted.
    """
    for col in (text_column, score_column):
        if col is not None and col not in df.columns:
            raise InputError(f"column {col!r} not found; columns are: {', '.join(map(str, df.columns))}")
    model = model if model is not None else _cached_model(None, None)
    scores = normalise_scores(df[score_column], score_kind, score_column) if score_column else None
    results = analyze(_texts(df[text_column]), model, scores)
    out = df.copy()
    fields = output_columns(model)
    for col in fields:
        if col in out.columns:
            out = out.rename(columns={col: f"input_{col}"})
        out[col] = pd.Series([r[col] for r in results], index=out.index, dtype=OUTPUT_DTYPES[col])
    if scores is not None:
        out["score_normalized"] = scores
    return out


# ------------------------------------------------------------ worker processes
_MODEL_CACHE: dict = {}


def _cached_model(model_path, taxonomy, sentiment: str = "fast") -> ThemeClassifier:
    key = (str(model_path), str(taxonomy), sentiment)
    if key not in _MODEL_CACHE:
        _MODEL_CACHE[key] = load_model(model_path, taxonomy, sentiment=sentiment)
    return _MODEL_CACHE[key]


def _init_worker(model_path, taxonomy, sentiment: str = "fast") -> None:
    if sentiment == "accurate":
        import torch

        torch.set_num_threads(1)  # one core per worker process
    _cached_model(model_path, taxonomy, sentiment)


def _tag_and_render(frame: pd.DataFrame, model: ThemeClassifier, text_column: str, fmt: str,
                    add_row_id: bool, score: tuple | None = None, select=None) -> tuple[int, Rendered]:
    tagged = tag_frame(frame, model, text_column, *(score or (None, None)))
    if add_row_id:
        tagged.insert(0, "row_id", tagged.index + 1)
    n_tagged = int(tagged["themes"].map(bool).sum())
    return n_tagged, render(select(tagged) if select is not None else tagged, fmt)


def _worker_chunk(args) -> tuple[int, Rendered]:
    frame, text_column, fmt, add_row_id, score, select, model_path, taxonomy, sentiment = args
    return _tag_and_render(frame, _cached_model(model_path, taxonomy, sentiment), text_column, fmt, add_row_id,
                           score, select)


def _score_spec(export, score_column: str | None) -> tuple[str, str] | None:
    """(column, kind) of the rating column: given, or detected when obvious; kind from the first rows."""
    head = export.head
    if score_column is not None:
        if score_column not in export.columns:
            raise InputError(f"{export.path}: score column {score_column!r} not found; columns are: "
                             f"{', '.join(export.columns)}")
        kind = detect_kind(head[score_column])
        if kind is None:
            raise InputError(f"{export.path}: column {score_column!r} does not look like a rating "
                             "(CSAT 1-5, NPS 0-10 or Likert text); pass the right --score-column")
        return score_column, kind
    found = detect_score_column(head, exclude=(export.text_column,))
    return (found, detect_kind(head[found])) if found else None


@dataclass
class TagSummary:
    """What ``tag_file`` did."""

    rows: int
    tagged: int
    text_column: str
    input_format: str
    output: Path
    score_column: str | None = None
    id_column: str | None = None
    columns: list = field(default_factory=list)


def tag_file(input_path: str | Path, output_path: str | Path, text_column: str | None = None,
             id_column: str | None = None, model_path: str | Path | None = None,
             taxonomy: str | Path | None = None, chunksize: int = 20000, jobs: int | None = None,
             progress: Callable[[int], None] | None = None, score_column: str | None = None,
             select: Callable[[pd.DataFrame], pd.DataFrame] | None = None, sentiment: str = "fast") -> TagSummary:
    """Tag an export file into `output_path` in chunks, `jobs` processes in parallel.

    `select` (picklable) maps each tagged chunk to what is written, e.g. only alerting rows.
    `sentiment` is ``fast`` (the default head) or ``accurate`` (fine-tuned MiniLM, ~50x slower).

    The output is written to a temp file and renamed on success, so a failed run
    leaves no partial output. `progress` is called with the rows done per chunk.
    """
    export = open_export(input_path, text_column, id_column, chunksize)
    model = _cached_model(model_path, taxonomy, sentiment)  # fail fast on a bad model or taxonomy
    jobs = jobs or min(os.cpu_count() or 1, 4)
    if jobs > 1:
        # one core per worker: the tokenizer's own thread pool would only contend with the other workers
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
    writer = AtomicWriter(output_path)
    add_row_id = export.id_column is None and "row_id" not in export.columns
    score = _score_spec(export, score_column)
    rows = tagged = 0

    def finish(result: tuple[int, Rendered], n_rows: int) -> None:
        nonlocal rows, tagged
        n_tagged, chunk = result
        writer.write_rendered(chunk)
        rows += n_rows
        tagged += n_tagged
        if progress:
            progress(n_rows)

    with writer:
        chunks = export.chunks()
        if jobs <= 1:
            for chunk in chunks:
                finish(_tag_and_render(chunk, model, export.text_column, writer.format, add_row_id, score, select),
                       len(chunk))
        else:
            with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(model_path, taxonomy, sentiment)) as pool:
                pending: deque = deque()
                for chunk in chunks:
                    args = (chunk, export.text_column, writer.format, add_row_id, score, select, model_path, taxonomy,
                            sentiment)
                    pending.append((pool.submit(_worker_chunk, args), len(chunk)))
                    if len(pending) >= 2 * jobs:
                        future, n = pending.popleft()
                        finish(future.result(), n)
                while pending:
                    future, n = pending.popleft()
                    finish(future.result(), n)
        if rows == 0:
            empty = pd.DataFrame({c: pd.Series(dtype=object) for c in export.columns})
            finish(_tag_and_render(empty, model, export.text_column, writer.format, add_row_id, score, select), 0)
    return TagSummary(rows, tagged, export.text_column, export.format, Path(output_path), score[0] if score else None,
                      export.id_column, export.columns)
