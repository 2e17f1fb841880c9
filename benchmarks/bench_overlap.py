"""Benchmark of the secure overlap computations (capture-patterns, optionally mo-cooccurrence).

    python benchmarks/bench_overlap.py            # the full grid, writes benchmarks/results/overlap.json
    python benchmarks/bench_overlap.py --quick    # small grid, does not overwrite the results file
    python benchmarks/bench_overlap.py --baseline 9cb62e0 --repeat 3
        # side by side: every grid point alternately with this code and with the code of another commit
        # (a temporary git worktree; e.g. the linear pseudonym before the Dodis-Yampolskiy one)
    python benchmarks/bench_overlap.py --command --grid 3:10000,6:2000 --repeat 5
        # what the user waits for: `mpc-sandbox run --computation capture-patterns --json` as a subprocess
        # (start-up, the parties, the plaintext check), median of --repeat after one untimed run;
        # writes benchmarks/results/overlap_command.json (at most 6 lists: the nl-baseline organisations)

For every grid point it writes SYNTHETIC lists with a known overlap (fixed seed), runs the computation
with one real MPyC process per organisation (`run_mpc`), checks the result against the plaintext oracle,
and records wall time, bytes sent per party and rounds (messages to the busiest peer). It prints a
markdown table (the one in docs/overlap.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from synthetic import vocab  # noqa: E402

GRID = [(3, 1_000), (3, 5_000), (3, 10_000), (5, 2_000), (6, 2_000), (7, 1_000)]
QUICK_GRID = [(3, 500), (5, 300)]
FLOORS = {(5, 2_000): 10.0, (3, 10_000): 6.0, (6, 2_000): 10.0}  # seconds (issues 4 and 15)
GOALS = {(3, 10_000): 2.5, (6, 2_000): 5.0}  # seconds (issue 17)
METHOD = ("secret shuffle by re-sharing over all (t+1)-subsets + opened Dodis-Yampolskiy pseudonyms "
          "(1/(k+key))*G in Ed25519 + power sums of secret pattern codes + small-cell suppression in MPC")


def write_lists(out: str | Path, orgs: list[str], records: int, *, seed: int, population_factor: float = 3.0,
                mo_rate: float = 0.15) -> dict[str, int]:
    """Write one SYNTHETIC CSV per organisation, each with `records` distinct persons drawn from a shared
    population of `population_factor * records` persons, so that lists overlap at random.

    Returns the true capture-pattern counts {bitmask: persons} (bit j = orgs[j]) for checking.
    """
    rng = random.Random(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    population = int(population_factor * records)
    keys = sorted({f"{rng.getrandbits(64):016x}" for _ in range(population)})  # a repeat: ~n^2 / 2^65
    rng.shuffle(keys)
    population = len(keys)
    lists: dict[str, int] = {}
    for j, org in enumerate(orgs):
        persons = rng.sample(range(population), records)
        lines = ["record_id,person_key,org,registration_date,form,means_of_control,synthetic"]
        for r, p in enumerate(persons):
            lists[keys[p]] = lists.get(keys[p], 0) | (1 << j)
            form = rng.choice(vocab.FORMS)
            mo = ";".join(v for v in vocab.MEANS_OF_CONTROL if rng.random() < mo_rate)
            day = 1 + rng.randrange(28)
            lines.append(f"{org}-{r + 1},{keys[p]},{org},2024-03-{day:02d},{form},{mo},SYNTHETIC")
        (out / f"{org}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    truth: dict[str, int] = {}
    for mask in lists.values():
        truth[mask] = truth.get(mask, 0) + 1
    return truth


def run_point(m: int, records: int, computation: str, *, min_cell: int, seed: int = 1) -> dict:
    from sandbox.mpc.runner import run_mpc
    from sandbox.scenario import load_scenario

    scenario = load_scenario("nl-baseline")
    orgs = [f"org{j + 1}" for j in range(m)]
    # The scenario's organisations are only 6; the benchmark needs up to 7, so it uses its own ids.
    scenario = scenario.model_copy(update={"organisations": [
        scenario.organisations[0].model_copy(update={"id": o, "name": o}) for o in orgs]})
    with tempfile.TemporaryDirectory(prefix="bench-overlap-") as tmp:
        write_lists(tmp, orgs, records, seed=seed)
        load = os.getloadavg()[0]  # other work on the machine slows the parties down: record it
        t0 = time.perf_counter()
        result = run_mpc(scenario, tmp, computation, orgs=orgs, params={"min_cell": min_cell}, timeout=600)
        wall = time.perf_counter() - t0
    bytes_per_party = sorted(result.bytes_sent.values())
    phases: dict[str, float] = {}
    for timings in result.timings.values():
        for name, t in timings.items():
            phases[name] = max(phases.get(name, 0.0), round(t["wall"], 3))
    return {
        "computation": computation,
        "method": METHOD,
        "lists": m,
        "records_per_list": records,
        "threshold": result.threshold,
        "seconds": round(result.seconds, 2),
        "seconds_including_oracle": round(wall, 2),
        "phase_seconds_max_over_parties": phases,
        "bytes_per_party_max": bytes_per_party[-1],
        "bytes_per_party_min": bytes_per_party[0],
        "rounds": result.rounds,
        "exact": bool(result.match),
        "floor_seconds": FLOORS.get((m, records)),
        "min_cell": min_cell,
        "load_average_1min_at_start": round(load, 2),
    }


def run_in(code: Path, m: int, records: int, computation: str, min_cell: int) -> dict:
    """One grid point in a fresh interpreter, with the parties importing the code under `code`."""
    snippet = ("import json, sys; sys.path.insert(0, 'benchmarks'); from bench_overlap import run_point; "
               f"print(json.dumps(run_point({m}, {records}, {computation!r}, min_cell={min_cell})))")
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run([sys.executable, "-c", snippet], cwd=code, env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def command_point(m: int, records: int, repeat: int, seed: int = 1) -> dict:
    """The user's command on `m` lists of `records` each: wall times of `repeat` runs after one untimed run."""
    from sandbox.scenario import load_scenario

    orgs = load_scenario("nl-baseline").org_ids[:m]
    if len(orgs) < m:
        raise SystemExit(f"--command: at most {len(orgs)} lists (the nl-baseline organisations), not {m}")
    cmd = [str(Path(sys.executable).parent / "mpc-sandbox"), "run", "--scenario", "nl-baseline", "--computation",
           "capture-patterns", "--orgs", ",".join(orgs), "--json"]
    walls, exact, load = [], True, os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-overlap-command-") as tmp:
        write_lists(tmp, orgs, records, seed=seed)
        for i in range(repeat + 1):
            t0 = time.perf_counter()
            out = subprocess.run([*cmd, "--data", tmp], capture_output=True, text=True, check=True)
            wall = time.perf_counter() - t0
            exact &= json.loads(out.stdout)["match"] is True
            if i:
                walls.append(round(wall, 2))
    return {"lists": m, "records_per_list": records, "seconds": walls, "median_seconds": statistics.median(walls),
            "exact": exact, "goal_seconds": GOALS.get((m, records)), "floor_seconds": FLOORS.get((m, records)),
            "load_average_1min_at_start": round(load, 2)}


