"""Bias-corrected and accelerated (BCa) bootstrap intervals for MSE.

Following Chan, Silverman & Vincent (2021): resample the observed people by a
multinomial draw over the observed (positive) cells, repeat the *whole* model
selection on every replicate, estimate the acceleration by a jackknife that
removes one person from each observed cell, and read BCa percentiles
(DiCiccio & Efron 1996) from the replicate estimates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sandbox.i18n import N_

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
