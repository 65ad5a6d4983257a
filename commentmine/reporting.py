"""Glue for ``commentmine report``: read an export, tag it if needed, build the report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import InputError
from .io import open_export
from .model import load_model
from .pipeline import tag_frame
from .report import Report, build_report


def report_from_file(path, text_column=None, date_column=None, group_by=(), score_column=None, score_type=None,
                     model_path: str | Path | None = None) -> Report:
    """Read `path` (raw or already tagged), tag it if it has no ``themes`` column, and build the report."""
    export = open_export(path, text_column)
    for col, flag in [(date_column, "--date-column"), (score_column, "--score-column"),
                      *[(g, "--group-by") for g in group_by]]:
        if col is not None and col not in export.columns:
            raise InputError(f"{export.path}: {flag} {col!r} not found; columns are: {', '.join(export.columns)}")
    raw = pd.concat(list(export.chunks()), ignore_index=True)
    if "themes" in raw.columns:
        tagged = raw
    else:
        model = load_model(model_path)
        tagged = pd.concat([tag_frame(raw.iloc[i:i + 20000], model, export.text_column)
                            for i in range(0, max(len(raw), 1), 20000)], ignore_index=False)
    return build_report(tagged, export.text_column, date_column, tuple(group_by), score_column, score_type, raw)
