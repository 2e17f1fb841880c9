"""Catalogue entries that link records across organisations: capture patterns (also by covariate), MO
co-occurrence, and designed queries counting distinct persons (`DESIGNED_DISTINCT`, not in the catalogue).

Pure Python (no MPyC): what each organisation prepares from its own file (the plaintext check is
`sandbox/mpc/oracle.py`, which shares no code with this module).
The MPC halves are `sandbox/mpc/protocols/capture_patterns.py`, `capture_patterns_by.py`,
`mo_cooccurrence.py` and `designed_distinct.py`, which share the secure join in
`sandbox/mpc/protocols/overlap.py`. Registered at the end of `computations.py`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.mpc.computations import N_, Computation, ComputationError
from synthetic import vocab

if TYPE_CHECKING:  # pandas and NumPy load where records are prepared, not when a command starts
    import pandas as pd

__all__ = ["CAPTURE_PATTERNS", "CAPTURE_PATTERNS_BY", "COVARIATES", "DESIGNED_DISTINCT", "MAX_BY_CELLS", "MISSING",
           "MO_COOCCURRENCE", "by_cells", "capture_pattern_cells", "covariate_levels", "covariates_of", "mo_cells",
           "register"]

SEP = vocab.MULTI_VALUE_SEPARATOR
KEY_BITS = 64

_JOIN_REVEALS = N_(
    " Technically: the records are secret-shared, shuffled by re-sharing over every (t+1)-subset of "
    "parties, and grouped by opened keyed pseudonyms (1/(k+key))·G in Ed25519 (Dodis–Yampolskiy), which "
    "reveals the list sizes and the multiset of group sizes (how many persons are on exactly s lists); "
    "secure against a semi-honest minority of t < m/2 colluding parties under q-DDHI, with keys unique "
    "within each list."
)


def _orgs(params: dict[str, Any], frames: dict[str, pd.DataFrame] | None = None) -> list[str]:
    if "orgs" in params:
        return list(params["orgs"])
    if frames is not None:
        return list(frames)
    raise ComputationError(N_("this computation needs the run's organisations (params['orgs'])"))


def _keys(df: pd.DataFrame) -> list[int]:
    """The 64-bit linkage keys of one organisation's records; each key at most once per list."""
    keys = df["person_key"].astype(str)
    bad = ~keys.str.fullmatch(r"[0-9a-f]{16}")
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise ComputationError(N_("row {row}: person_key {key!r} is not 16 lowercase hex characters").format(
            row=row + 1, key=keys.iloc[row]))
    if keys.duplicated().any():
        row = int(keys.duplicated().to_numpy().argmax())
        raise ComputationError(N_("row {row}: person_key {key!r} occurs twice in one list; the overlap "
                                  "computations need each person at most once per organisation").format(
            row=row + 1, key=keys.iloc[row]))
    return [int(k, 16) for k in keys]


# ------------------------------------------------------------------------------- capture patterns


def _pattern_lists(mask: int, orgs: list[str]) -> list[str]:
    return [org for j, org in enumerate(orgs) if mask >> j & 1]


def capture_pattern_cells(params: dict[str, Any]) -> list[str]:
    """One cell per non-empty set of organisations, ordered by bitmask (bit j = j-th organisation)."""
    orgs = _orgs(params)
    return [" + ".join(_pattern_lists(b, orgs)) for b in range(1, 1 << len(orgs))]


CAPTURE_PATTERNS = Computation(
    name="capture-patterns",
    title=N_("Who is known to whom: capture-pattern counts"),
    summary=N_("For every combination of organisations: how many distinct persons are registered by exactly "
             "those organisations (linked on the person_key pseudonym). The input of the size estimate."),
    reveals=N_(
        "The number of persons per combination of organisations (combinations with nobody are left out), "
        "and which combinations had fewer persons than the small-cell threshold (those stay hidden). "
        "Also visible to every organisation: how many records each organisation has, and how many persons "
        "are known to exactly one, exactly two, ... organisations — so a hidden count can sometimes be "
        "worked out by subtraction, and the count for 'all organisations' is always visible. Nobody learns "
        "which persons are on which list, or another organisation's keys."
    ) + _JOIN_REVEALS,
    protocol="capture_patterns",
    cells=capture_pattern_cells,
    local_inputs=lambda df, p: {"keys": _keys(df)},
    needs_columns=("person_key",),
    input_bits=KEY_BITS,
)


# ------------------------------------------------------------------------------ MO co-occurrence


def mo_cells(params: dict[str, Any] | None = None) -> list[str]:
    """Cells 'a' (diagonal) and 'a + b' (a before b in vocab order), row by row."""
    names = vocab.MEANS_OF_CONTROL
    return [a if i == j else f"{a} + {names[j]}" for i, a in enumerate(names) for j in range(i, len(names))]


