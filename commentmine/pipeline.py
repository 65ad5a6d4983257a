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

from .io import AtomicWriter, open_export
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
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _cached_model(model_path, taxonomy)


def _tag_chunk(args) -> pd.DataFrame:
    frame, text_column, model_path, taxonomy = args
    return tag_frame(frame, _cached_model(model_path, taxonomy), text_column)


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
    writer = AtomicWriter(output_path)
    rows = tagged = 0

    def finish(frame: pd.DataFrame) -> None:
        nonlocal rows, tagged
        if export.id_column is None:
            frame.insert(0, "row_id", frame.index + 1)
        writer.write(frame)
        rows += len(frame)
        tagged += int(frame["themes"].map(bool).sum())
        if progress:
            progress(len(frame))

    with writer:
        chunks = export.chunks()
        if jobs <= 1:
            for chunk in chunks:
                finish(tag_frame(chunk, model, export.text_column))
        else:
            with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(model_path, taxonomy)) as pool:
                pending: deque = deque()
                for chunk in chunks:
                    pending.append(pool.submit(_tag_chunk, (chunk, export.text_column, model_path, taxonomy)))
                    if len(pending) >= 2 * jobs:
                        finish(pending.popleft().result())
                while pending:
                    finish(pending.popleft().result())
        if rows == 0:
            empty = pd.DataFrame({c: pd.Series(dtype=object) for c in export.columns})
            finish(tag_frame(empty, model, export.text_column))
    return TagSummary(rows, tagged, export.text_column, export.format, Path(output_path))
