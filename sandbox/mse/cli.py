"""Command line: ``mpc-sandbox mse (--counts FILE.csv | --published NAME) [--method ...] --json``.

The lead's ``sandbox/cli.py`` calls :func:`register` on its sub-parsers;
``python -m sandbox.mse.cli ...`` runs the subcommand on its own.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import published
from .analysis import MSEResult, analyse
from .models import ALL_METHODS, DEFAULT_PTHRESH
from .table import MSEError, load_counts_csv

#: Seed used when --bootstrap is given without --seed (reproducible by default).
DEFAULT_SEED = 1234


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``mse`` subcommand to ``subparsers`` and return its parser."""
    parser = subparsers.add_parser(
        "mse",
        help="estimate a hidden population by multiple systems estimation",
        description="Multiple systems estimation from capture-pattern counts "
        "(CSV: one 0/1 column per list, then 'count').",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--counts", metavar="FILE.csv", help="capture-pattern counts CSV")
    source.add_argument(
        "--published",
        metavar="NAME",
        help="a published table shipped with the sandbox: " + ", ".join(published.names()),
    )
    parser.add_argument(
        "--method",
        choices=ALL_METHODS,
        default="stepwise",
        help="model (default: stepwise); auto = BIC up to 5 lists, stepwise for 6 or more",
    )
    parser.add_argument(
        "--pthresh",
        type=float,
        default=DEFAULT_PTHRESH,
        help=f"stepwise p-value threshold (default {DEFAULT_PTHRESH})",
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=0,
        metavar="N",
        help="number of bootstrap replicates for a BCa 95%% interval (default: none)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"bootstrap seed (default {DEFAULT_SEED})"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=handle)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Run the ``mse`` subcommand; return 0 on success, 2 on an MSE error."""
    try:
        table = load_counts_csv(args.counts) if args.published is None else published.load_table(args.published)
        result = analyse(
            table, method=args.method, pthresh=args.pthresh, n_boot=args.bootstrap, seed=args.seed
        )
    except MSEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_dict(), indent=2) if args.json else format_text(result))
    return 0


def format_text(result: MSEResult) -> str:
    """Human-readable summary of a result."""
    lines = [
        f"method:    {result.method}",
        f"lists:     {', '.join(result.lists)}",
        f"observed:  {result.observed:,}",
        f"estimate:  {result.estimate:,.0f}",
    ]
    if result.ci95:
        lines.append(f"95% BCa:   {result.ci95[0]:,.0f} - {result.ci95[1]:,.0f}")
    lines.append(f"terms:     {', '.join(result.terms) or '(main effects only)'}")
    lines += [f"warning:   {w}" for w in result.warnings]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m sandbox.mse.cli mse --counts ...``.

    The leading ``mse`` word is optional.
    """
    parser = argparse.ArgumentParser(prog="mpc-sandbox")
    register(parser.add_subparsers(dest="command", required=True))
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "mse":
        argv.insert(0, "mse")
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
