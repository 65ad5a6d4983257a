"""Benchmark `commentmine tag` against a SetFit-style baseline on the same comments.

    python benchmarks/bench_tag.py [--rows 1000000] [--baseline-rows 2000] [--jobs 0]

Replicates ../shared/data/survey_comments.csv to --rows rows, times the full CLI run end to end
(read, tag, write CSV) while sampling the peak RSS of its whole process tree, then times the
baseline (all-MiniLM-L6-v2 embeddings + logistic regression, trained on the shared labels) on the
first --baseline-rows rows of the same input (at ~150 comments/s it cannot do all of them in
reasonable time), and prints comments/s for both, their ratio, peak RSS and model load time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "benchmarks" / ".work"


def tree_rss(pid: int) -> int:
    """Proportional set size (PSS: shared pages split between sharers) in bytes of a process and
    all its descendants, from /proc; plain RSS would count the forked workers' shared model twice."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def run_with_peak_rss(cmd: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = 0

    def poll():
        nonlocal peak
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.5)  # smaps_rollup walks page tables: poll gently

    t = threading.Thread(target=poll)
    t.start()
    proc.wait()
    t.join()
    if proc.returncode != 0:
        sys.exit(f"benchmark: {' '.join(cmd)} failed with exit code {proc.returncode}")
    return time.perf_counter() - start, peak


def baseline_rate(texts: list[str]) -> float:
    """Comments/s of MiniLM embeddings + one-vs-rest logistic regression (fit excluded)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    from commentmine.encoders import load_minilm
    from commentmine.training import read_labels

    encoder = load_minilm()
    labels = read_labels(SHARED / "survey_comments_train_labeled.jsonl")
    names = sorted({t for ts in labels.themes for t in ts})
    Y = np.array([[n in ts for n in names] for ts in labels.themes], dtype=int)
    X = encoder.encode(labels.texts, batch_size=64)
    clf = OneVsRestClassifier(LogisticRegression(max_iter=2000)).fit(X, Y)
    start = time.perf_counter()
    clf.predict(encoder.encode(texts, batch_size=64))
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()
    src = SHARED / "survey_comments.csv"
    if not src.is_file():
        sys.exit(f"benchmark: {src} not found; the benchmark needs ../shared/data beside the repo")
    WORK.mkdir(parents=True, exist_ok=True)
    base = pd.read_csv(src, dtype=str, keep_default_na=False)
    reps = -(-args.rows // len(base))
    big = WORK / f"comments_{args.rows}.csv"
    if not big.exists():
        frame = pd.concat([base] * reps, ignore_index=True).iloc[: args.rows]
        frame["comment_id"] = [f"c{i}" for i in range(len(frame))]
        frame.to_csv(big, index=False)
    out = WORK / "tagged.csv"

    from commentmine.model import load_model

    t0 = time.perf_counter()
    load_model()
    load_s = time.perf_counter() - t0

    cli = [sys.executable, "-m", "commentmine", "tag", str(big), "-o", str(out), "--quiet",
           "--id-column", "comment_id", "--jobs", str(args.jobs)]
    seconds, peak = run_with_peak_rss(cli)
    ours = args.rows / seconds
    result = {"rows": args.rows, "commentmine_comments_per_s": round(ours), "commentmine_seconds": round(seconds, 1),
              "peak_pss_mb": round(peak / 2**20), "model_load_s": round(load_s, 2)}
    if not args.skip_baseline:
        texts = base["comment"].tolist()[: args.baseline_rows]
        rate = baseline_rate(texts)
        result.update({"baseline_comments_per_s": round(rate, 1), "ratio_vs_baseline": round(ours / rate, 1)})
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
