"""Covariate log-linear MSE (sandbox/mse/covariates.py).

* against R: figures computed with Maarten Cruyff's package ``mse`` by
  benchmarks/r/mse_covariates_reference.R (tests/data/mse_covariates_reference.json);
* against independent re-derivations: observed people per level counted from the
  CSV with pandas; collapsibility (a model without list x covariate terms must
  give the list-only estimate of sandbox.mse.models, which is itself checked
  against SparseMSE);
* bad input: clear MSEError messages, CLI exit 2 with one line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from sandbox.mse import CaptureTable, fit_model, select_model
from sandbox.mse.covariates import (
    _Fitter,
    analyse_covariates,
    covariate_table,
    table_from_patterns_by,
)
from sandbox.mse.table import MSEError

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "mse_covariates_reference.json").read_text())
SIMDAT = pd.read_csv(Path(str(files("sandbox.mse") / "data" / "simdat.csv")))
LISTS = ["R1", "R2", "R3", "R4"]
#: Cases cheap enough for the unit tests (the 4-covariate simdat and the 6-list synthetic table
#: take minutes on the shared 2-core machine; benchmarks/bench_mse_covariates.py checks them).
FAST_CASES = ["simdat_X1X2X3", "simdat_X1X4"]
#: R's glm stops IRLS when the deviance changes by less than 1e-8 (relative) or after 25 iterations.
#: For a model whose MLE exists both converge to the same point: deviances agree to 1e-6 absolute.
#: For a model on the boundary (MLE does not exist, cells fitted at 0) R stops on the way to the limit
#: that we compute (the extended MLE): there the deviance agrees to 0.05 and N-hat to 1e-4 relative.
DEV_TOL, BOUNDARY_DEV_TOL, BOUNDARY_REL = 1e-6, 0.05, 1e-4


def _case(name: str):
    ref = REFERENCE["cases"][name]
    frame = SIMDAT if name.startswith("simdat") else pd.read_csv(DATA / "mse_cov_nl_baseline_seed7.csv")
    table = covariate_table(frame, ref["lists"], ref["covariates"], source=name)
    return ref, table


@pytest.fixture(scope="module", params=FAST_CASES)
def case(request):
    ref, table = _case(request.param)
    return request.param, ref, table, analyse_covariates(table)


def _shared_prefix(ref: dict, result) -> list[dict]:
    """R's path up to where ours leaves it.  Ours may only leave it by skipping a term whose model has
    no determined N-hat (R fits it anyway and prints, e.g., 3e10 or exactly the observed total)."""
    out = []
    for i, row in enumerate(ref["path"]):
        if i >= len(result.path) or result.path[i].step != row["step"]:
            assert row["step"].removeprefix("+ ") in result.skipped_terms, (i, row["step"])
            break
        out.append(row)
    return out


def test_same_cells_as_r(case):
    name, ref, table, result = case
    assert table.observed == ref["observed"]
    assert result.path[0].df == ref["path"][0]["df"]


def test_path_matches_r(case):
    name, ref, table, result = case
    expected = _shared_prefix(ref, result)
    assert len(expected) >= min(12, len(ref["path"]))
    for ours, theirs in zip(result.path, expected, strict=False):
        assert ours.step == theirs["step"]
        assert ours.df == theirs["df"]
        fit = _Fitter(table).fit(ours.terms)
        tol, rel = (BOUNDARY_DEV_TOL, BOUNDARY_REL) if fit.boundary_cells else (DEV_TOL, 1e-8)
        assert ours.deviance == pytest.approx(theirs["deviance"], abs=tol)
        assert ours.bic == pytest.approx(theirs["BIC"], abs=tol)
        assert ours.aic == pytest.approx(theirs["AIC"], abs=tol)
        assert ours.estimate == pytest.approx(theirs["estimate"], rel=rel)


def test_chosen_model_matches_r(case):
    name, ref, table, result = case
    assert result.chosen + 1 == ref["chosen"]
    terms = [ref["terms"]] if isinstance(ref["terms"], str) else ref["terms"]  # jsonlite unboxes one term
    assert sorted(result.terms) == sorted(terms)
    assert result.estimate == pytest.approx(ref["estimate"], rel=1e-6)
    for cov, rows in ref["by_level"].items():
        ours = {r["level"]: r for r in result.by_level[cov]}
        for row in rows:
            assert ours[row["level"]]["estimate"] == pytest.approx(row["estimate"], rel=1e-5, abs=0.06)
            assert ours[row["level"]]["observed"] == row["observed"]


def test_observed_per_level_recounted_from_the_csv(case):
    """Independent: pandas value_counts on the raw rows (people on at least one list)."""
    name, ref, table, result = case
    seen = SIMDAT[SIMDAT[LISTS].sum(axis=1) > 0]
    for cov in ref["covariates"]:
        counts = seen[cov].astype(str).value_counts()
        assert {r["level"]: r["observed"] for r in result.by_level[cov]} == {k: int(v) for k, v in counts.items()}


def test_models_without_list_covariate_terms_give_the_list_only_estimate(case):
    """Collapsibility: if no list interacts with a covariate, the covariates carry no information
    about capture, so N-hat equals the list-only model with the same list x list terms
    (sandbox.mse.models, checked against SparseMSE in test_mse_reference.py)."""
    name, ref, table, result = case
    lists = list(table.lists)
    counts = table.pattern_counts()
    list_only = CaptureTable.from_counts(lists, counts)
    checked = 0
    for row in result.path:
        if any((a in lists) != (b in lists) for a, b in row.terms):
            continue
        pairs = tuple((lists.index(a), lists.index(b)) for a, b in row.terms if a in lists and b in lists)
        assert row.estimate == pytest.approx(fit_model(list_only, pairs).estimate, rel=1e-7)
        checked += 1
    assert checked >= 1


def test_r_reports_billions_where_the_estimate_is_not_determined():
    """simdat with X1 and X4: R's k = 1 stage adds R2:X4 and prints an N-hat of about 3e10: the MLE
    does not exist and N-hat depends on the direction IRLS happened to run off in.  We never fit that
    model as if it were fine: the term is skipped and named."""
    ref, table = _case("simdat_X1X4")
    absurd = [row for row in ref["path"] if row["estimate"] > 100 * table.observed]
    assert absurd and absurd[0]["step"] == "+ R2:X4"
    result = analyse_covariates(table)
    assert "R2:X4" in result.skipped_terms
    assert max(p.estimate for p in result.path) < 100 * table.observed
    assert any("R2:X4" in w for w in result.warnings)
    # The broken variant: a plain GLM of that model, without the check, gives the absurd figure too.
    fitter = _Fitter(table)
    terms = next(p.terms for p in result.path if p.step == "+ R3:X4") + (("R2", "X4"),)
    x_all = fitter.design.matrix(terms)
    naive = sm.GLM(fitter.y, x_all[fitter.obs], family=sm.families.Poisson()).fit(maxiter=25)
    assert np.exp(x_all @ naive.params).sum() > 100 * table.observed
    assert not fitter.fit(terms).valid


def test_bootstrap_interval_loosely_like_r():
    """Parametric bootstrap (random): our 200 replicates against R's boot_mse 200 (seed 1)."""
    boot = REFERENCE["bootstrap"]
    ref, table = _case(boot["case"])
    result = analyse_covariates(table, n_boot=200, seed=7)
    lo, hi = result.ci95
    assert lo < result.estimate < hi
    # Monte Carlo error of a 2.5 % quantile from 200 draws is several per cent of the width.
    width = boot["all"]["max95"] - boot["all"]["min95"]
    assert lo == pytest.approx(boot["all"]["min95"], abs=0.25 * width)
    assert hi == pytest.approx(boot["all"]["max95"], abs=0.25 * width)
    for row in result.by_level["X1"]:
        assert row["ci95"][0] < row["estimate"] < row["ci95"][1]


