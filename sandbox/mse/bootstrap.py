"""Bias-corrected and accelerated (BCa) bootstrap intervals for MSE.

Following Chan, Silverman & Vincent (2021): resample the observed people by a
multinomial draw over the observed (positive) cells, repeat the *whole* model
selection on every replicate, estimate the acceleration by a jackknife that
removes one person from each observed cell, and read BCa percentiles
(DiCiccio & Efron 1996) from the replicate estimates.

:func:`top_models_bootstrap` is the interval of MultipleSystemsEstimation's
``estimate_population(method = "bic"/"auto", nboot = ...)``: the models are ranked
by BIC on the data once, and every replicate (and every jackknife table) refits
only the ``ntop`` best of them and takes the one with the lowest BIC on that
replicate.  With all models it is the full BIC selection on every replicate;
with fewer it is much cheaper, and Chan, Silverman & Vincent report it changes
little once the top models hold nearly all the BIC weight.

Against R (SparseMSE 2.0.1 ``estimatepopulation``/``bcaconfvalues``; MultipleSystemsEstimation 1.1.0
``estimate_population_bic``, ``bootstrapcal``, ``jackknifecal``): the same draw (multinomial, observed total,
observed cells only - no parametric or Poisson draw, the unobserved cell is never drawn), the same selection on
every replicate, the same z0, jackknife and quantile rule (R type 8).  On R's own replicate tables this module
reproduces every replicate estimate and R's limits (tests/test_mse_bootstrap_reference.py,
benchmarks/bench_mse_r_replicates.py).  Where R and this module part, only on paths the shipped tables never
take: a replicate or jackknife table without an estimate is left out here (R: MultipleSystemsEstimation drops
such replicates too but gives no interval if a jackknife table fails; SparseMSE has no such case, its ``glm``
always returns a number); a model whose fit does not converge or overflows counts here as having no estimate
(R keeps what ``glm.fit`` returned, or drops the replicate if it is infinite); and the share of replicates below
the estimate is kept inside [0.5/B, 1 - 0.5/B] so that z0 stays finite (R: an infinite z0 gives an error or the
extreme replicate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sandbox.i18n import N_

from .models import AUTO_NTOP, best_of, top_models
from .table import CaptureTable, MSEError

Estimator = Callable[[CaptureTable], float]


@dataclass(frozen=True)
class BootstrapResult:
    """Replicate estimates and the BCa interval derived from them."""

    estimate: float
    lower: float
    upper: float
    replicates: np.ndarray
    n_failed: int
    bias_correction: float
    acceleration: float
    level: float


def resample(table: CaptureTable, rng: np.random.Generator) -> CaptureTable:
    """Draw ``observed`` people multinomially over the observed cells."""
    probabilities = table.counts / table.counts.sum()
    return table.with_counts(rng.multinomial(table.observed, probabilities))


def jackknife_acceleration(table: CaptureTable, estimator: Estimator) -> float:
    """Acceleration ``a`` from leave-one-person-out estimates.

    All people in a cell give the same leave-one-out estimate, so one refit
    per observed cell suffices; each is weighted by the cell count.
    """
    weights, values = [], []
    for index in np.flatnonzero(table.counts):
        counts = table.counts.copy()
        counts[index] -= 1
        try:
            values.append(estimator(table.with_counts(counts)))
        except MSEError:
            continue
        weights.append(table.counts[index])
    if len(values) < 2:
        return 0.0
    w, v = np.asarray(weights, float), np.asarray(values, float)
    residual = np.average(v, weights=w) - v
    denominator = 6.0 * np.sum(w * residual**2) ** 1.5
    return float(np.sum(w * residual**3) / denominator) if denominator > 0 else 0.0


def bca_limits(
    replicates: np.ndarray, estimate: float, acceleration: float, probabilities: tuple[float, ...]
) -> tuple[np.ndarray, float]:
    """BCa quantiles of ``replicates`` at nominal ``probabilities``.

    ``z0`` is the normal quantile of the share of replicates strictly below ``estimate`` (kept inside
    [0.5/B, 1 - 0.5/B], see the module docstring); each nominal ``p`` becomes
    ``Phi(z0 + (z0 + z_p) / (1 - a (z0 + z_p)))``, read with R's quantile type 8 (numpy ``median_unbiased``).
    Returns the limits and the bias correction ``z0``.
    """
    share_below = np.mean(replicates < estimate)
    share_below = np.clip(share_below, 0.5 / len(replicates), 1 - 0.5 / len(replicates))
    z0 = float(stats.norm.ppf(share_below))
    z = stats.norm.ppf(np.asarray(probabilities)) + z0
    adjusted = stats.norm.cdf(z0 + z / (1.0 - acceleration * z))
    limits = np.quantile(replicates, adjusted, method="median_unbiased")
    return limits, z0


@dataclass(frozen=True)
class SeedComparison:
    """One BCa limit over several seeds of two bootstrap implementations (ours and a reference)."""

    ours_mean: float
    ours_sd: float
    reference_mean: float
    reference_sd: float
    #: Difference of the mean log limits in units of its standard error (pooled spread of the log limits).
    z: float
    #: Largest |z| a fair comparison accepts: Student's t quantile for a two-sided 0.1 % test.
    critical: float
    n_ours: int
    n_reference: int

    @property
    def agrees(self) -> bool:
        return abs(self.z) <= self.critical


def compare_seed_runs(ours: Sequence[float], reference: Sequence[float], two_sided_p: float = 0.001) -> SeedComparison:
    """Two-sample comparison of a BCa limit computed with several seeds by us and by a reference.

    A bootstrap limit is random, and how random is not known in advance: in the far tail of 200
    replicates one seed can give three times another (Ned_5's upper limit).  So the noise is measured:
    both sides are run with several seeds and the spread over seeds is the yardstick.  Limits are
    compared on the log scale (their spread grows with their size and their distribution is right-skewed);
    under "same method, different random numbers" both samples come from one distribution, so the
    spread is pooled and ``z = (mean log ours - mean log reference) / (s_pooled * sqrt(1/n + 1/m))``
    is Student-t with ``n + m - 2`` degrees of freedom.  Needs at least 3 values in all and 1 on each side.
    """
    a = np.log(np.asarray(ours, float))
    b = np.log(np.asarray(reference, float))
    n, m = len(a), len(b)
    if n < 1 or m < 1 or n + m < 3:
        raise ValueError("need at least one value on each side and three in all")
    squares = np.sum((a - a.mean()) ** 2) + np.sum((b - b.mean()) ** 2)
    pooled = math.sqrt(squares / (n + m - 2))
    difference = float(a.mean() - b.mean())
    scale = pooled * math.sqrt(1.0 / n + 1.0 / m)
    z = difference / scale if scale > 0 else (0.0 if difference == 0 else math.copysign(math.inf, difference))

    def sd(x: Sequence[float]) -> float:
        return float(np.std(x, ddof=1)) if len(x) > 1 else math.nan

    return SeedComparison(
        ours_mean=float(np.mean(ours)),
        ours_sd=sd(ours),
        reference_mean=float(np.mean(reference)),
        reference_sd=sd(reference),
        z=z,
        critical=float(stats.t.ppf(1.0 - two_sided_p / 2.0, n + m - 2)),
        n_ours=n,
        n_reference=m,
    )


def bca_bootstrap(
    table: CaptureTable, estimator: Estimator, n_boot: int = 200, seed: int | None = None, level: float = 0.95
) -> BootstrapResult:
    """BCa interval for ``estimator`` with ``n_boot`` multinomial replicates.

    ``estimator`` must repeat the model selection itself.  Replicates for
    which no estimate exists are dropped and counted in ``n_failed``.
    """
    if n_boot < 10:
        raise MSEError(N_("the bootstrap needs at least 10 replicates, got {n}").format(n=n_boot))
    rng = np.random.default_rng(seed)
    estimate = estimator(table)
    replicates, failed = [], 0
    for _ in range(n_boot):
        try:
            replicates.append(estimator(resample(table, rng)))
        except MSEError:
            failed += 1
    if len(replicates) < 10:
        raise MSEError(N_("only {good} of {n} bootstrap replicates gave an estimate").format(
            good=len(replicates), n=n_boot))
    values = np.asarray(replicates, float)
    acceleration = jackknife_acceleration(table, estimator)
    tail = (1.0 - level) / 2.0
    (lower, upper), z0 = bca_limits(values, estimate, acceleration, (tail, 1.0 - tail))
    return BootstrapResult(estimate, float(lower), float(upper), values, failed, z0, acceleration, level)


def top_models_bootstrap(
    table: CaptureTable,
    n_boot: int = 200,
    seed: int | None = None,
    ntop: int | None = -1,
    maxorder: int | None = None,
    level: float = 0.95,
) -> tuple[BootstrapResult, int]:
    """BCa interval of the BIC estimate, bootstrapping over the top models.

    ``ntop = -1`` takes MultipleSystemsEstimation's default for the number of
    lists (:data:`AUTO_NTOP`: all for 3 lists, 20 for 4, 100 for 5); ``None``
    all models.  Returns the result and the number of models refitted.
    """
    count = AUTO_NTOP.get(table.k) if ntop == -1 else ntop
    models = [fit.terms for fit in top_models(table, count, maxorder)]
    result = bca_bootstrap(table, lambda t: best_of(t, models).estimate, n_boot, seed, level)
    return result, len(models)
