"""Calibrate the protocol forecast on real MPyC runs and validate it through delaying relays.

Usage: python benchmarks/bench_timeline.py [--quick] [--no-fit] [--refit] [--report] [--passes N]
                                          [--computations A,B] [--parties 3,4,5]
       (default: every computation, parties 3-5, 5 passes, about 80 min)

--computations measures and refits only those computations (for example after a change to the overlap
protocol): they get start-up models of their own, the others keep their models, runs and validation rows
from the results file (their date stays in it, under "measured"). --parties sets the party counts of both
grids (the default scenario has six organisations, so at most 6).

(a) Calibration, for every computation over records per organisation x parties: a base run through
    the relays with no added latency (compute, start-up and the relays' own user-space hop) and a
    probe run with PROBE_MS one-way latency. The probe gives the number of latency-bound rounds,
    (wall_probe - wall_base) / latency - 2 x handshake round trips: MPyC pipelines many messages per
    round, so "messages per peer" (the transcript's proxy) overstates the rounds that actually wait
    for the network. The parties' compute wall/CPU ratio gives the load that other processes put on
    the cores (`host_extra_load`). The records are refitted with `fit_profile` and written to
    sandbox/timeline/calibration.json.
(b) Validation on a separate grid (other records and latencies, 100 Mbit/s per connection): measured
    wall time through the relays against `forecast(..., shared_uplink=False)` with the fitted
    calibration.

Calibration and validation runs are measured in 5 interleaved passes (in each pass, for 3 parties:
the calibration runs, then the validation points; then the same for 4 and for 5 parties), and the
model is fitted afterwards on the calibration runs alone. This shared virtual machine gets 10-30 %
faster or slower over tens of minutes; measuring all calibration first and all validation later
turned such a spell into a forecast "error". Each point is the median of its passes.

Run it on an otherwise idle machine: m party processes share the cores, so anything else running
(tests, a browser) inflates compute and start-up several-fold (a loaded run measured 30 s where an
idle one measures 6 s) and the fit becomes noise.

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
from sandbox.timeline.calibration import TERMS, _lstsq, fit_profile, load_calibration, save_calibration  # noqa: E402
from sandbox.timeline.network import NetworkProfile  # noqa: E402
from sandbox.timeline.protocol import forecast, host_share  # noqa: E402
from synthetic import vocab  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "timeline_validation.json"
PROBE_MS = 100.0  # large against the run-to-run noise of a shared 2-core machine
AGGREGATES = ("counts-by-form", "crosstab-form-sector", "crosstab-nationality-form", "crosstab-region-form",
              "age-statistics")
OVERLAP = ("capture-patterns", "mo-cooccurrence")
CALIBRATE = AGGREGATES + OVERLAP
CORES = os.cpu_count() or 1
# Aggregates: each party sums its own file locally (N matters little); the MPC work grows with the
# peers and with the Shamir threshold t = (m-1)//2, the degree of every sharing polynomial. t is 1 for
# 3 and 4 parties and 2 for 5, and the measured CPU per party follows it: flat from 3 to 4 parties, a
# step at 5 (age-statistics: 0.74, 0.74, 1.28 s). A model on "peers" alone missed 4 parties by +7 %
# on average and up to +25 %.
# Overlap: the secret shuffle re-shares all N*m records in every subset of a covering family of
# (t+1)-subsets (sandbox/mpc/subsets.py: 3, 2, 10, 7, 35 subsets for 3 to 7 parties); the busiest party
# takes part in "party_subsets" of those shuffles (2, 1, 6, 4, 20) and re-shares to its m-1 peers in each.
# Until 2026-12-02 the terms counted every (t+1)-subset (C(m-1, t) per party: 10 instead of 4 for six
# parties), which put the forecasts for 4 and 6 parties too high once the protocol used the smaller family.
# These term lists were chosen by leave-one-record-size-out cross-validation on calibration runs only
# (docs/timeline.md, "Choosing the cost terms").
FIT_TERMS = {
    **{c: {"bytes_sent": ["1", "t", "peers"], "rounds": ["1", "peers"], "compute_seconds": ["1", "N", "t", "peers"]}
       for c in AGGREGATES},
    **{c: {"bytes_sent": ["1", "N*m*peers", "N*m*peers*party_subsets"], "rounds": ["1", "peers", "log2N"],
           "compute_seconds": ["1", "N*m", "N*m*peers*party_subsets"]} for c in OVERLAP},
}
# What term_cross_validation compares (the first of each kind is what the model used until 2026-11-28).
CANDIDATE_TERMS = {
    "aggregate": [["1", "N", "peers"], ["1", "N", "t", "peers"]],
    "overlap": [["1", "N*m", "N*m*party_subsets"], ["1", "N*m", "N*m*peers*party_subsets"]],
}
BANDWIDTH_MBPS = 100.0  # per connection on the validation grid
REMEASURED = "; measured again: "  # joins a --computations run's note to the first run's
UNITS = {
    "records": "N = records per organisation",
    "parties": "m = number of parties; peers = m - 1; t = (m-1)//2, the Shamir threshold; subsets = the shuffling "
               "subsets of the secure join (a covering family of (t+1)-subsets); party_subsets = how many of them "
               "the busiest party belongs to",
    "bytes_sent": "bytes sent per party over the whole run",
    "rounds": "latency-bound communication rounds (measured with a delaying relay, not messages per peer)",
    "compute_seconds": "CPU seconds per party (as if it had a core of its own); the forecast stretches it "
                       "by max(1, (m + host_extra_load)/cores) when all parties share one machine",
    "host_extra_load": "cores taken by other processes on the calibration host while the parties ran "
                       "(mostly the relays), measured from the parties' compute wall/CPU ratio",
    "startup_seconds": "process start, imports and connecting, per party with a core of its own",
}


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


def steal_jiffies() -> int:
    """CPU time this virtual machine's host gave to others ("steal", /proc/stat), in jiffies."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
        return int(fields[8])
    except (OSError, IndexError, ValueError):
        return -1


