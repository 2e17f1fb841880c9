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
"""

from __future__ import annotations

from collections.abc import Callable
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

    Returns the limits and the bias correction ``z0``.
    """
    share_below = np.mean(replicates < estimate)
    share_below = np.clip(share_below, 0.5 / len(replicates), 1 - 0.5 / len(replicates))
    z0 = float(stats.norm.ppf(share_below))
    z = stats.norm.ppf(np.asarray(probabilities)) + z0
    adjusted = stats.norm.cdf(z0 + z / (1.0 - acceleration * z))
    limits = np.quantile(replicates, adjusted, method="median_unbiased")
    return limits, z0


def bca_monte_carlo_error(
    replicates: np.ndarray, estimate: float, acceleration: float, probability: float, n_resample: int = 1000
) -> float:
    """Approximate Monte Carlo standard error of one BCa limit read from ``replicates``.

    The replicates are themselves resampled (with replacement, ``n_resample`` times, a fixed
    generator: this measures our own Monte Carlo error, it protects nothing) and the BCa limit is
    read again from each resample with the same acceleration; the standard deviation of those
    limits is returned.  It includes the error of the bias correction (the share of replicates
    below the estimate) and of the sample quantile.  For comparing two independent bootstraps (R's
    random number generator against ours) use sqrt(2) times this."""
    values = np.asarray(replicates, float)
    rng = np.random.default_rng(20261202)
    limits = [
        bca_limits(values[rng.integers(0, len(values), len(values))], estimate, acceleration, (probability,))[0][0]
        for _ in range(n_resample)
    ]
    return float(np.std(limits, ddof=1))


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
