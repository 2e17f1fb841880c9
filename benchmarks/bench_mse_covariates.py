"""List-only against covariate models: relative error against the generator's true population.

    python benchmarks/bench_mse_covariates.py [--seeds 10] [--population N] [--covariates form] [--scenarios a,b]

For every shipped scenario (scenarios/*.yaml) and seed, the generator draws a population with known size;
the plaintext table of registered people (patterns and covariate levels; the MPC computation
capture-patterns-by gives the same counts) is analysed with

* list-only stepwise (SparseMSE's rule, p < 0.02) and list-only ``auto`` (MultipleSystemsEstimation's
  default: BIC for up to 5 lists, stepwise for 6 or more) - sandbox.mse.analysis;
* the covariate model chosen by minimal BIC on Cruyff's stepwise path - sandbox.mse.covariates;
* with ``--empty-overlaps`` also the same search with the pairs of lists that share nobody (although the
  main-effects model expects people on both, p < 0.02) fitted at minus infinity, as SparseMSE does;

and the relative error (estimate - truth) / truth is recorded, overall and per level of each covariate
(list-only per level: the list-only model fitted on that stratum alone).  Results go to
benchmarks/results/mse_covariates.json; the summary table is printed (copied into README and docs/mse.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.mse import CaptureTable, MSEError, analyse  # noqa: E402
from sandbox.mse.covariates import analyse_covariates, covariate_table  # noqa: E402
from sandbox.mse.strata import person_frame, true_by_level  # noqa: E402
from sandbox.scenario import load_scenario  # noqa: E402
from synthetic import generate  # noqa: E402


def _list_only(frame, lists, method):
    counts = frame.groupby(lists).size()
    table = CaptureTable.from_counts(lists, {tuple(int(v) for v in k): int(n) for k, n in counts.items() if any(k)})
    try:
        return analyse(table, method=method).estimate
    except MSEError:
        return None


def run_one(
    scenario_name: str, seed: int, population: int | None, covariates: list[str], empty_overlaps: bool = False
) -> dict:
    scenario = load_scenario(scenario_name)
    data = generate(scenario.organisations, scenario.generator, seed=seed, population=population)
    lists = [o.id for o in scenario.organisations]
    truth = len(data.population)
    frame = person_frame(data.population, lists, covariates)
    row: dict = {"scenario": scenario_name, "seed": seed, "lists": len(lists), "truth": truth,
                 "observed": len(frame)}
    t0 = time.perf_counter()
    for method in ("stepwise", "auto"):
        row[f"list_{method}"] = _list_only(frame, lists, method)
    row["seconds_list_only"] = round(time.perf_counter() - t0, 2)

    def covariate_fit(suffix: str, **options) -> None:
        """The min-BIC covariate model into row[covariate_bic<suffix>] (or its error), with its terms and time."""
        t0 = time.perf_counter()
        try:
            result = analyse_covariates(covariate_table(frame, lists, covariates, source=scenario_name), **options)
            row[f"covariate_bic{suffix}"] = result.estimate
            row["covariate_terms" if not suffix else f"covariate{suffix}_terms"] = result.terms
            if options.get("empty_overlaps"):
                row["empty_overlap_terms"] = result.empty_overlap_terms
            else:
                row["by_level"] = result.by_level
        except MSEError as exc:
            row[f"covariate_bic{suffix}"], row[f"covariate{suffix}_error"] = None, str(exc)
        row[f"seconds_covariate{suffix}"] = round(time.perf_counter() - t0, 2)

    covariate_fit("")
    if empty_overlaps:
        covariate_fit("_empty", empty_overlaps=True)
    true_levels = true_by_level(data.population, covariates)
    strata = []
    for cov in covariates:
        for level, n_true in true_levels[cov].items():
            part = frame[frame[cov] == level]
            cov_est = next((r["estimate"] for r in row.get("by_level", {}).get(cov, []) if r["level"] == level), None)
            strata.append({"covariate": cov, "level": level, "truth": n_true, "observed": len(part),
                           "list_stepwise": _list_only(part, lists, "stepwise") if len(part) else None,
                           "covariate_bic": cov_est})
    row["strata"] = strata
    return row


def _rel(est, truth):
    return None if est is None else (est - truth) / truth


def summary(rows: list[dict]) -> str:
    keys = ["list_stepwise", "list_auto", "covariate_bic"]
    head = (
        "| scenario | lists | true N (mean) | observed (mean) | list-only stepwise | list-only auto | "
        "covariates, min BIC |"
    )
    if any("covariate_bic_empty" in r for r in rows):
        keys.append("covariate_bic_empty")
        head += " covariates, min BIC, empty overlaps at -inf |"
    lines = [head, "|---" * (len(keys) + 4) + "|"]
    for name in sorted({r["scenario"] for r in rows}):
        mine = [r for r in rows if r["scenario"] == name]
        cells = []
        for key in keys:
            errs = [_rel(r.get(key), r["truth"]) for r in mine if r.get(key) is not None]
            failed = len(mine) - len(errs)
            text = (f"{statistics.median(errs):+.1%} median, {statistics.mean(abs(e) for e in errs):.1%} mean abs"
                    if errs else "-")
            cells.append(text + (f" ({failed} failed)" if failed else ""))
        lines.append(f"| {name} | {mine[0]['lists']} | {statistics.mean(r['truth'] for r in mine):,.0f} | "
                     f"{statistics.mean(r['observed'] for r in mine):,.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--population", type=int, default=None, help="override the scenarios' population")
    parser.add_argument("--covariates", default="form")
    parser.add_argument("--scenarios", default="minors-criminal,horticulture-labour,nl-baseline")
    parser.add_argument("--empty-overlaps", action="store_true", help="also run the search with empty overlaps at -inf")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mse_covariates.json"))
    args = parser.parse_args(argv)
    covariates = [c for c in args.covariates.split(",") if c]
    rows = []
    t0 = time.perf_counter()
    for name in args.scenarios.split(","):
        for seed in range(1, args.seeds + 1):
            row = run_one(name, seed, args.population, covariates, args.empty_overlaps)
            rows.append(row)
            partial = {"partial": True, "covariates": covariates, "runs": rows}
            Path(args.out).write_text(json.dumps(partial, indent=2, default=float) + "\n", encoding="utf-8")
            print(f"{name} seed {seed}: truth {row['truth']}, stepwise {row['list_stepwise']}, "
                  f"auto {row['list_auto']}, covariates {row['covariate_bic']} ({row['seconds_covariate']} s)"
                  + (f", empty overlaps {row.get('covariate_bic_empty')}" if args.empty_overlaps else ""),
                  flush=True)
    table = summary(rows)
    print(table)
    out = {"date": time.strftime("%Y-%m-%d"), "seeds": args.seeds, "population": args.population,
           "covariates": covariates, "total_seconds": round(time.perf_counter() - t0, 1), "summary": table,
           "runs": rows}
    Path(args.out).write_text(json.dumps(out, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
