"""Calibrate the protocol forecast on real MPyC runs and validate it through delaying relays.

Usage: python benchmarks/bench_timeline.py [--quick] [--no-fit]

(a) Calibration, for counts-by-form, age-statistics and capture-patterns over records per
    organisation x parties: a base run through the relays with no added latency (compute, start-up
    and the relays' own user-space hop) and a probe run with PROBE_MS one-way latency. The probe gives
    the number of latency-bound rounds, (wall_probe - wall_base) / latency - 2 x handshake round
    trips: MPyC pipelines many messages per round, so "messages per peer" (the transcript's proxy)
    overstates the rounds that actually wait for the network. The records are refitted with
    `fit_profile` and written to sandbox/timeline/calibration.json.

Run it on an otherwise idle machine: m party processes share the cores, so anything else running
(tests, a browser) inflates compute and start-up several-fold (a loaded run measured 30 s where an
idle one measures 6 s) and the fit becomes noise.
(b) Validation on a separate grid (other latencies, 100 Mbit/s per connection): measured wall time
    through the relays against `forecast(..., shared_uplink=False)` with the fitted calibration.

Writes benchmarks/results/timeline_validation.json and prints a markdown table.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.mpc.runner import run_mpc  # noqa: E402
from sandbox.scenario import load_scenario  # noqa: E402
from sandbox.timeline.calibration import fit_profile, load_calibration, save_calibration  # noqa: E402
from sandbox.timeline.network import NetworkProfile  # noqa: E402
from sandbox.timeline.protocol import forecast  # noqa: E402
from synthetic import vocab  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "timeline_validation.json"
PROBE_MS = 100.0  # large against the run-to-run noise of a shared 2-core machine
AGGREGATES = ("counts-by-form", "crosstab-form-sector", "crosstab-nationality-form", "crosstab-region-form",
              "age-statistics")
OVERLAP = ("capture-patterns", "mo-cooccurrence")
CALIBRATE = AGGREGATES + OVERLAP
CORES = os.cpu_count() or 1
# Aggregates: each party sums its own file locally (N matters little), MPC cost grows with the peers.
# Overlap: the secret shuffle re-shares all N*m records in every (t+1)-subset of the parties, and a
# party takes part in C(m-1, t) of those shuffles ("party_subsets").
FIT_TERMS = {
    **{c: {"bytes_sent": ["1", "peers"], "rounds": ["1", "peers"], "compute_seconds": ["1", "N", "peers"]}
       for c in AGGREGATES},
    **{c: {"bytes_sent": ["1", "N*m*peers", "N*m*peers*party_subsets"], "rounds": ["1", "peers", "log2N"],
           "compute_seconds": ["1", "N*m", "N*m*party_subsets"]} for c in OVERLAP},
}
UNITS = {
    "records": "N = records per organisation",
    "parties": "m = number of parties; peers = m - 1; t = (m-1)//2; subsets = C(m, t+1); "
               "party_subsets = C(m-1, t), the shuffling subsets one party belongs to",
    "bytes_sent": "bytes sent per party over the whole run",
    "rounds": "latency-bound communication rounds (measured with a delaying relay, not messages per peer)",
    "compute_seconds": "CPU seconds per party (as if it had a core of its own); the forecast stretches it "
                       "by max(1, m/cores) when all parties share one machine",
    "startup_seconds": "process start, imports and connecting, per party with a core of its own",
}


def share(m: int) -> float:
    """How much slower each of m parties runs when they all share this machine's cores."""
    return max(1.0, m / CORES)


NATIONALITIES = ("NL", "RO", "BG", "PL", "UA", "NG", "CN", "BR")


