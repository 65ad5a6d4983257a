"""Analyst report figures: theme volumes, trends with spikes, drivers of CSAT/NPS, net scores, breakdowns.

Everything here is a pure function of a tagged DataFrame returning tables
(DataFrames); :mod:`commentmine.report_html` renders them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .redact import excerpt
from .scores import LIKERT, NOT_APPLICABLE, score_kind

SMALL_GROUP = 30
LIKERT_SCALES = [
    ["strongly agree", "agree", "neither agree nor disagree", "disagree", "strongly disagree"],
    ["always", "mostly", "sometimes", "rarely", "never"],
    ["very satisfied", "satisfied", "neutral", "dissatisfied", "very dissatisfied"],
    ["excellent", "very good", "good", "fair", "poor"],
]


@dataclass
class Report:
    """All tables of a report, plus a few headline numbers."""

    headline: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)


def _as_list(v) -> list[str]:
    if isinstance(v, (list, tuple, np.ndarray)):
        return [str(x) for x in v]
    if v is None or (isinstance(v, float) and np.isnan(v)) or v == "":
        return []
    text = str(v)
    if text.startswith("["):
        try:
            return [str(x) for x in json.loads(text)]
        except ValueError:
            pass
    return [t for t in text.split(";") if t]


def _as_dict(v) -> dict:
    if isinstance(v, dict):
        return v
    if isinstance(v, (list, np.ndarray)):  # parquet maps come back as key/value pairs
        return dict(v)
    if isinstance(v, str) and v.startswith("{"):
        try:
            return json.loads(v)
        except ValueError:
            return {}
    return {}


def theme_matrix(tagged: pd.DataFrame) -> pd.DataFrame:
    """Indicator DataFrame (rows x themes) from the ``themes`` column."""
    lists = tagged["themes"].map(_as_list)
    names = sorted({t for ts in lists for t in ts})
    return pd.DataFrame({n: lists.map(lambda ts, n=n: n in ts) for n in names}, index=tagged.index)


def theme_table(tagged: pd.DataFrame, text_column: str) -> tuple[pd.DataFrame, float]:
    """Per theme: comments, share of non-empty comments, sentiment shares and mean score; and the untagged share."""
    has_text = tagged[text_column].fillna("").astype(str).str.strip() != ""
    M = theme_matrix(tagged)[has_text]
    n = int(has_text.sum())
    rows = []
    sentiment = tagged.loc[has_text, "sentiment"] if "sentiment" in tagged else None
    for name in M.columns:
        mask = M[name]
        row = {"theme": name, "comments": int(mask.sum()), "share_pct": round(100 * mask.sum() / max(n, 1), 1)}
        if sentiment is not None:
            s = sentiment[mask]
            for label in ("negative", "positive", "mixed"):
                row[f"{label}_pct"] = round(100 * (s == label).mean(), 1) if len(s) else 0.0
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("comments", ascending=False, kind="stable").reset_index(drop=True) \
        if rows else pd.DataFrame(columns=["theme", "comments", "share_pct"])
    untagged = round(100 * (~M.any(axis=1)).sum() / max(n, 1), 1) if n else 0.0
    return table, untagged


def theme_examples(tagged: pd.DataFrame, text_column: str, per_theme: int = 3) -> dict[str, list[str]]:
    """Up to `per_theme` PII-redacted example comments per theme, highest theme score first."""
    out: dict[str, list[str]] = {}
    scores = tagged["theme_scores"].map(_as_dict) if "theme_scores" in tagged else None
    M = theme_matrix(tagged)
    for name in M.columns:
        idx = M.index[M[name]]
        if scores is not None:
            idx = sorted(idx, key=lambda i: -float(scores[i].get(name, 0)))
        seen, picked = set(), []
        for i in idx:
            text = excerpt(str(tagged.at[i, text_column]), 220)
            if text and text.lower() not in seen:
                seen.add(text.lower())
                picked.append(text)
            if len(picked) == per_theme:
                break
        out[name] = picked
    return out


def trends(tagged: pd.DataFrame, date_column: str, z: float = 2.0, window: int = 8) -> tuple[pd.DataFrame, str]:
    """Comments per theme per week or month (month when the data spans over 26 weeks), with spikes:
    a count more than `z` standard deviations above the mean of the previous `window` periods."""
    dates = pd.to_datetime(tagged[date_column], errors="coerce", utc=True).dt.tz_localize(None)
    ok = dates.notna()
    if not ok.any():
        return pd.DataFrame(columns=["period", "theme", "comments", "share_pct", "spike"]), "week"
    span_days = (dates[ok].max() - dates[ok].min()).days
    freq = "week" if span_days <= 182 else "month"
    period = dates[ok].dt.to_period("W-SUN" if freq == "week" else "M").dt.start_time
    M = theme_matrix(tagged)[ok]
    totals = period.value_counts().sort_index()
    rows = []
    for name in M.columns:
        counts = M[name].groupby(period).sum().reindex(totals.index, fill_value=0)
        for k, (p, c) in enumerate(counts.items()):
            prev = counts.iloc[max(0, k - window):k]
            spike = bool(len(prev) >= 3 and c > prev.mean() + z * prev.std(ddof=0) and c > 0)
            rows.append({"period": p.date().isoformat(), "theme": name, "comments": int(c),
                         "share_pct": round(100 * c / max(totals[p], 1), 1), "spike": spike})
    return pd.DataFrame(rows), freq


def numeric_scores(values: pd.Series, score_type: str | None) -> tuple[pd.Series, str]:
    """Scores on their own scale (CSAT 1-5, NPS 0-10; Likert text mapped to 1-5) and the type used."""
    kind = score_kind(values)
    if score_type == "likert" or kind == "likert":
        mapped = values.astype(str).str.strip().str.lower().map(LIKERT)
        return mapped * 4 + 1, "likert"
    nums = pd.to_numeric(values, errors="coerce")
    if score_type in ("csat", "nps"):
        return nums, score_type
    return nums, "nps" if kind == "nps" else "csat"


def survey_scores(scores: pd.Series, score_type: str) -> dict:
    """NPS (% promoters 9-10 minus % detractors 0-6) or CSAT (% top-2 box: 4-5 of 5)."""
    s = scores.dropna()
    n = int(len(s))
    if not n:
        return {"type": score_type, "n": 0}
    if score_type == "nps":
        promoters, detractors = (s >= 9).mean() * 100, (s <= 6).mean() * 100
        return {"type": "nps", "n": n, "promoters_pct": round(promoters, 1), "detractors_pct": round(detractors, 1),
                "nps": round(promoters - detractors, 1), "mean": round(float(s.mean()), 2)}
    return {"type": score_type, "n": n, "top2_pct": round((s >= 4).mean() * 100, 1),
            "low2_pct": round((s <= 2).mean() * 100, 1), "mean": round(float(s.mean()), 2)}


def drivers(tagged: pd.DataFrame, scores: pd.Series, n_boot: int = 200, min_count: int = 5,
            seed: int = 0) -> pd.DataFrame:
    """Per theme: mean score with vs without it, and the OLS coefficient controlling for the other
    themes (score ~ 1 + themes), with bootstrap 95% intervals; ranked by coefficient, most harmful first."""
    ok = scores.notna()
    M = theme_matrix(tagged)[ok]
    y = scores[ok].astype(float).to_numpy()
    M = M.loc[:, M.sum() >= min_count]
    if M.empty or len(y) < 10:
        return pd.DataFrame(columns=["theme", "comments", "mean_with", "mean_without", "difference",
                                     "coefficient", "ci_low", "ci_high", "gain_if_fixed"])
    X = np.column_stack([np.ones(len(y)), M.to_numpy(dtype=float)])
    coef = np.linalg.lstsq(X, y, rcond=None)[0][1:]
    rng = np.random.default_rng(seed)
    boots = np.empty((n_boot, M.shape[1]))
    for b in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        boots[b] = np.linalg.lstsq(X[idx], y[idx], rcond=None)[0][1:]
    rows = []
    for j, name in enumerate(M.columns):
        mask = M[name].to_numpy()
        lo, hi = np.percentile(boots[:, j], [2.5, 97.5])
        rows.append({"theme": name, "comments": int(mask.sum()), "mean_with": round(float(y[mask].mean()), 3),
                     "mean_without": round(float(y[~mask].mean()), 3),
                     "difference": round(float(y[mask].mean() - y[~mask].mean()), 3),
                     "coefficient": round(float(coef[j]), 3), "ci_low": round(float(lo), 3),
                     "ci_high": round(float(hi), 3),
                     # average score gain over all respondents if the theme's effect disappeared
                     "gain_if_fixed": round(float(-coef[j] * mask.mean()), 3)})
    return pd.DataFrame(rows).sort_values("coefficient", kind="stable").reset_index(drop=True)


def _likert_scale(values: pd.Series) -> list[str] | None:
    answers = set(values.dropna().astype(str).str.strip().str.lower()) - {""}
    answers = {a for a in answers if not NOT_APPLICABLE.match(a)}
    for scale in LIKERT_SCALES:
        if answers and answers <= set(scale):
            return scale
    return None


def likert_tables(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For every Likert column: distribution, top-2, low-2 and net (top-2 minus low-2) in % of valid
    answers, N/A answers counted apart; and the mean net score per category (``Category [Item]`` headers)."""
    rows = []
    for col in frame.columns:
        if frame[col].dtype != object and not isinstance(frame[col].dtype, pd.StringDtype):
            continue
        scale = _likert_scale(frame[col])
        if scale is None:
            continue
        raw = frame[col].dropna().astype(str).str.strip()
        raw = raw[raw != ""]
        na = raw.str.match(NOT_APPLICABLE)
        answers = raw[~na].str.lower()
        n = len(answers)
        if n == 0:
            continue
        pct = {a: round(100 * (answers == a).sum() / n, 1) for a in scale}
        top2 = 100 * answers.isin(scale[:2]).sum() / n
        low2 = 100 * answers.isin(scale[-2:]).sum() / n
        m = re.match(r"^(.*?)\s*\[(.+)\]\s*$", str(col))
        rows.append({"category": m.group(1) if m else "", "question": m.group(2) if m else str(col), "n": n,
                     "not_applicable": int(na.sum()), **{f"{a}_pct": v for a, v in pct.items()},
                     "top2_pct": round(top2, 1), "low2_pct": round(low2, 1), "net": round(top2 - low2, 1),
                     "_net": top2 - low2})
    table = pd.DataFrame(rows)
    if table.empty:
        return table, pd.DataFrame(columns=["category", "questions", "mean_net"])
    # category means from unrounded nets, so they match a hand computation
    cats = table.groupby("category", sort=False).agg(questions=("net", "size"), mean_net=("_net", "mean")).reset_index()
    cats["mean_net"] = cats["mean_net"].round(1)
    return table.drop(columns="_net"), cats


