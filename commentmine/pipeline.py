"""The tagging pipeline: ``tag_frame`` on one DataFrame, ``tag_file`` streaming an export.

``tag_frame`` is a pure function of one partition: the CLI streams chunks
through it and distributed engines can map it over partitions.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .io import AtomicWriter, Rendered, open_export, render
from .model import load_model
from .themes import ThemeClassifier

OUTPUT_COLUMNS = ("themes", "theme_scores", "evidence")


def _texts(series: pd.Series) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in series.tolist()]


def tag_frame(df: pd.DataFrame, model: ThemeClassifier | None = None, text_column: str = "comment") -> pd.DataFrame:
    """Tag one DataFrame: input columns plus ``themes``, ``theme_scores`` and ``evidence``.

    Parameters
    ----------
    df : DataFrame
        Any rows; only `text_column` is read.
    model : ThemeClassifier, optional
        A fitted or loaded model; default: the shipped model.
    text_column : str
        Column holding the free-text comment.
    """
    if text_column not in df.columns:
        from .errors import InputError

        raise InputError(f"text column {text_column!r} not found; columns are: {', '.join(map(str, df.columns))}")
    model = model if model is not None else _cached_model(None, None)
    results = model.tag(_texts(df[text_column]))
    out = df.copy()
    for col in OUTPUT_COLUMNS:
        if col in out.columns:
            out = out.rename(columns={col: f"input_{col}"})
        out[col] = [r[col] for r in results]
    return out


# ------------------------------------------------------------ worker processes
_MODEL_CACHE: dict = {}


def _cached_model(model_path, taxonomy) -> ThemeClassifier:
    key = (str(model_path), str(taxonomy))
    if key not in _MODEL_CACHE:
        _MODEL_CACHE[key] = load_model(model_path, taxonomy)
    return _MODEL_CACHE[key]


def _init_worker(model_path, taxonomy) -> None:
    _cached_model(model_path, taxonomy)


def _tag_and_render(frame: pd.DataFrame, model: ThemeClassifier, text_column: str, fmt: str,
                    add_row_id: bool) -> tuple[int, Rendered]:
    tagged = tag_frame(frame, model, text_column)
    if add_row_id:
        tagged.insert(0, "row_id", tagged.index + 1)
    return int(tagged["themes"].map(bool).sum()), render(tagged, fmt)


def _worker_chunk(args) -> tuple[int, Rendered]:
    frame, text_column, fmt, add_row_id, model_path, taxonomy = args
    return _tag_and_render(frame, _cached_model(model_path, taxonomy), text_column, fmt, add_row_id)


@dataclass
class TagSummary:
    """What ``tag_file`` did."""

    rows: int
    tagged: int
    text_column: str
    input_format: str
    output: Path


def tag_file(input_path: str | Path, output_path: str | Path, text_column: str | None = None,
             id_column: str | None = None, model_path: str | Path | None = None,
             taxonomy: str | Path | None = None, chunksize: int = 20000, jobs: int | None = None,
             progress: Callable[[int], None] | None = None) -> TagSummary:
    """Tag an export file into `output_path` in chunks, `jobs` processes in parallel.

    The output is written to a temp file and renamed on success, so a failed run
    leaves no partial output. `progress` is called with the rows done per chunk.
    """
    export = open_export(input_path, text_column, id_column, chunksize)
    model = _cached_model(model_path, taxonomy)  # fail fast on a bad model or taxonomy
    jobs = jobs or min(os.cpu_count() or 1, 4)
    if jobs > 1:
        # one core per worker: the tokenizer's own thread pool would only contend with the other workers
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
    writer = AtomicWriter(output_path)
    add_row_id = export.id_column is None and "row_id" not in export.columns
    rows = tagged = 0

    def finish(result: tuple[int, Rendered]) -> None:
        nonlocal rows, tagged
        n_tagged, chunk = result
        writer.write_rendered(chunk)
        rows += chunk.rows
        tagged += n_tagged
        if progress:
            progress(chunk.rows)

    with writer:
        chunks = export.chunks()
        if jobs <= 1:
            for chunk in chunks:
                finish(_tag_and_render(chunk, model, export.text_column, writer.format, add_row_id))
        else:
            with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(model_path, taxonomy)) as pool:
                pending: deque = deque()
                for chunk in chunks:
                    args = (chunk, export.text_column, writer.format, add_row_id, model_path, taxonomy)
                    pending.append(pool.submit(_worker_chunk, args))
                    if len(pending) >= 2 * jobs:
                        finish(pending.popleft().result())
                while pending:
                    finish(pending.popleft().result())
        if rows == 0:
            empty = pd.DataFrame({c: pd.Series(dtype=object) for c in export.columns})
            finish(_tag_and_render(empty, model, export.text_column, writer.format, add_row_id))
    return TagSummary(rows, tagged, export.text_column, export.format, Path(output_path))
