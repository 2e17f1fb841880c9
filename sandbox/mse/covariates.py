"""Log-linear multiple systems estimation with covariates.

The model family and search follow Maarten Cruyff's R package ``mse``
(``model_search`` / ``boot_mse``; van Dijk, Cruyff, van der Heijden &
Kragten-Heerdink 2017 used this approach for the Dutch estimates):

* the data are the cells of the full cross-classification lists x covariates
  (sampling zeros included); the cells whose pattern is on no list are not
  observed and are predicted by the model;
* Poisson log-linear models (statsmodels GLM) with main effects of every list
  and covariate and two-way terms list x list, list x covariate and
  covariate x covariate;
* a stepwise search as R's ``step``: from main effects, add or drop the two-way
  term that lowers ``-2 log L + k * rank`` most, first with the BIC penalty
  ``k = log(n)`` (terms may be added and dropped), then from that model only
  adding terms with ``k = 2`` (AIC) and then with ``k = 1``; every model on the
  path is reported with df, deviance, AIC, AICc, BIC and N-hat;
* the chosen model has the smallest BIC on the path;
* a parametric bootstrap: draw a population of ``int(N-hat)`` people
  multinomially over all cells with the fitted probabilities, refit the same
  model on the observed cells, predict every cell; 2.5 % and 97.5 % quantiles of
  the total and of the per-level sums;
* N-hat per covariate level (``by_level``): the fitted counts of every cell with
  that level, the unobserved ones included.

Missing covariate values (a person for whom no organisation recorded a value)
are not dropped: as in Cruyff's ``MSEincomplete`` they are imputed by EM.  A
person with a missing value is spread over the complete cells that agree with
everything that *is* known about them, in proportion to the current fitted
counts (E-step); the model is refitted on the completed table (M-step); this is
repeated until the observed-data log-likelihood stops increasing.  With missing
values the path statistics use that observed-data likelihood.

Models whose maximum likelihood estimate does not exist (Fienberg & Rinaldo
2012: e.g. a list that never records one level of a covariate, so its
list x covariate term runs to minus infinity) or that are not identifiable are
never fitted as if they were: the search skips them and says so, and if even the
main-effects model is affected the analysis stops with a message naming the
problem.  R's ``glm`` fits such models anyway and can report an N-hat of
billions (see ``docs/mse.md``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from sandbox.i18n import N_

from .models import mle_exists
from .table import MIN_LISTS, MSEError

#: Values read as "no value recorded" (the capture-patterns-by output uses "missing").
MISSING_VALUES = frozenset({"", "missing", "na", "nan", "none", "<na>"})
#: Methods of :func:`analyse_covariates`.
COVARIATE_METHODS = ("bic", "aic", "main")
#: SparseMSE's threshold: an empty overlap is fitted at minus infinity when exp(-expected) is below it.
EMPTY_OVERLAP_PTHRESH = 0.02
#: Quantiles of the parametric bootstrap interval.
CI_PROBS = (0.025, 0.975)
#: EM stops when the observed-data log-likelihood rises by less than this (relative).  EM creeps up
#: to its maximum: at 1e-8 N-hat was still 3e-6 (relative) and an N-hat per level 0.03 people from
#: MSEincomplete run to convergence (tests/test_mse_missing_reference.py); at 1e-12 N-hat agrees to 2e-8.
EM_TOL = 1e-12
EM_MAXIT = 500
#: Placeholder for a missing value while grouping (pandas drops missing group keys).
_GAP = "\x01missing\x01"
#: Fitted values below this in an observed cell trigger the Fienberg-Rinaldo check.
_SMALL_FIT = 1e-5
#: When the MLE does not exist, zero cells fitted below this (relative) form the face set to 0.
_FACE = 1e-6

Term = tuple[str, str]


class _FitFailed(Exception):
    """statsmodels could not fit the model (overflow, singular weights)."""


# ------------------------------------------------------------------ the table
@dataclass(frozen=True)
class CovariateTable:
    """Counts per cell of lists x covariates, with missing covariate values kept apart.

    ``cells`` holds every combination of 0/1 list values and covariate levels
    (the all-zero patterns included, with count 0), ``incomplete`` the observed
    people with at least one missing covariate (``None`` in that column).
    """

    lists: tuple[str, ...]
    covariates: tuple[str, ...]
    levels: Mapping[str, tuple[str, ...]]
    cells: pd.DataFrame
    incomplete: pd.DataFrame

    @property
    def observed(self) -> int:
        """People seen on at least one list (complete and incomplete)."""
        return int(self.cells["count"].sum() + self.incomplete["count"].sum())

    @property
    def n_missing(self) -> int:
        """Observed people with at least one missing covariate value."""
        return int(self.incomplete["count"].sum())

    def observed_mask(self) -> np.ndarray:
        """Cells whose pattern is on at least one list."""
        return self.cells[list(self.lists)].to_numpy().sum(axis=1) > 0

    def pattern_counts(self, where: Mapping[str, str] | None = None) -> dict[tuple[int, ...], int]:
        """Counts per capture pattern, optionally within one stratum (complete cells only
        when a stratum is given; all observed people otherwise)."""
        frames = [self.cells] if where else [self.cells, self.incomplete]
        out: dict[tuple[int, ...], int] = {}
        for frame in frames:
            rows = frame
            for name, level in (where or {}).items():
                rows = rows[rows[name] == level]
            grouped = rows.groupby(list(self.lists))["count"].sum()
            for key, n in grouped.items():
                key = key if isinstance(key, tuple) else (key,)
                if any(key) and n:
                    out[tuple(int(v) for v in key)] = out.get(tuple(int(v) for v in key), 0) + int(n)
        return out


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return str(value).strip().lower() in MISSING_VALUES


def _level_text(value: object) -> str:
    """Covariate level as text; integral floats (1.0 from a CSV) as '1'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _bit(value: object, name: str) -> int:
    text = _level_text(value)
    if text not in ("0", "1"):
        raise MSEError(f"list column '{name}' must hold only 0 and 1, found {value!r}")
    return int(text)


