"""Speed of `tag --sentiment accurate` (fine-tuned MiniLM) against the default fast head, same comments.

    python benchmarks/bench_sentiment.py [--rows 5000] [--jobs 0]

Tags the first --rows comments of ../shared/data/survey_comments.csv end to end through the
library (read, tag, write CSV) once per mode and prints comments/s for each and their ratio.
Needs a model folder with the accurate head (the shipped one has it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "benchmarks" / ".work"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: one per core, up to 4)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from commentmine.pipeline import tag_file

    src = SHARED / "survey_comments.csv"
    if not src.is_file():
        sys.exit(f"benchmark: {src} not found; the benchmark needs ../shared/data beside the repo")
    WORK.mkdir(parents=True, exist_ok=True)
    export = WORK / f"comments_{args.rows}.csv"
    pd.read_csv(src, dtype=str, keep_default_na=False).head(args.rows).to_csv(export, index=False)
    rates = {}
    for mode in ("fast", "accurate"):
        t0 = time.perf_counter()
        summary = tag_file(export, WORK / f"tagged_{mode}.csv", chunksize=1000, jobs=args.jobs or None,
                           sentiment=mode)
        rates[mode] = summary.rows / (time.perf_counter() - t0)
    print(json.dumps({"rows": args.rows, "fast_comments_per_s": round(rates["fast"]),
                      "accurate_comments_per_s": round(rates["accurate"], 1),
                      "accurate_vs_fast": round(rates["accurate"] / rates["fast"], 4)}, indent=2))


if __name__ == "__main__":
    main()
