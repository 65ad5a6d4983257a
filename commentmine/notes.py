"""Customer preference notes: from an export to CRM-ready records in the store, and out to CRMs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import __version__
from .errors import InputError
from .io import neutralise_formula, open_export
from .model import load_model
from .preferences import PreferenceExtractor
from .redact import excerpt
from .store import WriteResult, connect, current_notes, external_key, now, write_notes

SALESFORCE_FIELDS = {"external_key": "External_Key__c", "customer_id": "Customer_Id__c", "type": "Preference_Type__c",
                     "value": "Preference_Value__c", "evidence": "Evidence__c", "confidence": "Confidence__c",
                     "response_id": "Response_Id__c", "comment_date": "Comment_Date__c",
                     "extracted_at": "Extracted_At__c", "model_version": "Model_Version__c"}


def model_version(model=None) -> str:
    """``commentmine-<version>-<model folder name>``, or ``-rules`` when no trained gate is used."""
    name = model.meta_.get("name", "model") if model is not None and getattr(model, "preferences_", None) else "rules"
    return f"commentmine-{__version__}-{name}"[:80]


def records_from_frame(frame: pd.DataFrame, texts: list[str], prefs: list, customer_column: str,
                       id_column: str | None, date_column: str | None, source: str,
                       version: str | None = None) -> list[dict]:
    """One note record per (customer, type, value) found in each row."""
    out, version, stamp = [], version or model_version(), now()
    customers = frame[customer_column].astype("string").fillna("")
    ids = frame[id_column].astype("string").fillna("") if id_column else pd.Series(frame.index + 1, index=frame.index).astype(str)
    dates = frame[date_column].astype("string").fillna("") if date_column else None
    for pos, found in enumerate(prefs):
        if not found:
            continue
        customer = str(customers.iloc[pos]).strip()
        if not customer:
            continue
        response = str(ids.iloc[pos])
        seen = set()
        for p in found:
            if (p.type, p.value) in seen:
                continue
            seen.add((p.type, p.value))
            out.append({"external_key": external_key(source, response, p.type, p.value), "customer_id": customer,
                        "type": p.type, "value": p.value, "evidence": excerpt(texts[pos], 300),
                        "confidence": p.confidence, "response_id": response,
                        "comment_date": (str(dates.iloc[pos]) or None) if dates is not None else None,
                        "extracted_at": stamp, "model_version": version})
    return out


@dataclass
class NotesSummary:
    rows: int
    found: int
    result: WriteResult


def store_notes(input_path: str | Path, db: str, customer_column: str, id_column: str | None = None,
                date_column: str | None = None, text_column: str | None = None, source: str | None = None,
                chunksize: int = 5000, progress: Callable[[int], None] | None = None,
                model: str | Path | None = None, rules_only: bool = False) -> NotesSummary:
    """Extract preferences from an export and upsert them into the store, one transaction per chunk.

    The rule candidates are judged by the preference gate of `model` (default: the
    shipped model) unless `rules_only`. A run killed mid-way leaves whole chunks
    committed; re-running completes it and adds nothing twice (keys are deterministic).
    """
    export = open_export(input_path, text_column, id_column, chunksize)
    for col, flag in ((customer_column, "--customer-column"), (date_column, "--date-column")):
        if col is not None and col not in export.columns:
            raise InputError(f"{export.path}: {flag} {col!r} not found; columns are: {', '.join(export.columns)}")
    engine = connect(db)
    loaded = None if rules_only else load_model(model)
    extractor = PreferenceExtractor(getattr(loaded, "preferences_", None))
    version = model_version(loaded)
    source = source or Path(input_path).name
    total, rows, found = WriteResult(), 0, 0
    for chunk in export.chunks():
        texts = ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in chunk[export.text_column]]
        prefs = extractor.extract(texts)
        records = records_from_frame(chunk, texts, prefs, customer_column, export.id_column, date_column, source,
                                     version)
        found += len(records)
        r = write_notes(engine, records)
        for f in ("inserted", "updated", "unchanged", "conflicts"):
            setattr(total, f, getattr(total, f) + getattr(r, f))
        rows += len(chunk)
        if progress:
            progress(len(chunk))
    engine.dispose()
    return NotesSummary(rows, found, total)


def export_notes(db: str, fmt: str) -> Iterable[str]:
    """Live notes rendered as ``jsonl``, ``salesforce-csv`` (Bulk API 2.0 upsert) or ``hubspot-json`` (batch upsert)."""
    engine = connect(db)
    records = current_notes(engine)
    if fmt == "jsonl":
        for r in records:
            yield json.dumps(r, ensure_ascii=False) + "\n"
    elif fmt == "salesforce-csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(SALESFORCE_FIELDS.values())
        yield buf.getvalue()
        for r in records:
            buf.seek(0)
            buf.truncate()
            writer.writerow(["" if r[f] is None else neutralise_formula(str(r[f])) for f in SALESFORCE_FIELDS])
            yield buf.getvalue()
    elif fmt == "hubspot-json":
        batch: list[dict] = []

        def body(inputs):
            return json.dumps({"inputs": inputs}, ensure_ascii=False) + "\n"

        for r in records:
            batch.append({"idProperty": "external_key", "id": r["external_key"],
                          "properties": {k: ("" if v is None else str(v)) for k, v in r.items() if k != "seq"}})
            if len(batch) == 100:  # HubSpot's batch upsert limit
                yield body(batch)
                batch = []
        if batch:
            yield body(batch)
    else:
        raise InputError(f"unknown export format {fmt!r}; use jsonl, salesforce-csv or hubspot-json")
    engine.dispose()
