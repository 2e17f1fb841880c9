"""The catalogue of workshop computations (pure Python: no MPyC, no Streamlit).

Each computation has `local_inputs(df, params)`: what one organisation prepares from its OWN records,
in the clear, on its own machine (e.g. its own counts per form). Only this leaves the organisation, and
only as secret shares. The MPC half lives in `sandbox/mpc/protocols/<protocol>.py` and runs only in party
processes.

The plaintext check of every MPC result is `sandbox/mpc/oracle.py`, which shares no code with this module
(a bug here must show up as a mismatch, not twice); a real deployment has no such oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthetic import vocab

if TYPE_CHECKING:  # pandas and NumPy load where records are prepared, not when a command starts
    import pandas as pd

__all__ = ["CATALOGUE", "Computation", "ComputationError", "for_run", "get", "names"]

SEP = vocab.MULTI_VALUE_SEPARATOR


def N_(message: str) -> str:  # noqa: N802  (the gettext convention)
    """Marks a text for translation (`make i18n` extracts it); the pages show it translated. Identity here."""
    return message


class ComputationError(ValueError):
    """A computation cannot run on the given data; the message says why."""


@dataclass(frozen=True)
class Computation:
    name: str
    title: str
    summary: str
    reveals: str
    protocol: str
    cells: Callable[[dict[str, Any]], list[str]]
    local_inputs: Callable[[pd.DataFrame, dict[str, Any]], dict[str, list[int]]]
    needs_columns: tuple[str, ...] = field(default=())
    input_bits: int = 20  # every prepared input must lie in [0, 2^input_bits); the party checks this
    needs_params: bool = False  # runs only with parameters of its own (a query): not in the Run page's list


def _split(values: pd.Series) -> list[list[str]]:
    return [v.split(SEP) if v else [] for v in values.astype(str)]


def _count_vector(df: pd.DataFrame, column: str, categories: tuple[str, ...]) -> list[int]:
    """Records per category (a multi-valued record counts once in each of its categories)."""
    index = {c: i for i, c in enumerate(categories)}
    counts = [0] * len(categories)
    if column not in df.columns:
        return counts
    for values in _split(df[column]):
        for v in set(values):
            if v in index:
                counts[index[v]] += 1
    return counts


def _crosstab_vector(
    df: pd.DataFrame, row: str, rows: tuple[str, ...], col: str, cols: tuple[str, ...],
    row_map: Callable[[str], str] | None = None,
) -> list[int]:
    """Records per (row category, column category), flattened row-major; unknowns are skipped."""
    import numpy as np

    counts = np.zeros((len(rows), len(cols)), dtype=np.int64)
    if row not in df.columns or col not in df.columns:
        return counts.ravel().tolist()
    ri = {c: i for i, c in enumerate(rows)}
    ci = {c: i for i, c in enumerate(cols)}
    for rv, cv in zip(_split(df[row]), _split(df[col]), strict=True):
        rvs = {row_map(v) if row_map else v for v in rv}
        for r in rvs:
            for c in set(cv):
                if r in ri and c in ci:
                    counts[ri[r], ci[c]] += 1
    return counts.ravel().tolist()


def _aggregate(name: str, title: str, summary: str, cells_fn, local_fn, needs) -> Computation:
    """A computation that adds up one count vector per organisation and opens suppressed cells only."""
    return Computation(
        name=name,
        title=title,
        summary=summary,
        reveals=N_(
            "Only the totals over all organisations, and for each cell whether it was below the "
            "small-cell threshold (then its value stays hidden from everyone). No organisation's own "
            "counts are revealed."
        ),
        protocol="secure_sum",
        cells=cells_fn,
        local_inputs=lambda df, params: {"counts": local_fn(df, params)},
        needs_columns=needs,
    )


def _pairs(rows, cols) -> list[str]:
    return [f"{r} × {c}" for r in rows for c in cols]


CATALOGUE: dict[str, Computation] = {}


def _register(c: Computation) -> None:
    CATALOGUE[c.name] = c


_register(_aggregate(
    "counts-by-form",
    N_("Registrations per form of exploitation"),
    N_("How many registrations each form of exploitation has across all organisations together."),
    lambda p: list(vocab.FORMS),
    lambda df, p: _count_vector(df, "form", vocab.FORMS),
    ("form",),
))
_register(_aggregate(
    "crosstab-form-sector",
    N_("Form of exploitation × sector"),
    N_("Registrations per form and sector, added up over all organisations."),
    lambda p: _pairs(vocab.FORMS, vocab.SECTORS),
    lambda df, p: _crosstab_vector(df, "form", vocab.FORMS, "sector", vocab.SECTORS),
    ("form",),
))
_register(_aggregate(
    "crosstab-nationality-form",
    N_("Nationality group × form of exploitation"),
    N_("Registrations per nationality group and form, added up over all organisations."),
    lambda p: _pairs(vocab.NATIONALITY_GROUPS, vocab.FORMS),
    lambda df, p: _crosstab_vector(
        df, "nationality", vocab.NATIONALITY_GROUPS, "form", vocab.FORMS, row_map=vocab.nationality_group
    ),
    ("form",),
))
_register(_aggregate(
    "crosstab-region-form",
    N_("Police region × form of exploitation"),
    N_("Registrations per police region and form, added up over all organisations."),
    lambda p: _pairs(vocab.REGIONS, vocab.FORMS),
    lambda df, p: _crosstab_vector(df, "region", vocab.REGIONS, "form", vocab.FORMS),
    ("form",),
))


def names() -> list[str]:
    return sorted(CATALOGUE)


def input_cells(name: str, label: str, n: int, params: dict[str, Any]) -> list[str]:
    """The names of the n values of input vector `label` of computation `name`, in order.

    The party writes them next to every own input and every share it logs, so that the Party views and
    the ledger show each value under its own name.
    """
    if name == "designed-query":
        cells = _compiled(params).input_cells(label, n)
        if len(cells) == n:
            return cells
    if label == "difference":
        return ["records in exactly one of the two queries"][:n]
    if label == "cell_differences":
        from sandbox.mpc.query import QueryError, difference_cells

        try:
            cells = difference_cells(params.get("query"), params.get("differs_from_query"))
        except QueryError:
            cells = []
        if len(cells) == n:
            return [f"records in exactly one query: {c}" for c in cells]
    if label in ("counts", "noise"):
        cells = get(name).cells(params)
        if len(cells) == n:
            return [str(c) for c in cells]
    if label == "hist":
        return [f"age {a}" for a in range(n)]
    if label == "keys":
        return [f"record {k + 1}: person_key" for k in range(n)]
    if label == "levels" and name == "capture-patterns-by":
        from sandbox.mpc.overlap_catalogue import level_input_cells

        return level_input_cells(params, n)
    if label == "held" and name == "capture-patterns-by":
        from sandbox.mpc.overlap_catalogue import COVARIATES, covariates_of

        return [f"file has the {COVARIATES[c]} column ({c})" for c in covariates_of(params)][:n]
    if label == "indicators":
        width = len(vocab.MEANS_OF_CONTROL)
        return [f"record {k // width + 1}: {vocab.MEANS_OF_CONTROL[k % width]}" for k in range(n)]
    return [f"{label} {k}" for k in range(n)]


def for_run(name: str, params: dict[str, Any] | None) -> Computation:
    """The computation that actually runs `name` with `params` (the runner and every party ask this).

    Always `get(name)`, except a designed query counting distinct persons: that one links records and
    runs as `overlap_catalogue.DESIGNED_DISTINCT` (protocol designed_distinct, 64-bit keys), still
    named "designed-query".
    """
    comp = get(name)
    if name == "designed-query" and _compiled(params or {}).query.measure == "distinct":
        from sandbox.mpc.overlap_catalogue import DESIGNED_DISTINCT

        return DESIGNED_DISTINCT
    return comp


def get(name: str) -> Computation:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ComputationError(N_("unknown computation {name!r}; known: {known}").format(
            name=name, known=", ".join(names()))) from None


# --------------------------------------------------------------------------- age statistics

MAX_AGE = 99
QUANTILES = (("q1", 1, 4), ("median", 1, 2), ("q3", 3, 4))


def _age_histogram(df: pd.DataFrame, params: dict[str, Any]) -> list[int]:
    hist = [0] * (MAX_AGE + 1)
    if "age" not in df.columns:
        return hist
    for v in df["age"].astype(str):
        if v.strip().isdigit() and int(v) <= MAX_AGE:
            hist[int(v)] += 1
    return hist


_register(Computation(
    name="age-statistics",
    title=N_("Age: mean, quartiles and share of minors"),
    summary=N_("Mean, median and quartiles of the age at registration and the share of minors over all "
             "organisations' registrations (records with a known age)."),
    reveals=N_("The number of registrations with a known age, the mean age, the quartiles (whole years) and "
             "the share of minors (opened as the sum of ages and the number of minors, which with the number "
             "of registrations say exactly the same and divide exactly). Nothing is opened when fewer "
             "registrations than the small-cell threshold have an age; the share of minors is withheld when "
             "the minors or the adults are fewer than the threshold but not none (one opened yes/no flag). "
             "Each organisation's own ages stay hidden; the pooled histogram is never "
             "opened (quartiles come from secure comparisons on it)."),
    protocol="histogram_stats",
    cells=lambda p: ["records_with_age", "mean_age", "q1", "median", "q3", "share_minors"],
    local_inputs=lambda df, p: {"hist": _age_histogram(df, p)},
    needs_columns=("age",),
))


# --------------------------------------------------------------------------- count-filtered (issue 5)
# Counts per form (and in all) of the registrations matching a filter, for the disclosure playground
# (sandbox/views/disclosure.py). Parameters:
#   region               — keep records whose `region` equals this code (None: every region)
#   exclude_nationality  — drop records whose `nationality` (ISO alpha-2) equals this code
#   differs_from         — {"region": ..., "exclude_nationality": ...}: count instead the records in
#                          exactly ONE of the two queries (the size of the set difference)
#   noise_epsilon        — add discrete-Laplace noise inside MPC: each party draws its own share of the
#                          noise in its own process from the OS's CSPRNG (sandbox/mpc/noise.py) and
#                          secret-shares it next to its counts; None: exact. Run noisy queries with
#                          min_cell 0: the noise replaces the small-cell rule.

FILTER_CELLS = (*vocab.FORMS, "all")


def _filter_mask(df: pd.DataFrame, region: str | None, exclude_nationality: str | None) -> pd.Series:
    import pandas as pd

    keep = pd.Series(True, index=df.index)
    if region:
        keep &= df["region"].astype(str) == region if "region" in df.columns else False
    if exclude_nationality and "nationality" in df.columns:
        keep &= df["nationality"].astype(str) != exclude_nationality
    return keep


def _difference_mask(df: pd.DataFrame, params: dict[str, Any]) -> pd.Series:
    """Records matching exactly one of the query in `params` and the query `params['differs_from']`."""
    other = params.get("differs_from")
    if not isinstance(other, dict):
        raise ComputationError(N_("differs_from must be a query: {{'region': ..., 'exclude_nationality': ...}}"
                                  ).format())
    mask = _filter_mask(df, params.get("region"), params.get("exclude_nationality"))
    return mask ^ _filter_mask(df, other.get("region"), other.get("exclude_nationality"))


def _count_filtered_vector(df: pd.DataFrame, params: dict[str, Any]) -> list[int]:
    if params.get("differs_from"):
        mask = _difference_mask(df, params)
    else:
        mask = _filter_mask(df, params.get("region"), params.get("exclude_nationality"))
    return _count_vector(df[mask], "form", vocab.FORMS) + [int(mask.sum())]


_register(_aggregate(
    "count-filtered",
    N_("Registrations in a region, optionally excluding one nationality"),
    N_("Registrations per form (and in all) matching a filter; used by the disclosure playground."),
    lambda p: list(FILTER_CELLS),
    _count_filtered_vector,
    ("form",),
))


# --------------------------------------------------------------------------- query approval (one bit)
# Two forms of parameters:
#   playground (count-filtered) — {"region", "exclude_nationality", "differs_from": {...}}: one number each;
#   designed queries            — {"query": {...}, "differs_from_query": {...}}: the records in exactly one of
#                                 the two queries' answers, in all and per cell (sandbox.mpc.query), so that
#                                 the bit also refuses a difference of 1 to min_cell - 1 in any single cell.


def _approval_inputs(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, list[int]]:
    if "differs_from_query" in params:  # two designed queries (a "query" alone is the playground form)
        from sandbox.mpc.query import QueryError, difference_inputs

        try:
            return difference_inputs(params.get("query"), params.get("differs_from_query"), df)
        except QueryError as exc:
            raise ComputationError(N_("query approval: {error}").format(error=exc)) from None
    return {"difference": [int(_difference_mask(df, params).sum())]}


_register(Computation(
    name="query-approval",
    needs_params=True,
    title=N_("Query approval: does a new query differ enough from an approved one?"),
    summary=N_("Decides inside MPC whether the records of a new query and of an earlier approved query "
             "differ by at least the small-cell threshold; opens only that yes/no bit."),
    reveals=N_(
        "One bit: whether the two queries' sets of registrations differ by at least min_cell records "
        "(approved) or by fewer (refused, which includes not at all). Not the size of the difference, not "
        "which forms, not which organisation holds the records. The bit itself is information: a refusal of "
        "'region R without nationality N' after 'region R' tells everyone that fewer than min_cell "
        "registrations in R have nationality N (perhaps none); an approval tells that at least min_cell do."
    ),
    protocol="approval_bit",
    cells=lambda p: ["approved"],
    local_inputs=lambda df, p: _approval_inputs(df, p),
    needs_columns=("form",),
))


# --------------------------------------------------------------------------- designed query (issue 19)
# A query designed by the participants (sandbox/mpc/query.py): params {"query": {...}}. The runner
# validates it before anything starts; here a bad query is a ComputationError (the party reports it).


def _compiled(params: dict[str, Any]):
    from sandbox.mpc.query import QueryError, compile_query

    try:
        return compile_query(params.get("query"))
    except QueryError as exc:
        raise ComputationError(N_("designed query: {error}").format(error=exc)) from None


def _designed_reveals() -> str:
    from sandbox.mpc.query import GENERIC_REVEALS

    return GENERIC_REVEALS


_register(Computation(
    name="designed-query",
    needs_params=True,
    title=N_("A designed query: a measure per cell of up to two fields, with filters"),
    summary=N_("Counts (or the sum or mean of age) per cell of one or two fields of the record schema, "
             "among the registrations passing the filters, added up over all organisations."),
    reveals=_designed_reveals(),
    protocol="designed_query",
    cells=lambda p: _compiled(p).cells,
    local_inputs=lambda df, p: _compiled(p).local_inputs(df),
    needs_columns=("form",),
))


# --------------------------------------------------------------------------- record linkage (issue 4)
# capture-patterns and mo-cooccurrence live in their own module; it imports from this one, so it is
# imported here, at the very end, once everything it needs is defined.
from sandbox.mpc import overlap_catalogue as _overlap_catalogue  # noqa: E402

_overlap_catalogue.register(_register)
