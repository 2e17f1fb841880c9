"""EM for missing covariate values (sandbox/mse/covariates.py) against MSEincomplete, called in R.

benchmarks/r/mse_missing_reference.R calls Maarten Cruyff's ``MSEincomplete::loglinear`` (its EM,
method 1) on tests/data/mse_cov_simdat_missing.csv - simdat with covariate values blanked by the fixed
rule of benchmarks/r/make_missing_covariates.py - for three fixed models, and stores N-hat, N-hat per
covariate level, the fitted count of every cell of lists x covariates (unobserved pattern included) and
the observed-data log-likelihood in tests/data/mse_missing_reference.json.  Here our EM fits the same
models on the same file.

Tolerances: R ran its EM to tol = mtol = 1e-10 from two random starts, which agree on N-hat to
1e-10 (relative; checked below).  Ours stops at a relative rise of the log-likelihood of 1e-12 and
its M-step (statsmodels IRLS) at 1e-8; measured gaps are at most 2e-8 relative on N-hat.  The test
allows 1e-6 relative on N-hat and every fitted cell (and per level) and 1e-6 absolute on the
log-likelihood.  The same test rejects a complete-case analysis (dropping the people with a missing
value, what the EM replaces) and an EM stopped early - both shown below to fall outside.
"""

from __future__ import annotations

import importlib.util
import json
import math
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln

import sandbox.mse.covariates as cov
from sandbox.mse.covariates import _Fitter, analyse_covariates, covariate_table

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
REFERENCE = json.loads((DATA / "mse_missing_reference.json").read_text())
CSV = DATA / "mse_cov_simdat_missing.csv"
REL = 1e-6
LL_ABS = 1e-6


def _frame() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype=str, keep_default_na=False)


def _terms(ref: dict) -> list[tuple[str, str]]:
    return [tuple(t.split(":")) for t in ref["terms"]]  # type: ignore[misc]


def _fit(name: str, frame: pd.DataFrame | None = None):
    ref = REFERENCE["cases"][name]
    table = covariate_table(_frame() if frame is None else frame, ref["lists"], ref["covariates"], source=name)
    fitter = _Fitter(table)
    return ref, table, fitter, fitter.fit(_terms(ref))


def _multinomial_loglik(fitter: _Fitter, fit) -> float:
    """MSEincomplete reports sum_x x log(mu_x / n) over complete cells and incomplete rows; ours is the
    Poisson log-likelihood.  At the MLE sum(mu) = n and they differ by n log n - n - sum log x!."""
    x = np.concatenate([fitter.y, fitter.z])
    n = fitter.n
    return fit.llf + float(fit.fitted_all[fitter.obs].sum()) + float(gammaln(x + 1).sum()) - n * math.log(n)


def test_committed_csv_is_what_the_documented_rule_makes():
    spec = importlib.util.spec_from_file_location(
        "make_missing", ROOT / "benchmarks" / "r" / "make_missing_covariates.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    simdat = pd.read_csv(Path(str(files("sandbox.mse") / "data" / "simdat.csv")))
    made = module.blanked(simdat)
    committed = pd.read_csv(CSV)
    assert made.isna().equals(committed.isna())
    assert (made.fillna(-1).astype(int).to_numpy() == committed.fillna(-1).astype(int).to_numpy()).all()


def test_r_reference_does_not_depend_on_the_start():
    for ref in REFERENCE["cases"].values():
        assert ref["estimate_seed2"] == pytest.approx(ref["estimate"], rel=1e-9)
        assert ref["loglik_seed2"] == pytest.approx(ref["loglik"], abs=1e-7)


@pytest.mark.parametrize("name", sorted(REFERENCE["cases"]))
def test_people_and_missing_values_recounted_with_pandas(name):
    ref = REFERENCE["cases"][name]
    frame = _frame()
    covs = frame[ref["covariates"]]
    assert len(frame) == ref["observed"]
    assert int((covs == "").any(axis=1).sum()) == ref["missing_covariate_people"]
    _, table, _, _ = _fit(name)
    assert (table.observed, table.n_missing) == (ref["observed"], ref["missing_covariate_people"])


@pytest.mark.parametrize("name", sorted(REFERENCE["cases"]))
def test_em_reproduces_mseincomplete(name):
    ref, table, fitter, fit = _fit(name)
    assert fit.valid
    assert fit.estimate == pytest.approx(ref["estimate"], rel=REL)
    assert _multinomial_loglik(fitter, fit) == pytest.approx(ref["loglik"], abs=LL_ABS)
    cells = table.cells
    for name_cov, rows in ref["by_level"].items():
        for row in rows:
            mask = (cells[name_cov] == row["level"]).to_numpy()
            assert float(fit.fitted_all[mask].sum()) == pytest.approx(row["estimate"], rel=REL), (name_cov, row)
    assert len(ref["cells"]) == len(cells)
    index = {
        tuple(str(v) for v in key): i
        for i, key in enumerate(cells[[*ref["lists"], *ref["covariates"]]].itertuples(index=False))
    }
    for cell in ref["cells"]:
        i = index[tuple(cell[v] for v in (*ref["lists"], *ref["covariates"]))]
        assert fit.fitted_all[i] == pytest.approx(cell["fitted"], rel=REL, abs=1e-9), cell


def test_the_public_analysis_reports_the_em_figures():
    """analyse_covariates (method main) gives R's main-effects N-hat and per-level N-hat."""
    ref = REFERENCE["cases"]["simdat_missing_x1x2_main"]
    table = covariate_table(_frame(), ref["lists"], ref["covariates"])
    result = analyse_covariates(table, method="main")
    assert result.estimate == pytest.approx(ref["estimate"], rel=REL)
    assert result.n_missing == ref["missing_covariate_people"]
    for name_cov, rows in ref["by_level"].items():
        for ours, theirs in zip(result.by_level[name_cov], rows, strict=True):
            assert ours["level"] == theirs["level"]
            assert ours["estimate"] == pytest.approx(theirs["estimate"], abs=0.051)  # rounded to 0.1


def test_broken_variants_fall_outside_the_tolerance():
    """The comparison can fail: dropping the incomplete records, or stopping EM early, is caught."""
    name = "simdat_missing_x1x2_twoway"
    ref = REFERENCE["cases"][name]
    frame = _frame()
    complete = frame[(frame[ref["covariates"]] != "").all(axis=1)]
    _, _, _, dropped = _fit(name, complete)
    assert abs(dropped.estimate / ref["estimate"] - 1) > 100 * REL
    old = cov.EM_TOL
    try:
        cov.EM_TOL = 1e-6
        _, table, _, early = _fit(name)
    finally:
        cov.EM_TOL = old
    worst = max(
        abs(float(early.fitted_all[(table.cells[c] == row["level"]).to_numpy()].sum()) / row["estimate"] - 1)
        for c, rows in ref["by_level"].items()
        for row in rows
    )
    assert worst > REL


def test_em_that_stops_at_the_iteration_limit_says_so(monkeypatch):
    monkeypatch.setattr(cov, "EM_MAXIT", 2)
    ref = REFERENCE["cases"]["simdat_missing_x1x2_main"]
    table = covariate_table(_frame(), ref["lists"], ref["covariates"])
    result = analyse_covariates(table, method="main")
    assert any("EM did not converge within 2 iterations" in w for w in result.warnings)
    monkeypatch.setattr(cov, "EM_MAXIT", 500)
    assert not any("did not converge" in w for w in analyse_covariates(table, method="main").warnings)
