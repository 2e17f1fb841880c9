"""The bootstrap over the top models (MultipleSystemsEstimation's interval for method auto / bic)
against R.

tests/data/mse_bootstrap_reference.json was written by
``Rscript benchmarks/r/mse_reference.R 200 tests/data/mse_bootstrap_reference.json``: for every shipped
table with up to 5 lists, ``estimate_population(method = "auto", nboot = 200, iseed = 1234)`` with its BCa
limits for the top 1, 2, ..., ntop models (ntop 20 for 4 lists, 100 for 5), and SparseMSE's stepwise BCa.

R's and our replicates come from different random number generators, so the limits can agree only up to
Monte Carlo error.  The tolerance is 4 x sqrt(2) x the Monte Carlo standard error of each limit, estimated
from our own replicates (``bca_monte_carlo_error``: the limit re-read from resamples of the replicates;
sqrt(2) because R's limit is as random as ours).  4 rather than 3 standard errors because that estimate is
itself rough in the tails of 200 replicates: for the single best model, our lower limit over seeds 1-5 and 7
ranged 6,539-7,594 (R: 7,047) while the estimated standard error from one run was 104-324.  To keep the suite
short only simdat (4 lists, 20 top models, 200 replicates) is run here; benchmarks/bench_mse_bootstrap.py
compares every table.  The same tolerance rejects a deliberately wrong interval: bootstrapping only the
single best model (R's ntop = 1 row is much narrower).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.mse import CaptureTable, analyse, published
from sandbox.mse.bootstrap import bca_monte_carlo_error, top_models_bootstrap
from sandbox.mse.models import AUTO_MAXORDER, top_models
from sandbox.mse.table import MSEError

REFERENCE = json.loads((Path(__file__).parent / "data" / "mse_bootstrap_reference.json").read_text())
N_BOOT = 200
SIGMAS = 4.0


def _r_limits(name: str, ntop: int) -> tuple[float, float]:
    row = REFERENCE["tables"][name]["mse_auto"]["bootstrap"]["bca"][ntop - 1]
    return row["0.025"], row["0.975"]


def _tolerances(boot) -> list[float]:
    return [
        SIGMAS * math.sqrt(2) * bca_monte_carlo_error(boot.replicates, boot.estimate, boot.acceleration, p)
        for p in (0.025, 0.975)
    ]


@pytest.fixture(scope="module")
def simdat():
    table = published.load_table("simdat")
    result = analyse(table, method="auto", n_boot=N_BOOT, seed=7, top_models=-1)
    return table, result


def test_reference_settings():
    assert REFERENCE["settings"]["nboot"] == N_BOOT
    entry = REFERENCE["tables"]["simdat"]["mse_auto"]
    assert entry["resolved_method"] == "bic"
    assert entry["bootstrap"]["ntop"][-1] == 20


def test_same_top_models_and_point_estimate(simdat):
    table, result = simdat
    entry = REFERENCE["tables"]["simdat"]["mse_auto"]
    assert result.top_models == 20
    assert result.estimate == pytest.approx(entry["estimate"], rel=1e-6)
    ours = top_models(table, 5, AUTO_MAXORDER[4])
    assert [f.bic for f in ours] == pytest.approx([m["bic"] for m in entry["top5"]], abs=1e-4)
    assert [f.estimate for f in ours] == pytest.approx([m["estimate"] for m in entry["top5"]], rel=1e-6)


def test_interval_over_the_top_models_matches_r(simdat):
    _, result = simdat
    r_low, r_high = _r_limits("simdat", 20)
    tol_low, tol_high = _tolerances(result.bootstrap)
    assert result.bootstrap.n_failed == 0
    assert abs(result.ci95[0] - r_low) <= tol_low, (result.ci95, (r_low, r_high), (tol_low, tol_high))
    assert abs(result.ci95[1] - r_high) <= tol_high, (result.ci95, (r_low, r_high), (tol_low, tol_high))
    assert result.to_dict()["top_models"] == 20


def test_single_best_model_bootstrap_matches_r_ntop_1_and_is_rejected_against_ntop_20():
    """ntop = 1 (a broken 'top models' interval that refits only the chosen model): it agrees with R's
    own ntop = 1 row, and falls outside the tolerance against the ntop = 20 interval."""
    table = published.load_table("simdat")
    boot, used = top_models_bootstrap(table, N_BOOT, seed=7, ntop=1, maxorder=AUTO_MAXORDER[4])
    assert used == 1
    tol = _tolerances(boot)
    for ours, theirs, t in zip((boot.lower, boot.upper), _r_limits("simdat", 1), tol, strict=True):
        assert abs(ours - theirs) <= t
    r20 = _r_limits("simdat", 20)
    assert abs(boot.lower - r20[0]) > tol[0] or abs(boot.upper - r20[1]) > tol[1]


def test_top_models_errors():
    table = published.load_table("simdat")
    with pytest.raises(MSEError, match="methods bic and auto"):
        analyse(table, method="stepwise", n_boot=20, top_models=-1)
    with pytest.raises(MSEError, match="at least 1"):
        analyse(table, method="auto", n_boot=20, top_models=0)
    with pytest.raises(MSEError, match="needs a number of bootstrap replicates"):
        analyse(table, method="auto", top_models=-1)


def test_six_lists_fall_back_to_the_stepwise_bootstrap_with_a_warning():
    lists = ["A", "B", "C", "D", "E", "F"]
    cells = {
        (1, 0, 0, 0, 0, 0): 40,
        (0, 1, 0, 0, 0, 0): 35,
        (0, 0, 1, 0, 0, 0): 30,
        (0, 0, 0, 1, 0, 0): 25,
        (0, 0, 0, 0, 1, 0): 20,
        (0, 0, 0, 0, 0, 1): 15,
        (1, 1, 0, 0, 0, 0): 6,
        (0, 0, 1, 1, 0, 0): 5,
        (0, 0, 0, 0, 1, 1): 4,
        (1, 0, 1, 0, 1, 0): 2,
        (0, 1, 0, 1, 0, 1): 3,
    }
    table = CaptureTable.from_counts(lists, cells)
    result = analyse(table, method="auto", n_boot=10, seed=1, top_models=-1)
    assert result.top_models == 0 and result.ci95 is not None
    assert any("stepwise selection" in w for w in result.warnings)


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox.mse.cli", *argv], capture_output=True, text=True, timeout=300)


def test_cli_top_models_flag():
    out = _cli("mse", "--published", "simdat", "--method", "auto", "--bootstrap", "12", "--top-models", "3", "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["top_models"] == 3 and payload["ci95"] is not None and payload["n_bootstrap"] == 12
    bad = _cli("mse", "--published", "simdat", "--method", "auto", "--bootstrap", "12", "--top-models", "x")
    assert bad.returncode == 2 and "number of models or 'auto'" in bad.stderr