# ------------------------------------------------------------------ missing values (EM)
def _with_missing(frame: pd.DataFrame, cov: str, share: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = frame.copy().astype({cov: object})
    out.loc[rng.random(len(out)) < share, cov] = "missing"
    return out


def test_em_keeps_every_person_and_matches_the_list_only_main_effects():
    """People with a missing covariate are imputed, not dropped: with no list x covariate term the
    estimate is the list-only main-effects estimate of *all* observed people."""
    frame = _with_missing(SIMDAT[LISTS + ["X1", "X2"]], "X1", 0.2, seed=3)
    table = covariate_table(frame, LISTS, ["X1", "X2"])
    assert table.n_missing > 100 and table.observed == int((SIMDAT[LISTS].sum(axis=1) > 0).sum())
    result = analyse_covariates(table, method="main")
    everyone = CaptureTable.from_counts(LISTS, table.pattern_counts())
    assert result.estimate == pytest.approx(select_model(everyone, "main").estimate, rel=1e-6)
    observed = sum(r["observed"] for r in result.by_level["X1"])
    assert observed == pytest.approx(table.observed, rel=1e-9)


def test_em_recovers_the_complete_data_fit_when_values_are_missing_at_random():
    """With values missing completely at random the EM fit of the chosen model is close to the fit on
    the complete data (not equal: information is lost)."""
    full = covariate_table(SIMDAT, LISTS, ["X1", "X2"])
    complete = analyse_covariates(full)
    frame = _with_missing(SIMDAT[LISTS + ["X1", "X2"]], "X2", 0.1, seed=5)
    result = analyse_covariates(covariate_table(frame, LISTS, ["X1", "X2"]))
    assert result.estimate == pytest.approx(complete.estimate, rel=0.25)
    assert any("imputed by EM" in w for w in result.warnings)


# ------------------------------------------------------------------ capture-patterns-by input
def _revealed(frame: pd.DataFrame, lists, covs):
    grouped = frame.groupby(lists + covs).size().rename("count").reset_index()
    return [
        {"lists": [n for n in lists if row[n]], "levels": {c: str(row[c]) for c in covs}, "count": int(row["count"])}
        for _, row in grouped.iterrows()
        if any(row[n] for n in lists)
    ]


def test_capture_patterns_by_output_gives_the_same_table():
    cells = _revealed(SIMDAT, LISTS, ["X1", "X2"])
    table, notes = table_from_patterns_by({"revealed": cells, "suppressed": []}, LISTS, ["X1", "X2"])
    direct = covariate_table(SIMDAT, LISTS, ["X1", "X2"])
    assert notes == []
    pd.testing.assert_frame_equal(table.cells, direct.cells)


def test_suppressed_cells_are_named_in_a_warning():
    cells = _revealed(SIMDAT, LISTS, ["X1"])
    small = [c for c in cells if c["count"] < 3]
    kept = [c for c in cells if c["count"] >= 3]
    _, notes = table_from_patterns_by(
        {"revealed": kept, "suppressed": [{k: c[k] for k in ("lists", "levels")} for c in small]},
        LISTS,
        ["X1"],
    )
    assert notes and str(len(small)) in notes[0]


# ------------------------------------------------------------------ bad input
def _people(rows):
    return pd.DataFrame(rows, columns=["A", "B", "C", "g"])


GOOD = [(1, 0, 0, "x")] * 30 + [(0, 1, 0, "x")] * 20 + [(1, 1, 0, "y")] * 5 + [(0, 0, 1, "y")] * 25
GOOD += [(1, 0, 1, "x")] * 4 + [(0, 1, 1, "y")] * 6 + [(1, 0, 0, "y")] * 10


def test_good_small_table_runs():
    result = analyse_covariates(covariate_table(_people(GOOD), "ABC", ["g"]))
    assert result.estimate > len(GOOD)


def test_error_covariate_not_in_table():
    with pytest.raises(MSEError, match=r"covariate 'sex' is not a column"):
        covariate_table(_people(GOOD), "ABC", ["sex"])


def test_error_covariate_nobody_holds():
    rows = [(a, b, c, "missing") for a, b, c, _ in GOOD]
    with pytest.raises(MSEError, match=r"covariate 'g' has no recorded value for anyone"):
        covariate_table(_people(rows), "ABC", ["g"])


def test_error_level_with_no_observations():
    frame = _people(GOOD).value_counts().rename("count").reset_index()
    frame.loc[len(frame)] = [1, 0, 0, "z", 0]
    with pytest.raises(MSEError, match=r"level\(s\) 'z' of covariate 'g' have no observed people"):
        covariate_table(frame, "ABC", ["g"])


def test_error_lists_share_nobody():
    rows = [(1, 0, 0, "x")] * 10 + [(0, 1, 0, "y")] * 10 + [(0, 0, 1, "x")] * 5
    with pytest.raises(MSEError, match=r"the lists share nobody"):
        covariate_table(_people(rows), "ABC", ["g"])


def test_error_list_with_everyone():
    rows = [(1, 0, 0, "x")] * 10 + [(1, 1, 0, "y")] * 10 + [(1, 0, 1, "x")] * 5
    with pytest.raises(MSEError, match=r"list 'A' contains every observed person"):
        covariate_table(_people(rows), "ABC", ["g"])


def test_error_single_level_covariate():
    rows = [(a, b, c, "x") for a, b, c, _ in GOOD]
    with pytest.raises(MSEError, match=r"only one level"):
        covariate_table(_people(rows), "ABC", ["g"])


def test_error_method_not_available():
    with pytest.raises(MSEError, match=r"method 'stepwise' is not available with covariates"):
        analyse_covariates(covariate_table(_people(GOOD), "ABC", ["g"]), method="stepwise")


def test_error_bad_list_value():
    rows = [*GOOD, (2, 0, 0, "x")]
    with pytest.raises(MSEError, match=r"row \d+: list column 'A' must hold only 0 and 1"):
        covariate_table(_people(rows), "ABC", ["g"])


# ------------------------------------------------------------------ CLI
def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "mse", *argv], capture_output=True, text=True, timeout=600
    )


