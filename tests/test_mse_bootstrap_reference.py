"""The bootstrap intervals against R: first without random numbers, then over several seeds on both sides.

1. Same replicates, same answer.  tests/data/mse_bootstrap_replicates.json holds, for R seed 1, every
   bootstrap replicate table R drew (``benchmarks/r/mse_bootstrap_seeds.R``, 200 replicates), the estimate R
   got on each, R's acceleration and R's BCa limits.  Our estimator on those very tables must give R's
   estimates, our BCa formula on R's estimates must give R's limits, and our jackknife R's acceleration.
   This is exact (1e-6) and would catch any difference of method: the replicate draw, the model set, the
   per-replicate selection, which replicates are dropped, z0, the acceleration or the quantile rule.
2. Same method, different random numbers.  tests/data/mse_bootstrap_seeds.json holds R's limits for several
   R seeds per table (``mse_bootstrap_seeds.R``; for simdat seeds 1-5 and the 1234 run of mse_reference.R).  Our
   simdat interval over seeds 1-3 is compared with them on the log scale with the spread measured over the
   seeds of both sides (``compare_seed_runs``: pooled t statistic, two-sided 0.1 %).  A broken variant -
   bootstrapping only the single best model - agrees with R's own ntop = 1 intervals and must be rejected
   against R's ntop = 20 interval.

Only simdat (4 lists, 20 top models) is bootstrapped here, with 3 of our seeds, and the stepwise check uses
the first 40 of Ned's replicates, to keep the file at about half a minute; benchmarks/bench_mse_bootstrap.py
runs every table with 5 seeds and benchmarks/bench_mse_r_replicates.py every replicate of every table.
Nothing here needs R: its figures are in the JSON files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sandbox.mse import CaptureTable, analyse, published
from sandbox.mse.analysis import point_estimate
from sandbox.mse.bootstrap import bca_limits, compare_seed_runs, jackknife_acceleration, top_models_bootstrap
from sandbox.mse.models import AUTO_MAXORDER, best_of, top_models
from sandbox.mse.table import MSEError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_mse_r_replicates import r_model_terms  # noqa: E402  (reads R's model strings; no product code)

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "mse_bootstrap_reference.json").read_text())
SEEDS = json.loads((DATA / "mse_bootstrap_seeds.json").read_text())
REPLICATES = json.loads((DATA / "mse_bootstrap_replicates.json").read_text())
N_BOOT = 200
OUR_SEEDS = (1, 2, 3)
ALPHA = (0.025, 0.1, 0.9, 0.975)
LIMITS = ("0.025", "0.975")


def r_replicate(table: CaptureTable, entry: dict, counts: list[int]) -> CaptureTable:
    index = {tuple(int(v) for v in row): i for i, row in enumerate(table.patterns)}
    new = np.zeros(len(table.counts), dtype=np.int64)
    for row, count in zip(entry["patterns"], counts, strict=True):
        new[index[tuple(row)]] += count
    return table.with_counts(new)


def r_seed_limits(name: str, key: str = "bca") -> dict[str, list[float]]:
    return {p: [s[key][p] for s in SEEDS["tables"][name]["seeds"]] for p in LIMITS}


# ------------------------------------------------------------------ 1. R's own replicates
def test_r_files_settings():
    assert SEEDS["settings"]["nboot"] == N_BOOT
    entry = SEEDS["tables"]["simdat"]
    assert entry["interval"] == "mse_auto_top_models" and entry["ntop"] == 20
    assert len(entry["seeds"]) >= 5
    assert REPLICATES["tables"]["simdat"]["seed"] == 1 and len(REPLICATES["tables"]["simdat"]["counts"]) == N_BOOT


def test_same_top_models_as_r_and_point_estimate():
    table = published.load_table("simdat")
    entry = REFERENCE["tables"]["simdat"]["mse_auto"]
    ours = top_models(table, 20, AUTO_MAXORDER[4])
    assert [f.terms for f in ours] == [r_model_terms(m) for m in REPLICATES["tables"]["simdat"]["models"]]
    assert [f.bic for f in ours[:5]] == pytest.approx([m["bic"] for m in entry["top5"]], abs=1e-4)
    assert ours[0].estimate == pytest.approx(entry["estimate"], rel=1e-6)


def test_top_models_estimates_on_r_replicates_equal_r():
    table = published.load_table("simdat")
    entry = REPLICATES["tables"]["simdat"]
    models = [r_model_terms(m) for m in entry["models"]]
    ours = [best_of(r_replicate(table, entry, c), models).estimate for c in entry["counts"]]
    assert ours == pytest.approx(entry["estimates"], rel=1e-6)
    # and the single best model refitted alone (the ntop = 1 row)
    first = [best_of(r_replicate(table, entry, c), models[:1]).estimate for c in entry["counts"][:20]]
    assert first == pytest.approx(entry["estimates_ntop1"][:20], rel=1e-6)


def test_stepwise_estimates_on_r_replicates_equal_r():
    table = published.load_table("Ned")
    entry = REPLICATES["tables"]["Ned"]
    ours = [point_estimate(r_replicate(table, entry, c), "stepwise") for c in entry["counts"][:40]]
    assert ours == pytest.approx(entry["estimates"][:40], rel=1e-6)


@pytest.mark.parametrize("name", ["simdat", "Ned", "Ned_5", "Western"])
def test_bca_formula_on_r_replicates_gives_r_limits(name):
    entry = REPLICATES["tables"][name]
    limits, _ = bca_limits(np.asarray(entry["estimates"], float), entry["popest"], entry["ahat"], ALPHA)
    assert list(limits) == pytest.approx([entry["bca"][str(a)] for a in ALPHA], rel=1e-9)


def test_bca_quantile_rule_matters():
    """The check above can fail: R's quantile type 8 (numpy median_unbiased) against numpy's default rule
    on simdat's replicates gives other limits."""
    entry = REPLICATES["tables"]["simdat"]
    values = np.asarray(entry["estimates"], float)
    _, z0 = bca_limits(values, entry["popest"], entry["ahat"], ALPHA)
    r_low = entry["bca"]["0.025"]
    z = stats.norm.ppf(0.025) + z0
    adjusted = stats.norm.cdf(z0 + z / (1 - entry["ahat"] * z))
    assert abs(np.quantile(values, adjusted) - r_low) > 1e-6 * r_low


