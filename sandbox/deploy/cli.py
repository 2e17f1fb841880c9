"""Subcommands for multi-host deployment: export-party, party, map-export (registered by sandbox.cli)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["register"]


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _cmd_export(args: argparse.Namespace) -> int:
    from sandbox.deploy.bundle import DeployError, export_bundles
    from sandbox.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    mappings = {}
    for item in args.mapping or []:
        org, sep, path = item.partition("=")
        if not sep or not org or not path:
            raise DeployError(f"--mapping {item!r}: expected ORG=FILE")
        mappings[org] = path
    if args.data is None and not args.without_data:
        raise DeployError("give --data DIR (one CSV per organisation) or --without-data (each organisation adds "
                          "its own export)")
    summary = export_bundles(scenario, None if args.without_data else args.data, args.hosts, args.out,
                             computation_names=args.computation, mappings=mappings, threshold=args.threshold,
                             days=args.days, timeout=args.timeout, connect_timeout=args.connect_timeout)
    if args.json:
        _print_json(summary.to_json())
    else:
        print(f"{len(summary.bundles)} party bundles for scenario {scenario.name} written to {summary.out}")
        for (org, path), host in zip(summary.bundles.items(), summary.hosts, strict=True):
            print(f"  {org:>20}  {host:<24} {path}")
        print(f"CA fingerprint (SHA-256): {summary.fingerprint}")
        print(f"valid until {summary.valid_until}. Give each organisation ONLY its own folder, and read the "
              "fingerprint to its IT staff over another channel.")
    return 0


def _cmd_party(args: argparse.Namespace) -> int:
    from sandbox.deploy.bundle import check_bundle, run_party

    if args.check:
        root, man, fingerprint = check_bundle(args.bundle)
        if args.json:
            _print_json({"bundle": str(root), "org": man["org"], "index": man["index"],
                         "ca_fingerprint_sha256": fingerprint, "valid_until": man["valid_until"]})
        else:
            print(f"bundle of {man['org']} (party {man['index']} of {man['m']}): TLS files OK")
            print(f"CA fingerprint (SHA-256): {fingerprint}")
        return 0
    log = None if args.json else (lambda msg: print(msg, flush=True))
    results = run_party(args.bundle, listen=args.listen, computation=args.computation, timeout=args.timeout,
                        connect_timeout=args.connect_timeout, log=log)
    if args.json:
        _print_json([{k: r.get(k) for k in ("computation", "party", "org", "revealed", "suppressed", "seconds",
                                             "transcript")} for r in results])
    else:
        for r in results:
            print(f"{r['computation']}: opened by party {r['party']} ({r['org']}) in {r['seconds']:.2f} s")
            print("revealed:", json.dumps(r["revealed"]))
            if r.get("suppressed"):
                print("suppressed (below the small-cell threshold):", ", ".join(map(str, r["suppressed"])))
            print("transcript:", r["transcript"])
    return 0


def _cmd_map(args: argparse.Namespace) -> int:
    from sandbox.deploy.mapping import MappingError, build_mapping, parse_header

    if (args.header is None) == (args.header_from is None):
        raise MappingError("give the export's header row with --header \"col1,col2,...\" or --header-from FILE")
    if args.header_from is not None:
        with Path(args.header_from).open(encoding="utf-8-sig") as fh:
            text = fh.readline()  # the header row only: no data row is read
    else:
        text = args.header
    try:
        spec = json.loads(Path(args.codes).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MappingError(f"{args.codes}: not valid JSON ({exc})") from None
    mapping = build_mapping(parse_header(text), spec, org=args.org)
    Path(args.out).write_text(json.dumps(mapping, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.json:
        _print_json(mapping)
    else:
        kept = {c: t for c, t in mapping["columns"].items() if t}
        dropped = [c for c, t in mapping["columns"].items() if not t]
        print(f"mapping for {args.org} written to {args.out}")
        for col, target in kept.items():
            codes = mapping["codes"].get(target)
            print(f"  {col:>24} -> {target}" + (f"  ({len(codes)} codes)" if codes else ""))
        if dropped:
            print("  dropped (never used):", ", ".join(dropped))
    return 0


def register(sub) -> None:
    e = sub.add_parser("export-party", help="write one TLS party bundle per organisation for separate hosts")
    e.add_argument("--scenario", default="nl-baseline")
    e.add_argument("--data", default=None, help="folder with one CSV per organisation")
    e.add_argument("--without-data", action="store_true",
                   help="bundles without records: each organisation puts its own export in data/<org>.csv")
    e.add_argument("--hosts", required=True,
                   help="HOST:PORT,HOST:PORT,... one per organisation, in the scenario's order")
    e.add_argument("--out", required=True, help="new, empty output folder")
    e.add_argument("--computation", action="append", default=None,
                   help="computation to include (repeatable; default counts-by-form)")
    e.add_argument("--mapping", action="append", default=None, metavar="ORG=FILE",
                   help="mapping.json for an organisation's own export format (from map-export)")
    e.add_argument("--threshold", type=int, default=None, help="Shamir threshold t (default (m-1)//2)")
    e.add_argument("--days", type=int, default=14, help="certificate validity in days (default 14, at most 90)")
    e.add_argument("--timeout", type=float, default=300.0, help="per-computation timeout in the plans (s)")
    e.add_argument("--connect-timeout", type=float, default=120.0, help="time for all parties to connect (s)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=_cmd_export)

    p = sub.add_parser("party", help="run this organisation's MPC party from its bundle (TLS, separate hosts)")
    p.add_argument("--bundle", required=True, help="the organisation's bundle folder")
    p.add_argument("--listen", default=None, help="local HOST:PORT (or PORT) to bind instead of the bundle's address")
    p.add_argument("--computation", default=None, help="run only this computation of the bundle")
    p.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    p.add_argument("--connect-timeout", type=float, default=None, help="time for all parties to connect (s)")
    p.add_argument("--check", action="store_true", help="only check the bundle's TLS files and print the fingerprint")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_party)

    mp = sub.add_parser("map-export", help="map an organisation's export format (header + code lists) to the schema")
    mp.add_argument("--header", default=None, help='the export\'s header row, e.g. "Dossiernr,Vorm,Datum"')
    mp.add_argument("--header-from", default=None, help="read ONLY the first line (the header) of this file")
    mp.add_argument("--codes", required=True,
                    help='JSON: {"columns": {their_col: field|null}, "codes": {field: {their_code: code}}, ...}')
    mp.add_argument("--org", required=True, help="organisation id")
    mp.add_argument("--out", required=True, help="mapping.json to write")
    mp.add_argument("--json", action="store_true")
    mp.set_defaults(func=_cmd_map)