def side_by_side(baseline: str, grid, computation: str, min_cell: int, repeat: int) -> list[dict]:
    """Alternate this code and `baseline` (a commit) on every grid point; medians and their ratio."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tmp / "code"), baseline],
                   check=True)
    rows = []
    try:
        for m, records in grid:
            times: dict[str, list[float]] = {"current": [], "baseline": []}
            exact = True
            for _ in range(repeat):
                for name, code in (("current", ROOT), ("baseline", tmp / "code")):
                    r = run_in(code, m, records, computation, min_cell)
                    times[name].append(r["seconds"])
                    exact &= r["exact"]
            med = {k: statistics.median(v) for k, v in times.items()}
            rows.append({"lists": m, "records_per_list": records, "baseline": baseline, "runs_each": repeat,
                         "seconds_current": times["current"], "seconds_baseline": times["baseline"],
                         "median_current": med["current"], "median_baseline": med["baseline"],
                         "ratio": round(med["current"] / med["baseline"], 2), "exact": exact,
                         "floor_seconds": FLOORS.get((m, records))})
            print(f"{m} x {records}: current {med['current']:.2f} s, baseline {med['baseline']:.2f} s, "
                  f"ratio {rows[-1]['ratio']}", flush=True)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tmp / "code")], check=False)
    return rows


def markdown(rows: list[dict]) -> str:
    head = ("| computation | lists × records | seconds | floor | MB sent per party (max) | rounds | exact "
            "| load avg |\n|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        floor = f"≤ {r['floor_seconds']:.0f} s" if r["floor_seconds"] else ""
        lines.append(f"| {r['computation']} | {r['lists']} × {r['records_per_list']:,} | "
                     f"{r['seconds']:.1f} | {floor} | {r['bytes_per_party_max'] / 1e6:.1f} | {r['rounds']} | "
                     f"{'yes' if r['exact'] else 'NO'} | {r['load_average_1min_at_start']:.1f} |")
    return "\n".join(lines)


def write_results(name: str, rows: list[dict], note: str) -> None:
    """benchmarks/results/<name>: the rows with the machine, the date and what was timed."""
    path = ROOT / "benchmarks" / "results" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": f"{platform.machine()}, {platform.python_version()}", "date": time.strftime("%Y-%m-%d"),
            "note": note}
    path.write_text(json.dumps({"meta": meta, "runs": rows}, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {path.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small grid; results are not saved")
    parser.add_argument("--mo", action="store_true", help="also run mo-cooccurrence on every grid point")
    parser.add_argument("--min-cell", type=int, default=10)
    parser.add_argument("--baseline", help="a commit to compare with, side by side (e.g. the linear pseudonym)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per grid point (and variant) with --baseline or --command")
    parser.add_argument("--grid", help="grid points as M:N,M:N (default: the full grid)")
    parser.add_argument("--command", action="store_true", help="time the user's command (see the module docstring)")
    args = parser.parse_args(argv)
    grid = QUICK_GRID if args.quick else GRID
    if args.grid:
        grid = [tuple(int(x) for x in point.split(":")) for point in args.grid.split(",")]
    if args.command:
        rows = []
        for m, records in grid:
            row = command_point(m, records, args.repeat)
            rows.append(row)
            print(f"{m} x {records}: command median {row['median_seconds']:.2f} s {row['seconds']} "
                  f"(goal {row['goal_seconds']} s, floor {row['floor_seconds']} s), exact={row['exact']}", flush=True)
        write_results("overlap_command.json", rows,
                      "mpc-sandbox run --computation capture-patterns --json as a subprocess, the check included")
        return 0 if all(r["exact"] for r in rows) else 1
    if args.baseline:
        rows = side_by_side(args.baseline, grid, "capture-patterns", args.min_cell, args.repeat)
        write_results("overlap_side_by_side.json", rows,
                      "alternating runs of this code and the baseline commit; seconds = run_mpc wall time")
        return 0 if all(r["exact"] for r in rows) else 1
    computations = ["capture-patterns"] + (["mo-cooccurrence"] if args.mo else [])
    rows = []
    for computation in computations:
        for m, records in grid:
            row = run_point(m, records, computation, min_cell=args.min_cell)
            rows.append(row)
            print(f"{computation} {m} x {records}: {row['seconds']} s, exact={row['exact']}", flush=True)
    print()
    print(markdown(rows))
    if not args.quick:
        write_results("overlap.json", rows, "3-7 MPyC party processes on one machine")
    return 0 if all(r["exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
