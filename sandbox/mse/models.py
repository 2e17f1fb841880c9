"""Poisson log-linear models for multiple systems estimation.

Model: ``log mu_w = a_0 + sum_{i in w} a_i + sum_{(i,j) in terms, i,j in w} a_ij``
fitted by statsmodels' Poisson GLM over the ``2**k - 1`` observable cells
(zero cells included).  The expected count of the unobservable all-zero
pattern is ``exp(a_0)``, so the population estimate is
``observed + exp(intercept)``.

Existence and identifiability rule (applied before a model is accepted):

* a pair of lists that never overlaps (observed overlap 0) is never put in a
  model – its interaction has extended MLE minus infinity;
* *identifiable*: the design matrix over all observable cells has full
  column rank;
* *exists*: the maximum likelihood estimate is finite, checked with the
  linear programme of Fienberg & Rinaldo (2012) as used by SparseMSE: the
  MLE exists iff some strictly positive cell vector has the same sufficient
  statistics as the data;
* the statsmodels fit must converge with a finite intercept.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import stats
from scipy.optimize import linprog

from .table import CaptureTable, MSEError

Pair = tuple[int, int]

#: Methods understood by :func:`select_model`.
METHODS = ("main", "stepwise", "aic", "bic")
#: Exhaustive AIC/BIC search is limited to this many lists (2**10 models).
MAX_LISTS_EXHAUSTIVE = 5
#: Default p-value threshold for stepwise selection (Chan, Silverman & Vincent).
DEFAULT_PTHRESH = 0.02
#: Smallest LP margin counted as "strictly positive".
_LP_TOLERANCE = 1e-7


@dataclass(frozen=True)
class ModelFit:
    """A fitted log-linear model and its population estimate."""

    lists: tuple[str, ...]
    terms: tuple[Pair, ...]
    observed: int
    dark_figure: float
    params: np.ndarray
    fitted: np.ndarray
    llf: float
    aic: float
    bic: float
    deviance: float
    df_resid: int

    @property
    def estimate(self) -> float:
        """Estimated population: observed plus fitted all-zero cell."""
        return self.observed + self.dark_figure

    @property
    def term_names(self) -> list[str]:
        """Interaction names such as ``"PF:NCA"`` in order of addition."""
        return [f"{self.lists[i]}:{self.lists[j]}" for i, j in self.terms]


# ---------------------------------------------------------------- utilities
def all_pairs(k: int) -> list[Pair]:
    """All list-index pairs ``(i, j)`` with ``i < j`` in SparseMSE order."""
    return list(itertools.combinations(range(k), 2))


def overlapping_pairs(table: CaptureTable) -> list[Pair]:
    """Pairs of lists with at least one person in common."""
    return [pair for pair, n in table.pair_overlaps().items() if n > 0]


def design_matrix(patterns: np.ndarray, terms: Sequence[Pair]) -> np.ndarray:
    """Columns: intercept, one main effect per list, one product per pair term."""
    p = patterns.astype(float)
    columns = [np.ones(len(p)), *p.T]
    columns += [p[:, i] * p[:, j] for i, j in terms]
    return np.column_stack(columns)


def is_identifiable(design: np.ndarray) -> bool:
    """True when the design over all observable cells has full column rank."""
    return int(np.linalg.matrix_rank(design)) == design.shape[1]


def mle_exists(design: np.ndarray, counts: np.ndarray) -> bool:
    """Fienberg–Rinaldo check: is the log-linear MLE finite?

    Solves ``max s`` subject to ``X' y = X' n``, ``y >= s`` and ``y >= 0``.
    The MLE exists iff the optimum ``s`` is strictly positive, i.e. a strictly
    positive table shares the data's sufficient statistics.
    """
    cells, params = design.shape
    target = design.T @ counts
    objective = np.r_[np.zeros(cells), -1.0]
    a_ub = np.c_[-np.eye(cells), np.ones(cells)]
    a_eq = np.c_[design.T, np.zeros(params)]
    result = linprog(
        objective,
        A_ub=a_ub,
        b_ub=np.zeros(cells),
        A_eq=a_eq,
        b_eq=target,
        bounds=[(0, None)] * (cells + 1),
        method="highs",
    )
    return bool(result.status == 0 and -result.fun > _LP_TOLERANCE)


def model_is_valid(table: CaptureTable, terms: Sequence[Pair]) -> bool:
    """True if the model has an identifiable, finite MLE for this table."""
    design = design_matrix(table.patterns, terms)
    return is_identifiable(design) and mle_exists(design, table.counts.astype(float))


def poisson_two_sided_p(observed: int, expected: float) -> float:
    """``min(P(X <= n), P(X >= n))`` for ``X ~ Poisson(expected)`` (SparseMSE)."""
    if expected <= 0:
        return 0.0 if observed > 0 else 1.0
    lower = stats.poisson.cdf(observed, expected)
    upper = stats.poisson.sf(observed - 1, expected)
    return float(min(lower, upper))


# ---------------------------------------------------------------- fitting
def fit_model(table: CaptureTable, terms: Sequence[Pair] = ()) -> ModelFit:
    """Fit main effects plus the given pair ``terms`` with a Poisson GLM.

    Does not check existence; use :func:`model_is_valid` first.  Raises
    :class:`MSEError` if the fit fails or the dark figure is not finite.
    """
    design = design_matrix(table.patterns, terms)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = sm.GLM(table.counts.astype(float), design, family=sm.families.Poisson()).fit()
        except (ValueError, np.linalg.LinAlgError) as exc:  # pragma: no cover - defensive
            raise MSEError(f"model fit failed: {exc}") from None
    params = np.asarray(result.params, dtype=float)
    dark = math.exp(params[0]) if params[0] < 700 else math.inf
    if not (result.converged and np.all(np.isfinite(params)) and math.isfinite(dark)):
        raise MSEError("the model fit did not converge to a finite estimate")
    n_params = design.shape[1]
    llf = float(result.llf)
    return ModelFit(
        lists=table.lists,
        terms=tuple(terms),
        observed=table.observed,
        dark_figure=dark,
        params=params,
        fitted=np.asarray(result.fittedvalues, dtype=float),
        llf=llf,
        aic=-2.0 * llf + 2.0 * n_params,
        bic=-2.0 * llf + n_params * math.log(max(table.observed, 1)),
        deviance=float(result.deviance),
        df_resid=int(round(result.df_resid)),
    )


def fit_main_effects(table: CaptureTable) -> ModelFit:
    """Fit the independence (main effects) model, checking that it exists."""
    design = design_matrix(table.patterns, ())
    if not mle_exists(design, table.counts.astype(float)):
        raise MSEError(_no_estimate_reason(table))
    return fit_model(table, ())


def _no_estimate_reason(table: CaptureTable) -> str:
    """Explain in plain words why even the simplest model has no estimate."""
    totals = table.list_totals()
    full = [name for name, total in totals.items() if total == table.observed]
    if not any(table.pair_overlaps().values()):
        return (
            "the estimate does not exist: no person appears on more than one list, "
            "so the lists give no information about how many people were missed"
        )
    if full:
        return (
            f"the estimate does not exist: list {full[0]} contains every observed "
            "person, so nobody is seen only outside it and the number missed "
            "cannot be estimated"
        )
    empty = [name for name, total in totals.items() if total == 0]
    if empty:
        return f"the estimate does not exist: list(s) {', '.join(empty)} contain nobody"
    return (
        "the estimate does not exist for the main-effects model on this table (the overlaps are too sparse)"
    )


# ---------------------------------------------------------------- selection
def stepwise_fit(table: CaptureTable, pthresh: float = DEFAULT_PTHRESH) -> ModelFit:
    """Forward stepwise selection of pair interactions by Poisson p-values.

    At each step, for every pair not yet in the model, the expected number of
    people on both lists under the current fit is compared with the observed
    number; the pair with the smallest two-sided Poisson p-value is added if
    ``p < pthresh`` and the enlarged model is identifiable with a finite MLE.
    Pairs that never overlap are not candidates.  Ties go to the earlier pair.
    """
    fit = fit_main_effects(table)
    observed_overlap = table.pair_overlaps()
    candidates = [pair for pair in all_pairs(table.k) if observed_overlap[pair] > 0]
    while candidates:
        ranked = sorted(
            (poisson_two_sided_p(observed_overlap[pair], _expected_overlap(table, fit, pair)), index, pair)
            for index, pair in enumerate(candidates)
        )
        chosen = next(
            (pair for p, _, pair in ranked if p < pthresh and model_is_valid(table, fit.terms + (pair,))),
            None,
        )
        if chosen is None:
            break
        fit = fit_model(table, fit.terms + (chosen,))
        candidates.remove(chosen)
    return fit


def _expected_overlap(table: CaptureTable, fit: ModelFit, pair: Pair) -> float:
    """Fitted number of people on both lists of ``pair`` (observable cells only)."""
    i, j = pair
    both = (table.patterns[:, i] == 1) & (table.patterns[:, j] == 1)
    return float(fit.fitted[both].sum())


def best_subset_fit(table: CaptureTable, criterion: str = "bic") -> ModelFit:
    """Exhaustive AIC/BIC search over all two-way hierarchical models.

    Every subset of the overlapping pairs is fitted; the model with the lowest
    criterion among those with an identifiable, finite MLE is returned.
    Limited to :data:`MAX_LISTS_EXHAUSTIVE` lists.
    """
    if criterion not in ("aic", "bic"):
        raise MSEError(f"unknown criterion {criterion!r}; use 'aic' or 'bic'")
    if table.k > MAX_LISTS_EXHAUSTIVE:
        raise MSEError(
            f"{criterion.upper()} search over all models is limited to "
            f"{MAX_LISTS_EXHAUSTIVE} lists (this table has {table.k}: "
            f"{2 ** (table.k * (table.k - 1) // 2)} models); use the stepwise method "
            "or merge lists"
        )
    fit_main_effects(table)  # raises a clear error if nothing can be estimated
    fits = _fit_all_subsets(table, overlapping_pairs(table))
    for fit in sorted(fits, key=lambda f: (getattr(f, criterion), len(f.terms))):
        if mle_exists(design_matrix(table.patterns, fit.terms), table.counts.astype(float)):
            return fit
    raise MSEError("no two-way model has a finite estimate for this table")  # pragma: no cover


def _fit_all_subsets(table: CaptureTable, pairs: Sequence[Pair]) -> list[ModelFit]:
    """Fit every identifiable subset of ``pairs``; skip fits that fail."""
    fits = []
    for size in range(len(pairs) + 1):
        for terms in itertools.combinations(pairs, size):
            if not is_identifiable(design_matrix(table.patterns, terms)):
                continue
            try:
                fits.append(fit_model(table, terms))
            except MSEError:
                continue
    return fits


def select_model(table: CaptureTable, method: str = "stepwise", pthresh: float = DEFAULT_PTHRESH) -> ModelFit:
    """Fit the model chosen by ``method`` (one of :data:`METHODS`)."""
    chooser: dict[str, Callable[[], ModelFit]] = {
        "main": lambda: fit_main_effects(table),
        "stepwise": lambda: stepwise_fit(table, pthresh),
        "aic": lambda: best_subset_fit(table, "aic"),
        "bic": lambda: best_subset_fit(table, "bic"),
    }
    if method not in chooser:
        raise MSEError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if table.observed == 0:
        raise MSEError(
            "observed total is 0: nobody was seen on any list, so there is nothing to estimate from"
        )
    return chooser[method]()