def make_data(n: int, orgs: list[str], out: Path, seed: int = 1) -> Path:
    """n records per organisation; person keys drawn from a shared pool of 3n, so files overlap."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pool = rng.choice(2**62, size=3 * n, replace=False)
    for org in orgs:
        keys = rng.choice(pool, size=n, replace=False)
        pd.DataFrame({
            "record_id": [f"{org}-{i}" for i in range(n)],
            "person_key": [f"{k:016x}" for k in keys],
            "org": org,
            "registration_date": "2025-03-01",
            "form": rng.choice(vocab.FORMS, n),
            "age": rng.integers(14, 70, n).astype(str),
            "sector": rng.choice(vocab.SECTORS, n),
            "region": rng.choice(vocab.REGIONS, n),
            "nationality": rng.choice(NATIONALITIES, n),
            "means_of_control": [";".join(rng.choice(vocab.MEANS_OF_CONTROL, rng.integers(1, 4), replace=False))
                                 for _ in range(n)],
            "synthetic": "SYNTHETIC",
        }).to_csv(out / f"{org}.csv", index=False)
    return out


def measure(scenario, data: Path, comp: str, n: int, orgs: list[str], link: dict | None) -> dict:
    # check=False: a real deployment has no plaintext check, and the sandbox's check process would compete
    # with the parties for the cores (correctness is benchmarks/bench_oracle.py's job)
    r = run_mpc(scenario, data, comp, orgs=orgs, link=link, timeout=300, check=False)
    return {
        "computation": comp, "records": n, "parties": len(orgs),
        "wall_seconds": r.seconds,
        "bytes_sent": max(r.bytes_sent.values()),
        "messages_per_peer": r.rounds,
        # per party: sum of the protocol phases; wall (includes CPU contention of m processes on the
        # machine's cores and loopback waits) and CPU
        "compute_wall_seconds": max(sum(p["wall"] for p in t.values()) for t in r.timings.values()),
        "compute_cpu_seconds": max(sum(p["cpu"] for p in t.values()) for t in r.timings.values()),
    }


def calibrate(scenario, tmp: Path, grid_n, grid_m, repeats: int) -> list[dict]:
    base = load_calibration()
    handshake = float(base.get("handshake_round_trips", 2))
    rows = []
    for m in grid_m:
        orgs = scenario.org_ids[:m]
        for n in grid_n:
            data = make_data(n, orgs, tmp / f"d-{n}-{m}")
            for comp in CALIBRATE:
                loop = [measure(scenario, data, comp, n, orgs, {"latency_ms": 0.0, "seed": 1})
                        for _ in range(repeats)]
                probe = [measure(scenario, data, comp, n, orgs, {"latency_ms": PROBE_MS, "seed": 1})
                         for _ in range(repeats)]
                rec = dict(loop[0])
                for k in ("wall_seconds", "compute_wall_seconds", "compute_cpu_seconds"):
                    rec[k] = statistics.median(x[k] for x in loop)
                rec["probe_wall_seconds"] = statistics.median(x["wall_seconds"] for x in probe)
                extra = rec["probe_wall_seconds"] - rec["wall_seconds"]
                rec["rounds"] = max(1.0, extra / (PROBE_MS / 1000) - 2 * handshake)
                # the model's quantities: CPU per party, and start-up per party with a core of its own
                # (what is left of the base run once the m parties' sharing of the cores is undone)
                rec["compute_seconds"] = rec["compute_cpu_seconds"]
                rec["startup_seconds"] = max(0.0, rec["wall_seconds"] / share(m) - rec["compute_cpu_seconds"])
                rows.append(rec)
                print(f"calib {comp:17s} N={n:5d} m={m} wall={rec['wall_seconds']:6.2f}s "
                      f"probe={rec['probe_wall_seconds']:6.2f}s compute={rec['compute_wall_seconds']:6.2f}s "
                      f"cpu={rec['compute_cpu_seconds']:5.2f}s startup={rec['startup_seconds']:5.2f}s "
                      f"rounds={rec['rounds']:6.1f} "
                      f"(msgs/peer {rec['messages_per_peer']})", flush=True)
    return rows


def validate(scenario, tmp: Path, cal: dict, comps, grid_n, grid_m, grid_lat, bw: float, repeats: int):
    rows = []
    for m in grid_m:
        orgs = scenario.org_ids[:m]
        for n in grid_n:
            data = make_data(n, orgs, tmp / f"v-{n}-{m}", seed=2)
            for comp in comps:
                for lat in grid_lat:
                    link = {"latency_ms": lat, "bandwidth_mbps": bw, "jitter_ms": 0.0, "seed": 3}
                    runs = [measure(scenario, data, comp, n, orgs, link) for _ in range(repeats)]
                    measured = statistics.median(x["wall_seconds"] for x in runs)
                    net = NetworkProfile("relay", lat, bw, 0.0, "loopback relay", shared_uplink=False,
                                         host_cores=CORES)
                    f = forecast(comp, n, m, net, seed=0, calibration=cal)
                    err = 100.0 * (f.predicted_seconds - measured) / measured
                    rows.append({
                        "computation": comp, "records": n, "parties": m, "latency_ms": lat,
                        "bandwidth_mbps": bw, "measured_seconds": round(measured, 3),
                        "measured_all": [x["wall_seconds"] for x in runs],
                        "predicted_seconds": round(f.predicted_seconds, 3),
                        "error_percent": round(err, 1),
                        "breakdown": {k: round(v, 3) for k, v in f.breakdown.items()},
                        "rounds_model": f.rounds, "messages_per_peer": runs[0]["messages_per_peer"],
                    })
                    print(f"valid {comp:17s} N={n:5d} m={m} {lat:4.0f} ms measured={measured:6.2f}s "
                          f"predicted={f.predicted_seconds:6.2f}s error={err:+6.1f}%", flush=True)
    return rows


def table(rows: list[dict]) -> str:
    out = ["| computation | N per org | parties | latency (ms) | measured (s) | predicted (s) | error |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['computation']} | {r['records']:,} | {r['parties']} | {r['latency_ms']:g} | "
                   f"{r['measured_seconds']:.2f} | {r['predicted_seconds']:.2f} | {r['error_percent']:+.1f} % |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    scenario = load_scenario("nl-baseline")
    if quick:
        cal_n, cal_m, val_n, val_m, val_lat, cal_rep, repeats = (300, 1000), (3, 5), (500,), (3,), (10, 25), 1, 1
    else:
        cal_n, cal_m, val_n, val_m, val_lat = (500, 2000, 5000), (3, 4, 5), (1000, 5000), (3, 4, 5), (10, 50)
        cal_rep, repeats = 2, 2
    t0 = time.perf_counter()
    load_start = os.getloadavg()[0]  # anything else running on the machine distorts every figure
    with tempfile.TemporaryDirectory(prefix="bench-timeline-") as d:
        tmp = Path(d)
        if "--no-fit" in argv:
            cal, calib_rows = load_calibration(), []
        else:
            calib_rows = calibrate(scenario, tmp, cal_n, cal_m, cal_rep)
            note = (f"fitted {date.today().isoformat()} by benchmarks/bench_timeline.py from "
                    f"{len(calib_rows)} base runs through 0-ms relays (+ {len(calib_rows)} relay probes at "
                    f"{PROBE_MS:g} ms "
                    f"for the latency-bound rounds) of {', '.join(CALIBRATE)}; N per organisation "
                    f"{list(cal_n)}, parties {list(cal_m)}; {platform.machine()}, "
                    f"{os.cpu_count()} cores, all parties on one machine"
                    + (" (--quick grid)" if quick else ""))
            cal = fit_profile(calib_rows, terms=FIT_TERMS, measured_on=note)
            cal["source"] = "benchmarks/bench_timeline.py (make bench)"
            cal["units"] = UNITS
            if not quick:
                save_calibration(cal)
        val_rows = validate(scenario, tmp, cal, CALIBRATE, val_n, val_m,
                            val_lat, 100.0, repeats)
    errors = [abs(r["error_percent"]) for r in val_rows]
    summary = {
        "within_15_percent": sum(e <= 15 for e in errors), "points": len(errors),
        "median_abs_error_percent": round(statistics.median(errors), 1) if errors else math.nan,
        "max_abs_error_percent": round(max(errors), 1) if errors else math.nan,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if not quick:
        RESULTS.write_text(json.dumps({
            "benchmark": "timeline_validation", "quick": quick, "date": date.today().isoformat(),
            "seconds": round(time.perf_counter() - t0, 1), "probe_latency_ms": PROBE_MS,
            "cores": CORES, "load_average_start": round(load_start, 2),
            "load_average_end": round(os.getloadavg()[0], 2),
            "repeats": repeats, "calibration_repeats": cal_rep,
            "calibration": calib_rows, "validation": val_rows, "summary": summary,
            "fitted": cal["computations"] and {c: cal["computations"][c] for c in CALIBRATE},
            "startup_seconds": cal["startup_seconds"],
        }, indent=2) + "\n", encoding="utf-8")
    print()
    print(table(val_rows))
    print(f"\n{summary['within_15_percent']}/{summary['points']} points within ±15 %; median |error| "
          f"{summary['median_abs_error_percent']} %, max {summary['max_abs_error_percent']} %")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
