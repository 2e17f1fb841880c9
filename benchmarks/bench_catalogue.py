"""Cost of every catalogue computation with real MPyC parties on generated nl-baseline data.

Writes benchmarks/results/catalogue.json (seconds, bytes per party, messages, rounds, per-phase times)
and prints a markdown table. Medians over repeats, all measured in one run.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import synthetic
from sandbox.mpc import computations
from sandbox.mpc.runner import run_mpc
from sandbox.scenario import load_scenario

OUT = Path(__file__).resolve().parent / "results" / "catalogue.json"


def main(quick: bool) -> None:
    scenario = load_scenario("nl-baseline")
    repeats = 1 if quick else 3
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = synthetic.generate(scenario.organisations, scenario.generator, seed=1)
        synthetic.write_dataset(data, Path(tmp))
        for m in (3, 6) if quick else (3, 5, 6):
            orgs = scenario.org_ids[:m]
            for name in computations.names():
                if name.startswith("count-filtered"):
                    continue
                runs = []
                for _ in range(repeats):
                    r = run_mpc(scenario, tmp, name, orgs=orgs, timeout=600)
                    assert r.match, f"{name} with {m} parties does not match the oracle"
                    runs.append(r)
                med = statistics.median(r.seconds for r in runs)
                r = runs[0]
                rows.append({
                    "computation": name, "parties": m,
                    "records": sum(len(data.records[o]) for o in orgs),
                    "seconds_median": round(med, 3), "repeats": repeats,
                    "bytes_per_party_max": max(r.bytes_sent.values()),
                    "messages_per_party_max": max(r.messages.values()), "rounds": r.rounds,
                    "compute_seconds": round(max(t.get("compute", {}).get("wall", 0) for t in r.timings.values()), 3),
                    "match": True,
                })
                print(f"{name:28} m={m} {med:7.2f} s", flush=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"measured": time.strftime("%Y-%m-%d %H:%M"), "machine": "2 cores (shared)",
                               "rows": rows}, indent=2))
    print("\n| computation | parties | records | seconds (median) | bytes/party (max) | rounds |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['computation']} | {r['parties']} | {r['records']} | {r['seconds_median']:.2f} | "
              f"{r['bytes_per_party_max']:,} | {r['rounds']} |")


if __name__ == "__main__":
    main("--quick" in sys.argv)