def covariate_table(
    frame: pd.DataFrame,
    lists: Sequence[str],
    covariates: Sequence[str],
    count_column: str | None = "count",
    source: str = "table",
) -> CovariateTable:
    """Build a :class:`CovariateTable` from one row per person or a table with a count column.

    ``count_column`` is used when the frame has it; otherwise every row is one
    person.  Covariate values in :data:`MISSING_VALUES` (or empty) are missing.
    """
    lists, covariates = tuple(str(x).strip() for x in lists), tuple(str(x).strip() for x in covariates)
    if len(lists) < MIN_LISTS:
        raise MSEError(f"{source}: at least {MIN_LISTS} lists are needed, got {len(lists)}")
    if not covariates:
        raise MSEError(f"{source}: no covariates given")
    if len(set(lists + covariates)) != len(lists) + len(covariates):
        raise MSEError(f"{source}: a name is given twice in lists/covariates")
    columns = [str(c) for c in frame.columns]
    for kind, names in (("list", lists), ("covariate", covariates)):
        absent = [n for n in names if n not in columns]
        if absent:
            raise MSEError(
                f"{source}: {kind} {', '.join(repr(n) for n in absent)} is not a column of the table "
                f"(columns: {', '.join(columns)})"
            )
    if count_column and count_column in columns:
        counts = []
        for i, value in enumerate(frame[count_column]):
            text = _level_text(value)
            if not text.isdigit():
                raise MSEError(f"{source}: row {i + 1}: count must be a non-negative integer, got {value!r}")
            counts.append(int(text))
    else:
        counts = [1] * len(frame)
    rows = []
    for i, (_, row) in enumerate(frame.iterrows()):
        try:
            bits = tuple(_bit(row[name], name) for name in lists)
        except MSEError as exc:
            raise MSEError(f"{source}: row {i + 1}: {exc}") from None
        levels = tuple(None if _is_missing(row[c]) else _level_text(row[c]) for c in covariates)
        rows.append((*bits, *levels, counts[i]))
    data = pd.DataFrame(rows, columns=[*lists, *covariates, "count"])
    seen = data[data[list(lists)].sum(axis=1) > 0]
    for name in covariates:
        totals = seen.dropna(subset=[name]).groupby(name)["count"].sum()
        empty = sorted(totals.index[totals == 0], key=_sort_key)
        if empty:
            raise MSEError(
                f"{source}: level(s) {', '.join(repr(v) for v in empty)} of covariate '{name}' have no observed "
                "people; the estimate for them does not exist - merge them with another level or leave them out"
            )
    data = data[(data[list(lists)].sum(axis=1) > 0) & (data["count"] > 0)]
    return _from_rows(data, lists, covariates, source)


def _from_rows(data: pd.DataFrame, lists: tuple[str, ...], covariates: tuple[str, ...], source: str) -> CovariateTable:
    """Aggregate rows (lists 0/1, covariate text or None, count) into cells."""
    if data.empty or int(data["count"].sum()) == 0:
        raise MSEError(f"{source}: nobody is on any list, so there is nothing to estimate from")
    levels: dict[str, tuple[str, ...]] = {}
    for name in covariates:
        present = data.loc[data[name].notna(), name]
        if present.empty:
            raise MSEError(
                f"{source}: covariate '{name}' has no recorded value for anyone (no organisation holds it); "
                "leave it out"
            )
        levels[name] = tuple(sorted(set(present), key=_sort_key))
        if len(levels[name]) < 2:
            raise MSEError(
                f"{source}: covariate '{name}' has only one level ({levels[name][0]}) among the observed "
                "people; it cannot explain differences between groups - leave it out"
            )
    complete = data.dropna(subset=list(covariates))
    incomplete = data[data[list(covariates)].isna().any(axis=1)]
    grid = pd.MultiIndex.from_product(
        [[0, 1]] * len(lists) + [list(levels[c]) for c in covariates], names=[*lists, *covariates]
    )
    cells = complete.groupby([*lists, *covariates])["count"].sum().reindex(grid, fill_value=0).reset_index()
    if not incomplete.empty:
        incomplete = (
            incomplete.astype({c: object for c in covariates})
            .fillna({c: _GAP for c in covariates})
            .groupby([*lists, *covariates])["count"]
            .sum()
            .reset_index()
        )
        for c in covariates:
            incomplete[c] = incomplete[c].astype(object).where(incomplete[c] != _GAP, None)
    else:
        incomplete = pd.DataFrame(columns=[*lists, *covariates, "count"]).astype({"count": int})
    table = CovariateTable(lists, covariates, levels, cells, incomplete)
    _check_overlap(table, source)
    return table


