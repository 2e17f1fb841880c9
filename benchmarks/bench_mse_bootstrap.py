"""Bootstrap intervals of sandbox.mse against R on every shipped table, over several seeds on both sides.

    python benchmarks/bench_mse_bootstrap.py [--boot 200] [--seeds 1,2,3,4,5] [--top-models-seeds 1,2,3]
        [--tables Ned_5,simdat] [--from-results]

R's figures: tests/data/mse_bootstrap_seeds.json (benchmarks/r/mse_bootstrap_seeds.R, several R seeds per
table, 200 replicates each; see benchmarks/r/README.md).  For up to 5 lists: MultipleSystemsEstimation
``estimate_population(method = "auto", nboot = 200)`` - BCa over the top models (20 for 4 lists, 100 for 5) -
against our ``analyse(method="auto", n_boot, top_models=-1)``; for 6 or more lists method auto is stepwise and
R's interval is SparseMSE ``estimatepopulation`` (stepwise BCa) against our ``analyse(method="stepwise", n_boot)``.

Both are random with different generators, so one run each says little: a BCa limit read in the tail of 200
replicates can vary by a factor of three between seeds.  So both sides are run with several seeds and, per
table and limit, the table shows R's mean +- sd over its seeds, ours over ours, and the standardised
difference z of the mean log limits with the pooled spread (sandbox.mse.bootstrap.compare_seed_runs;
Student t with n + m - 2 degrees of freedom under "same method").  Writes benchmarks/results/mse_bootstrap.json
after every table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.mse import analyse, published  # noqa: E402
from sandbox.mse.bootstrap import compare_seed_runs  # noqa: E402

REFERENCE = ROOT / "tests" / "data" / "mse_bootstrap_seeds.json"
LIMITS = ("0.025", "0.975")


def r_limits(entry: dict) -> dict[str, list[float]]:
    """R's 2.5 % and 97.5 % limits of a table, one value per R seed."""
    return {p: [s["bca"][p] for s in entry["seeds"]] for p in LIMITS}


def our_run(name: str, method: str, n_boot: int, seed: int) -> dict:
    t0 = time.perf_counter()
    result = analyse(published.load_table(name), method=method, n_boot=n_boot, seed=seed,
                     top_models=-1 if method == "auto" else None)
    boot = result.bootstrap
    return {
        "seed": seed,
        "ci95": list(result.ci95),
        "n_failed": boot.n_failed,
        "acceleration": boot.acceleration,
        "bias_correction": boot.bias_correction,
        "top_models": result.top_models,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def fmt(mean: float, sd: float) -> str:
    return f"{mean:,.0f} ± {sd:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--top-models-seeds", default="",
                        help="seeds for the tables bootstrapped over the top models (the slow ones); default --seeds")
    parser.add_argument("--tables", default="")
    parser.add_argument("--reference", default=str(REFERENCE), help="R's figures (mse_bootstrap_seeds.R, merged)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mse_bootstrap.json"))
    parser.add_argument("--from-results", action="store_true",
                        help="run nothing of ours: compare the runs stored in --out with R's figures again "
                             "(after more R seeds were merged into --reference)")
    args = parser.parse_args(argv)
    earlier = json.loads(Path(args.out).read_text()) if args.from_results else None
    stored = {r["table"]: r["runs"] for r in earlier["rows"]} if earlier else {}
    if earlier:  # the seeds the stored runs were made with
        args.seeds = ",".join(map(str, earlier["seeds"]))
        args.top_models_seeds = ",".join(map(str, earlier["top_models_seeds"]))
    reference = json.loads(Path(args.reference).read_text())
    if reference["settings"]["nboot"] != args.boot:
        parser.error(f"R's figures have {reference['settings']['nboot']} replicates, not {args.boot}")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    top_seeds = [int(s) for s in args.top_models_seeds.split(",") if s] or seeds
    names = [n for n in args.tables.split(",") if n] or list(reference["tables"])
    rows: list[dict] = []
    lines = [
        "| table | lists | interval | limit | R mean ± sd (seeds) | sandbox mean ± sd (seeds) | z (log scale) "
        "| s per run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        entry = reference["tables"][name]
        method = "auto" if entry["interval"] == "mse_auto_top_models" else "stepwise"
        runs = stored.get(name) or [our_run(name, method, args.boot, seed)
                                    for seed in (top_seeds if method == "auto" else seeds)]
        theirs = r_limits(entry)
        row = {"table": name, "lists": len(entry["lists"]), "method": method, "estimate": entry["estimate"],
               "r_seeds": [s["seed"] for s in entry["seeds"]], "runs": runs, "limits": {}}
        for i, p in enumerate(LIMITS):
            comparison = compare_seed_runs([r["ci95"][i] for r in runs], theirs[p])
            row["limits"][p] = {"r": theirs[p], "ours": [r["ci95"][i] for r in runs], **comparison.__dict__,
                                "agrees": comparison.agrees}
            c = comparison
            lines.append(
                f"| {name} | {row['lists']} | {method} BCa | {p} | {fmt(c.reference_mean, c.reference_sd)}"
                f" ({comparison.n_reference}) | {fmt(comparison.ours_mean, comparison.ours_sd)} ({comparison.n_ours}) |"
                f" {comparison.z:+.2f} (crit. {comparison.critical:.1f}) |"
                f" {sum(r['seconds'] for r in runs) / len(runs):.1f} |"
            )
        rows.append(row)
        print(lines[-2], lines[-1], sep="\n", flush=True)
        table = "\n".join(lines)
        Path(args.out).write_text(
            json.dumps({"boot": args.boot, "seeds": seeds, "top_models_seeds": top_seeds, "reference": args.reference,
                        "summary": table, "rows": rows}, indent=2) + "\n",
            encoding="utf-8",
        )
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
