"""Benchmark of the synthetic generator: the command's wall time, records per second and peak memory.

    python benchmarks/bench_generator.py [--sizes 10000 100000 1000000] [--repeats 3]
        [--command-sizes 200000 1000000] [--command-repeats 5] [--baseline REV]

The first figure is what a user waits for: `mpc-sandbox generate --scenario nl-baseline --population N
--out DIR` as a subprocess, from Python's start to the last file written (wall time, and the CPU time of
the process from getrusage), median of `--command-repeats` runs per size. With `--baseline REV` the same
command of that revision (a temporary `git worktree`, run by the same interpreter with its folder first on
PYTHONPATH) is timed alternately with this one, so both see the same machine load. Bytecode caches are
allowed (PYTHONDONTWRITEBYTECODE is removed, as for a user) and each version runs once before timing.

Each population size runs in a fresh Python process: the nl-baseline scenario is generated and
written once (the headline figures, including one-time costs such as importing Faker), then generated
a second time in the same process (`second_run_*`). Peak memory is the process's maximum resident set
size (resource.getrusage), taken after the first run. Each size is run `--repeats` times (fresh
processes); the run with the median generate CPU time is reported, with all CPU and wall times listed,
because CPU time on a shared machine varies by ±20 % from run to run. Writes
benchmarks/results/generator.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import synthetic  # noqa: E402
from sandbox.scenario import load_scenario  # noqa: E402


def bench(size: int, *, seed: int = 0) -> dict:
    """Time generate() and write_dataset() for `size` victims; measure peak memory separately."""
    s = load_scenario("nl-baseline")
    start, cpu = time.perf_counter(), time.process_time()
    data = synthetic.generate(s.organisations, s.generator, seed=seed, population=size)
    gen_s, gen_cpu = time.perf_counter() - start, time.process_time() - cpu
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        synthetic.write_dataset(data, tmp)
        write_s = time.perf_counter() - start
    records = data.ground_truth["records_total"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    del data
    # a second run in the same process: one-time costs (importing Faker, reading its name lists) are paid
    start, cpu = time.perf_counter(), time.process_time()
    synthetic.generate(s.organisations, s.generator, seed=seed, population=size)
    warm_s, warm_cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "victims": size,
        "records": records,
        "generate_s": round(gen_s, 3),
        "generate_cpu_s": round(gen_cpu, 3),
        "records_per_cpu_s": round(records / gen_cpu),
        "write_s": round(write_s, 3),
        "records_per_s": round(records / gen_s),
        "victims_per_s": round(size / gen_s),
        "peak_rss_mib": round(peak / 2**20, 1),
        "second_run_generate_s": round(warm_s, 3),
        "second_run_generate_cpu_s": round(warm_cpu, 3),
        "second_run_records_per_cpu_s": round(records / warm_cpu),
    }


def _command(code_dir: Path, size: int, out: Path) -> dict:
    """One `mpc-sandbox generate` run of the code in `code_dir`: wall and CPU seconds of the subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(code_dir)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from sandbox.cli import main; sys.exit(main())", "generate",
                    "--scenario", "nl-baseline", "--population", str(size), "--seed", "1", "--out", str(out)],
                   check=True, capture_output=True, text=True, env=env, cwd=code_dir)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else round((ordered[mid - 1] + ordered[mid]) / 2, 3)