def _sort_key(level: str) -> tuple[int, float, str]:
    """Numeric levels in numeric order (as R's factor()), then text."""
    try:
        return (0, float(level), level)
    except ValueError:
        return (1, 0.0, level)


def _check_overlap(table: CovariateTable, source: str) -> None:
    """Errors for tables whose lists share nobody or a list that holds everyone."""
    on = pd.concat([table.cells, table.incomplete])
    bits = on[list(table.lists)].to_numpy().astype(int)
    n = on["count"].to_numpy().astype(int)
    if int(n[bits.sum(axis=1) >= 2].sum()) == 0:
        raise MSEError(
            f"{source}: no person is on more than one list - the lists share nobody, so there is no "
            "information about how many nobody saw; the estimate does not exist"
        )
    for j, name in enumerate(table.lists):
        total = int(n[bits[:, j] == 1].sum())
        if total == 0:
            raise MSEError(f"{source}: list '{name}' contains nobody; leave it out")
        if total == int(n.sum()):
            raise MSEError(f"{source}: list '{name}' contains every observed person; the estimate does not exist")


def table_from_patterns_by(
    payload: Mapping[str, object] | Sequence[Mapping[str, object]],
    lists: Sequence[str] | None = None,
    covariates: Sequence[str] | None = None,
    source: str = "capture-patterns-by",
) -> tuple[CovariateTable, list[str]]:
    """Table from a ``capture-patterns-by`` result: ``revealed = [{"lists": [...], "levels": {...}, "count": n}]``.

    Accepts the whole run JSON (with ``revealed``/``suppressed`` and optionally
    ``lists``/``covariates``) or the ``revealed`` list alone.  Suppressed cells
    (too small to open) count as 0; a warning says how many there were.
    """
    if isinstance(payload, Mapping):
        revealed = payload.get("revealed")
        if revealed is None and isinstance(payload.get("result"), Mapping):
            payload = payload["result"]  # type: ignore[assignment]
            revealed = payload.get("revealed")
        suppressed = list(payload.get("suppressed") or [])
        lists = lists or payload.get("lists") or payload.get("parties")  # type: ignore[assignment]
        params = payload.get("params") if isinstance(payload.get("params"), Mapping) else {}
        covariates = covariates or payload.get("covariates") or params.get("covariates")  # type: ignore[assignment]
    else:
        revealed, suppressed = payload, []
    if not isinstance(revealed, Sequence) or not revealed:
        raise MSEError(f"{source}: no 'revealed' cells (is this the output of capture-patterns-by?)")
    cells = [c for c in revealed if isinstance(c, Mapping)]
    if len(cells) != len(revealed):
        raise MSEError(f"{source}: every revealed cell must be an object with 'lists', 'levels' and 'count'")
    if not lists:
        lists = sorted({org for c in cells for org in c.get("lists", [])})
    if not covariates:
        covariates = list(dict.fromkeys(name for c in cells for name in (c.get("levels") or {})))
    lists, covariates = tuple(lists), tuple(covariates)
    rows = []
    for i, cell in enumerate(cells):
        on = set(cell.get("lists") or [])
        unknown = on - set(lists)
        if unknown:
            raise MSEError(
                f"{source}: cell {i + 1} names list(s) {', '.join(sorted(unknown))} not in {', '.join(lists)}"
            )
        levels = cell.get("levels") or {}
        absent = [c for c in covariates if c not in levels]
        if absent:
            raise MSEError(f"{source}: cell {i + 1} has no level for covariate(s) {', '.join(absent)}")
        count = cell.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise MSEError(f"{source}: cell {i + 1}: count must be a non-negative integer, got {count!r}")
        rows.append(
            {
                **{name: int(name in on) for name in lists},
                **{c: None if _is_missing(levels[c]) else _level_text(levels[c]) for c in covariates},
                "count": count,
            }
        )
    frame = pd.DataFrame(rows)
    frame = frame[(frame[list(lists)].sum(axis=1) > 0) & (frame["count"] > 0)]
    notes = []
    if suppressed:
        notes.append(N_(
            "{n} cell(s) were too small to open and count as 0 here; the estimate is "
            "biased by what was hidden (see the disclosure lesson)."
        ).format(n=len(suppressed)))
    return _from_rows(frame, lists, covariates, source), notes


