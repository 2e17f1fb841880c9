"""Cost of a designed query counting distinct persons (secure join on the linkage key, OR per person) next to
the same query counting registrations (secure sum), with real MPyC parties on generated nl-baseline data
(all six organisations, about 1,000 records), for growing numbers of cells.

Writes benchmarks/results/distinct.json and prints a markdown table. Medians over repeats, side by side.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import synthetic
from sandbox.mpc.query import compile_query
from sandbox.mpc.runner import run_mpc
from sandbox.scenario import load_scenario

OUT = Path(__file__).resolve().parent / "results" / "distinct.json"
GROUPS = (["form"], ["form", "sex"], ["form", "sector"])
MEASURES = (("count", "count"), ("distinct", {"distinct": "person"}))


def main(quick: bool) -> None:
    scenario = load_scenario("nl-baseline")
    repeats = 1 if quick else 3
    orgs = scenario.org_ids
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        synthetic.write_dataset(synthetic.generate(scenario.organisations, scenario.generator, seed=1), Path(tmp))
        records = sum(1 for o in orgs for _ in open(Path(tmp) / f"{o}.csv", encoding="utf-8")) - len(orgs)
        for group_by in GROUPS[:2] if quick else GROUPS:
            for label, measure in MEASURES:
                query = {"group_by": group_by, "where": {}, "measure": measure, "min_cell": 5}
                runs = []
                for _ in range(repeats):
                    r = run_mpc(scenario, tmp, "designed-query", orgs=orgs, params={"query": query}, timeout=900)
                    assert r.match, f"{label} {group_by} does not match the oracle"
                    runs.append(r)
                rows.append({"measure": label, "group_by": " × ".join(group_by),
                             "cells": len(compile_query(query).cells), "parties": len(orgs), "records": records,
                             "repeats": repeats,
                             "seconds_median": round(statistics.median(x.seconds for x in runs), 3),
                             "bytes_per_party_max": max(runs[0].bytes_sent.values()), "rounds": runs[0].rounds})
                print(f"{label:9} {' × '.join(group_by):14} {rows[-1]['cells']:4} cells "
                      f"{rows[-1]['seconds_median']:7.2f} s", flush=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"measured": time.strftime("%Y-%m-%d %H:%M"), "machine": "2 cores (shared)",
                               "rows": rows}, indent=2))
    print("\n| measure | group-by | cells | parties | records | seconds (median) | bytes/party (max) | rounds |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['measure']} | {r['group_by']} | {r['cells']} | {r['parties']} | {r['records']:,} | "
              f"{r['seconds_median']:.2f} | {r['bytes_per_party_max']:,} | {r['rounds']} |")


if __name__ == "__main__":
    main("--quick" in sys.argv[1:])
