"""Poisson log-linear models for multiple systems estimation.

Model: ``log mu_w = a_0 + sum_{i in w} a_i + sum_{t in terms, t subset of w} a_t``
fitted by statsmodels' Poisson GLM over the ``2**k - 1`` observable cells
(zero cells included).  A term ``t`` is a set of two or more lists (a pair, or
a triple in the hierarchical BIC search).  The expected count of the
unobservable all-zero pattern is ``exp(a_0)``, so the population estimate is
``observed + exp(intercept)``.

Terms nobody is on (Chan, Silverman & Vincent 2021).  If no observed person
is on every list of a term (e.g. two lists that share nobody), the term's
extended maximum likelihood estimate is minus infinity: the model's fitted
count is zero in every cell containing the term.  Such a term is fitted by
removing those cells from the fit and leaving out its column, exactly as
SparseMSE 2.0.1 and MultipleSystemsEstimation do; it still counts as a
parameter in AIC and BIC.  So a pair that shares nobody *can* enter a model:
it says "these two lists really do not overlap", and it changes the estimate
because the fit no longer expects people in those cells.

Existence and identifiability rule (applied before a model is accepted), on
the design that remains after removing those cells:

* *identifiable*: the design matrix has full column rank;
* *exists*: the maximum likelihood estimate of the remaining parameters is
  finite, checked with the linear programme of Fienberg & Rinaldo (2012) as
  used by SparseMSE: it exists iff some strictly positive cell vector has the
  same sufficient statistics as the data;
* the statsmodels fit must converge with a finite intercept.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import stats
from scipy.optimize import linprog

from sandbox.i18n import N_

from .table import CaptureTable, MSEError

#: An interaction: the sorted indices of two or more lists.
Term = tuple[int, ...]
Pair = tuple[int, int]

#: Methods offered side by side (the Size estimate page runs all of them).
METHODS = ("main", "stepwise", "aic", "bic")
#: Every method :func:`select_model` and the CLI accept.  ``auto`` is the
#: MultipleSystemsEstimation default: BIC over hierarchical models (pairs, and
#: triples for 4-5 lists) for up to 5 lists, stepwise for 6 or more.
ALL_METHODS = (*METHODS, "auto")
#: Exhaustive AIC/BIC search is limited to this many lists.
MAX_LISTS_EXHAUSTIVE = 5
#: Highest interaction order of the ``auto`` BIC search by number of lists
#: (as MultipleSystemsEstimation 1.1.0's ``estimate_population_bic``).
AUTO_MAXORDER = {2: 1, 3: 2, 4: 3, 5: 3}
#: MultipleSystemsEstimation's default number of top models its BIC bootstrap refits
#: (``estimate_population(method = "bic" / "auto", ntopmodels = NULL)``); ``None``: all.
AUTO_NTOP: dict[int, int | None] = {2: None, 3: None, 4: 20, 5: 100}
#: Default p-value threshold for stepwise selection (Chan, Silverman & Vincent).
DEFAULT_PTHRESH = 0.02
#: Smallest LP margin counted as "strictly positive".
_LP_TOLERANCE = 1e-7


@dataclass(frozen=True)
class ModelFit:
    """A fitted log-linear model and its population estimate."""

    lists: tuple[str, ...]
    terms: tuple[Term, ...]
    observed: int
    dark_figure: float
    params: np.ndarray
    fitted: np.ndarray
    llf: float
    aic: float
    bic: float
    deviance: float
    df_resid: int
    #: Terms nobody is on, fitted at minus infinity (cells removed).
    neg_inf_terms: tuple[Term, ...] = ()

    @property
    def estimate(self) -> float:
        """Estimated population: observed plus fitted all-zero cell."""
        return self.observed + self.dark_figure

    @property
    def term_names(self) -> list[str]:
        """Interaction names such as ``"PF:NCA"`` in order of addition."""
        return [term_name(self.lists, t) for t in self.terms]

    @property
    def neg_inf_term_names(self) -> list[str]:
        """Names of the terms fitted at minus infinity."""
        return [term_name(self.lists, t) for t in self.neg_inf_terms]


# ---------------------------------------------------------------- utilities
def term_name(lists: Sequence[str], term: Term) -> str:
    """``"A:B"`` for the term ``(0, 1)`` of lists ``("A", "B", ...)``."""
    return ":".join(lists[i] for i in term)


def all_pairs(k: int) -> list[Pair]:
    """All list-index pairs ``(i, j)`` with ``i < j`` in SparseMSE order."""
    return list(itertools.combinations(range(k), 2))


def overlapping_pairs(table: CaptureTable) -> list[Pair]:
    """Pairs of lists with at least one person in common."""
    return [pair for pair, n in table.pair_overlaps().items() if n > 0]


def _contains(patterns: np.ndarray, term: Term) -> np.ndarray:
    """Boolean mask of the cells whose pattern includes every list of ``term``."""
    return np.all(patterns[:, list(term)] == 1, axis=1)


def term_count(table: CaptureTable, term: Term) -> int:
    """Observed number of people on every list of ``term``."""
    return int(table.counts[_contains(table.patterns, term)].sum())


def design_matrix(patterns: np.ndarray, terms: Sequence[Term]) -> np.ndarray:
    """Columns: intercept, one main effect per list, one product per term."""
    p = patterns.astype(float)
    columns = [np.ones(len(p)), *p.T]
    columns += [np.prod(p[:, list(t)], axis=1) for t in terms]
    return np.column_stack(columns)


@dataclass(frozen=True)
class _Design:
    """The design after fitting terms nobody is on at minus infinity."""

    matrix: np.ndarray  # kept cells x (intercept, main effects, estimable terms)
    counts: np.ndarray  # counts of the kept cells
    keep: np.ndarray  # boolean mask over all observable cells
    neg_inf: tuple[Term, ...]


def reduced_design(table: CaptureTable, terms: Sequence[Term]) -> _Design:
    """Remove the cells of every term nobody is on and leave out its column."""
    keep = np.ones(len(table.counts), dtype=bool)
    estimable, neg_inf = [], []
    for term in terms:
        if term_count(table, term) == 0:
            neg_inf.append(term)
            keep &= ~_contains(table.patterns, term)
        else:
            estimable.append(term)
    matrix = design_matrix(table.patterns[keep], estimable)
    return _Design(matrix, table.counts[keep].astype(float), keep, tuple(neg_inf))


def is_identifiable(design: np.ndarray) -> bool:
    """True when the design has full column rank."""
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


def model_is_valid(table: CaptureTable, terms: Sequence[Term]) -> bool:
    """True if the model has an identifiable, finite (extended) MLE for this table."""
    design = reduced_design(table, terms)
    return is_identifiable(design.matrix) and mle_exists(design.matrix, design.counts)


def poisson_two_sided_p(observed: int, expected: float) -> float:
    """``min(P(X <= n), P(X >= n))`` for ``X ~ Poisson(expected)`` (SparseMSE)."""
    if expected <= 0:
        return 0.0 if observed > 0 else 1.0
    lower = stats.poisson.cdf(observed, expected)
    upper = stats.poisson.sf(observed - 1, expected)
    return float(min(lower, upper))


# ---------------------------------------------------------------- fitting
def fit_model(table: CaptureTable, terms: Sequence[Term] = ()) -> ModelFit:
    """Fit main effects plus ``terms`` with a Poisson GLM.

    Terms nobody is on are fitted at minus infinity (their cells removed).
    Does not check existence; use :func:`model_is_valid` first.  Raises
    :class:`MSEError` if the fit fails or the dark figure is not finite.
    """
    terms = tuple(tuple(t) for t in terms)
    return _fit_design(table, terms, reduced_design(table, terms))


def _fit_design(table: CaptureTable, terms: tuple[Term, ...], design: _Design) -> ModelFit:
    """Fit ``terms`` on their already reduced ``design`` (see :func:`fit_model`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = sm.GLM(design.counts, design.matrix, family=sm.families.Poisson()).fit()
        except (ValueError, np.linalg.LinAlgError) as exc:  # pragma: no cover - defensive
            raise MSEError(N_("model fit failed: {detail}").format(detail=exc)) from None
    params = np.asarray(result.params, dtype=float)
    dark = math.exp(params[0]) if params[0] < 700 else math.inf
    if not (result.converged and np.all(np.isfinite(params)) and math.isfinite(dark)):
        raise MSEError(N_("the model fit did not converge to a finite estimate"))
    fitted = np.zeros(len(table.counts))
    fitted[design.keep] = np.asarray(result.fittedvalues, dtype=float)
    # every term counts, including those at minus infinity (as SparseMSE's AIC
    # and MultipleSystemsEstimation's BIC)
    n_params = 1 + table.k + len(terms)
    llf = float(result.llf)
    return ModelFit(
        lists=table.lists,
        terms=terms,
        observed=table.observed,
        dark_figure=dark,
        params=params,
        fitted=fitted,
        llf=llf,
        aic=-2.0 * llf + 2.0 * n_params,
        bic=-2.0 * llf + n_params * math.log(max(table.observed, 1)),
        deviance=float(result.deviance),
        df_resid=int(round(result.df_resid)),
        neg_inf_terms=design.neg_inf,
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
        return N_(
            "the estimate does not exist: no person appears on more than one list, "
            "so the lists give no information about how many people were missed"
        )
    if full:
        return N_(
            "the estimate does not exist: list {name} contains every observed "
            "person, so nobody is seen only outside it and the number missed "
            "cannot be estimated"
        ).format(name=full[0])
    empty = [name for name, total in totals.items() if total == 0]
    if empty:
        return N_("the estimate does not exist: list(s) {lists} contain nobody").format(lists=", ".join(empty))
    return N_(
        "the estimate does not exist for the main-effects model on this table (the overlaps are too sparse)"
    )


# ---------------------------------------------------------------- selection
def stepwise_fit(table: CaptureTable, pthresh: float = DEFAULT_PTHRESH) -> ModelFit:
    """Forward stepwise selection of pair interactions by Poisson p-values.

    As SparseMSE 2.0.1's ``stepwisefit``: at each step, for every pair not yet
    in the model, the expected number of people on both lists under the
    current fit is compared with the observed number; the pair with the
    smallest two-sided Poisson p-value is added if ``p < pthresh`` and the
    enlarged model is identifiable with a finite (extended) MLE.  Every pair
    is a candidate, including pairs that share nobody: their p-value is
    ``exp(-expected)``, and once added they are fitted at minus infinity.
    Ties go to the earlier pair.  ``pthresh = 1`` fits all pairs if that model
    is valid.
    """
    fit = fit_main_effects(table)
    candidates = all_pairs(table.k)
    if pthresh >= 1 and model_is_valid(table, candidates):
        return fit_model(table, candidates)
    observed_overlap = table.pair_overlaps()
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
    return float(fit.fitted[_contains(table.patterns, pair)].sum())


def hierarchical_models(k: int, maxorder: int = 2) -> Iterator[tuple[Term, ...]]:
    """Every hierarchical model of ``k`` lists with interactions up to ``maxorder``.

    Main effects are always in; a term of order ``r > 2`` may be in only if all
    its sub-terms of order ``r - 1`` are.  Yields the interaction terms of each
    model, ordered by order and then list index (5 lists: 1,024 models with
    pairs only, 6,212 with triples).
    """
    orders = [list(itertools.combinations(range(k), r)) for r in range(2, max(maxorder, 1) + 1)]

    def extend(level: int, chosen: tuple[Term, ...]) -> Iterator[tuple[Term, ...]]:
        if level == len(orders):
            yield chosen
            return
        present = set(chosen)
        allowed = [
            t for t in orders[level] if level == 0 or all(s in present for s in itertools.combinations(t, len(t) - 1))
        ]
        for size in range(len(allowed) + 1):
            for subset in itertools.combinations(allowed, size):
                yield from extend(level + 1, chosen + subset)

    yield from extend(0, ())


def best_subset_fit(table: CaptureTable, criterion: str = "bic", maxorder: int = 2) -> ModelFit:
    """Exhaustive AIC/BIC search over hierarchical models.

    Every hierarchical model with interactions up to ``maxorder`` is fitted
    (terms nobody is on at minus infinity); the model with the lowest
    criterion among those with an identifiable, finite (extended) MLE is
    returned.  ``maxorder = 2`` searches the two-way models.  Limited to
    :data:`MAX_LISTS_EXHAUSTIVE` lists.
    """
    if criterion not in ("aic", "bic"):
        raise MSEError(f"unknown criterion {criterion!r}; use 'aic' or 'bic'")
    if table.k > MAX_LISTS_EXHAUSTIVE:
        raise MSEError(N_(
            "{criterion} search over all models is limited to {max} lists (this table has {k}: "
            "{models} models); use the stepwise method or merge lists"
        ).format(criterion=criterion.upper(), max=MAX_LISTS_EXHAUSTIVE, k=table.k,
                 models=2 ** (table.k * (table.k - 1) // 2)))
    fit_main_effects(table)  # raises a clear error if nothing can be estimated
    fits = _fit_all(table, hierarchical_models(table.k, maxorder))
    # the existence check is costly: run it only down the ranking, until a model passes
    for fit in sorted(fits, key=lambda f: (getattr(f, criterion), len(f.terms))):
        design = reduced_design(table, fit.terms)
        if mle_exists(design.matrix, design.counts):
            return fit
    raise MSEError(N_("no model has a finite estimate for this table"))  # pragma: no cover


def top_models(table: CaptureTable, ntop: int | None = None, maxorder: int | None = None) -> list[ModelFit]:
    """The ``ntop`` models with the lowest BIC among the hierarchical models with an identifiable,
    finite (extended) MLE, best first (ties: fewer terms first).  ``None``: all of them;
    ``maxorder`` defaults to :data:`AUTO_MAXORDER`.  The model set of the top-models bootstrap."""
    if table.k > MAX_LISTS_EXHAUSTIVE:
        raise MSEError(N_(
            "the top-models bootstrap ranks every model by BIC, which is limited to {max} lists (this table has "
            "{k}); use the stepwise bootstrap").format(max=MAX_LISTS_EXHAUSTIVE, k=table.k))
    if ntop is not None and ntop < 1:
        raise MSEError(N_("the number of top models must be at least 1, got {n}").format(n=ntop))
    fit_main_effects(table)
    order = AUTO_MAXORDER.get(table.k, 2) if maxorder is None else maxorder
    chosen: list[ModelFit] = []
    for fit in sorted(_fit_all(table, hierarchical_models(table.k, order)), key=lambda f: (f.bic, len(f.terms))):
        design = reduced_design(table, fit.terms)
        if mle_exists(design.matrix, design.counts):
            chosen.append(fit)
            if ntop is not None and len(chosen) == ntop:
                break
    return chosen


def best_of(table: CaptureTable, models: Sequence[Sequence[Term]]) -> ModelFit:
    """The model with the lowest BIC among ``models`` refitted on ``table`` (a bootstrap replicate);
    models whose MLE does not exist on it are passed over.  Raises :class:`MSEError` if none exists."""
    fits = _fit_all(table, iter(tuple(tuple(t) for t in m) for m in models))
    for fit in sorted(fits, key=lambda f: f.bic):
        design = reduced_design(table, fit.terms)
        if mle_exists(design.matrix, design.counts):
            return fit
    raise MSEError(N_("none of the top models has a finite estimate on this table"))


def _fit_all(table: CaptureTable, models: Iterator[tuple[Term, ...]]) -> list[ModelFit]:
    """Fit every identifiable model; skip fits that fail (existence is checked later)."""
    fits = []
    for terms in models:
        design = reduced_design(table, terms)
        if not is_identifiable(design.matrix):
            continue
        try:
            fits.append(_fit_design(table, terms, design))
        except MSEError:
            continue
    return fits


def auto_fit(table: CaptureTable, pthresh: float = DEFAULT_PTHRESH) -> ModelFit:
    """MultipleSystemsEstimation's ``method = "auto"``.

    Up to 5 lists: BIC over hierarchical models with interactions up to order
    :data:`AUTO_MAXORDER` (2 lists: main effects; 3 lists: pairs; 4-5 lists:
    pairs and triples).  6 or more lists: stepwise.
    """
    if table.k > MAX_LISTS_EXHAUSTIVE:
        return stepwise_fit(table, pthresh)
    return best_subset_fit(table, "bic", AUTO_MAXORDER.get(table.k, 2))


def select_model(table: CaptureTable, method: str = "stepwise", pthresh: float = DEFAULT_PTHRESH) -> ModelFit:
    """Fit the model chosen by ``method`` (one of :data:`ALL_METHODS`)."""
    chooser: dict[str, Callable[[], ModelFit]] = {
        "main": lambda: fit_main_effects(table),
        "stepwise": lambda: stepwise_fit(table, pthresh),
        "aic": lambda: best_subset_fit(table, "aic"),
        "bic": lambda: best_subset_fit(table, "bic"),
        "auto": lambda: auto_fit(table, pthresh),
    }
    if method not in chooser:
        raise MSEError(f"unknown method {method!r}; choose one of {', '.join(ALL_METHODS)}")
    if table.observed == 0:
        raise MSEError(N_(
            "observed total is 0: nobody was seen on any list, so there is nothing to estimate from"
        ))
    return chooser[method]()