def test_cli_contract_on_one_row_per_person(tmp_path):
    path = tmp_path / "people.csv"
    _people(GOOD).to_csv(path, index=False)
    done = _cli("--counts", str(path), "--lists", "A,B,C", "--covariates", "g", "--method", "bic", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {"estimate", "terms", "path", "by_level", "ci95"} <= set(out)
    direct = analyse_covariates(covariate_table(_people(GOOD), "ABC", ["g"]))
    assert out["estimate"] == pytest.approx(direct.estimate, abs=0.05)


def test_cli_on_a_count_table_and_a_capture_patterns_by_json(tmp_path):
    people = _people(GOOD)
    counted = tmp_path / "counts.csv"
    people.value_counts().rename("count").reset_index().to_csv(counted, index=False)
    run = tmp_path / "run.json"
    run.write_text(json.dumps({"revealed": _revealed(people, list("ABC"), ["g"]), "suppressed": []}))
    a = json.loads(_cli("--counts", str(counted), "--lists", "A,B,C", "--covariates", "g", "--json").stdout)
    b = json.loads(_cli("--counts", str(run), "--lists", "A,B,C", "--covariates", "g", "--json").stdout)
    assert a["estimate"] == b["estimate"] and a["terms"] == b["terms"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lists", "A,B,C", "--covariates", "sex"], "covariate 'sex' is not a column"),
        (["--covariates", "g"], "needs --lists"),
        (["--lists", "A,B,C", "--covariates", "g", "--method", "auto"], "not available with --covariates"),
        (["--lists", "A,B,C"], "only used with --covariates"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, argv, message):
    path = tmp_path / "people.csv"
    _people(GOOD).to_csv(path, index=False)
    done = _cli("--counts", str(path), *argv)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
