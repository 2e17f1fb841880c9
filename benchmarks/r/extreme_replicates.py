"""Our most extreme bootstrap replicates of one table and seed, written for R to estimate again.

    python benchmarks/r/extreme_replicates.py TABLE SEED max|min OUT.json
    Rscript benchmarks/r/extreme_replicates.R OUT.json TABLE

Where a BCa limit is the largest (or smallest) of the 200 replicates, a difference between R's limits and ours
could come from the estimator on rare replicates that R's own replicates never showed.  This regenerates our
replicates of ``TABLE`` for ``SEED`` exactly as ``sandbox.mse.bootstrap.bca_bootstrap`` draws them, estimates
them (stepwise for 6+ lists, the top models for up to 5), and writes the five largest or smallest;
extreme_replicates.R prints R's estimate of each (SparseMSE ``estimatepopulation.0``, or
MultipleSystemsEstimation's lowest BIC among the top 100 models passing ``checkident.1``).  Used for Ned seed 2
(max) and Western seed 1 (min): the same estimates (docs/mse.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sandbox.mse import published  # noqa: E402
from sandbox.mse.analysis import point_estimate, prepare_table  # noqa: E402
from sandbox.mse.bootstrap import resample  # noqa: E402
from sandbox.mse.models import AUTO_MAXORDER, AUTO_NTOP, best_of, top_models  # noqa: E402


def main() -> int:
    name, seed, side, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    table, _ = prepare_table(published.load_table(name))
    if table.k <= 5:
        models = [f.terms for f in top_models(table, AUTO_NTOP[table.k], AUTO_MAXORDER[table.k])]

        def estimate(t):
            return best_of(t, models).estimate
    else:
        def estimate(t):
            return point_estimate(t, "stepwise")
    rng = np.random.default_rng(seed)  # the same draws, in the same order, as bca_bootstrap(seed=SEED)
    replicates = [resample(table, rng) for _ in range(200)]
    values = [estimate(t) for t in replicates]
    order = np.argsort(values)
    chosen = order[::-1][:5] if side == "max" else order[:5]
    rows = [{"replicate": int(j) + 1, "ours": values[j], "patterns": replicates[j].patterns.tolist(),
             "counts": replicates[j].counts.tolist()} for j in chosen]
    for row in rows:
        print(row["replicate"], row["ours"])
    Path(out).write_text(json.dumps({"lists": list(table.lists), "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
