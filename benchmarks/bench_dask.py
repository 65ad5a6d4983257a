"""Benchmark the Dask engine against the in-process path on the same 1M comments.

    python benchmarks/bench_dask.py [--rows 1000000] [--workers 2]

Writes the replicated comments as Parquet parts, then times `commentmine tag --engine dask`
(LocalCluster with --workers processes) and the default in-process engine on the same rows,
and prints rows/s for both and their ratio. On one 2-core machine Dask adds scheduling and
serialisation; its point is running the same job across many machines.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "benchmarks" / ".work"


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    src = SHARED / "survey_comments.csv"
    if not src.is_file():
        sys.exit(f"benchmark: {src} not found; the benchmark needs ../shared/data beside the repo")
    parts = WORK / f"dask_parts_{args.rows}"
    if not parts.exists():
        base = pd.read_csv(src, dtype=str, keep_default_na=False)
        frame = pd.concat([base] * -(-args.rows // len(base)), ignore_index=True).iloc[: args.rows]
        frame["comment_id"] = [f"c{i}" for i in range(len(frame))]
        parts.mkdir(parents=True)
        step = 50_000
        for n, start in enumerate(range(0, len(frame), step)):
            frame.iloc[start:start + step].to_parquet(parts / f"part-{n:04d}.parquet", index=False)
    single = WORK / "dask_single.parquet"
    pd.concat(pd.read_parquet(p) for p in sorted(parts.glob("*.parquet"))).to_parquet(single, index=False)
    out_dir, out_file = WORK / "dask_out", WORK / "local_out.parquet"
    shutil.rmtree(out_dir, ignore_errors=True)
    cli = [sys.executable, "-m", "commentmine", "tag"]
    dask_s = timed([*cli, str(parts), "-o", str(out_dir), "--engine", "dask", "--workers", str(args.workers),
                    "--text-column", "comment", "-q"])
    local_s = timed([*cli, str(single), "-o", str(out_file), "--text-column", "comment", "-q"])
    print(json.dumps({"rows": args.rows, "dask_workers": args.workers,
                      "dask_rows_per_s": round(args.rows / dask_s), "in_process_rows_per_s": round(args.rows / local_s),
                      "dask_vs_in_process": round(local_s / dask_s, 2),
                      "success_marker": (out_dir / "_SUCCESS").exists()}, indent=2))


if __name__ == "__main__":
    main()