def bench_command(sizes: list[int], repeats: int, baseline: str | None) -> dict:
    """The command's wall time at each size (this code, and alternately `baseline` if given)."""
    versions = {"new": ROOT}
    tmp = Path(tempfile.mkdtemp(prefix="bench-gen-"))
    base_dir = tmp / "baseline"
    if baseline:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base_dir), baseline], check=True,
                       capture_output=True)
        versions["baseline"] = base_dir
    try:
        rows = []
        for n in sizes:
            runs: dict[str, list[dict]] = {v: [] for v in versions}
            for v, code in versions.items():  # one untimed run each: bytecode caches, page cache
                _command(code, n, tmp / f"warm-{v}")
            loads = [os.getloadavg()[0]]
            for _ in range(repeats):
                for v, code in versions.items():  # alternating, so both see the same load
                    runs[v].append(_command(code, n, tmp / f"out-{v}"))
                loads.append(os.getloadavg()[0])
            truth = json.loads((tmp / "out-new" / "ground_truth.json").read_text(encoding="utf-8"))
            row = {"victims": n, "records": truth["records_total"], "repeats": repeats,
                   "load_average_1min": [round(x, 2) for x in loads]}
            for v in versions:
                walls, cpus = [r["wall_s"] for r in runs[v]], [r["cpu_s"] for r in runs[v]]
                prefix = "" if v == "new" else "baseline_"
                row[f"{prefix}wall_s"] = _median(walls)
                row[f"{prefix}cpu_s"] = _median(cpus)
                row[f"{prefix}victims_per_wall_s"] = round(n / _median(walls))
                row[f"{prefix}wall_s_all"] = walls
                row[f"{prefix}cpu_s_all"] = cpus
            if baseline:
                same = all((tmp / "out-new" / p.name).read_bytes() == p.read_bytes()
                           for p in sorted((tmp / "out-baseline").iterdir()))
                row["same_files_as_baseline"] = same
            rows.append(row)
        return {"command": "mpc-sandbox generate --scenario nl-baseline --population N --seed 1 --out DIR",
                "baseline": baseline, "results": rows}
    finally:
        if baseline:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_dir)],
                           check=False, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Benchmark the synthetic generator")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3,
                        help="fresh processes per size; the run with the median generate CPU time is reported")
    parser.add_argument("--command-sizes", type=int, nargs="*", default=[200_000, 1_000_000],
                        help="population sizes for the command's wall time (none: skip)")
    parser.add_argument("--command-repeats", type=int, default=5)
    parser.add_argument("--baseline", default=None, metavar="REV",
                        help="also time the command of this git revision, alternately (e.g. the branch point)")
    parser.add_argument("--one", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "generator.json")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(bench(args.one)))
        return
    command = bench_command(args.command_sizes, args.command_repeats, args.baseline) if args.command_sizes else None
    rows = []
    for n in args.sizes:  # a fresh process per size and repeat, so neither memory nor caches are inherited
        runs = []
        for _ in range(args.repeats):
            done = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True, capture_output=True,
                                  text=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        runs.sort(key=lambda r: r["generate_cpu_s"])
        row = dict(runs[len(runs) // 2])  # the run with the median generate CPU time
        row["repeats"] = len(runs)
        row["generate_cpu_s_all"] = [r["generate_cpu_s"] for r in runs]
        row["generate_s_all"] = sorted(r["generate_s"] for r in runs)
        rows.append(row)
    result = {"scenario": "nl-baseline", "load_average_1min": round(os.getloadavg()[0], 2),
              "cpu_count": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine(),
              "results": rows}
    if command is not None:
        result["command"] = command
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("| victims | records | generate wall (s) | generate CPU (s) | records/s wall | records/s CPU "
          "| records/s CPU, 2nd run | write CSV (s) | peak RSS (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['victims']:,} | {r['records']:,} | {r['generate_s']:.2f} | {r['generate_cpu_s']:.2f} | "
              f"{r['records_per_s']:,} | {r['records_per_cpu_s']:,} | {r['second_run_records_per_cpu_s']:,} | "
              f"{r['write_s']:.2f} | {r['peak_rss_mib']:,} |")
    if command is not None:
        base = bool(command["baseline"])
        print(f"\n`{command['command']}` (median of {args.command_repeats}"
              + (f", alternating with {command['baseline']})" if base else ")"))
        extra = " baseline wall (s) | baseline CPU (s) | baseline victims per wall-second | same files |"
        print("| victims | records | wall (s) | CPU (s) | victims per wall-second |" + (extra if base else ""))
        print("|---:|---:|---:|---:|---:|" + ("---:|---:|---:|:---:|" if base else ""))
        for r in command["results"]:
            line = (f"| {r['victims']:,} | {r['records']:,} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | "
                    f"{r['victims_per_wall_s']:,} |")
            if base:
                line += (f" {r['baseline_wall_s']:.2f} | {r['baseline_cpu_s']:.2f} | "
                         f"{r['baseline_victims_per_wall_s']:,} | {r['same_files_as_baseline']} |")
            print(line)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
