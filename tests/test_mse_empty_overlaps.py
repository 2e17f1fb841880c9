"""Covariate search with empty overlaps at minus infinity (``analyse_covariates(empty_overlaps=True)``,
``mpc-sandbox mse --covariates ... --empty-overlaps``), checked against re-derivations that share no code
with sandbox.mse.covariates: overlaps counted from the CSV with pandas, the main-effects expectation and the
fit with the removed cells by a statsmodels formula GLM on a cell table built here with pandas.
Whether the option helps is measured, not tested: benchmarks/bench_mse_covariates.py --empty-overlaps.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from sandbox.mse.covariates import _Fitter, analyse_covariates, covariate_table, empty_overlap_pairs

CSV = Path(__file__).parent / "data" / "mse_cov_nl_baseline_seed7.csv"
LISTS = ["police", "kmar", "nla", "care_coordination", "shelters", "fairwork"]


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Every combination of list values and form levels with its count (pandas only)."""
    grid = pd.MultiIndex.from_product([[0, 1]] * len(LISTS) + [sorted(frame["form"].unique())], names=[*LISTS, "form"])
    counts = frame.groupby([*LISTS, "form"]).size().reindex(grid, fill_value=0)
    return counts.rename("count").reset_index()


def _glm_total(cells: pd.DataFrame, fit_rows: np.ndarray) -> tuple[float, np.ndarray]:
    formula = "count ~ " + " + ".join([*LISTS, "C(form)"])
    model = smf.glm(formula, data=cells[fit_rows], family=sm.families.Poisson()).fit()
    predicted = np.array(model.predict(cells), dtype=float)
    predicted[~fit_rows & (cells[LISTS].sum(axis=1) > 0).to_numpy()] = 0.0  # removed observed cells
    return float(predicted.sum()), predicted


@pytest.fixture(scope="module")
def data():
    frame = pd.read_csv(CSV)
    table = covariate_table(frame, LISTS, ["form"])
    return frame, table, _cells(frame)


def test_empty_pairs_rederived(data):
    frame, table, cells = data
    observed = (cells[LISTS].sum(axis=1) > 0).to_numpy()
    _, main = _glm_total(cells, observed)
    expected_rule = []
    for a, b in itertools.combinations(LISTS, 2):
        shared = int(((frame[a] == 1) & (frame[b] == 1)).sum())
        both = ((cells[a] == 1) & (cells[b] == 1)).to_numpy()
        if shared == 0 and math.exp(-main[both].sum()) < 0.02:
            expected_rule.append((a, b))
    assert expected_rule  # the table has such a pair, so the check is not empty
    assert empty_overlap_pairs(_Fitter(table)) == expected_rule


def test_fit_with_pairs_at_minus_infinity_matches_a_glm_without_their_cells(data):
    frame, table, cells = data
    base = empty_overlap_pairs(_Fitter(table))
    observed = (cells[LISTS].sum(axis=1) > 0).to_numpy()
    removed = np.zeros(len(cells), dtype=bool)
    for a, b in base:
        removed |= ((cells[a] == 1) & (cells[b] == 1)).to_numpy()
    oracle, _ = _glm_total(cells, observed & ~removed)
    plain, _ = _glm_total(cells, observed)
    fit = _Fitter(table, neg_inf=base).fit(base)
    assert fit.valid
    assert fit.estimate == pytest.approx(oracle, rel=1e-7)
    assert abs(plain / oracle - 1) > 1e-3  # the comparison can tell the two models apart
    assert fit.rank == 1 + len(LISTS) + 3 + len(base)  # the pairs at -inf count as parameters


def test_search_keeps_the_pairs_in_every_model(data):
    _, table, _ = data
    result = analyse_covariates(table, empty_overlaps=True)
    assert result.empty_overlap_terms
    for step in result.path:
        assert set(result.empty_overlap_terms) <= set(step.to_dict()["terms"])
    assert any("never overlapping" in w for w in result.warnings)
    assert result.to_dict()["empty_overlap_terms"] == result.empty_overlap_terms


def test_not_applied_with_missing_values_and_says_so():
    frame = pd.read_csv(Path(__file__).parent / "data" / "mse_cov_simdat_missing.csv", dtype=str, keep_default_na=False)
    table = covariate_table(frame, ["R1", "R2", "R3", "R4"], ["X1", "X2"])
    result = analyse_covariates(table, empty_overlaps=True)
    assert result.empty_overlap_terms == []
    assert any("empty-overlap option is not applied" in w for w in result.warnings)


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox.mse.cli", *argv], capture_output=True, text=True, timeout=300)


def test_cli_flag():
    out = _cli(
        "mse", "--counts", str(CSV), "--lists", ",".join(LISTS), "--covariates", "form", "--empty-overlaps", "--json"
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["empty_overlap_terms"] == ["care_coordination:fairwork"]
    bad = _cli("mse", "--published", "simdat", "--empty-overlaps")
    assert bad.returncode == 2 and "--empty-overlaps is for --covariates" in bad.stderr