# ------------------------------------------------------------------ design
class _Design:
    """Dummy-coded columns of every main effect and every two-way term, for all cells."""

    def __init__(self, table: CovariateTable) -> None:
        self.variables = (*table.lists, *table.covariates)
        cells = table.cells
        self.blocks: dict[object, np.ndarray] = {}
        self.main: list[np.ndarray] = [np.ones((len(cells), 1))]
        dummies: dict[str, np.ndarray] = {}
        for name in self.variables:
            if name in table.lists:
                dummies[name] = cells[name].to_numpy(dtype=float)[:, None]
            else:
                values = cells[name].to_numpy()
                dummies[name] = np.column_stack([(values == lev).astype(float) for lev in table.levels[name][1:]])
            self.main.append(dummies[name])
        self.main_matrix = np.hstack(self.main)
        #: Two-way terms in R's ``.^2`` order (v1:v2, v1:v3, ..., v2:v3, ...).
        self.pairs: list[Term] = [(a, b) for i, a in enumerate(self.variables) for b in self.variables[i + 1 :]]
        for a, b in self.pairs:
            da, db = dummies[a], dummies[b]
            self.blocks[(a, b)] = (da[:, :, None] * db[:, None, :]).reshape(len(cells), -1)

    def column_keys(self, terms: Sequence[Term]) -> list[tuple[object, int]]:
        """A name per column of :meth:`matrix` (main block or term, column number)."""
        keys = [("main", i) for i in range(self.main_matrix.shape[1])]
        return keys + [(t, i) for t in terms for i in range(self.blocks[t].shape[1])]

    def matrix(self, terms: Sequence[Term]) -> np.ndarray:
        return np.hstack([self.main_matrix, *(self.blocks[t] for t in terms)])


def term_label(term: Term) -> str:
    return f"{term[0]}:{term[1]}"


# ------------------------------------------------------------------ fitting
@dataclass(frozen=True)
class CovariateFit:
    """One fitted model."""

    terms: tuple[Term, ...]
    params: np.ndarray
    fitted_all: np.ndarray  # fitted count of every cell of table.cells
    llf: float
    deviance: float
    rank: int
    n_params: int
    df_resid: int
    exists: bool
    identifiable: bool
    #: Observed cells fitted at zero (extended MLE); 0 when the MLE exists.
    boundary_cells: int = 0

    @property
    def valid(self) -> bool:
        """N-hat is determined: identifiable, and the (extended) MLE gives every unobserved cell."""
        return self.identifiable

    @property
    def estimate(self) -> float:
        return float(self.fitted_all.sum())


