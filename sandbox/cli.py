"""The `mpc-sandbox` command line (also `python -m sandbox`).

Subcommands: generate, computations, run, mse, timeline. JSON keys printed with --json are a
contract with users' scripts: extend, never rename.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["build_parser", "main"]


class CLIError(Exception):
    """A user error: printed as `error: ...` with exit code 2, never a traceback."""


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _cmd_generate(args: argparse.Namespace) -> int:
    import synthetic
    from sandbox.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.population is not None and args.population < 1:
        raise CLIError(f"--population must be at least 1, not {args.population}")
    data = synthetic.generate(scenario.organisations, scenario.generator, seed=args.seed,
                              population=args.population, year=args.year)
    paths = synthetic.write_dataset(data, Path(args.out))
    gt = data.ground_truth
    if args.json:
        _print_json({"out": str(Path(args.out)), "files": [str(p) for p in paths], "population": gt["population"],
                     "registered": gt["registered"], "records_per_org": gt["records_per_org"]})
    else:
        print(f"SYNTHETIC data for scenario {scenario.name} (seed {args.seed}) written to {args.out}")
        print(f"  hidden population {gt['population']}, registered victims {gt['registered']}")
        for org, n in gt["records_per_org"].items():
            print(f"  {org:>20}: {n} records")
    return 0


def _cmd_computations(args: argparse.Namespace) -> int:
    from sandbox.mpc import computations

    rows = [{"name": c.name, "title": c.title, "protocol": c.protocol, "summary": c.summary, "reveals": c.reveals}
            for c in (computations.get(n) for n in computations.names())]
    if args.json:
        _print_json(rows)
    else:
        for r in rows:
            print(f"{r['name']:<28} {r['title']}")
    return 0


def _read_query(path: str) -> Any:
    """The JSON of a --query file; CLIError for a missing or unreadable file or invalid JSON."""
    file = Path(path)
    if not file.is_file():
        raise CLIError(f"--query {path}: file not found")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"--query {path}: cannot read the file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise CLIError(f"--query {path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def _link(args: argparse.Namespace) -> dict[str, Any] | None:
    """--network PROFILE or --latency-ms/--bandwidth-mbps: every connection through a delaying relay on this
    machine (sandbox.timeline.relay), as `timeline protocol` models it; None: plain loopback."""
    custom = args.latency_ms is not None or args.bandwidth_mbps is not None or args.jitter_ms is not None
    if args.network is not None and custom:
        raise CLIError("give either --network or --latency-ms/--bandwidth-mbps/--jitter-ms, not both")
    if args.network is not None:
        from sandbox.timeline.network import get_network

        try:
            net = get_network(args.network)
        except ValueError as exc:
            raise CLIError(f"--network: {exc}") from None
        if net.name == "loopback":
            return None
        return {"latency_ms": net.latency_ms, "bandwidth_mbps": net.bandwidth_mbps, "jitter_ms": net.jitter_ms}
    if not custom:
        return None
    for flag, value in (("--latency-ms", args.latency_ms), ("--bandwidth-mbps", args.bandwidth_mbps),
                        ("--jitter-ms", args.jitter_ms)):
        if value is not None and not 0 <= value < float("inf"):
            raise CLIError(f"{flag} must be a number of 0 or more, not {value}")
    if args.bandwidth_mbps == 0:
        raise CLIError("--bandwidth-mbps must be more than 0")
    return {"latency_ms": args.latency_ms or 0.0, "bandwidth_mbps": args.bandwidth_mbps,
            "jitter_ms": args.jitter_ms or 0.0}


def _cmd_run(args: argparse.Namespace) -> int:
    from sandbox.mpc.runner import run_mpc
    from sandbox.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if not Path(args.data).is_dir():
        raise CLIError(f"--data {args.data}: not a folder (make one with `mpc-sandbox generate`)")
    orgs = args.orgs.split(",") if args.orgs else None
    params = {"min_cell": args.min_cell} if args.min_cell is not None else None
    computation = args.computation
    if args.query is not None:  # a designed query; its own min_cell wins over --min-cell (the runner)
        computation = "designed-query"
        params = {**(params or {}), "query": _read_query(args.query)}
    if args.covariates is not None:  # capture-patterns-by; the runner checks the names
        if computation != "capture-patterns-by":
            raise CLIError("--covariates belongs to --computation capture-patterns-by")
        params = {**(params or {}), "covariates": [c.strip() for c in args.covariates.split(",") if c.strip()]}
    result = run_mpc(scenario, args.data, computation, threshold=args.threshold, orgs=orgs,
                     params=params, out_dir=args.out, timeout=args.timeout, wire_log=args.wire_log,
                     link=_link(args))
    if args.json:
        _print_json(result.to_json())
    else:
        print(f"{result.computation}: {len(result.parties)} parties, threshold {result.threshold}, "
              f"{result.seconds:.2f} s")
        print("revealed:", json.dumps(result.revealed))
        if result.suppressed:
            print("suppressed (below the small-cell threshold):", ", ".join(map(str, result.suppressed)))
        if result.join_opened:  # a distinct-persons query: what linking the records opened to everyone
            print("opened by the record linkage:", json.dumps(result.join_opened))
        print("matches the plaintext oracle:", result.match)
        print("transcripts in", result.out_dir)
    return 0 if result.match in (True, None) else 1


CORE_COMMANDS = ("generate", "computations", "run")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with one of CORE_COMMANDS as `command`, without the subcommands of other packages
    (importing the MSE package alone takes statsmodels and SciPy: seconds of a live demo's wait)."""
    parser = argparse.ArgumentParser(prog="mpc-sandbox", description="MPC Trust Sandbox (SYNTHETIC data only)")
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="generate SYNTHETIC records for every organisation of a scenario")
    g.add_argument("--scenario", default="nl-baseline", help="scenario name or path to a YAML file")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--population", type=int, default=None, help="size of the hidden population")
    g.add_argument("--year", type=int, default=None)
    g.add_argument("--out", required=True, help="output folder")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=_cmd_generate)

    c = sub.add_parser("computations", help="list the catalogue of computations")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=_cmd_computations)

    r = sub.add_parser("run", help="run a computation with one real MPyC process per organisation")
    r.add_argument("--scenario", default="nl-baseline")
    r.add_argument("--data", required=True, help="folder with one CSV per organisation")
    what = r.add_mutually_exclusive_group(required=True)
    what.add_argument("--computation", help="a computation of the catalogue (`mpc-sandbox computations`)")
    what.add_argument("--query", metavar="FILE.json",
                      help='a designed query: {"group_by": [...], "where": {...}, "measure": ..., "min_cell": n}')
    r.add_argument("--covariates", default=None, metavar="X,Y,...",
                   help="capture-patterns-by: comma-separated covariates among sex, minor, dutch, form "
                        "(default sex,minor)")
    r.add_argument("--threshold", type=int, default=None, help="Shamir threshold t (default (m-1)//2)")
    r.add_argument("--orgs", default=None, help="comma-separated subset of organisations (default: all)")
    r.add_argument("--min-cell", type=int, default=None, help="small-cell threshold (default from scenario)")
    r.add_argument("--out", default=None, help="folder for transcripts and result.json")
    r.add_argument("--timeout", type=float, default=120.0)
    r.add_argument("--wire-log", action="store_true",
                   help="also write every payload each party sent and received to wire-<i>-<org>.bin (needs --out)")
    r.add_argument("--network", default=None, metavar="PROFILE",
                   help="emulate a network profile of `mpc-sandbox timeline` (lan, nl-organisations, ...) with a "
                        "delaying relay per connection on this machine")
    r.add_argument("--latency-ms", type=float, default=None, help="one-way latency per connection (relay)")
    r.add_argument("--bandwidth-mbps", type=float, default=None, help="bandwidth per connection (relay)")
    r.add_argument("--jitter-ms", type=float, default=None, help="latency jitter per message (relay)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_cmd_run)

    for module in ("sandbox.mse.cli", "sandbox.timeline.cli", "sandbox.deploy.cli"):
        if command in CORE_COMMANDS:
            break
        try:
            importlib.import_module(module).register(sub)
        except (ImportError, AttributeError):  # a part still under construction must not break the rest
            pass
    return parser


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else list(argv)
    if raw[:1] == ["run"] and not {"-h", "--help"} & set(raw):
        from sandbox.mpc import forkserver

        forkserver.prestart()  # the parties' server warms up while this command reads its arguments and files
    parser = build_parser(raw[0] if raw else None)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        if not isinstance(exc, _user_errors()):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


# user errors (printed as `error: ...`, exit code 2) besides CLIError, ValueError and OSError
_USER_ERRORS = (("sandbox.scenario", "ScenarioError"), ("sandbox.mpc.computations", "ComputationError"),
                ("sandbox.mpc.inputs", "InputError"), ("sandbox.mpc.runner", "MPCError"))


def _user_errors() -> tuple[type[BaseException], ...]:
    """The user-error classes, taken from the modules the command imported: a module that was never
    imported raised nothing (importing the MPC runner just to name its error cost `generate` 0.4 s)."""
    found = [getattr(sys.modules[module], name) for module, name in _USER_ERRORS if module in sys.modules]
    return (CLIError, ValueError, OSError, *found)


if __name__ == "__main__":
    sys.exit(main())