def measure_passes(scenario, tmp: Path, cal_grid, val_grid, cal_rep: int, repeats: int,
                   computations: tuple[str, ...] = CALIBRATE) -> tuple[dict, dict]:
    """Measure the calibration and validation runs in interleaved passes.

    Pass i runs, for each party count in turn, every calibration configuration (while i < cal_rep) and
    then every validation point, so a slow spell of this shared machine hits calibration and
    validation alike instead of turning into a forecast error (the model is fitted only after all
    passes, on calibration runs only). Returns the raw samples: {(comp, n, m): {"loop": [...], "probe": [...]}} and
    {(comp, n, m, latency): [...]}.
    """
    cal_n, cal_m = cal_grid
    val_n, val_m, val_lat, bw = val_grid
    data = {}
    for m in sorted(set(cal_m) | set(val_m)):
        orgs = scenario.org_ids[:m]
        for n in cal_n if m in cal_m else ():
            data[("c", n, m)] = make_data(n, orgs, tmp / f"d-{n}-{m}")
        for n in val_n if m in val_m else ():
            data[("v", n, m)] = make_data(n, orgs, tmp / f"v-{n}-{m}", seed=2)
    cal: dict = {}
    val: dict = {}
    for i in range(max(cal_rep, repeats)):
        t_pass = time.perf_counter()
        # within a pass, calibration and validation alternate by party count, so both sample the same minutes
        for m in sorted(set(cal_m) | set(val_m)):
            orgs = scenario.org_ids[:m]
            for n in cal_n if (i < cal_rep and m in cal_m) else ():
                for comp in computations:
                    d = data[("c", n, m)]
                    slot = cal.setdefault((comp, n, m), {"loop": [], "probe": []})
                    slot["loop"].append(measure(scenario, d, comp, n, orgs, {"latency_ms": 0.0, "seed": 1}))
                    slot["probe"].append(measure(scenario, d, comp, n, orgs, {"latency_ms": PROBE_MS, "seed": 1}))
                    print(f"pass {i + 1} calib {comp:17s} N={n:5d} m={m} "
                          f"base={slot['loop'][-1]['wall_seconds']:6.2f}s "
                          f"probe={slot['probe'][-1]['wall_seconds']:6.2f}s", flush=True)
            for n in val_n if (i < repeats and m in val_m) else ():
                for comp in computations:
                    for lat in val_lat:
                        link = {"latency_ms": lat, "bandwidth_mbps": bw, "jitter_ms": 0.0, "seed": 3}
                        r = measure(scenario, data[("v", n, m)], comp, n, orgs, link)
                        val.setdefault((comp, n, m, lat), []).append(r)
                        print(f"pass {i + 1} valid {comp:17s} N={n:5d} m={m} {lat:4.0f} ms "
                              f"measured={r['wall_seconds']:6.2f}s", flush=True)
        print(f"pass {i + 1} took {time.perf_counter() - t_pass:.0f} s", flush=True)
    return cal, val