class _Fitter:
    """Fits models on one table, with EM when covariate values are missing; caches by term set."""

    def __init__(self, table: CovariateTable, neg_inf: Sequence[Term] = ()) -> None:
        self.table = table
        self.design = _Design(table)
        #: List pairs fitted at minus infinity when in a model: their cells are removed from the fit
        #: and expect nobody; the term still counts as a parameter (as SparseMSE).
        self.neg_inf = frozenset(neg_inf)
        #: Fits whose EM stopped at EM_MAXIT iterations before converging.
        self.em_unconverged = 0
        self.obs = table.observed_mask()
        self.y = table.cells["count"].to_numpy(dtype=float)[self.obs]
        self.n = table.observed
        self.cache: dict[frozenset[Term], CovariateFit] = {}
        self.groups = self._incomplete_groups()
        self.z = table.incomplete["count"].to_numpy(dtype=float)

    def _incomplete_groups(self) -> list[np.ndarray]:
        """For each incomplete row, the observed complete cells it could belong to."""
        cells = self.table.cells[self.obs].reset_index(drop=True)
        groups = []
        for _, row in self.table.incomplete.iterrows():
            match = np.ones(len(cells), dtype=bool)
            assert any(pd.isna(row[c]) for c in self.table.covariates), "an incomplete row without a gap"
            for name in (*self.table.lists, *self.table.covariates):
                if not pd.isna(row[name]):
                    match &= (cells[name] == row[name]).to_numpy()
            groups.append(np.flatnonzero(match))
        return groups

    def fit(self, terms: Sequence[Term], parent: CovariateFit | None = None) -> CovariateFit:
        """Fit (or look up) the model with these two-way terms; ``parent`` warm-starts IRLS.

        A model statsmodels cannot fit at all comes back not valid (never used)."""
        key = frozenset(terms)
        if key not in self.cache:
            try:
                self.cache[key] = self._fit(tuple(terms), parent)
            except _FitFailed:
                self.cache[key] = self._failed(tuple(terms))
        return self.cache[key]

    def _failed(self, terms: tuple[Term, ...]) -> CovariateFit:
        x_all = self.design.matrix(terms)
        return CovariateFit(
            terms=terms,
            params=np.full(x_all.shape[1], np.nan),
            fitted_all=np.full(len(x_all), np.nan),
            llf=-np.inf,
            deviance=np.inf,
            rank=int(np.linalg.matrix_rank(x_all[self.obs])),
            n_params=x_all.shape[1],
            df_resid=0,
            exists=False,
            identifiable=False,
        )

    def _glm(self, x: np.ndarray, y: np.ndarray, start: np.ndarray | None = None, maxiter: int = 50, tol: float = 1e-8):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = sm.GLM(y, x, family=sm.families.Poisson())
            try:
                return model.fit(start_params=start, maxiter=maxiter, tol=tol, wls_method="lstsq")
            except (ValueError, np.linalg.LinAlgError):
                if start is None:
                    raise _FitFailed from None
                # a warm start far out on a boundary can overflow; start afresh
                try:
                    return model.fit(maxiter=maxiter, tol=tol, wls_method="lstsq")
                except (ValueError, np.linalg.LinAlgError):
                    raise _FitFailed from None

    def _start(self, terms: tuple[Term, ...], parent: CovariateFit | None) -> np.ndarray | None:
        """Parent's parameters for the columns both share, 0 for new ones."""
        if parent is None or not parent.valid or parent.boundary_cells:
            return None
        estimable = [t for t in parent.terms if t not in self.neg_inf]
        known = dict(zip(self.design.column_keys(estimable), parent.params, strict=True))
        return np.array(
            [known.get(k, 0.0) for k in self.design.column_keys([t for t in terms if t not in self.neg_inf])]
        )

    def _fit(self, terms: tuple[Term, ...], parent: CovariateFit | None) -> CovariateFit:
        at_minus_inf = [t for t in terms if t in self.neg_inf]
        x_all = self.design.matrix([t for t in terms if t not in self.neg_inf])
        removed = np.zeros(len(x_all), dtype=bool)
        for a, b in at_minus_inf:
            removed |= ((self.table.cells[a] == 1) & (self.table.cells[b] == 1)).to_numpy()
        rows = ~removed[self.obs]  # observed cells that stay in the fit
        if at_minus_inf and self.z.size:
            raise _FitFailed  # not with EM (the caller does not ask for it)
        obs_index = np.flatnonzero(self.obs)[rows]
        x = x_all[self.obs][rows]
        rank = int(np.linalg.matrix_rank(x))
        y_complete = self.y[rows].copy()
        if self.z.size:
            result, y_complete, llf = self._em(x, self._start(terms, parent))
        else:
            result = self._glm(x, y_complete, self._start(terms, parent))
            llf = float(result.llf)
        params = np.asarray(result.params)
        mu = np.exp(np.clip(x @ params, -700, 700))
        fitted_all = np.exp(np.clip(x_all @ params, -700, 700))
        fitted_all[removed] = 0.0
        deviance = self._deviance(mu, llf) if self.z.size else float(result.deviance)
        exists, estimable, boundary = bool(np.all(np.isfinite(params))), True, 0
        small = (mu < _SMALL_FIT) & (y_complete == 0)
        if exists and (small.any() or not result.converged):
            exists = mle_exists(_independent_columns(x), y_complete)
        if not exists:
            # Extended MLE (Fienberg & Rinaldo 2012): the cells the fit drives to zero are
            # removed and the model refitted on the rest.  N-hat is only determined when every
            # unobserved cell's row lies in the row space of the cells that are left.
            face = (mu < _FACE * max(1.0, float(mu.max()))) & (y_complete == 0)
            boundary = int(face.sum())
            keep = ~face
            xr = x[keep]
            unobserved = x_all[~self.obs]
            estimable = (
                not self.z.size
                and boundary > 0
                and int(np.linalg.matrix_rank(np.vstack([xr, unobserved]))) == int(np.linalg.matrix_rank(xr))
            )
            if estimable:
                result = self._glm(xr, y_complete[keep], np.asarray(result.params))
                params = np.asarray(result.params)
                mu_r = np.exp(np.clip(xr @ params, -700, 700))
                if ((mu_r < _SMALL_FIT) & (y_complete[keep] == 0)).any() or not result.converged:
                    estimable = mle_exists(_independent_columns(xr), y_complete[keep])
                llf, deviance = float(result.llf), float(result.deviance)
                fitted_all = np.exp(np.clip(x_all @ params, -700, 700))
                fitted_all[obs_index[face]] = 0.0
                fitted_all[removed] = 0.0
        return CovariateFit(
            terms=terms,
            params=params,
            fitted_all=fitted_all,
            llf=llf,
            deviance=deviance,
            rank=rank + len(at_minus_inf),
            n_params=x.shape[1] + len(at_minus_inf),
            df_resid=int(len(self.y) + len(self.z) - rank - len(at_minus_inf)),
            exists=exists,
            identifiable=rank == x.shape[1] and estimable,
            boundary_cells=boundary,
        )

    # -- EM for missing covariate values (as MSEincomplete)
    def _allocate(self, mu: np.ndarray) -> np.ndarray:
        extra = np.zeros_like(mu)
        for z, group in zip(self.z, self.groups, strict=True):
            share = mu[group]
            extra[group] += z * share / share.sum()
        return extra

    def _observed_llf(self, mu: np.ndarray) -> float:
        """Poisson log-likelihood of what was observed: complete cells and, per incomplete
        row, the sum over the cells it could belong to."""
        from scipy.special import gammaln

        y, z = self.y, self.z
        sums = np.array([mu[g].sum() for g in self.groups])
        return float(
            np.sum(y * np.log(np.where(y > 0, mu, 1.0)) - gammaln(y + 1))
            + np.sum(z * np.log(sums) - gammaln(z + 1))
            - mu.sum()
        )

    def _em(self, x: np.ndarray, start: np.ndarray | None = None):
        mu = np.full(len(self.y), self.n / len(self.y)) if start is None else np.exp(x @ start)
        last = -np.inf
        for _ in range(EM_MAXIT):
            y_complete = self.y + self._allocate(mu)
            result = self._glm(x, y_complete, start)
            start = np.asarray(result.params)
            mu = np.exp(x @ start)
            llf = self._observed_llf(mu)
            if llf - last < EM_TOL * max(1.0, abs(llf)):
                break
            last = llf
        else:
            self.em_unconverged += 1
        return result, y_complete, llf

    def _deviance(self, mu: np.ndarray, llf: float) -> float:
        """2 (saturated - model) observed-data log-likelihood (complete and incomplete rows as cells)."""
        from scipy.special import xlogy

        saturated = float(np.sum(xlogy(self.y, self.y) - self.y) + np.sum(xlogy(self.z, self.z) - self.z))
        model = llf + float(np.sum(_gammaln(self.y + 1)) + np.sum(_gammaln(self.z + 1)))
        return 2.0 * (saturated - model)


