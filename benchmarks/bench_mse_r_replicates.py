"""Our estimator on exactly R's bootstrap replicates: the implementation compared without random noise.

    python benchmarks/bench_mse_r_replicates.py [--replicates FILE] [--tables simdat,Ned] [--limit 200]

``benchmarks/r/mse_bootstrap_seeds.R ... REPLICATES.json`` writes, for one R seed, every bootstrap
replicate table R drew, the estimate R got on it, R's jackknife estimates and acceleration and R's BCa
limits.  Here each replicate is estimated again with sandbox.mse (the same model set for the top-models
bootstrap, the whole stepwise selection for 6 or more lists) and compared with R's figure; then our BCa
formula is applied to R's replicate estimates and R's acceleration and compared with R's limits, and our
jackknife acceleration is compared with R's.  Any difference found here is a difference of method, not
of random numbers: the same input gives a different output.

Writes benchmarks/results/mse_r_replicates.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.mse import published  # noqa: E402
from sandbox.mse.analysis import point_estimate  # noqa: E402
from sandbox.mse.bootstrap import bca_limits, jackknife_acceleration  # noqa: E402
from sandbox.mse.models import AUTO_MAXORDER, best_of, top_models  # noqa: E402
from sandbox.mse.table import CaptureTable, MSEError  # noqa: E402

DEFAULT = ROOT / "tests" / "data" / "mse_bootstrap_replicates.json"
ALPHA = (0.025, 0.1, 0.9, 0.975)


def r_model_terms(model: str) -> tuple[tuple[int, ...], ...]:
    """MultipleSystemsEstimation's hierarchy string (``"[123,14]"``, lists numbered from 1) as our
    interaction terms: every subset of two or more lists of each generator, 0-based."""
    terms: set[tuple[int, ...]] = set()
    for generator in model.strip("[]").split(","):
        lists = sorted(int(c) - 1 for c in generator)
        for size in range(2, len(lists) + 1):
            terms.update(itertools.combinations(lists, size))
    return tuple(sorted(terms, key=lambda t: (len(t), t)))


def table_from_r(template: CaptureTable, patterns: list[list[int]], counts: list[int]) -> CaptureTable:
    """The replicate as one of our tables (R's rows may be in another order or leave zero cells out)."""
    index = {tuple(int(v) for v in row): i for i, row in enumerate(template.patterns)}
    new = np.zeros(len(template.counts), dtype=np.int64)
    for row, count in zip(patterns, counts, strict=True):
        new[index[tuple(row)]] += count
    return template.with_counts(new)


def estimator_for(name: str, table: CaptureTable, entry: dict):
    """Our estimator of one replicate, as the interval R computed uses it."""
    if entry["interval"] == "top_models":
        models = [r_model_terms(m) for m in entry["models"]]
        ours = [f.terms for f in top_models(table, entry["ntop"], AUTO_MAXORDER[table.k])]
        same = [tuple(sorted(a, key=lambda t: (len(t), t))) == b for a, b in zip(ours, models, strict=False)]
        print(f"{name}: our top {len(ours)} models equal R's in {sum(same)} places", flush=True)
        return lambda t: best_of(t, models).estimate, sum(same) == len(models) == len(ours)
    return lambda t: point_estimate(t, "stepwise"), None


def compare(name: str, entry: dict, limit: int) -> dict:
    table = published.load_table(name)
    estimate, same_models = estimator_for(name, table, entry)
    t0 = time.perf_counter()
    rows = []
    for j, (counts, r_est) in enumerate(zip(entry["counts"][:limit], entry["estimates"][:limit], strict=True)):
        replicate = table_from_r(table, entry["patterns"], counts)
        try:
            ours = estimate(replicate)
        except MSEError as exc:
            ours = None
            reason = str(exc)
        else:
            reason = ""
        r_value = r_est if r_est is not None and np.isfinite(r_est) else None
        equal = (ours is None and r_value is None) or (
            ours is not None and r_value is not None and abs(ours - r_value) <= 1e-6 * abs(r_value))
        if not equal:
            rows.append({"replicate": j + 1, "r": r_value, "ours": ours, "reason": reason,
                         "r_chosen_rank": entry.get("chosen_rank", [None] * (j + 1))[j]})
    r_reps = np.array([v for v in entry["estimates"] if v is not None and np.isfinite(v)], float)
    our_limits, _ = bca_limits(r_reps, entry["popest"], entry["ahat"], ALPHA)
    r_limits = [entry["bca"][str(a)] for a in ALPHA]
    ahat = jackknife_acceleration(table, estimate)
    result = {
        "table": name,
        "interval": entry["interval"],
        "replicates_compared": min(limit, len(entry["counts"])),
        "replicates_different": len(rows),
        "same_top_models": same_models,
        "differences": rows,
        "bca_from_r_replicates": {"ours": list(our_limits), "r": r_limits},
        "acceleration": {"ours": ahat, "r": entry["ahat"]},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(result), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicates", default=str(DEFAULT))
    parser.add_argument("--tables", default="")
    parser.add_argument("--limit", type=int, default=10**9, help="compare only the first LIMIT replicates")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mse_r_replicates.json"))
    args = parser.parse_args(argv)
    data = json.loads(Path(args.replicates).read_text())
    names = [n for n in args.tables.split(",") if n] or list(data["tables"])
    results = [compare(name, data["tables"][name], args.limit) for name in names]
    Path(args.out).write_text(json.dumps({"source": args.replicates, "rows": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