def host_extra_load(cal_samples: dict) -> float:
    """Cores' worth of other work on the host while parties compute (the relays, this harness), from
    how much longer the parties' compute phases took than their CPU time: wall/cpu = (m + k)/cores.
    Only runs with m > cores (saturated) and enough CPU to time (> 0.1 s) count; median, >= 0."""
    ks = [x["compute_wall_seconds"] / x["compute_cpu_seconds"] * CORES - x["parties"]
          for slot in cal_samples.values() for x in slot["loop"]
          if x["parties"] > CORES and x["compute_cpu_seconds"] > 0.1]
    return max(0.0, statistics.median(ks)) if ks else 0.0


def calibration_rows(cal_samples: dict, k: float, handshake: float) -> list[dict]:
    """One record per calibration configuration (medians over the passes) in `fit_profile`'s terms."""
    rows = []
    for (comp, n, m), slot in cal_samples.items():
        loop, probe = slot["loop"], slot["probe"]
        rec = dict(loop[0])
        for key in ("wall_seconds", "compute_wall_seconds", "compute_cpu_seconds"):
            rec[key] = statistics.median(x[key] for x in loop)
        rec["base_all"] = [x["wall_seconds"] for x in loop]
        rec["probe_wall_seconds"] = statistics.median(x["wall_seconds"] for x in probe)
        rec["probe_all"] = [x["wall_seconds"] for x in probe]
        extra = rec["probe_wall_seconds"] - rec["wall_seconds"]
        rec["rounds"] = max(1.0, extra / (PROBE_MS / 1000) - 2 * handshake)
        # the model's quantities: CPU per party, and start-up per party with a core of its own
        # (what is left of the base run once the sharing of the cores is undone)
        rec["compute_seconds"] = rec["compute_cpu_seconds"]
        rec["startup_seconds"] = max(0.0, rec["wall_seconds"] / host_share(m, CORES, k) - rec["compute_cpu_seconds"])
        rows.append(rec)
        print(f"calib {comp:17s} N={n:5d} m={m} wall={rec['wall_seconds']:6.2f}s "
              f"probe={rec['probe_wall_seconds']:6.2f}s compute={rec['compute_wall_seconds']:6.2f}s "
              f"cpu={rec['compute_cpu_seconds']:5.2f}s startup={rec['startup_seconds']:5.2f}s "
              f"rounds={rec['rounds']:6.1f} (msgs/peer {rec['messages_per_peer']})", flush=True)
    return rows


