"""High-level MSE analysis: validate, fit, bootstrap, warn.

This is the entry point for the CLI and the Streamlit page::

    table = load_counts_csv("UKdat.csv")
    result = analyse(table, method="stepwise", n_boot=200, seed=1)
    result.estimate, result.ci95, result.terms, result.warnings
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sandbox.i18n import N_

from .bootstrap import BootstrapResult, bca_bootstrap, top_models_bootstrap
from .diagnostics import estimate_warnings, table_warnings
from .models import AUTO_MAXORDER, DEFAULT_PTHRESH, MAX_LISTS_EXHAUSTIVE, METHODS, ModelFit, select_model
from .table import MIN_LISTS, CaptureTable, MSEError


@dataclass(frozen=True)
class MSEResult:
    """Outcome of one method on one table."""

    method: str
    lists: tuple[str, ...]
    observed: int
    estimate: float
    terms: list[str]
    ci95: tuple[float, float] | None = None
    #: Terms of ``terms`` that nobody is on, fitted at minus infinity.
    empty_overlap_terms: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fit: ModelFit | None = None
    bootstrap: BootstrapResult | None = None
    #: Models refitted per replicate by the top-models bootstrap (0: the whole selection is repeated).
    top_models: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (the CLI output)."""
        return {
            "method": self.method,
            "lists": list(self.lists),
            "observed": self.observed,
            "estimate": round(self.estimate, 1),
            "ci95": [round(self.ci95[0], 1), round(self.ci95[1], 1)] if self.ci95 else None,
            "terms": list(self.terms),
            "n_bootstrap": len(self.bootstrap.replicates) if self.bootstrap else 0,
            "warnings": list(self.warnings),
            "empty_overlap_terms": list(self.empty_overlap_terms),
            "top_models": self.top_models,
        }


def prepare_table(table: CaptureTable) -> tuple[CaptureTable, list[str]]:
    """Drop lists nobody is on and check something is left to estimate from.

    Returns the cleaned table and warnings about what was dropped.
    """
    if table.observed == 0:
        raise MSEError(N_(
            "observed total is 0: nobody was seen on any list, so there is nothing to estimate from"
        ))
    if int((table.counts > 0).sum()) == 1:
        label = table.pattern_labels()[int(table.counts.argmax())]
        raise MSEError(N_(
            "all {n} observed people are in one pattern ({label}); with no "
            "variation between lists the estimate does not exist"
        ).format(n=table.observed, label=label))
    empty = [name for name, total in table.list_totals().items() if total == 0]
    notes = []
    if empty:
        table = table.drop_lists(empty) if table.k - len(empty) >= MIN_LISTS else _too_few(table, empty)
        notes.append(N_("List(s) {lists} contain nobody and were left out of the estimate.").format(
            lists=", ".join(empty)))
    return table, notes


def _too_few(table: CaptureTable, empty: Sequence[str]) -> CaptureTable:
    """Raise: after dropping empty lists fewer than two remain."""
    left = [n for n in table.lists if n not in empty]
    raise MSEError(N_(
        "only {n} list(s) ({lists}) contain anyone; at least {min} non-empty lists are needed"
    ).format(n=len(left), lists=", ".join(left), min=MIN_LISTS))


def available_methods(table: CaptureTable) -> list[str]:
    """Methods that can run on this table (AIC/BIC need at most 5 lists)."""
    return [m for m in METHODS if m not in ("aic", "bic") or table.k <= MAX_LISTS_EXHAUSTIVE]


def point_estimate(table: CaptureTable, method: str = "stepwise", pthresh: float = DEFAULT_PTHRESH) -> float:
    """Population estimate including model selection (used per bootstrap replicate)."""
    cleaned, _ = prepare_table(table)
    return select_model(cleaned, method, pthresh).estimate