def _gammaln(v: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    return gammaln(v)


def _independent_columns(x: np.ndarray) -> np.ndarray:
    """A maximal set of linearly independent columns (QR with pivoting)."""
    from scipy.linalg import qr

    _, r, piv = qr(x, mode="economic", pivoting=True)
    rank = int(np.sum(np.abs(np.diag(r)) > 1e-10 * abs(r[0, 0])))
    return x[:, np.sort(piv[:rank])]


# ------------------------------------------------------------------ search
@dataclass(frozen=True)
class PathStep:
    """One model on the search path (a row of ``model_search``'s table)."""

    step: str
    terms: tuple[Term, ...]
    df: int
    deviance: float
    aic: float
    aicc: float
    bic: float
    estimate: float

    def to_dict(self) -> dict[str, object]:
        return {
            "step": self.step,
            "terms": [term_label(t) for t in self.terms],
            "df": self.df,
            "deviance": round(self.deviance, 4),
            "AIC": round(self.aic, 4),
            "AICc": round(self.aicc, 4),
            "BIC": round(self.bic, 4),
            "estimate": round(self.estimate, 2),
        }


def _criterion(fit: CovariateFit, k: float) -> float:
    return -2.0 * fit.llf + k * fit.rank


def _step(
    fitter: _Fitter, start: tuple[Term, ...], lower: tuple[Term, ...], k: float, skipped: set[Term]
) -> list[tuple[str, tuple[Term, ...]]]:
    """R's ``step`` (direction "both") restricted to two-way terms; returns the changes made."""
    current = list(start)
    fit = fitter.fit(current)
    changes: list[tuple[str, tuple[Term, ...]]] = []
    for _ in range(1000):
        value = _criterion(fit, k)
        drops = [t for t in current if t not in lower]
        drop_fits = [(t, fitter.fit([u for u in current if u != t], fit)) for t in drops]
        zero_df = [t for t, f in drop_fits if f.rank == fit.rank]
        if zero_df:
            change = ("-", zero_df[-1])
        else:
            options: list[tuple[float, str, Term | None]] = [(value, "", None)]
            options += [(_criterion(f, k), "-", t) for t, f in drop_fits if f.valid]
            for t in fitter.design.pairs:
                if t in current:
                    continue
                f = fitter.fit([*current, t], fit)
                if not f.valid:
                    skipped.add(t)
                    continue
                if f.rank == fit.rank:
                    continue
                options.append((_criterion(f, k), "+", t))
            best = min(range(len(options)), key=lambda i: (options[i][0], i))
            if best == 0:
                break
            change = (options[best][1], options[best][2])  # type: ignore[assignment]
        sign, term = change
        current = [u for u in current if u != term] if sign == "-" else [*current, term]
        new_fit = fitter.fit(current)
        if _criterion(new_fit, k) >= value + 1e-7:
            break
        fit = new_fit
        changes.append((f"{sign} {term_label(term)}", tuple(current)))  # type: ignore[arg-type]
    return changes


def _path_step(fitter: _Fitter, label: str, terms: tuple[Term, ...]) -> PathStep:
    fit = fitter.fit(terms)
    n = fitter.n
    p = fit.n_params
    aic = -2.0 * fit.llf + 2.0 * fit.rank
    return PathStep(
        step=label,
        terms=terms,
        df=fit.df_resid,
        deviance=fit.deviance,
        aic=aic,
        aicc=aic + 2.0 * (p * p + p) / (n - p - 1) if n - p - 1 > 0 else math.inf,
        bic=-2.0 * fit.llf + math.log(n) * fit.rank,
        estimate=fit.estimate,
    )


def empty_overlap_pairs(fitter: _Fitter, pthresh: float = EMPTY_OVERLAP_PTHRESH) -> list[Term]:
    """Pairs of lists that share nobody although the main-effects model expects people on both.

    SparseMSE's handling of empty overlaps (Chan, Silverman & Vincent 2021): a pair with no one in
    common whose expected overlap E gives P(0 | Poisson(E)) = exp(-E) < ``pthresh`` is taken as two
    lists that do not overlap and fitted at minus infinity (its cells expect nobody).  Here the test
    is made once, against the main-effects model of lists and covariates."""
    main = fitter.fit(())
    if not main.valid:
        return []
    table = fitter.table
    on = pd.concat([table.cells, table.incomplete])
    out = []
    for i, a in enumerate(table.lists):
        for b in table.lists[i + 1 :]:
            shared = int(on.loc[(on[a] == 1) & (on[b] == 1), "count"].sum())
            both = ((table.cells[a] == 1) & (table.cells[b] == 1)).to_numpy()
            expected = float(main.fitted_all[both].sum())
            if shared == 0 and math.exp(-expected) < pthresh:
                out.append((a, b))
    return out


def model_search(fitter: _Fitter, base: Sequence[Term] = ()) -> tuple[list[PathStep], list[Term]]:
    """Stepwise BIC, then AIC, then k = 1 (as ``mse::model_search``); returns the path and skipped terms.

    ``base`` terms are in every model of the path (start and lower bound of every stage)."""
    base = tuple(base)
    main = fitter.fit(())
    if main.rank < main.n_params:
        raise MSEError(N_("the main-effects model is not identifiable on this table (too few cells observed)"))
    if not main.valid:
        raise MSEError(N_(
            "the main-effects model has no finite maximum likelihood estimate on this table "
            "(Fienberg-Rinaldo): some list or covariate level is never observed together with the others; "
            "merge sparse levels or leave a covariate out"
        ))
    if base and not fitter.fit(base).valid:
        raise MSEError(N_("the model with the empty-overlap pairs at minus infinity ({terms}) has no determined "
                          "estimate on this table").format(terms=", ".join(term_label(t) for t in base)))
    skipped: set[Term] = set()
    path = [_path_step(fitter, "", base)]
    start: tuple[Term, ...] = base
    for k in (math.log(fitter.n), 2.0, 1.0):
        lower = start if k != math.log(fitter.n) else base
        for label, terms in _step(fitter, start, lower, k, skipped):
            path.append(_path_step(fitter, label, terms))
            start = terms
    in_path = {t for s in path for t in s.terms}
    return path, sorted(skipped - in_path, key=fitter.design.pairs.index)


# ------------------------------------------------------------------ result
@dataclass(frozen=True)
class CovariateResult:
    """Outcome of a covariate analysis (the CLI's JSON)."""

    method: str
    lists: tuple[str, ...]
    covariates: tuple[str, ...]
    observed: int
    n_missing: int
    estimate: float
    terms: list[str]
    path: list[PathStep]
    chosen: int
    by_level: dict[str, list[dict[str, object]]]
    ci95: tuple[float, float] | None = None
    n_bootstrap: int = 0
    skipped_terms: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Pairs of lists fitted at minus infinity in every model (``empty_overlaps=True``).
    empty_overlap_terms: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "lists": list(self.lists),
            "covariates": list(self.covariates),
            "observed": self.observed,
            "missing_covariate_people": self.n_missing,
            "estimate": round(self.estimate, 1),
            "ci95": [round(self.ci95[0], 1), round(self.ci95[1], 1)] if self.ci95 else None,
            "terms": list(self.terms),
            "chosen": self.chosen,
            "path": [p.to_dict() for p in self.path],
            "by_level": self.by_level,
            "n_bootstrap": self.n_bootstrap,
            "skipped_terms": list(self.skipped_terms),
            "warnings": list(self.warnings),
            "empty_overlap_terms": list(self.empty_overlap_terms),
        }