def validation_rows(val_samples: dict, cal: dict, bw: float) -> list[dict]:
    """Forecast every validation point with the fitted calibration and compare with the median measured."""
    rows = []
    for (comp, n, m, lat), runs in val_samples.items():
        measured = statistics.median(x["wall_seconds"] for x in runs)
        net = NetworkProfile("relay", lat, bw, 0.0, "loopback relay", shared_uplink=False, host_cores=CORES)
        f = forecast(comp, n, m, net, seed=0, calibration=cal)
        err = 100.0 * (f.predicted_seconds - measured) / measured
        rows.append({
            "computation": comp, "records": n, "parties": m, "latency_ms": lat,
            "bandwidth_mbps": bw, "measured_seconds": round(measured, 3),
            "measured_all": [x["wall_seconds"] for x in runs],
            "cpu_all": [round(x["compute_cpu_seconds"], 3) for x in runs],
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


def term_cross_validation(calib_rows: list[dict]) -> dict[str, list[dict]]:
    """How well each candidate term list predicts compute seconds for a record size it was not fitted on.

    For every computation and every term list in CANDIDATE_TERMS: fit on all calibration rows but one record
    size, predict the held-out size, repeat for each size; mean |error| in % over the held-out rows. Uses the
    calibration runs only (never the validation points), so choosing FIT_TERMS by it is fair."""
    out: dict[str, list[dict]] = {}
    for comp in [c for c in CALIBRATE if any(r["computation"] == c for r in calib_rows)]:
        rows = [r for r in calib_rows if r["computation"] == comp]
        sizes = sorted({r["records"] for r in rows})
        for terms in CANDIDATE_TERMS["overlap" if comp in OVERLAP else "aggregate"]:
            errors = []
            for held in sizes:
                train = [(float(r["records"]), int(r["parties"]), r["compute_seconds"]) for r in rows
                         if r["records"] != held]
                try:
                    coef = _lstsq(train, terms, comp)
                except ValueError:  # too few sizes left for these terms
                    errors = []
                    break
                errors += [abs(sum(c * TERMS[t](r["records"], r["parties"]) for t, c in coef.items())
                               - r["compute_seconds"]) / r["compute_seconds"] * 100
                           for r in rows if r["records"] == held and r["compute_seconds"] > 0]
            out.setdefault(comp, []).append({
                "terms": terms, "chosen": terms == FIT_TERMS[comp]["compute_seconds"],
                "heldout_error_percent": round(statistics.mean(errors), 1) if errors else None})
    return out


def fit_and_validate(calib_rows: list[dict], val_samples: dict, k: float, note: str, *, save: bool,
                     separate: tuple[str, ...] = ()) -> tuple:
    """Fit the calibration on `calib_rows`, forecast every validation point; returns (cal, rows, summary).

    Computations in `separate` were measured on another day than the rest (``--computations``): they are
    fitted after the others, each with a start-up model of its own, so that neither day's start-up is
    averaged into the other's."""
    together = [r for r in calib_rows if r["computation"] not in separate]
    apart = [r for r in calib_rows if r["computation"] in separate]
    cal = fit_profile(together, terms=FIT_TERMS, measured_on=note) if together else load_calibration()
    if apart:
        cal = fit_profile(apart, base=cal, terms=FIT_TERMS, measured_on=note, startup_per_computation=True)
    cal["host_extra_load"] = round(k, 3)
    cal["source"] = "benchmarks/bench_timeline.py (make bench)"
    cal["units"] = UNITS
    if save:
        save_calibration(cal)
    val_rows = validation_rows(val_samples, cal, BANDWIDTH_MBPS)
    return cal, val_rows, summarise(val_rows)


def summarise(val_rows: list[dict]) -> dict:
    errors = [abs(r["error_percent"]) for r in val_rows]
    return {
        "within_15_percent": sum(e <= 15 for e in errors), "points": len(errors),
        "median_abs_error_percent": round(statistics.median(errors), 1) if errors else math.nan,
        "max_abs_error_percent": round(max(errors), 1) if errors else math.nan,
    }


def by_computation(rows: list[dict]) -> str:
    """The README's summary table: per computation, points within ±15 %, median and worst error."""
    out = ["| computation | points | within ±15 % | median \\|error\\| | worst error |", "|---|---:|---:|---:|---:|"]
    for comp in [*CALIBRATE, None]:
        chosen = [r for r in rows if comp is None or r["computation"] == comp]
        if not chosen:
            continue
        errors = [r["error_percent"] for r in chosen]
        worst = max(errors, key=abs)
        cells = [comp or "all", len(errors), sum(abs(e) <= 15 for e in errors),
                 f"{statistics.median(abs(e) for e in errors):.1f} %", f"{worst:+.1f} %"]
        if comp is None:
            cells = [f"**{c}**" for c in cells]
        out.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(out)


def report(val_rows: list[dict], summary: dict) -> None:
    print()
    print(by_computation(val_rows))
    print()
    print(table(val_rows))
    print(f"\n{summary['within_15_percent']}/{summary['points']} points within ±15 %; median |error| "
          f"{summary['median_abs_error_percent']} %, max {summary['max_abs_error_percent']} %")


def stored_validation_samples(validation: list[dict]) -> dict:
    """The validation runs kept in the results file, in `measure_passes`'s shape (for refits)."""
    return {
        (r["computation"], r["records"], r["parties"], r["latency_ms"]):
            [{"wall_seconds": w, "compute_cpu_seconds": c, "messages_per_peer": r["messages_per_peer"]}
             for w, c in zip(r["measured_all"], r["cpu_all"], strict=True)]
        for r in validation}


def measured_dates(res: dict) -> dict[str, str]:
    """{computation: the day its runs in the results file were measured}."""
    return res.get("measured") or {c: res["date"] for c in CALIBRATE}


def separately_measured(dates: dict[str, str]) -> tuple[str, ...]:
    """The computations measured on another day than the first computation's (fitted apart; see fit_and_validate)."""
    first = dates[CALIBRATE[0]]
    return tuple(c for c in CALIBRATE if dates.get(c) != first)


def save_results(res: dict, cal: dict, val_rows: list[dict], summary: dict) -> None:
    res.update(validation=val_rows, summary=summary,
               fitted={c: cal["computations"][c] for c in CALIBRATE}, startup_seconds=cal["startup_seconds"],
               term_cross_validation=term_cross_validation(res["calibration"]))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")


def refit() -> int:
    """--refit: fit FIT_TERMS again on the runs stored in the results file and re-validate, without measuring.

    For changing the cost terms: the measurements stay as they were, the fit and the forecasts are redone."""
    res = json.loads(RESULTS.read_text(encoding="utf-8"))
    note = load_calibration()["measured_on"].split(" [refitted")[0] + f" [refitted {date.today().isoformat()}]"
    cal, val_rows, summary = fit_and_validate(res["calibration"], stored_validation_samples(res["validation"]),
                                              res["host_extra_load"], note, save=True,
                                              separate=separately_measured(measured_dates(res)))
    res["refitted"] = date.today().isoformat()
    save_results(res, cal, val_rows, summary)
    report(val_rows, summary)
    return 0


def _option(argv: list[str], name: str, default: str) -> str:
    if name not in argv:
        return default
    i = argv.index(name)
    if i + 1 >= len(argv):
        raise SystemExit(f"{name} needs a value")
    return argv[i + 1]


def main(argv: list[str]) -> int:
    if "--refit" in argv:
        return refit()
    if "--report" in argv:  # print the tables of the results file; no measuring, no fitting
        res = json.loads(RESULTS.read_text(encoding="utf-8"))
        report(res["validation"], res["summary"])
        return 0
    quick = "--quick" in argv
    try:
        passes = int(_option(argv, "--passes", "5"))
    except ValueError:
        passes = 0
    if passes < 1:
        raise SystemExit("--passes needs a whole number of at least 1, e.g. --passes 5")
    computations = tuple(_option(argv, "--computations", ",".join(CALIBRATE)).split(","))
    unknown = [c for c in computations if c not in CALIBRATE]
    if unknown:
        raise SystemExit(f"--computations: unknown {', '.join(unknown)}; calibrated: {', '.join(CALIBRATE)}")
    scenario = load_scenario("nl-baseline")
    try:
        parties = tuple(int(x) for x in _option(argv, "--parties", "3,4,5").split(","))
    except ValueError:
        parties = ()
    if not parties or min(parties) < 2 or max(parties) > len(scenario.org_ids):
        raise SystemExit(f"--parties needs party counts from 2 to {len(scenario.org_ids)}, e.g. --parties 3,4,5,6")
    partial = set(computations) != set(CALIBRATE)
    if partial and not RESULTS.is_file():
        raise SystemExit(f"--computations refits some computations and keeps the others' runs from {RESULTS}, "
                         "which does not exist: run without --computations first")
    if quick:
        cal_n, cal_m, val_n, val_m, val_lat, cal_rep, repeats = (300, 1000), (3, 5), (500,), (3,), (10, 25), 1, 1
    else:
        cal_n, cal_m, val_n, val_m, val_lat = (500, 2000, 5000), parties, (1000, 5000), parties, (10, 50)
        # equal, so calibration and validation span the same stretch of time; with 3 passes the same point
        # still differed by 15 % (median) between passes, so the default is 5
        cal_rep = repeats = passes
    t0 = time.perf_counter()
    load_start = os.getloadavg()[0]  # anything else running on the machine distorts every figure
    steal_start = steal_jiffies()
    handshake = float(load_calibration().get("handshake_round_trips", 2))
    no_fit = "--no-fit" in argv
    with tempfile.TemporaryDirectory(prefix="bench-timeline-") as d:
        cal_samples, val_samples = measure_passes(scenario, Path(d), (cal_n, cal_m),
                                                  (val_n, val_m, val_lat, BANDWIDTH_MBPS),
                                                  0 if no_fit else cal_rep, repeats, computations)
    if no_fit:
        cal = load_calibration()
        val_rows = validation_rows(val_samples, cal, BANDWIDTH_MBPS)
        report(val_rows, summarise(val_rows))
        return 0
    measured_k = host_extra_load(cal_samples)
    earlier = json.loads(RESULTS.read_text(encoding="utf-8")) if partial else None
    # a partial refit keeps the host load of the stored runs, so the other computations' forecasts stay as they were
    k = earlier["host_extra_load"] if earlier else measured_k
    calib_rows = calibration_rows(cal_samples, k, handshake)
    what = (f"{len(calib_rows)} configurations x {cal_rep} base runs through 0-ms relays (+ as many relay "
            f"probes at {PROBE_MS:g} ms for the latency-bound rounds) of {', '.join(computations)}; "
            f"N per organisation {list(cal_n)}, parties {list(cal_m)}; {platform.machine()}, {CORES} cores, "
            f"all parties on one machine, other load while they ran {measured_k:.2f} cores"
            + (" (--quick grid)" if quick else ""))
    today = date.today().isoformat()
    if earlier:
        dates = {**measured_dates(earlier), **{c: today for c in computations}}
        calib_rows = [r for r in earlier["calibration"] if r["computation"] not in computations] + calib_rows
        val_samples = {**{key: v for key, v in stored_validation_samples(earlier["validation"]).items()
                          if key[0] not in computations}, **val_samples}
        # the first run's note, without earlier re-measurements or refits, then this one
        first = load_calibration()["measured_on"].split(REMEASURED)[0].split(" [refitted")[0]
        note = f"{first}{REMEASURED}{', '.join(computations)} on {today} (bench_timeline.py --computations), {what}"
    else:
        dates = {c: today for c in computations}
        note = f"fitted {today} by benchmarks/bench_timeline.py from {what}"
    cal, val_rows, summary = fit_and_validate(calib_rows, val_samples, k, note, save=not quick,
                                              separate=separately_measured(dates))
    if not quick:
        res = earlier or {"benchmark": "timeline_validation"}
        res.update({
            "quick": quick, "date": today, "measured": dates,
            "seconds": round(time.perf_counter() - t0, 1), "probe_latency_ms": PROBE_MS,
            "cores": CORES, "load_average_start": round(load_start, 2),
            "load_average_end": round(os.getloadavg()[0], 2),
            "steal_seconds": round((steal_jiffies() - steal_start) / os.sysconf("SC_CLK_TCK"), 1)
            if steal_start >= 0 else None,
            "design": "calibration and validation measured in interleaved passes; fitted on calibration only"
                      + ("; computations measured on another day are fitted apart (own start-up)" if earlier else ""),
            "repeats": repeats, "calibration_repeats": cal_rep, "host_extra_load": k,
            "host_extra_load_measured": measured_k, "parties": list(cal_m), "calibration": calib_rows,
        })
        save_results(res, cal, val_rows, summary)
    report(val_rows, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
