"""Tests for sandbox.mse: SparseMSE reproduction, model selection, edge cases, CSV input, CLI."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sandbox.mse import (
    CaptureTable,
    MSEError,
    analyse,
    best_subset_fit,
    load_counts_csv,
    published,
    select_model,
    suppress_small_cells,
)
from sandbox.mse.cli import register
from sandbox.mse.models import poisson_two_sided_p

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "sandbox" / "mse" / "data"  # the shipped tables (sandbox.mse.published reads them)

# SparseMSE 2.0.1 on UKdat (Chan, Silverman & Vincent 2021).
UK_MAIN = 12_214.0
UK_STEPWISE = 11_418.0
UK_STEPWISE_TERMS = {"PF:NCA", "LA:NG", "NG:GP", "LA:PF", "PF:GP", "GO:GP", "NG:GO"}


def table(lists, patterns):
    """Build a table from ``[(members, count), ...]``."""
    return CaptureTable.from_patterns([{"lists": m, "count": c} for m, c in patterns], lists)


def write_csv(tmp_path: Path, text: str, name: str = "counts.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def uk() -> CaptureTable:
    return published.load_table("UKdat")


# ------------------------------------------------------------ shipped tables
SHIPPED = {  # name: (lists, people observed), from the tables' documentation (sandbox/mse/data/README.md)
    "Ned": (("I", "K", "O", "P", "R", "Z"), 8234),
    "Ned_5": (("IO", "K", "P", "R", "Z"), 8234),
    "NewOrl": (tuple("ABCDEFGH"), 185),
    "NewOrl_5": (("A", "BEFG", "C", "D", "H"), 185),
    "simdat": (("R1", "R2", "R3", "R4"), 1043),
    "UKdat": (("LA", "NG", "PF", "GO", "GP", "NCA"), 2744),
    "Western": (tuple("ABCDE"), 345),
}


def test_published_names_are_the_shipped_tables():
    assert published.names() == ["Ned", "Ned_5", "NewOrl", "NewOrl_5", "simdat", "UKdat", "Western"]
    assert set(published.DESCRIPTIONS) == set(SHIPPED)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_published_table_loads_with_its_lists_and_total(name):
    lists, observed = SHIPPED[name]
    data = published.load_table(name)
    assert data.lists == lists
    assert data.observed == observed


def test_simdat_is_one_row_per_person_with_covariates():
    frame = published.load("simdat")
    assert list(frame.columns) == ["R1", "R2", "R3", "R4", "X1", "X2", "X3", "X4", "Y"]
    assert len(frame) == 1043
    data = published.load_table("simdat")
    only_r1 = ((frame[["R1", "R2", "R3", "R4"]] == "1").sum(axis=1) == 1) & (frame["R1"] == "1")
    assert data.to_frame().set_index(["R1", "R2", "R3", "R4"])["count"][(1, 0, 0, 0)] == int(only_r1.sum())


@pytest.mark.parametrize("name", ["nope", "UKdat.csv", "../elsewhere/UKdat", ""])
def test_unknown_published_name_names_the_known_tables(name):
    with pytest.raises(MSEError, match=r"no published table named .*shipped tables are Ned, Ned_5, .*Western"):
        published.load_table(name)


def test_every_data_file_is_package_data():
    """pyproject's package-data globs cover every file in sandbox/mse/data (so a wheel carries them)."""
    import fnmatch
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["sandbox.mse"]
    files = sorted(f"data/{p.name}" for p in DATA.iterdir())
    assert len(files) == 8  # seven tables and their README
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []


# ------------------------------------------------------------ UK reproduction
def test_uk_observed_total(uk):
    assert uk.observed == 2744
    assert uk.lists == ("LA", "NG", "PF", "GO", "GP", "NCA")
    assert len(uk.counts) == 63


def test_uk_main_effects_matches_sparsemse(uk):
    assert select_model(uk, "main").estimate == pytest.approx(UK_MAIN, rel=0.005)


def test_uk_stepwise_matches_sparsemse(uk):
    fit = select_model(uk, "stepwise", pthresh=0.02)
    assert fit.estimate == pytest.approx(UK_STEPWISE, rel=0.005)
    assert set(fit.term_names) == UK_STEPWISE_TERMS
    assert fit.term_names[0] == "PF:NCA"  # most significant pair enters first


def test_uk_bootstrap_bca_interval(uk):
    # 200 replicates, as in the reference; about 10 s on a laptop.
    start = time.perf_counter()
    result = analyse(uk, "stepwise", n_boot=200, seed=1234)
    elapsed = time.perf_counter() - start
    low, high = result.ci95
    assert 8_500 <= low <= 10_300
    assert 13_500 <= high <= 17_000
    assert low < result.estimate < high
    assert elapsed < 60


