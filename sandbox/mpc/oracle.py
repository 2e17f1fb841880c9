"""The plaintext check of one run, as its own process: ``python -m sandbox.mpc.oracle --plan P --out O``.

The runner starts it next to the parties, so that pooling the files in the clear (the sandbox's check,
which no real deployment has) neither holds the web server's interpreter lock nor adds to a run's wall time.
The plan holds the computation, the data folder, the organisations and the parameters; the output is the
oracle's ``{"revealed": ..., "suppressed": [...]}`` as JSON, plus ``own_counts`` (each organisation's own
count per cell, for aggregate computations).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def compute(plan: dict) -> dict:
    from sandbox.mpc import computations
    from sandbox.mpc.inputs import read_own_records
    from sandbox.results import own_counts

    comp = computations.get(plan["computation"])
    frames = {o: read_own_records(Path(plan["data_dir"]) / f"{o}.csv") for o in plan["orgs"]}
    # each organisation's own count per cell: what the Run page shows as "your own slice"
    return {**comp.oracle(frames, plan["params"]), "own_counts": own_counts(frames, comp.name, plan["params"]) or None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    if plan.get("nice"):
        os.nice(int(plan["nice"]))
    try:
        result = compute(plan)
    except Exception as exc:  # reported by the runner as a failed check, never a traceback in the UI
        sys.stderr.write(f"ORACLE-ERROR: {type(exc).__name__}: {exc}\n")
        return 1
    tmp = Path(args.out).with_suffix(".tmp")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