def _bootstrap(fitter: _Fitter, fit: CovariateFit, n_boot: int, seed: int | None) -> np.ndarray:
    """Parametric bootstrap of the fitted cells (as ``mse::boot_mse``); returns n_boot x cells."""
    rng = np.random.default_rng(seed)
    x_all = fitter.design.matrix([t for t in fit.terms if t not in fitter.neg_inf])
    removed = np.zeros(len(x_all), dtype=bool)
    for a, b in (t for t in fit.terms if t in fitter.neg_inf):
        removed |= ((fitter.table.cells[a] == 1) & (fitter.table.cells[b] == 1)).to_numpy()
    keep = fitter.obs & ~removed
    x = x_all[keep]
    total = fit.estimate
    probs = fit.fitted_all / total
    out = []
    for _ in range(n_boot):
        draw = rng.multinomial(int(total), probs)
        y = draw[keep].astype(float)
        result = fitter._glm(x, y, fit.params)
        predicted = np.exp(np.clip(x_all @ np.asarray(result.params), -700, 700))
        predicted[removed] = 0.0
        out.append(predicted)
    return np.array(out)


def _quantiles(values: np.ndarray) -> tuple[float, float]:
    lo, hi = np.quantile(values, CI_PROBS)  # R's default type 7
    return float(lo), float(hi)


