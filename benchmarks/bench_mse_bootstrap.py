"""Bootstrap intervals of sandbox.mse against R on every shipped table.

    python benchmarks/bench_mse_bootstrap.py [--boot 200] [--tables Ned_5,simdat] [--seed 1]

R's figures: tests/data/mse_bootstrap_reference.json, written by
``Rscript benchmarks/r/mse_reference.R 200 tests/data/mse_bootstrap_reference.json`` (R's generator,
iseed 1234, 200 replicates).  For up to 5 lists: MultipleSystemsEstimation ``estimate_population(method =
"auto", nboot = 200)`` - BCa over the top models (20 for 4 lists, 100 for 5) - against our
``analyse(method="auto", n_boot, top_models=-1)``; for 6 or more lists method auto is stepwise and R's
interval is SparseMSE ``estimatepopulation`` (stepwise BCa) against our ``analyse(method="stepwise", n_boot)``.

Both are random, with different generators, so they agree only up to Monte Carlo error: the table shows
the difference of each limit in units of sqrt(2) x its Monte Carlo standard error (estimated from our
replicates, sandbox.mse.bootstrap.bca_monte_carlo_error).  Writes benchmarks/results/mse_bootstrap.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.mse import analyse, published  # noqa: E402
from sandbox.mse.bootstrap import bca_monte_carlo_error  # noqa: E402

REFERENCE = ROOT / "tests" / "data" / "mse_bootstrap_reference.json"


def r_interval(entry: dict) -> tuple[str, list[float]]:
    if entry["mse_auto"]["resolved_method"] == "bic":
        last = entry["mse_auto"]["bootstrap"]["bca"][-1]
        return "auto", [last["0.025"], last["0.975"]]
    return "stepwise", list(entry["sparsemse_stepwise"]["bootstrap"]["bca95"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tables", default="")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mse_bootstrap.json"))
    args = parser.parse_args(argv)
    reference = json.loads(REFERENCE.read_text())
    names = [n for n in args.tables.split(",") if n] or list(reference["tables"])
    rows = []
    for name in names:
        entry = reference["tables"][name]
        method, r_ci = r_interval(entry)
        t0 = time.perf_counter()
        result = analyse(
            published.load_table(name),
            method=method,
            n_boot=args.boot,
            seed=args.seed,
            top_models=-1 if method == "auto" else None,
        )
        seconds = time.perf_counter() - t0
        boot = result.bootstrap
        errors = [
            math.sqrt(2) * bca_monte_carlo_error(boot.replicates, boot.estimate, boot.acceleration, p)
            for p in (0.025, 0.975)
        ]
        row = {
            "table": name,
            "lists": len(entry["lists"]),
            "method": method,
            "top_models": result.top_models,
            "estimate": result.estimate,
            "ci95": list(result.ci95),
            "r_ci95": r_ci,
            "mc_se": errors,
            "z": [(o - r) / e if e > 0 else None for o, r, e in zip(result.ci95, r_ci, errors, strict=True)],
            "acceleration": boot.acceleration,
            "seconds": round(seconds, 1),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    lines = [
        "| table | lists | interval | models per replicate | R 95 % | sandbox 95 % | difference / MC s.e. | s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['table']} | {r['lists']} | {r['method']} BCa | {r['top_models'] or 'whole selection'} | "
            f"{r['r_ci95'][0]:,.0f} - {r['r_ci95'][1]:,.0f} | {r['ci95'][0]:,.0f} - {r['ci95'][1]:,.0f} | "
            + ", ".join(f"{z:+.1f}" if z is not None else "-" for z in r["z"])
            + f" | {r['seconds']} |"
        )
    table = "\n".join(lines)
    print(table)
    Path(args.out).write_text(
        json.dumps({"boot": args.boot, "seed": args.seed, "summary": table, "rows": rows}, indent=2) + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
