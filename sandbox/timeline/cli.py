"""Command line: ``mpc-sandbox timeline protocol ...`` and ``mpc-sandbox timeline project ...``.

The lead wires `register` into ``sandbox/cli.py``; ``python -m sandbox.timeline.cli`` works on its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

__all__ = ["main", "register"]


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _protocol(args: argparse.Namespace) -> int:
    from .network import NetworkProfile, get_network
    from .protocol import forecast

    try:
        if args.network is not None:
            if args.latency_ms is not None or args.bandwidth_mbps is not None:
                return _fail("give either --network or --latency-ms/--bandwidth-mbps, not both")
            net = get_network(args.network)
            if args.host_cores is not None:
                net = dataclasses.replace(net, host_cores=args.host_cores)
        elif args.latency_ms is not None and args.bandwidth_mbps is not None:
            net = NetworkProfile.custom(args.latency_ms, args.bandwidth_mbps, args.jitter_ms or 0.0,
                                        host_cores=args.host_cores)
        else:
            return _fail("give --network PROFILE, or --latency-ms X and --bandwidth-mbps Y")
        f = forecast(args.computation, args.records, args.parties, net, seed=args.seed)
    except ValueError as exc:
        return _fail(str(exc))
    out: dict[str, Any] = {
        "computation": f.computation,
        "records": f.records,
        "parties": f.parties,
        "predicted_seconds": round(f.predicted_seconds, 4),
        "breakdown": {k: round(v, 4) for k, v in f.breakdown.items()},
        "rounds": f.rounds,
        "bytes_per_party": round(f.bytes_per_party),
        "network": f.network,
        "notes": f.notes,
        "predicts": f.predicts,
        "command_seconds": None if f.command_seconds is None else round(f.command_seconds, 4),
        "command_overhead_seconds": (None if f.command_overhead_seconds is None
                                     else round(f.command_overhead_seconds, 4)),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in f.breakdown.items())
        wait = f.command_seconds if f.command_seconds is not None else f.predicted_seconds
        print(
            f"{f.computation}: {f.records:,} records x {f.parties} parties on {net.name}: "
            f"about {wait:.2f} s: {f.predicts}"
        )
        if f.command_seconds is not None:
            print(f"  start-up, files and check {f.command_overhead_seconds:.2f} s; the protocol run "
                  f"{f.predicted_seconds:.2f} s ({parts})")
        else:
            print(f"  {parts}")
        print(f"  {f.rounds} rounds, {f.bytes_per_party / 1e6:.2f} MB sent per party")
    return 0


def _project(args: argparse.Namespace) -> int:
    from sandbox.scenario import ScenarioError, load_scenario

    from .governance import default_plan
    from .project import simulate_project

    try:
        scenario = load_scenario(args.scenario)
        plan = scenario.governance or default_plan()
        result = simulate_project(plan, scenario.org_ids, runs=args.runs, seed=args.seed)
    except (ScenarioError, ValueError) as exc:
        return _fail(str(exc))
    out = {
        "scenario": scenario.name,
        "plan": "scenario" if scenario.governance else "default",
        **result.summary(),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"{scenario.name}: P50 {result.p50_days:.0f}, P80 {result.p80_days:.0f}, "
            f"P90 {result.p90_days:.0f} working days; naive plan {result.naive_days:.0f} "
            f"({args.runs} runs, seed {args.seed})"
        )
        print("critical path: " + " -> ".join(result.critical_path))
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``timeline {protocol,project}`` to an argparse sub-parser collection."""
    timeline = subparsers.add_parser("timeline", help="forecast MPC run times and project duration")
    sub = timeline.add_subparsers(dest="timeline_command", required=True)

    p = sub.add_parser("protocol", help="forecast the duration of one MPC run")
    p.add_argument("--computation", required=True, help="catalogue name, e.g. counts-by-form")
    p.add_argument("--records", required=True, type=_non_negative_int, help="records per organisation")
    p.add_argument("--parties", required=True, type=_positive_int)
    p.add_argument("--network", help="profile: loopback, lan, nl-organisations, cross-cloud, laptop-4g")
    p.add_argument("--latency-ms", type=float, help="custom one-way latency (ms)")
    p.add_argument("--bandwidth-mbps", type=float, help="custom bandwidth (Mbit/s)")
    p.add_argument("--jitter-ms", type=float, default=None, help="custom jitter (ms)")
    p.add_argument("--host-cores", type=_positive_int, default=None,
                   help="all parties share one machine with this many cores (as in the sandbox); "
                        "default: one machine per party (loopback: this machine)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_protocol)

    q = sub.add_parser("project", help="Monte Carlo of the governance phases of the project")
    q.add_argument("--scenario", default="nl-baseline", help="scenario name or path")
    q.add_argument("--runs", type=_positive_int, default=1000)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_project)
    return timeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mpc-sandbox")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
