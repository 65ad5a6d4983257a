"""Survey ratings: find the rating column and normalise CSAT, NPS and Likert answers to [0, 1]."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .errors import InputError

SCORE_COLUMN_NAMES = ("csat", "nps", "rating", "score", "satisfaction", "overall_satisfaction", "csat_score",
                      "nps_score", "likelihood_to_recommend", "ltr", "stars", "osat")
LIKERT = {
    "very satisfied": 1.0, "satisfied": 0.75, "somewhat satisfied": 0.75, "neutral": 0.5,
    "neither satisfied nor dissatisfied": 0.5, "somewhat dissatisfied": 0.25, "dissatisfied": 0.25,
    "very dissatisfied": 0.0, "strongly agree": 1.0, "agree": 0.75, "neither agree nor disagree": 0.5,
    "disagree": 0.25, "strongly disagree": 0.0, "excellent": 1.0, "very good": 0.75, "good": 0.75,
    "fair": 0.5, "average": 0.5, "poor": 0.25, "very poor": 0.0, "extremely satisfied": 1.0,
    "extremely dissatisfied": 0.0, "always": 1.0, "mostly": 0.75, "sometimes": 0.5, "rarely": 0.25,
    "never": 0.0,
}
NOT_APPLICABLE = re.compile(r"^\s*(n/?a|not applicable|don't know|do not know|na)\b", re.IGNORECASE)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def detect_score_column(frame: pd.DataFrame, exclude: tuple[str, ...] = ()) -> str | None:
    """A column named like a rating whose values are mostly numbers in 0-10 or Likert answers."""
    for col in frame.columns:
        if col in exclude:
            continue
        name = _norm(col)
        if name in SCORE_COLUMN_NAMES or any(name.startswith(n + "_") or name.endswith("_" + n) for n in SCORE_COLUMN_NAMES):
            kind = score_kind(frame[col])
            if kind is not None:
                return col
    return None


def score_kind(values: pd.Series) -> str | None:
    """``csat5``, ``scale7``, ``nps``, ``scale10`` or ``likert`` from the values; None if not a rating."""
    text = values.dropna().astype(str).str.strip()
    text = text[(text != "") & ~text.str.match(NOT_APPLICABLE)]
    if text.empty:
        return None
    nums = pd.to_numeric(text, errors="coerce")
    if nums.notna().mean() >= 0.9:
        lo, hi = nums.min(), nums.max()
        if lo >= 1 and hi <= 5:
            return "csat5"
        if lo >= 1 and hi <= 7:
            return "scale7"
        if lo >= 0 and hi <= 10:
            return "nps" if lo == 0 or hi > 7 else "scale10"
        return None
    if text.str.lower().map(lambda v: v in LIKERT).mean() >= 0.9:
        return "likert"
    return None


def normalise_scores(values: pd.Series, kind: str | None = None, column: str = "score") -> np.ndarray:
    """Ratings mapped to [0, 1] (1 best); NaN for blanks and N/A answers."""
    kind = kind or score_kind(values)
    if kind is None:
        raise InputError(f"column {column!r} does not look like a rating (CSAT 1-5, NPS 0-10 or Likert text); "
                         "pass the right --score-column")
    text = values.astype("string").str.strip()
    if kind == "likert":
        return text.str.lower().map(LIKERT).astype(float).to_numpy()
    nums = pd.to_numeric(text, errors="coerce").astype(float).to_numpy()
    lo, hi = {"csat5": (1, 5), "scale7": (1, 7), "nps": (0, 10), "scale10": (1, 10)}[kind]
    return np.clip((nums - lo) / (hi - lo), 0, 1)
