"""Every catalogue computation against its plaintext oracle: seeds 1-10 × 3, 5 and 6 organisations.

Writes benchmarks/results/oracle.json (one row per run: computation, seed, parties, match, seconds) and
prints a summary table. `--quick`: seeds 1-2.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import synthetic
from sandbox.mpc import computations
from sandbox.mpc.runner import run_mpc
from sandbox.scenario import load_scenario

OUT = Path(__file__).resolve().parent / "results" / "oracle.json"
PARAMS = {"count-filtered": {"region": "amsterdam"}}


def main(quick: bool) -> int:
    scenario = load_scenario("nl-baseline")
    seeds = range(1, 3) if quick else range(1, 11)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            folder = Path(tmp) / f"seed{seed}"
            synthetic.write_dataset(synthetic.generate(scenario.organisations, scenario.generator, seed=seed), folder)
            for m in (3, 5, 6):
                for name in computations.names():
                    r = run_mpc(scenario, folder, name, orgs=scenario.org_ids[:m], params=PARAMS.get(name),
                                timeout=600)
                    rows.append({"computation": name, "seed": seed, "parties": m, "match": bool(r.match),
                                 "seconds": r.seconds, "suppressed": len(r.suppressed)})
                    print(f"seed {seed} m={m} {name:28} match={r.match} {r.seconds:.2f} s", flush=True)
    if not quick:
        OUT.parent.mkdir(exist_ok=True)
        OUT.write_text(json.dumps({"measured": time.strftime("%Y-%m-%d %H:%M"), "rows": rows}, indent=1))
    summary = defaultdict(lambda: [0, 0])
    for r in rows:
        summary[r["computation"]][0] += r["match"]
        summary[r["computation"]][1] += 1
    print("\n| computation | runs matching the oracle (seeds × 3/5/6 parties) |\n|---|---|")
    for name, (ok, n) in sorted(summary.items()):
        print(f"| {name} | {ok} / {n} |")
    return 0 if all(r["match"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main("--quick" in sys.argv))
