"""Cost of the differencing check of designed queries (query-approval of two designed queries) and of the
designed query itself, with real MPyC parties on generated nl-baseline data, for growing numbers of cells.

Writes benchmarks/results/differencing.json and prints a markdown table. Medians over repeats.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import synthetic
from sandbox.mpc.query import compile_query, difference_cells
from sandbox.mpc.runner import run_mpc
from sandbox.scenario import load_scenario
from synthetic import vocab

OUT = Path(__file__).resolve().parent / "results" / "differencing.json"
GROUPS = (["form"], ["form", "sector"], ["nationality_group", "sector"])


def main(quick: bool) -> None:
    scenario = load_scenario("nl-baseline")
    repeats = 1 if quick else 3
    orgs = scenario.org_ids[:3]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        synthetic.write_dataset(synthetic.generate(scenario.organisations, scenario.generator, seed=1), Path(tmp))
        for group_by in GROUPS[:2] if quick else GROUPS:
            earlier = {"group_by": group_by, "where": {}, "min_cell": 5}
            new = {"group_by": group_by, "where": {"region": list(vocab.REGIONS[1:])}, "min_cell": 5}
            for name, params in (("query-approval", {"query": new, "differs_from_query": earlier}),
                                 ("designed-query", {"query": new})):
                runs = []
                for _ in range(repeats):
                    r = run_mpc(scenario, tmp, name, orgs=orgs, params=params, timeout=900)
                    assert r.match, f"{name} {group_by} does not match the oracle"
                    runs.append(r)
                r = runs[0]
                cells = len(difference_cells(new, earlier)) if name == "query-approval" else \
                    len(compile_query(new).cells)
                rows.append({"computation": name, "group_by": " × ".join(group_by), "cells": cells,
                             "parties": len(orgs), "repeats": repeats,
                             "seconds_median": round(statistics.median(x.seconds for x in runs), 3),
                             "bytes_per_party_max": max(r.bytes_sent.values()), "rounds": r.rounds,
                             "revealed": r.revealed if name == "query-approval" else None})
                print(f"{name:16} {' × '.join(group_by):28} {cells:4} cells {rows[-1]['seconds_median']:7.2f} s",
                      flush=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"measured": time.strftime("%Y-%m-%d %H:%M"), "machine": "2 cores (shared)",
                               "rows": rows}, indent=2))
    print("\n| computation | group-by | cells | parties | seconds (median) | bytes/party (max) | rounds |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['computation']} | {r['group_by']} | {r['cells']} | {r['parties']} | {r['seconds_median']:.2f} | "
              f"{r['bytes_per_party_max']:,} | {r['rounds']} |")


if __name__ == "__main__":
    main("--quick" in sys.argv[1:])