def _bootstrap_messages(run: Callable[[], BootstrapResult], n_boot: int, messages: list[str]) -> BootstrapResult | None:
    """Runs a bootstrap; its problems become warnings so the point estimate survives."""
    try:
        boot = run()
    except MSEError as exc:
        messages.append(N_("No bootstrap interval: {error}.").format(error=exc))
        return None
    if boot.n_failed:
        messages.append(N_(
            "{failed} of {n} bootstrap replicates had no estimate and were left out."
        ).format(failed=boot.n_failed, n=n_boot))
    return boot


def _bootstrap(
    table: CaptureTable, method: str, pthresh: float, n_boot: int, seed: int | None, messages: list[str]
) -> BootstrapResult | None:
    """BCa bootstrap with the model selection repeated in each replicate."""
    return _bootstrap_messages(
        lambda: bca_bootstrap(table, lambda t: point_estimate(t, method, pthresh), n_boot, seed), n_boot, messages)


def _top_models_bootstrap(
    table: CaptureTable, method: str, n_boot: int, seed: int | None, ntop: int | None, messages: list[str]
) -> tuple[BootstrapResult | None, int]:
    """MultipleSystemsEstimation's bootstrap over the top models.
    The models are those the method searches: two-way for ``bic``, up to :data:`AUTO_MAXORDER` for ``auto``."""
    maxorder = AUTO_MAXORDER.get(table.k, 2) if method == "auto" else 2
    used = [0]

    def run() -> BootstrapResult:
        boot, used[0] = top_models_bootstrap(table, n_boot, seed, ntop, maxorder)
        return boot

    return _bootstrap_messages(run, n_boot, messages), used[0]


def analyse(
    table: CaptureTable,
    method: str = "stepwise",
    pthresh: float = DEFAULT_PTHRESH,
    n_boot: int = 0,
    seed: int | None = None,
    top_models: int | None = None,
) -> MSEResult:
    """Run one MSE method, optionally with a BCa bootstrap interval.

    ``top_models`` (methods ``bic`` and ``auto``, up to 5 lists): bootstrap over
    that many best models by BIC on the data, as MultipleSystemsEstimation's
    ``estimate_population``; ``-1`` its default number (all for 3 lists, 20 for 4,
    100 for 5).  The models are those the method searches (``bic``: two-way;
    ``auto``: with triples for 4-5 lists).  Without it the whole model selection
    is repeated on every replicate.

    Raises :class:`MSEError` (with a plain-language message) when the input is
    unusable or the estimate does not exist.
    """
    if not 0 < pthresh <= 1:
        raise MSEError(N_("pthresh must be in (0, 1], got {pthresh}").format(pthresh=pthresh))
    if top_models is not None:
        if method not in ("bic", "auto"):
            raise MSEError(N_("the top-models bootstrap is for the methods bic and auto, not {method}").format(
                method=method))
        if top_models != -1 and top_models < 1:
            raise MSEError(N_("the number of top models must be at least 1, got {n}").format(n=top_models))
        if not n_boot:
            raise MSEError(N_("the top-models bootstrap needs a number of bootstrap replicates"))
    cleaned, notes = prepare_table(table)
    fit = select_model(cleaned, method, pthresh)
    messages = notes + table_warnings(cleaned) + estimate_warnings(cleaned.observed, fit.estimate, method)
    used = 0
    if n_boot and top_models is not None and cleaned.k <= MAX_LISTS_EXHAUSTIVE:
        boot, used = _top_models_bootstrap(cleaned, method, n_boot, seed, top_models, messages)
    else:
        if top_models is not None:
            messages.append(
                f"With {cleaned.k} lists the model is chosen stepwise, so the bootstrap repeats the stepwise "
                "selection (no ranking of top models), as MultipleSystemsEstimation's method auto does."
            )
        boot = _bootstrap(cleaned, method, pthresh, n_boot, seed, messages) if n_boot else None
    return MSEResult(
        method=method,
        lists=cleaned.lists,
        observed=cleaned.observed,
        estimate=fit.estimate,
        terms=fit.term_names,
        empty_overlap_terms=fit.neg_inf_term_names,
        ci95=(boot.lower, boot.upper) if boot else None,
        warnings=messages,
        fit=fit,
        bootstrap=boot,
        top_models=used,
    )
