"""Benchmark `commentmine notes` on the shared 28k comments into SQLite.

    python benchmarks/bench_notes.py

Prints rows/s and notes/s of the full run (extract + store, one transaction per chunk), checks
that a re-run adds 0 rows, and compares the store's batched writes against a baseline that
writes the same notes one transaction per note, in the same run.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "benchmarks" / ".work"


def main() -> None:
    from commentmine.notes import store_notes
    from commentmine.store import connect, pull, write_notes

    src = SHARED / "survey_comments.csv"
    if not src.is_file():
        sys.exit(f"benchmark: {src} not found; the benchmark needs ../shared/data beside the repo")
    WORK.mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    frame["customer_id"] = "cust-" + (frame.index % 9000).astype(str)  # repeat customers, as in real exports
    export = WORK / "comments_with_customers.csv"
    frame.to_csv(export, index=False)
    for name in ("bench_notes.db", "bench_notes_baseline.db"):
        (WORK / name).unlink(missing_ok=True)
    db = f"sqlite:///{WORK / 'bench_notes.db'}"

    t0 = time.perf_counter()
    first = store_notes(export, db, "customer_id", "comment_id")
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    again = store_notes(export, db, "customer_id", "comment_id")
    rerun_s = time.perf_counter() - t1

    records = pull(connect(db), 0, 10**9)
    base_db = connect(f"sqlite:///{WORK / 'bench_notes_baseline.db'}")
    t2 = time.perf_counter()
    for r in records:
        write_notes(base_db, [r])
    base_s = time.perf_counter() - t2
    t3 = time.perf_counter()
    write_notes(connect(f"sqlite:///{WORK / 'bench_notes_batched.db'}"), records)
    batch_s = time.perf_counter() - t3
    (WORK / "bench_notes_batched.db").unlink(missing_ok=True)

    print(json.dumps({
        "rows": first.rows, "notes_found": first.found, "notes_stored": first.result.inserted,
        "conflicts": first.result.conflicts, "seconds": round(seconds, 2),
        "rows_per_s": round(first.rows / seconds), "notes_per_s": round(first.found / seconds, 1),
        "rerun_new_rows": again.result.inserted + again.result.updated, "rerun_seconds": round(rerun_s, 2),
        "store_notes_per_s_batched": round(len(records) / batch_s),
        "store_notes_per_s_baseline_one_txn_each": round(len(records) / base_s),
        "ratio_batched_vs_baseline": round(base_s / batch_s, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