def _indicator_rows(df: pd.DataFrame) -> list[list[int]]:
    """One 0/1 row per record: which means of control the record mentions (unknown values ignored)."""
    index = {v: i for i, v in enumerate(vocab.MEANS_OF_CONTROL)}
    rows = []
    values = df["means_of_control"].astype(str) if "means_of_control" in df.columns else [""] * len(df)
    for cell in values:
        row = [0] * len(index)
        for v in cell.split(SEP) if cell else []:
            if v in index:
                row[index[v]] = 1
        rows.append(row)
    return rows


def _mo_inputs(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, list[int]]:
    keys = _keys(df)
    return {"keys": keys, "indicators": [b for row in _indicator_rows(df) for b in row]}


MO_COOCCURRENCE = Computation(
    name="mo-cooccurrence",
    title=N_("Means of control among persons known to several organisations"),
    summary=N_("Among persons registered by two or more organisations: for each pair of means of control, how "
             "many of them had both recorded by any of their organisations (the diagonal: one means)."),
    reveals=N_(
        "Per pair of means of control: the number of persons known to two or more organisations for whom "
        "both were recorded somewhere, and which cells were below the small-cell threshold (hidden). Also "
        "visible: how many records each organisation has and how many persons are known to exactly one, "
        "two, ... organisations. Nobody learns who these persons are or which organisation recorded what."
    ) + _JOIN_REVEALS,
    protocol="mo_cooccurrence",
    cells=mo_cells,
    local_inputs=_mo_inputs,
    needs_columns=("person_key",),
    input_bits=KEY_BITS,
)


# ------------------------------------------------------------------- capture patterns by covariate

# Covariate -> (field of sandbox.mpc.query that derives it, the record column it needs). Levels are the
# field's codes in code-list order, then MISSING. "form" is multi-valued: a record's level is the FIRST
# form in the code list's order (sexual, labour, criminal, other) among its forms.
COVARIATES: dict[str, str] = {"sex": "sex", "minor": "age", "dutch": "nationality", "form": "form"}
MISSING = "missing"
MAX_BY_CELLS = 12_000  # capture patterns x level combinations: every cell is a secure comparison
DEFAULT_COVARIATES = ("sex", "minor")


def covariate_levels(name: str) -> list[str]:
    """The levels of one covariate: its codes in code-list order, then 'missing'."""
    from sandbox.mpc.query import FIELDS

    return [*FIELDS[name].codes, MISSING]


def covariates_of(params: dict[str, Any]) -> list[str]:
    """The run's covariates (params['covariates'], a list or a comma-separated text), checked.

    ComputationError naming the covariate and the allowed ones for anything unknown or repeated, and when
    patterns x level combinations exceed MAX_BY_CELLS. Called before anything is secret-shared.
    """
    raw = params.get("covariates", list(DEFAULT_COVARIATES))
    if isinstance(raw, str):
        raw = [c.strip() for c in raw.split(",") if c.strip()]
    if not isinstance(raw, list | tuple) or not raw:
        raise ComputationError(N_("covariates must be a non-empty list of {allowed}, not {raw!r}").format(
            allowed=", ".join(COVARIATES), raw=raw))
    for c in raw:
        if c not in COVARIATES:
            raise ComputationError(N_("unknown covariate {name!r}; allowed: {allowed}").format(
                name=c, allowed=", ".join(COVARIATES)))
    repeated = sorted({c for c in raw if list(raw).count(c) > 1})
    if repeated:
        raise ComputationError(N_("covariate(s) listed more than once: {names}").format(
            names=", ".join(repeated)))
    covariates = list(raw)
    if "orgs" in params:
        cells = ((1 << len(params["orgs"])) - 1)
        for c in covariates:
            cells *= len(covariate_levels(c))
        if cells > MAX_BY_CELLS:
            raise ComputationError(N_(
                "{m} organisations and covariates {names} give {cells} cells (capture patterns x level "
                "combinations); at most {most}: choose fewer covariates or organisations").format(
                m=len(params["orgs"]), names=", ".join(covariates), cells=f"{cells:,}", most=f"{MAX_BY_CELLS:,}"))
    return covariates


def missing_covariate_columns(covariates: list[str], columns_per_org: dict[str, list[str]]) -> list[str]:
    """The covariates whose record column no organisation of the run has (their level would be 'missing' for all)."""
    return [c for c in covariates if not any(COVARIATES[c] in cols for cols in columns_per_org.values())]


def _level_name(covariates: list[str], combo: tuple[str, ...]) -> str:
    return ", ".join(f"{c}={v}" for c, v in zip(covariates, combo, strict=True))


def by_cells(params: dict[str, Any]) -> list[str]:
    """One cell per (capture pattern, level combination): patterns by bitmask, then levels (first covariate outer)."""
    covariates = covariates_of(params)
    patterns = capture_pattern_cells(params)
    combos = list(itertools.product(*(covariate_levels(c) for c in covariates)))
    return [f"{p} | {_level_name(covariates, combo)}" for p in patterns for combo in combos]


