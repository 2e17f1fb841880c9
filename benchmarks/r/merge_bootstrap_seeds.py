"""Merge runs of benchmarks/r/mse_bootstrap_seeds.R into one file of R bootstrap limits per table and seed.

    python benchmarks/r/merge_bootstrap_seeds.py OUT.json RUN.json [RUN.json ...] [--with-reference]
        [--replicates-out REPLICATES.json --replicate-runs REP.json [REP.json ...]]

The R script can be run one table (or a few seeds) at a time, which is how a shared machine fits it in; this
joins those runs: the seeds of each table are concatenated (a seed given twice is an error) and every run's
exact command is kept under ``commands``.  ``--with-reference`` also adds the single run already committed in
tests/data/mse_bootstrap_reference.json (``benchmarks/r/mse_reference.R``, iseed 1234), which called the same
two R functions with the same arguments, as one more seed marked ``"source": "mse_reference.R"``.
``--replicates-out`` joins the per-table replicate files (the script's fifth argument) in the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "data" / "mse_bootstrap_reference.json"


def reference_seed(entry: dict) -> dict:
    """The 1234 run of mse_reference.R in the layout of mse_bootstrap_seeds.R."""
    if entry["mse_auto"]["resolved_method"] == "bic":
        rows = entry["mse_auto"]["bootstrap"]["bca"]
        return {"seed": 1234, "bca": rows[-1], "bca_ntop1": rows[0], "source": "mse_reference.R"}
    boot = entry["sparsemse_stepwise"]["bootstrap"]
    low, high = boot["bca95"]
    return {"seed": 1234, "bca": {"0.025": low, "0.975": high}, "ahat": boot["ahat"], "source": "mse_reference.R"}


def merge(runs: list[dict], with_reference: bool) -> dict:
    merged = {key: runs[0][key] for key in ("generated_by", "r_version", "packages", "settings")}
    merged["commands"] = [run["command"] for run in runs]
    merged["tables"] = {}
    for run in runs:
        if run["packages"] != merged["packages"] or run["settings"]["nboot"] != merged["settings"]["nboot"]:
            raise SystemExit(f"{run['command']}: other package versions or number of replicates")
        for name, entry in run["tables"].items():
            table = merged["tables"].setdefault(name, {**entry, "seeds": []})
            known = {s["seed"] for s in table["seeds"]}
            for seed in entry["seeds"]:
                if seed["seed"] in known:
                    raise SystemExit(f"{name}: seed {seed['seed']} given twice")
                table["seeds"].append(seed)
    if with_reference:
        reference = json.loads(REFERENCE.read_text())
        if reference["settings"]["nboot"] != merged["settings"]["nboot"]:
            raise SystemExit("mse_bootstrap_reference.json has another number of replicates")
        merged["commands"].append("R_LIBS_USER=/tmp/Rlib Rscript benchmarks/r/mse_reference.R 200 "
                                  "tests/data/mse_bootstrap_reference.json (seed 1234)")
        for name, entry in reference["tables"].items():
            if name not in merged["tables"]:  # a table with no run of mse_bootstrap_seeds.R: 1234 only
                auto = entry["mse_auto"]["resolved_method"] == "bic"
                merged["tables"][name] = {
                    "lists": entry["lists"], "observed": entry["observed"],
                    "interval": "mse_auto_top_models" if auto else "sparsemse_stepwise",
                    "estimate": entry["mse_auto" if auto else "sparsemse_stepwise"]["estimate"],
                    "ntop": entry["mse_auto"]["bootstrap"]["ntop"][-1] if auto else 0, "seeds": []}
            merged["tables"][name]["seeds"].append(reference_seed(entry))
    for table in merged["tables"].values():
        table["seeds"].sort(key=lambda s: s["seed"])
    merged["settings"]["seeds"] = sorted({s["seed"] for t in merged["tables"].values() for s in t["seeds"]})
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--with-reference", action="store_true")
    parser.add_argument("--replicates-out")
    parser.add_argument("--replicate-runs", nargs="*", default=[])
    args = parser.parse_args(argv)
    if args.replicates_out:
        parts = [json.loads(Path(p).read_text()) for p in args.replicate_runs]
        joined = {key: parts[0][key] for key in ("generated_by", "r_version", "packages")}
        joined["commands"] = [part["command"] for part in parts]
        joined["tables"] = {name: t for part in parts for name, t in part["tables"].items()}
        Path(args.replicates_out).write_text(json.dumps(joined, separators=(",", ":")) + "\n", encoding="utf-8")
    merged = merge([json.loads(Path(p).read_text()) for p in args.runs], args.with_reference)
    merged["merged_by"] = " ".join(["python benchmarks/r/merge_bootstrap_seeds.py", *(argv or sys.argv[1:])])
    Path(args.out).write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    for name, table in merged["tables"].items():
        print(name, [s["seed"] for s in table["seeds"]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