def breakdown(tagged: pd.DataFrame, column: str, scores: pd.Series | None, score_type: str | None) -> pd.DataFrame:
    """Per group of `column`: comments, small-group flag, theme rates (%) and score summary."""
    M = theme_matrix(tagged)
    groups = tagged[column].fillna("(missing)").astype(str)
    rows = []
    for g, idx in groups.groupby(groups).groups.items():
        row = {column: g, "comments": len(idx), "small_group": len(idx) < SMALL_GROUP}
        for name in M.columns:
            row[f"{name}_pct"] = round(100 * M.loc[idx, name].mean(), 1)
        if scores is not None:
            s = survey_scores(scores.loc[idx], score_type)
            row["score_mean"] = s.get("mean")
            row["nps" if score_type == "nps" else "top2_pct"] = s.get("nps" if score_type == "nps" else "top2_pct")
        rows.append(row)
    return pd.DataFrame(rows).sort_values("comments", ascending=False, kind="stable").reset_index(drop=True)


def build_report(tagged: pd.DataFrame, text_column: str, date_column: str | None = None,
                 group_by: tuple[str, ...] = (), score_column: str | None = None,
                 score_type: str | None = None, raw: pd.DataFrame | None = None) -> Report:
    """Every table of the analyst report from a tagged frame (`raw`: the export, for Likert columns)."""
    themes, untagged = theme_table(tagged, text_column)
    headline = {"comments": int(len(tagged)), "untagged_pct": untagged,
                "top_theme": themes["theme"].iloc[0] if len(themes) else None}
    rep = Report(headline, {"themes": themes}, theme_examples(tagged, text_column))
    if "sentiment" in tagged:
        headline["negative_pct"] = round(100 * (tagged["sentiment"] == "negative").mean(), 1)
    if "alert" in tagged:
        headline["alerts"] = int(tagged["alert"].astype(str).str.lower().isin(["true", "1"]).sum())
    if date_column:
        table, freq = trends(tagged, date_column)
        rep.tables["trends"] = table
        headline["trend_period"] = freq
        headline["spikes"] = int(table["spike"].sum()) if len(table) else 0
    scores = None
    if score_column:
        scores, score_type = numeric_scores(tagged[score_column], score_type)
        headline["score"] = survey_scores(scores, score_type)
        rep.tables["drivers"] = drivers(tagged, scores)
    likert, cats = likert_tables(raw if raw is not None else tagged)
    if len(likert):
        rep.tables["likert"], rep.tables["likert_categories"] = likert, cats
    for col in group_by:
        rep.tables[f"by_{col}"] = breakdown(tagged, col, scores, score_type)
    return rep