def analyse_covariates(
    table: CovariateTable,
    method: str = "bic",
    n_boot: int = 0,
    seed: int | None = None,
    notes: Sequence[str] = (),
    empty_overlaps: bool = False,
) -> CovariateResult:
    """Model search with covariates; ``bic`` (default) / ``aic`` pick the model on the path,
    ``main`` takes main effects of every list and covariate.

    ``empty_overlaps`` (``bic``/``aic``): pairs of lists that share nobody although the
    main-effects model expects people on both (:func:`empty_overlap_pairs`) are fitted at
    minus infinity in every model of the search, as SparseMSE does (see docs/mse.md: on
    nl-baseline the plain search otherwise extrapolates from overlaps of 0 or 1 person)."""
    if method not in COVARIATE_METHODS:
        raise MSEError(
            f"method '{method}' is not available with covariates; choose one of {', '.join(COVARIATE_METHODS)}"
        )
    fitter = _Fitter(table)
    extra: list[str] = []
    base: list[Term] = []
    if method == "main":
        path, skipped = [], []
        main = fitter.fit(())
        if not main.valid:
            model_search(fitter)  # raises with the reason
        path = [_path_step(fitter, "", ())]
        chosen = 0
    else:
        if empty_overlaps and table.n_missing:
            empty_overlaps = False
            extra.append(
                "The empty-overlap option is not applied: with missing covariate values (EM) models with "
                "terms at minus infinity are not fitted."
            )
        base = empty_overlap_pairs(fitter) if empty_overlaps else []
        if base:
            fitter = _Fitter(table, neg_inf=base)
        path, skipped = model_search(fitter, base)
        scores = [p.bic if method == "bic" else p.aic for p in path]
        chosen = int(np.argmin(scores))
    fit = fitter.fit(path[chosen].terms)
    messages = list(notes) + extra
    if base:
        messages.append(
            "Pairs of lists that share nobody although the simplest model expects people on both are "
            "fitted as never overlapping (SparseMSE's rule, p < 0.02): " + ", ".join(term_label(t) for t in base) + "."
        )
    if fitter.em_unconverged:
        messages.append(
            f"EM did not converge within {EM_MAXIT} iterations for {fitter.em_unconverged} model(s) of the "
            "search; their figures are approximate."
        )
    if table.n_missing:
        messages.append(N_(
            "{n} observed people have a missing covariate value; they are imputed by EM "
            "(spread over the levels in proportion to the model), not dropped."
        ).format(n=table.n_missing))
    if skipped:
        messages.append(N_(
            "Terms never fitted because the model with them has no finite maximum likelihood estimate "
            "(Fienberg-Rinaldo: a list never records a level, or a level combination is never observed): "
            "{terms}."
        ).format(terms=", ".join(term_label(t) for t in skipped)))
    if fit.estimate > 5 * table.observed:
        messages.append(N_(
            "The estimate is more than 5 times the observed {n}: the lists overlap little "
            "and the model extrapolates far."
        ).format(n=f"{table.observed:,}"))
    boot = None
    ci95 = None
    if n_boot:
        if table.n_missing:
            messages.append(N_("No bootstrap interval: the parametric bootstrap is not implemented with missing "
                               "values."))
        else:
            boot = _bootstrap(fitter, fit, n_boot, seed)
            ci95 = _quantiles(boot.sum(axis=1))
    by_level = _by_level(table, fit, boot)
    return CovariateResult(
        method=method,
        lists=table.lists,
        covariates=table.covariates,
        observed=table.observed,
        n_missing=table.n_missing,
        estimate=fit.estimate,
        terms=[term_label(t) for t in fit.terms],
        path=path,
        chosen=chosen,
        by_level=by_level,
        ci95=ci95,
        n_bootstrap=n_boot if boot is not None else 0,
        skipped_terms=[term_label(t) for t in skipped],
        warnings=messages,
        empty_overlap_terms=[term_label(t) for t in base],
    )


def _by_level(table: CovariateTable, fit: CovariateFit, boot: np.ndarray | None) -> dict[str, list[dict[str, object]]]:
    """Observed people and N-hat (with interval) per level of every covariate."""
    out: dict[str, list[dict[str, object]]] = {}
    observed_people = _observed_by_level(table, fit)
    for name in table.covariates:
        values = table.cells[name].to_numpy()
        rows = []
        for level in table.levels[name]:
            mask = values == level
            row: dict[str, object] = {
                "level": level,
                "observed": round(observed_people[name][level], 2),
                "estimate": round(float(fit.fitted_all[mask].sum()), 1),
                "ci95": None,
            }
            if boot is not None:
                lo, hi = _quantiles(boot[:, mask].sum(axis=1))
                row["ci95"] = [round(lo, 1), round(hi, 1)]
            rows.append(row)
        out[name] = rows
    return out


def _observed_by_level(table: CovariateTable, fit: CovariateFit) -> dict[str, dict[str, float]]:
    """Observed people per level; people with a missing value count by their EM share."""
    obs = table.observed_mask()
    counts = table.cells["count"].to_numpy(dtype=float)
    if table.n_missing:
        fitter = _Fitter(table)
        mu = fit.fitted_all[obs]
        counts = counts.copy()
        counts[obs] += fitter._allocate(mu)
    return {
        name: {level: float(counts[table.cells[name].to_numpy() == level].sum()) for level in table.levels[name]}
        for name in table.covariates
    }
