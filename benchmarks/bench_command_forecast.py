"""Fit and validate the forecast of what a user waits for: the wall time of `mpc-sandbox run`.

Usage: python benchmarks/bench_command_forecast.py [--quick] [--passes N] [--no-fit]

For counts-by-form and capture-patterns, m = 3..7 parties (every shipped scenario's size and one more),
directly on loopback and through the delaying relay (`--latency-ms 20 --bandwidth-mbps 100`), the whole
command is timed as a user runs it (a subprocess, JSON output, plaintext check included). Calibration
sizes (records per organisation) and held-out validation sizes are measured in interleaved passes; each
point is the median of its passes.

Fit, from the calibration sizes only, per computation and link: counts-by-form's overhead = measured -
simulated protocol without per-party start-up, by non-negative least squares on the terms 1, m and N*m
(sandbox/timeline/calibration.py); capture-patterns per number of parties as command = a + b x simulated
protocol (`scaled_model`). The simulated protocol is the one the command runs (`command_network`: through
the relay, one link per connection, not a shared uplink). The fitted models go to
sandbox/timeline/calibration.json ("command"); then every held-out point is forecast with `timeline
protocol`'s own function and compared with its measured median. Results:
benchmarks/results/command_forecast.json and a markdown table.
Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import nnls

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_overlap import write_lists  # noqa: E402

from sandbox.scenario import load_scenario  # noqa: E402
from sandbox.timeline.calibration import _lstsq, load_calibration, save_calibration  # noqa: E402
from sandbox.timeline.network import NETWORKS, NetworkProfile  # noqa: E402
from sandbox.timeline.protocol import command_network, forecast, protocol_without_startup  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "command_forecast.json"
COMPUTATIONS = ("counts-by-form", "capture-patterns")
PARTIES = (3, 4, 5, 6, 7)
CALIBRATE_N = (200, 2000)
VALIDATE_N = (1000,)
RELAY = {"latency_ms": 20.0, "bandwidth_mbps": 100.0}
TERMS = ["1", "m", "N*m"]  # aggregates: one model over all party counts
PER_PARTIES = ("capture-patterns",)  # one model (terms 1, N) per number of parties
CORES = os.cpu_count() or 1


def scaled_model(points: list[tuple[float, float]]) -> dict:
    """command = a + b x simulated protocol, a and b >= 0, from (protocol seconds, measured seconds) pairs.

    For the overlap computations, per number of parties. The simulated protocol is calibrated on 3-6 parties
    (benchmarks/bench_timeline.py; the default scenario has six organisations); at 7 parties it is an
    extrapolation (35 shuffling subsets, 20 for the busiest party) that came out 20-50 % too slow, and an
    overhead that can only add (a, on terms 1 and N) could not correct it. b says how far the command
    departs from the simulated protocol; it is reported in docs/live-demo.md."""
    x = np.array([[1.0, p] for p, _ in points])
    y = np.array([w for _, w in points])
    if len(points) < 2 or np.linalg.matrix_rank(x) < 2:
        raise ValueError(f"need two calibration sizes with different protocol times, got {points}")
    (a, b), _ = nnls(x, y)
    return {"terms": {"1": float(a)}, "protocol_scale": float(b)}


def network(link: str) -> NetworkProfile:
    if link == "direct":
        return NETWORKS["loopback"]
    return NetworkProfile.custom(RELAY["latency_ms"], RELAY["bandwidth_mbps"], 0.0, host_cores=CORES)


def scenario_file(folder: Path, orgs: list[str]) -> Path:
    """nl-baseline with organisations org1..orgm (it has six; the grid goes to seven)."""
    base = load_scenario("nl-baseline")
    first = base.organisations[0]
    data = base.model_copy(update={"name": f"bench-{len(orgs)}", "organisations": [
        first.model_copy(update={"id": o, "name": o, "referrals": []}) for o in orgs]}
    ).model_dump(mode="json", exclude_none=True)
    path = folder / f"scenario-{len(orgs)}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def timed(scenario: Path, data: Path, computation: str, link: str) -> float:
    args = [sys.executable, "-m", "sandbox", "run", "--scenario", str(scenario), "--data", str(data),
            "--computation", computation, "--min-cell", "0", "--json"]
    if link == "relay":
        args += ["--latency-ms", str(RELAY["latency_ms"]), "--bandwidth-mbps", str(RELAY["bandwidth_mbps"])]
    import time

    t0 = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if out.returncode != 0 or json.loads(out.stdout)["match"] is not True:
        raise RuntimeError(f"{computation} m={scenario.stem} failed: {out.stderr.strip()[-400:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 pass, parties 3 and 6; nothing is saved")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--no-fit", action="store_true", help="validate the packaged calibration only")
    parser.add_argument("--computations", default=",".join(COMPUTATIONS),
                        help="measure (and refit) only these; the others keep their models and earlier rows")
    parser.add_argument("--from-results", action="store_true",
                        help="measure nothing: refit and validate from the runs in the results file")
    args = parser.parse_args(argv)
    computations = tuple(args.computations.split(","))
    passes = 1 if args.quick else args.passes
    parties = (3, 6) if args.quick else PARTIES
    sizes = [(n, "calibrate") for n in CALIBRATE_N] + [(n, "validate") for n in VALIDATE_N]
    grid = [(c, m, n, role, link) for c in computations for m in parties for n, role in sizes
            for link in ("direct", "relay")]
    times: dict[tuple, list[float]] = {g: [] for g in grid}
    if args.from_results:
        saved = json.loads(RESULTS.read_text())
        passes = saved["passes"]
        for r in saved["rows"]:
            g = (r["computation"], r["parties"], r["records"], r["role"], r["link"])
            if g in times:
                times[g] = r["runs_s"]
        grid = []
    with tempfile.TemporaryDirectory(prefix="bench-command-") as tmp:
        folder = Path(tmp)
        files = {}
        for m in parties:
            orgs = [f"org{j + 1}" for j in range(m)]
            files[m] = scenario_file(folder, orgs)
            for n, _ in sizes:
                write_lists(folder / f"data-{m}-{n}", orgs, n, seed=m * 100_000 + n)
        if grid:  # warm the page cache once, untimed
            timed(files[parties[0]], folder / f"data-{parties[0]}-{CALIBRATE_N[0]}", "counts-by-form", "direct")
        for k in range(passes):
            for g in grid:
                c, m, n, _role, link = g
                times[g].append(timed(files[m], folder / f"data-{m}-{n}", c, link))
            print(f"pass {k + 1}/{passes} done", flush=True)

    med = {g: statistics.median(v) for g, v in times.items()}
    cal = load_calibration()
    if not args.no_fit:
        models: dict[str, dict] = {link: dict((cal.get("command") or {}).get(link, {})) for link in ("direct", "relay")}
        for link in ("direct", "relay"):
            for c in computations:
                rows, scaled = [], []
                for (cc, m, n, role, ll), wall in med.items():
                    if cc == c and ll == link and role == "calibrate":
                        protocol = protocol_without_startup(c, n, m, command_network(network(link)), calibration=cal)
                        rows.append((n, m, wall - protocol))
                        scaled.append((m, protocol, wall))
                if c in PER_PARTIES:
                    models[link][c] = {"by_parties": {str(m): scaled_model([(p, w) for mm, p, w in scaled if mm == m])
                                                      for m in sorted({r[1] for r in rows})},
                                       "fitted_from": len(rows)}
                else:
                    models[link][c] = {"terms": _lstsq(rows, TERMS, f"command overhead {c} {link}"),
                                       "fitted_from": len(rows)}
        cal["command"] = {
            **models,
            "measured_on": f"fitted {date.today().isoformat()} by benchmarks/bench_command_forecast.py: the wall "
                           f"time of `mpc-sandbox run` (median of {passes} interleaved passes) minus the simulated "
                           f"protocol; N per organisation {list(CALIBRATE_N)}, parties {list(parties)}; relay "
                           f"{RELAY['latency_ms']:g} ms, {RELAY['bandwidth_mbps']:g} Mbit/s; {platform.machine()}, "
                           f"{CORES} cores",
            "terms": "overhead seconds = sum of coefficient x term (1, m, N*m); N = records per organisation; "
                     "by_parties models: command = overhead + protocol_scale x simulated protocol",
        }
    rows = []
    for (c, m, n, role, link), wall in sorted(med.items()):
        f = forecast(c, n, m, network(link), calibration=cal)
        predicted = f.command_seconds if f.command_seconds is not None else f.predicted_seconds
        rows.append({"computation": c, "parties": m, "records": n, "role": role, "link": link,
                     "measured_median_s": round(wall, 3), "runs_s": [round(x, 3) for x in times[(c, m, n, role, link)]],
                     "predicted_s": round(predicted, 3), "error_pct": round(100 * (predicted - wall) / wall, 1)})
    if RESULTS.is_file() and set(computations) != set(COMPUTATIONS):  # keep the rows of the others
        earlier = [r for r in json.loads(RESULTS.read_text())["rows"] if r["computation"] not in computations]
        for r in earlier:
            f = forecast(r["computation"], r["records"], r["parties"], network(r["link"]), calibration=cal)
            r["predicted_s"] = round(f.predicted_seconds, 3)
            r["error_pct"] = round(100 * (r["predicted_s"] - r["measured_median_s"]) / r["measured_median_s"], 1)
        rows = sorted(rows + earlier, key=lambda r: (r["computation"], r["parties"], r["records"], r["link"]))
    held = [r for r in rows if r["role"] == "validate"]
    worst = max(abs(r["error_pct"]) for r in held)
    print("\n| computation | link | m | N | measured (s) | predicted (s) | error |\n|---|---|---:|---:|---:|---:|---:|")
    for r in held:
        print(f"| {r['computation']} | {r['link']} | {r['parties']} | {r['records']} | {r['measured_median_s']:.2f} "
              f"| {r['predicted_s']:.2f} | {r['error_pct']:+.1f} % |")
    print(f"\nheld-out points: worst error {worst:.1f} % (floor ±15 %)")
    if not args.quick:
        if not args.no_fit:
            save_calibration(cal)
        RESULTS.write_text(json.dumps({"date": date.today().isoformat(), "machine": platform.platform(),
                                       "cores": CORES, "passes": passes, "relay": RELAY,
                                       "worst_held_out_error_pct": worst, "rows": rows}, indent=2) + "\n")
        print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
