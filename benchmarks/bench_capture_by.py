"""Benchmark of capture-patterns-by: capture patterns per covariate level, levels chosen inside MPC.

    python benchmarks/bench_capture_by.py            # the grid, writes benchmarks/results/capture_by.json
    python benchmarks/bench_capture_by.py --quick    # a small grid, does not overwrite the results file

For every grid point it writes SYNTHETIC lists (fixed seed): each list holds `records` distinct persons
drawn from a shared population three times as large, with sex, age, nationality and form per person; each
list leaves a share of the values empty and records some differently from the others (so the choice of the
first organisation matters). It runs the computation with one real MPyC process per organisation
(`run_mpc`), checks the result against the plaintext oracle, and records wall time (start-up included),
the wall time per phase, bytes sent per party and rounds. It prints a markdown table (docs/overlap.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from synthetic import vocab  # noqa: E402

TWO = ["sex", "minor"]
FOUR = ["sex", "minor", "dutch", "form"]
GRID = [(3, 2_000, TWO, 10), (3, 2_000, FOUR, 10), (6, 1_000, TWO, 10), (6, 1_000, FOUR, 10),
        (3, 2_000, FOUR, 0), (6, 1_000, FOUR, 0)]
QUICK_GRID = [(3, 300, TWO, 10), (3, 300, FOUR, 0)]
NATIONALITIES = ("NL", "NL", "PL", "RO", "NG", "UA", "BR")


def write_lists(out: Path, orgs: list[str], records: int, *, seed: int, missing: float = 0.15,
                disagree: float = 0.1) -> None:
    """One SYNTHETIC CSV per organisation (see the module docstring)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    population = 3 * records
    keys = sorted({f"{rng.getrandbits(64):016x}" for _ in range(population)})
    rng.shuffle(keys)
    people = [{"sex": rng.choice("FFM"), "age": str(rng.randint(12, 60)), "nationality": rng.choice(NATIONALITIES),
               "form": rng.choice(vocab.FORMS)} for _ in keys]
    for org in orgs:
        lines = ["record_id,person_key,org,registration_date,form,sex,age,nationality,synthetic"]
        for r, p in enumerate(rng.sample(range(len(keys)), records)):
            values = dict(people[p])
            for field in ("sex", "age", "nationality"):
                if rng.random() < disagree:
                    values[field] = {"sex": rng.choice("FMX"), "age": str(rng.randint(12, 60)),
                                     "nationality": rng.choice(NATIONALITIES)}[field]
                if rng.random() < missing:
                    values[field] = ""
            if rng.random() < disagree:
                values["form"] = ";".join(sorted({values["form"], rng.choice(vocab.FORMS)}))
            lines.append(f"{org}-{r + 1},{keys[p]},{org},2024-03-01,{values['form']},{values['sex']},"
                         f"{values['age']},{values['nationality']},SYNTHETIC")
        (out / f"{org}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_point(m: int, records: int, covariates: list[str], min_cell: int, *, seed: int = 1) -> dict:
    from sandbox.mpc.runner import run_mpc
    from sandbox.scenario import load_scenario

    scenario = load_scenario("nl-baseline")
    orgs = scenario.org_ids[:m]
    with tempfile.TemporaryDirectory(prefix="bench-capture-by-") as tmp:
        write_lists(Path(tmp), orgs, records, seed=seed)
        load = os.getloadavg()[0]
        result = run_mpc(scenario, tmp, "capture-patterns-by", orgs=orgs, timeout=1800,
                         params={"min_cell": min_cell, "covariates": covariates})
    cells = ((1 << m) - 1)
    for c in covariates:
        cells *= {"sex": 4, "minor": 3, "dutch": 3, "form": 5}[c]
    timings = list(result.timings.values())
    phases = {k: round(max(t[k]["wall"] for t in timings), 2) for k in timings[0]}
    return {"lists": m, "records": records, "covariates": covariates, "min_cell": min_cell, "cells": cells,
            "seconds": result.seconds, "phases": phases, "mb_sent_max": round(max(result.bytes_sent.values()) / 1e6, 1),
            "rounds": result.rounds, "exact": bool(result.match), "opened_cells": len(result.revealed),
            "load_avg_before": round(load, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    for m, records, covariates, min_cell in QUICK_GRID if args.quick else GRID:
        row = run_point(m, records, covariates, min_cell)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| lists × records | covariates | min_cell | cells | seconds | count / output phase (s) | "
          "MB sent per party (max) | rounds | exact | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['lists']} × {r['records']:,} | {', '.join(r['covariates'])} | {r['min_cell']} | {r['cells']:,} | "
              f"{r['seconds']:.1f} | {r['phases']['count']:.1f} / {r['phases']['output']:.1f} | {r['mb_sent_max']} | "
              f"{r['rounds']} | {'yes' if r['exact'] else 'NO'} | {r['load_avg_before']} |")
    if not args.quick:
        out = ROOT / "benchmarks" / "results" / "capture_by.json"
        out.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(), "rows": rows}, indent=2)
                       + "\n", encoding="utf-8")
    return 0 if all(r["exact"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
