"""The full `auto` model search (MultipleSystemsEstimation's default) on every shipped table, against R.

    python benchmarks/bench_mse_reference.py

`make test` runs the full five-list search on one table only (each fits 6,212 models); this runs
tests/test_mse_reference.py::test_auto_matches_multiplesystemsestimation on all of them (MSE_AUTO_ALL=1)
and writes the outcome and the time per table to benchmarks/results/mse_reference.json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=0",
         "tests/test_mse_reference.py::test_auto_matches_multiplesystemsestimation"],
        cwd=ROOT, env={**os.environ, "MSE_AUTO_ALL": "1"}, capture_output=True, text=True)
    print(out.stdout[-3000:])
    seconds = {m.group(2): float(m.group(1)) for m in
               re.finditer(r"([\d.]+)s call .*test_auto_matches_multiplesystemsestimation\[(\w+)\]", out.stdout)}
    result = {"date": time.strftime("%Y-%m-%d"), "passed": out.returncode == 0, "seconds_per_table": seconds,
              "total_seconds": round(time.perf_counter() - t0, 1)}
    path = ROOT / "benchmarks" / "results" / "mse_reference.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written: {path.relative_to(ROOT)}")
    return out.returncode


if __name__ == "__main__":
    sys.exit(main())