def _level_rows(df: pd.DataFrame, covariates: list[str]) -> list[list[int]]:
    """Per record, per covariate, a one-hot row over the covariate's known levels (all zero: missing)."""
    from sandbox.mpc.query import FIELDS, record_values

    rows = [[] for _ in range(len(df))]
    for c in covariates:
        codes = FIELDS[c].codes
        for row, values in zip(rows, record_values(df, c), strict=True):
            first = next((code for code in codes if code in values), None)  # form: first in code-list order
            row.extend(1 if code == first else 0 for code in codes)
    return rows


def _by_inputs(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, list[int]]:
    covariates = covariates_of(params)
    return {"keys": _keys(df),
            "held": [1 if COVARIATES[c] in df.columns else 0 for c in covariates],
            "levels": [b for row in _level_rows(df, covariates) for b in row]}


def level_input_cells(params: dict[str, Any], n: int) -> list[str]:
    """Names of the flattened one-hot level inputs: 'record k: sex=F', ..."""
    names = [f"{c}={code}" for c in covariates_of(params) for code in covariate_levels(c)[:-1]]
    return [f"record {k // len(names) + 1}: {names[k % len(names)]}" for k in range(n)] if names else []


CAPTURE_PATTERNS_BY = Computation(
    name="capture-patterns-by",
    title=N_("Capture patterns per covariate level (sex, minor, Dutch, form)"),
    summary=N_("For every combination of organisations and every combination of covariate levels: how many "
             "distinct persons are registered by exactly those organisations and have those levels. A "
             "person's level is the one recorded by the first organisation (in the run's order) that "
             "recorded one, else 'missing'; for form, the first form in the code list's order. The input of "
             "a size estimate with covariates."),
    reveals=N_(
        "The number of persons per combination of organisations and covariate levels, for every cell with "
        "at least the small-cell threshold of persons. Every other cell is withheld, empty cells included "
        "(so a withheld cell does not tell whether anybody is in it; with the threshold at 0 or 1 every "
        "non-empty cell is shown, and a combination known to one person then shows that person's levels). "
        "The opened cells of a combination of organisations add up to at most its capture-pattern count, "
        "and to exactly that count when none is withheld: this reveals what capture-patterns reveals and "
        "more -- how the persons of each combination split over the levels. Also visible: how many records "
        "each organisation has, how many persons are known to exactly one, two, ... organisations, and "
        "which covariate columns each organisation's file has; a withheld total can sometimes be worked "
        "out by subtraction from those. Nobody learns which persons are on which list, any single "
        "record's covariate value, or which organisation's value decided a person's level."
    ) + _JOIN_REVEALS,
    protocol="capture_patterns_by",
    cells=by_cells,
    local_inputs=_by_inputs,
    needs_columns=("person_key",),
    input_bits=KEY_BITS,
)


# ------------------------------------------------------- designed query: distinct persons (issue 19)
# Not in the catalogue: a designed query whose measure is {"distinct": "person"} runs as this computation
# (`computations.for_run`); the run, its result and its check are still called "designed-query".


def _distinct_inputs(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, list[int]]:
    from sandbox.mpc.computations import _compiled

    compiled = _compiled(params)
    return {"keys": _keys(df), **compiled.local_inputs(df)}


def _distinct_cells(params: dict[str, Any]) -> list[str]:
    from sandbox.mpc.computations import _compiled

    return _compiled(params).cells


DESIGNED_DISTINCT = Computation(
    name="designed-query",
    needs_params=True,
    title=N_("A designed query: distinct persons per cell of up to two fields, with filters"),
    summary=N_("The number of distinct persons (linked on person_key) per cell of one or two fields, among "
             "the persons with a registration passing the filters, over all organisations together."),
    reveals=N_(
        "Per cell: the number of distinct persons with at least one registration that passes the filters and "
        "has the cell's value(s) (both values from the same registration), for every cell with 0 or at least "
        "the small-cell threshold of persons; the other cells are named as withheld. Also visible to every "
        "organisation: how many records each organisation has, and how many persons are on exactly one, "
        "two, ... lists (over all records, filtered or not). Nobody learns which persons are in a cell, "
        "which records passed the filters, or which organisation's record put a person in a cell."
    ) + _JOIN_REVEALS,
    protocol="designed_distinct",
    cells=_distinct_cells,
    local_inputs=_distinct_inputs,
    needs_columns=("person_key",),
    input_bits=KEY_BITS,
)


def register(add: Callable[[Computation], None]) -> None:
    add(CAPTURE_PATTERNS)
    add(CAPTURE_PATTERNS_BY)
    add(MO_COOCCURRENCE)