def test_bootstrap_is_reproducible_with_seed():
    small = table(
        ["A", "B", "C"],
        [
            (["A"], 60),
            (["B"], 40),
            (["C"], 30),
            (["A", "B"], 12),
            (["A", "C"], 8),
            (["B", "C"], 6),
            (["A", "B", "C"], 3),
        ],
    )
    first = analyse(small, "main", n_boot=50, seed=7).ci95
    again = analyse(small, "main", n_boot=50, seed=7).ci95
    assert first == again


def test_poisson_p_value_is_two_sided_minimum():
    assert poisson_two_sided_p(0, 3.0) == pytest.approx(np.exp(-3.0))
    assert poisson_two_sided_p(10, 3.0) < 0.01
    assert poisson_two_sided_p(3, 3.0) > 0.4


# ------------------------------------------------------------ AIC / BIC
@pytest.mark.parametrize("name", ["Western", "Ned_5"])
@pytest.mark.parametrize("criterion", ["aic", "bic"])
def test_aic_bic_five_lists_hierarchical(name, criterion):
    data = published.load_table(name)
    fit = best_subset_fit(data, criterion)
    assert fit.estimate > data.observed
    overlaps = data.pair_overlaps()
    # two-way hierarchical: every term is a pair of distinct lists, main effects always in; pairs that
    # share nobody are fitted at minus infinity (no parameter estimated, cells removed)
    assert all(len(t) == 2 and t[0] < t[1] for t in fit.terms)
    assert set(fit.neg_inf_terms) == {t for t in fit.terms if overlaps[t] == 0}
    assert len(fit.params) == 1 + data.k + len(fit.terms) - len(fit.neg_inf_terms)
    main = select_model(data, "main")
    assert getattr(fit, criterion) <= getattr(main, criterion) + 1e-9


def test_aic_refuses_more_than_five_lists(uk):
    with pytest.raises(MSEError, match="limited to 5 lists"):
        select_model(uk, "aic")


# ------------------------------------------------------------ edge cases
def test_two_lists_is_lincoln_petersen():
    data = table(["A", "B"], [(["A"], 100), (["B"], 50), (["A", "B"], 10)])
    result = analyse(data, "stepwise")
    assert result.estimate == pytest.approx(160 + 100 * 50 / 10, rel=1e-6)
    assert result.terms == []
    assert any("Lincoln-Petersen" in w for w in result.warnings)


def test_list_without_overlaps_warns_but_estimates():
    data = table(["A", "B", "C"], [(["A"], 100), (["B"], 50), (["A", "B"], 10), (["C"], 30)])
    result = analyse(data, "stepwise")
    assert np.isfinite(result.estimate)
    assert any("List C shares nobody" in w for w in result.warnings)
    assert any("share nobody (A-C, B-C)" in w for w in result.warnings)


def test_no_overlap_at_all_has_no_estimate():
    data = table(["A", "B", "C"], [(["A"], 100), (["B"], 50), (["C"], 30)])
    with pytest.raises(MSEError, match="does not exist: no person appears on more than one list"):
        analyse(data)


def test_all_counts_in_one_pattern_has_no_estimate():
    data = table(["A", "B", "C"], [(["A", "B"], 100)])
    with pytest.raises(MSEError, match="one pattern .A\\+B.*does not exist"):
        analyse(data)


def test_observed_total_zero():
    with pytest.raises(MSEError, match="observed total is 0"):
        analyse(table(["A", "B"], []))


def test_empty_list_is_dropped_with_warning():
    data = table(["A", "B", "C"], [(["A"], 100), (["B"], 50), (["A", "B"], 10)])
    result = analyse(data, "main")
    assert result.lists == ("A", "B")
    assert any("C contain nobody" in w for w in result.warnings)


def test_sparse_and_low_overlap_warnings(uk):
    warnings = analyse(uk, "main").warnings
    assert any("Sparse table" in w for w in warnings)
    assert any("share nobody (LA-GP, LA-NCA)" in w for w in warnings)


def test_unknown_method():
    data = table(["A", "B"], [(["A"], 100), (["B"], 50), (["A", "B"], 10)])
    with pytest.raises(MSEError, match="unknown method"):
        analyse(data, "magic")


# ------------------------------------------------------------ patterns input
def test_from_patterns_fills_absent_patterns_and_lists():
    data = table(["A", "B", "C"], [(["B", "A"], 5), (["A"], 7)])
    assert data.observed == 12
    assert data.list_totals() == {"A": 12, "B": 5, "C": 0}
    assert len(data.counts) == 7


