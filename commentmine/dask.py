"""Run the tagging pipeline on a Dask cluster (``pip install commentmine[dask]``).

Workers get a model *path*, never a pickled model, and load it once per worker
process. Each partition goes through the same :func:`commentmine.pipeline.tag_frame`
as the in-process path, so results are identical row for row.
"""

from __future__ import annotations

import glob
import os
import shutil
import threading
from pathlib import Path

import pandas as pd

from .errors import CommentmineError, InputError, ModelError
from .pipeline import OUTPUT_DTYPES, output_columns, tag_frame

try:
    import dask
    import dask.dataframe as dd
except ImportError:  # pragma: no cover - exercised only without the extra
    dask = dd = None

_LOCK = threading.Lock()
_MODELS: dict = {}


def _require_dask() -> None:
    if dd is None:
        raise CommentmineError("the Dask engine needs the dask extra: pip install 'commentmine[dask]'")


def _model(path: str, taxonomy: str | None):
    """The model at `path`, loaded once per worker process (lock-guarded cache)."""
    key = (path, taxonomy)
    with _LOCK:
        if key not in _MODELS:
            from .model import load_model

            _MODELS[key] = load_model(path, taxonomy)
        return _MODELS[key]


def _normalise(part: pd.DataFrame) -> pd.DataFrame:
    """Arrow / string dtypes back to plain object strings, missing text as '' (as the in-process reader gives)."""
    out = part.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.StringDtype) or str(out[col].dtype).startswith(("string", "large_string")):
            out[col] = out[col].astype(object).where(out[col].notna(), "")
    return out


def tag_partition(part: pd.DataFrame, model: str, text_column: str, taxonomy: str | None = None,
                  score_column: str | None = None, score_kind: str | None = None) -> pd.DataFrame:
    """Tag one partition; `model` is a path that must exist on the worker."""
    return tag_frame(_normalise(part), _model(model, taxonomy), text_column, score_column, score_kind)


def output_meta(meta: pd.DataFrame, model_path: str, taxonomy: str | None = None,
                score_column: str | None = None) -> pd.DataFrame:
    """Empty frame with the output schema: input columns plus what the model adds."""
    fields = output_columns(_model(model_path, taxonomy))
    out = _normalise(meta.iloc[:0])
    for col in fields:
        if col in out.columns:
            out = out.rename(columns={col: f"input_{col}"})
        out[col] = pd.Series(dtype=OUTPUT_DTYPES[col])
    if score_column:
        out["score_normalized"] = pd.Series(dtype="float64")
    return out


def tag_dask(ddf, model: str | Path, text_column: str, taxonomy: str | Path | None = None,
             score_column: str | None = None, score_kind: str | None = None):
    """Lazily tag a Dask DataFrame with ``map_partitions``; returns a Dask DataFrame."""
    _require_dask()
    model = str(Path(model).resolve())
    taxonomy = str(taxonomy) if taxonomy else None
    if text_column not in ddf.columns:
        raise InputError(f"text column {text_column!r} not found; columns are: {', '.join(map(str, ddf.columns))}")
    meta = output_meta(ddf._meta, model, taxonomy, score_column)
    return ddf.map_partitions(tag_partition, model, text_column, taxonomy, score_column, score_kind, meta=meta)


def read_parts(source: str | Path, blocksize: str = "16MB"):
    """A Dask DataFrame from a file, a glob or a folder of CSV / Parquet / JSONL parts (all text as strings)."""
    _require_dask()
    source = str(source)
    files = sorted(glob.glob(os.path.join(source, "*"))) if os.path.isdir(source) else sorted(glob.glob(source))
    files = [f for f in files if not os.path.basename(f).startswith(("_", "."))]
    if not files:
        raise InputError(f"{source}: no input files found; pass a file, a glob or a folder of parts")
    kinds = {Path(f).suffix.lower() for f in files}
    if len(kinds) > 1:
        raise InputError(f"{source}: mixed part formats {sorted(kinds)}; keep one format per input")
    kind = kinds.pop()
    if kind in (".csv", ".tsv"):
        return dd.read_csv(files, sep="\t" if kind == ".tsv" else ",", dtype=str, keep_default_na=False,
                           blocksize=blocksize)
    if kind in (".parquet", ".pq"):
        return dd.read_parquet(files)
    if kind in (".jsonl", ".ndjson"):
        return dd.read_json(files, lines=True, blocksize=blocksize, dtype=False)
    raise InputError(f"{source}: unsupported part format {kind!r}; use .csv, .tsv, .parquet or .jsonl")


def _write_part(part: pd.DataFrame, path: str) -> int:
    from .io import AtomicWriter

    with AtomicWriter(path) as w:
        w.write(part)
    return len(part)


def _check_workers(client, model: str) -> None:
    missing = {w: ok for w, ok in client.run(os.path.isdir, model).items() if not ok}
    if missing:
        raise ModelError(f"model folder {model} is not readable on worker(s) {', '.join(sorted(missing))}; "
                         "put the model on a path every worker can read")


def tag_to_folder(source: str | Path, output: str | Path, model: str | Path | None = None,
                  text_column: str | None = None, taxonomy: str | Path | None = None, scheduler: str | None = None,
                  workers: int = 2, fmt: str = "parquet", score_column: str | None = None) -> int:
    """Tag `source` on a cluster into a folder of parts; ``_SUCCESS`` is written last, only on completion."""
    _require_dask()
    from distributed import Client, LocalCluster

    from .io import detect_text_column
    from .model import default_model_path

    model = str(Path(model or default_model_path()).resolve())
    if not Path(model).is_dir():
        raise ModelError(f"{model}: model folder not found; pass --model DIR")
    output = Path(output)
    if output.exists() and any(output.iterdir()):
        raise InputError(f"{output}: output folder is not empty; choose a new folder or remove it")
    ddf = read_parts(source)
    text_column = text_column or detect_text_column(ddf.head(500, npartitions=-1))
    if text_column is None:
        raise InputError(f"{source}: no free-text comment column found among: {', '.join(ddf.columns)}; "
                         "pass --text-column NAME")
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="5s")
            except (OSError, TimeoutError) as e:
                raise CommentmineError(f"cannot reach Dask scheduler {scheduler} ({e.__class__.__name__}); "
                                       "check the address (tcp://host:8786) and that the scheduler runs") from None
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        with client:
            _check_workers(client, model)
            tagged = tag_dask(ddf, model, text_column, taxonomy, score_column)
            staging = output.with_name(f".{output.name}.partial")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            parts = tagged.to_delayed()
            ext = "parquet" if fmt == "parquet" else "csv"
            writes = [dask.delayed(_write_part)(p, str(staging / f"part-{i:05d}.{ext}")) for i, p in enumerate(parts)]
            rows = sum(dask.compute(*writes))
            if output.exists():
                output.rmdir()
            staging.rename(output)
            (output / "_SUCCESS").write_text(f"{rows}\n")
            return rows
    finally:
        if cluster is not None:
            cluster.close()