@pytest.mark.parametrize("name", ["simdat", "Ned"])
def test_jackknife_acceleration_equals_r(name):
    table = published.load_table(name)
    entry = REPLICATES["tables"][name]
    if entry["interval"] == "top_models":
        models = [r_model_terms(m) for m in entry["models"]]
        estimator = lambda t: best_of(t, models).estimate  # noqa: E731
    else:
        estimator = lambda t: point_estimate(t, "stepwise")  # noqa: E731
    assert jackknife_acceleration(table, estimator) == pytest.approx(entry["ahat"], rel=1e-6)


# ------------------------------------------------------------------ 2. several seeds on both sides
@pytest.fixture(scope="module")
def simdat_runs():
    table = published.load_table("simdat")
    runs = [analyse(table, method="auto", n_boot=N_BOOT, seed=s, top_models=-1) for s in OUR_SEEDS]
    single = [top_models_bootstrap(table, N_BOOT, seed=s, ntop=1, maxorder=AUTO_MAXORDER[4]) for s in OUR_SEEDS]
    return runs, single


def test_interval_over_the_top_models_matches_r_over_seeds(simdat_runs):
    runs, _ = simdat_runs
    assert all(r.top_models == 20 and r.bootstrap.n_failed == 0 for r in runs)
    theirs = r_seed_limits("simdat")
    for i, p in enumerate(LIMITS):
        comparison = compare_seed_runs([r.ci95[i] for r in runs], theirs[p])
        assert comparison.agrees, (p, comparison)


def test_single_best_model_bootstrap_matches_r_ntop_1_and_is_rejected_against_ntop_20(simdat_runs):
    """ntop = 1 (a broken 'top models' interval that refits only the chosen model): it agrees with R's own
    ntop = 1 rows, and is rejected against R's ntop = 20 interval."""
    _, single = simdat_runs
    assert all(used == 1 for _, used in single)
    own, full = r_seed_limits("simdat", "bca_ntop1"), r_seed_limits("simdat")
    rejected = []
    for i, p in enumerate(LIMITS):
        ours = [(b.lower, b.upper)[i] for b, _ in single]
        assert compare_seed_runs(ours, own[p]).agrees, p
        rejected.append(not compare_seed_runs(ours, full[p]).agrees)
    assert any(rejected)


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
