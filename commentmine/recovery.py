"""Service-recovery output: alerting rows as records for a recovery team, and webhook delivery."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import OutputError
from .redact import excerpt

CONTACT_COLUMN = re.compile(r"(customer|client|contact|account|member|user)(_?id|_?name|_?number)?$|^(name|email|e_?mail|"
                            r"phone|mobile|agent|team|channel|order_?id|ticket_?id|case_?id|response_?id|respondent_?id)$", re.IGNORECASE)


def contact_columns(columns: list[str]) -> list[str]:
    """Columns a recovery team needs to reach the customer (ids, names, contact, agent, channel)."""
    return [c for c in columns if CONTACT_COLUMN.search(re.sub(r"[^A-Za-z0-9]+", "_", str(c)).strip("_"))]


def alert_records(tagged: pd.DataFrame, text_column: str, id_column: str | None, passthrough: list[str]) -> pd.DataFrame:
    """Only the alerting rows, reshaped for a recovery team; the comment is a PII-redacted excerpt."""
    rows = tagged[tagged["alert"].astype(bool)] if "alert" in tagged.columns else tagged.iloc[:0]
    out = pd.DataFrame({
        "id": rows[id_column].astype(str) if id_column else (rows.index + 1).astype(str),
        "priority": rows.get("alert_priority", pd.Series(dtype=object)),
        "reasons": rows.get("alert_reasons", pd.Series(dtype=object)),
        "themes": rows["themes"],
        "sentiment": rows.get("sentiment", pd.Series(dtype=object)),
        "sentiment_score": rows.get("sentiment_score", pd.Series(dtype=float)),
        "excerpt": rows[text_column].map(excerpt),
    }, index=rows.index)
    if "score_normalized" in rows.columns:
        out["score_normalized"] = rows["score_normalized"]
    for col in passthrough:
        if col in rows.columns and col not in out.columns:
            out[col] = rows[col].map(lambda v: excerpt(v, 200) if isinstance(v, str) else v)
    return out


@dataclass
class DeliveryReport:
    """What a webhook delivery did: counts and the file holding what failed."""

    sent: int = 0
    failed: int = 0
    retry_file: Path | None = None
    errors: list[str] = field(default_factory=list)


def deliver(alerts_path: str | Path, url: str, retry_file: str | Path | None = None, retries: int = 4,
            backoff: float = 0.5, timeout: float = 10.0, token: str | None = None) -> DeliveryReport:
    """POST each alert record of a JSONL file to `url` as JSON.

    Connection errors, 429 and 5xx answers are retried with exponential backoff
    (urllib3 ``Retry``). Records that still fail are written to `retry_file`
    (default: ``<alerts>.failed.jsonl``), so nothing is silently dropped; feed
    that file to ``deliver`` again later.
    """
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    if not re.match(r"^https?://", url):
        raise OutputError(f"webhook URL {url!r} must start with http:// or https://")
    alerts_path = Path(alerts_path)
    retry_path = Path(retry_file) if retry_file else alerts_path.with_suffix(".failed.jsonl")
    session = requests.Session()
    policy = Retry(total=retries, backoff_factor=backoff, status_forcelist=(429, 500, 502, 503, 504),
                   allowed_methods=frozenset({"POST"}), raise_on_status=False, respect_retry_after_header=True)
    session.mount("http://", HTTPAdapter(max_retries=policy))
    session.mount("https://", HTTPAdapter(max_retries=policy))
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    report = DeliveryReport()
    failed_lines: list[str] = []
    with open(alerts_path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                resp = session.post(url, data=line.encode("utf-8"), headers=headers, timeout=timeout)
                ok = 200 <= resp.status_code < 300
                problem = None if ok else f"HTTP {resp.status_code}"
            except requests.RequestException as e:
                ok, problem = False, e.__class__.__name__
            if ok:
                report.sent += 1
            else:
                report.failed += 1
                failed_lines.append(line if line.endswith("\n") else line + "\n")
                if len(report.errors) < 5:
                    report.errors.append(f"{json.loads(line).get('id')}: {problem}")
    if failed_lines:
        tmp = retry_path.with_name(retry_path.name + ".tmp")
        tmp.write_text("".join(failed_lines), encoding="utf-8")
        tmp.replace(retry_path)
        report.retry_file = retry_path
    return report


def select_alerts(tagged: pd.DataFrame, text_column: str, id_column: str | None,
                  passthrough: list[str]) -> pd.DataFrame:
    """`select` hook for :func:`commentmine.pipeline.tag_file` (picklable via functools.partial)."""
    if id_column is None and "row_id" in tagged.columns:
        id_column = "row_id"
    return alert_records(tagged, text_column, id_column, passthrough)


def write_alerts(input_path, output_path, text_column=None, id_column=None, model_path=None, taxonomy=None,
                 score_column=None, passthrough: list[str] | None = None, jobs=None, progress=None):
    """Tag `input_path` and write only its alerting rows as recovery records to `output_path`."""
    from functools import partial

    from .io import open_export
    from .pipeline import tag_file

    export = open_export(input_path, text_column, id_column)
    cols = passthrough if passthrough is not None else contact_columns(export.columns)
    select = partial(select_alerts, text_column=export.text_column, id_column=export.id_column, passthrough=cols)
    return tag_file(input_path, output_path, export.text_column, id_column, model_path, taxonomy, jobs=jobs,
                    progress=progress, score_column=score_column, select=select)
