"""Command line: ``mpc-sandbox mse (--counts FILE.csv | --published NAME) [--method ...] --json``.

With covariates (``sandbox.mse.covariates``)::

    mpc-sandbox mse --counts people.csv --lists A,B,C --covariates sex,form --method bic --json

``--counts`` is then one row per person (0/1 list columns and covariate columns),
a table with a ``count`` column, or the JSON output of a ``capture-patterns-by`` run.

The lead's ``sandbox/cli.py`` calls :func:`register` on its sub-parsers;
``python -m sandbox.mse.cli ...`` runs the subcommand on its own.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import published
from .analysis import MSEResult, analyse
from .covariates import (
    COVARIATE_METHODS,
    CovariateResult,
    CovariateTable,
    analyse_covariates,
    covariate_table,
    table_from_patterns_by,
)
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
        default=None,
        help="model (default: stepwise; with --covariates: bic); auto = BIC up to 5 lists, stepwise for 6 "
        "or more; with --covariates one of " + ", ".join(COVARIATE_METHODS),
    )
    parser.add_argument(
        "--lists",
        metavar="A,B,...",
        help="with --covariates: the 0/1 list columns of --counts (default for a capture-patterns-by "
        "JSON: its lists)",
    )
    parser.add_argument(
        "--covariates",
        metavar="X,Y,...",
        help="log-linear model with these covariates (Cruyff's mse: stepwise BIC/AIC search over two-way "
        "terms); missing values are imputed by EM",
    )
    parser.add_argument(
        "--empty-overlaps",
        action="store_true",
        help="with --covariates: fit pairs of lists that share nobody, although the simplest model expects "
        "people on both (p < 0.02), at minus infinity in every model, as SparseMSE does",
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
        "--top-models",
        type=_top_models_arg,
        default=None,
        metavar="N|auto",
        help="with --bootstrap and --method auto/bic: bootstrap over the N best models by BIC on the data, as "
        "MultipleSystemsEstimation's estimate_population (auto: its default, all models for 3 lists, 20 for 4, "
        "100 for 5); for 6 or more lists method auto is stepwise and its bootstrap repeats the stepwise selection",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"bootstrap seed (default {DEFAULT_SEED})"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=handle)
    return parser


def _top_models_arg(text: str) -> int:
    """``auto`` (-1: the package default) or a positive number of models."""
    if text.strip().lower() == "auto":
        return -1
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of models or 'auto', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"the number of top models must be at least 1, got {value}")
    return value


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _load_covariate_table(args: argparse.Namespace) -> tuple[CovariateTable, list[str]]:
    """The table for a covariate analysis from --counts (CSV or capture-patterns-by JSON)."""
    if args.counts is None:
        raise MSEError("--covariates needs --counts (the published tables have no covariates, except simdat.csv)")
    path = Path(args.counts)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MSEError(f"cannot read {path}: {exc}") from None
    lists, covariates = _names(args.lists), _names(args.covariates)
    if text.lstrip().startswith(("{", "[")):
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MSEError(f"{path}: not valid JSON: {exc}") from None
        return table_from_patterns_by(payload, lists or None, covariates, source=str(path))
    if not lists:
        raise MSEError("--covariates with a CSV needs --lists naming its 0/1 list columns")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise MSEError(f"{path}: not a readable CSV: {exc}") from None
    return covariate_table(frame, lists, covariates, source=str(path)), []


def _handle_covariates(args: argparse.Namespace) -> int:
    method = args.method or "bic"
    try:
        if method not in COVARIATE_METHODS:
            raise MSEError(
                f"--method {method} is not available with --covariates; choose one of {', '.join(COVARIATE_METHODS)}"
            )
        table, notes = _load_covariate_table(args)
        result = analyse_covariates(
            table,
            method=method,
            n_boot=args.bootstrap,
            seed=args.seed,
            notes=notes,
            empty_overlaps=args.empty_overlaps,
        )
    except MSEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_dict(), indent=2) if args.json else format_covariates_text(result))
    return 0


def format_covariates_text(result: CovariateResult) -> str:
    """Human-readable summary of a covariate analysis."""
    lines = [
        f"method:     {result.method} (covariates: {', '.join(result.covariates)})",
        f"lists:      {', '.join(result.lists)}",
        f"observed:   {result.observed:,}",
        f"estimate:   {result.estimate:,.0f}",
    ]
    if result.ci95:
        lines.append(f"95% (parametric bootstrap): {result.ci95[0]:,.0f} - {result.ci95[1]:,.0f}")
    lines.append(f"terms:      {', '.join(result.terms) or '(main effects only)'}")
    for name, rows in result.by_level.items():
        lines.append(f"{name}: " + "; ".join(f"{r['level']} {r['estimate']:,.0f}" for r in rows))
    lines += [f"warning:    {w}" for w in result.warnings]
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    """Run the ``mse`` subcommand; return 0 on success, 2 on an MSE error."""
    if args.covariates is not None or args.lists is not None:
        if not _names(args.covariates):
            print("error: --lists is only used with --covariates (name at least one covariate)", file=sys.stderr)
            return 2
        if args.top_models is not None:
            print(
                "error: --top-models is for the list-only methods bic and auto, not with --covariates",
                file=sys.stderr,
            )
            return 2
        return _handle_covariates(args)
    if args.empty_overlaps:
        print(
            "error: --empty-overlaps is for --covariates (the list-only stepwise method always does it)",
            file=sys.stderr,
        )
        return 2
    args.method = args.method or "stepwise"
    try:
        table = load_counts_csv(args.counts) if args.published is None else published.load_table(args.published)
        result = analyse(
            table,
            method=args.method,
            pthresh=args.pthresh,
            n_boot=args.bootstrap,
            seed=args.seed,
            top_models=args.top_models,
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
        over = f" (bootstrap over the top {result.top_models} models)" if result.top_models else ""
        lines.append(f"95% BCa:   {result.ci95[0]:,.0f} - {result.ci95[1]:,.0f}{over}")
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