@pytest.mark.parametrize(
    "patterns, lists, message",
    [
        ([(["A"], 1), (["A"], 2)], ["A", "B"], "duplicate pattern"),
        ([(["X"], 1)], ["A", "B"], "unknown list name"),
        ([([], 3)], ["A", "B"], "empty pattern"),
        ([(["A"], -1)], ["A", "B"], "must not be negative"),
        ([(["A"], 1.5)], ["A", "B"], "whole number"),
        ([(["A"], 1)], ["A"], "at least 2 lists"),
        ([(["A"], 1)], [f"L{i}" for i in range(11)] + ["A"], "more than the supported maximum"),
    ],
)
def test_from_patterns_errors(patterns, lists, message):
    with pytest.raises(MSEError, match=message):
        table(lists, patterns)


# ------------------------------------------------------------ CSV input
@pytest.mark.parametrize(
    "text, message",
    [
        ("A,B,n\n1,0,3\n", "last column must be 'count'"),
        ("A,B,count\n1,2,3\n", "line 2, column 'B'.*expected 0 or 1"),
        ("A,B,count\n1,0,-3\n", "line 2, column 'count'.*must not be negative"),
        ("A,B,count\n1,0,3\n0,1,2\n1,0,4\n", "line 4: duplicate pattern A"),
        ("A,B,count\n1,0,3\n0,0,2\n", "line 3: all-zero row"),
        ("A,count\n1,3\n", "at least 2 lists"),
        (
            ",".join(f"L{i}" for i in range(11)) + ",count\n" + ",".join(["1"] * 11) + ",3\n",
            "more than the supported",
        ),
        ("", "empty"),
    ],
)
def test_csv_errors_name_file_and_problem(tmp_path, text, message):
    path = write_csv(tmp_path, text)
    with pytest.raises(MSEError, match=message) as info:
        load_counts_csv(path)
    assert "counts.csv" in str(info.value)


def test_csv_missing_file(tmp_path):
    with pytest.raises(MSEError, match="file not found"):
        load_counts_csv(tmp_path / "nope.csv")


def test_csv_omitted_patterns_are_zero(tmp_path):
    data = load_counts_csv(write_csv(tmp_path, "A,B,C,count\n1,0,0,5\n1,1,0,2\n"))
    assert data.observed == 7
    assert int(data.counts.sum()) == 7 and int((data.counts > 0).sum()) == 2


# ------------------------------------------------------------ disclosure helper
def test_suppress_small_cells(uk):
    suppressed = suppress_small_cells(uk, 5)
    assert suppressed.counts.min() == 0
    assert not ((suppressed.counts > 0) & (suppressed.counts < 5)).any()
    assert suppressed.observed < uk.observed
    assert suppress_small_cells(uk, 0).observed == uk.observed


# ------------------------------------------------------------ CLI
def run_cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mpc-sandbox")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_json_keys(capsys):
    args = run_cli(["mse", "--counts", str(DATA / "UKdat.csv"), "--method", "stepwise", "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"observed", "estimate", "ci95", "terms", "method", "warnings"} <= set(out)
    assert out["observed"] == 2744
    assert out["estimate"] == pytest.approx(UK_STEPWISE, rel=0.005)
    assert out["ci95"] is None
    assert set(out["terms"]) == UK_STEPWISE_TERMS
    assert out["method"] == "stepwise"


def test_cli_bootstrap_gives_interval(capsys):
    args = run_cli(
        [
            "mse",
            "--published",
            "Western",
            "--method",
            "main",
            "--bootstrap",
            "30",
            "--seed",
            "3",
            "--json",
        ]
    )
    assert args.func(args) == 0
    low, high = json.loads(capsys.readouterr().out)["ci95"]
    assert low < high


def test_cli_error_exit_code(tmp_path, capsys):
    path = write_csv(tmp_path, "A,B,count\n1,0,5\n0,1,3\n")  # no overlap
    args = run_cli(["mse", "--counts", str(path), "--json"])
    assert args.func(args) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_cli_published_table_by_name(capsys):
    args = run_cli(["mse", "--published", "UKdat", "--method", "main", "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["observed"] == 2744
    assert out["estimate"] == pytest.approx(UK_MAIN, rel=0.005)


@pytest.mark.parametrize("name", ["UK2013", ""])
def test_cli_unknown_published_table_is_a_clear_error(capsys, name):
    args = run_cli(["mse", "--published", name, "--json"])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: no published table named {name!r}") and "UKdat" in err


def test_cli_counts_and_published_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as info:
        run_cli(["mse", "--published", "UKdat", "--counts", str(DATA / "UKdat.csv")])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_cli_module_entry_point():
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox.mse.cli",
            "mse",
            "--counts",
            str(DATA / "Western.csv"),
            "--method",
            "bic",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["method"] == "bic"
