"""Catalogue entries that link records across organisations: capture patterns and MO co-occurrence.

Pure Python (no MPyC): what each organisation prepares from its own file (the plaintext check is
`sandbox/mpc/oracle.py`, which shares no code with this module).
The MPC halves are `sandbox/mpc/protocols/capture_patterns.py` and `mo_cooccurrence.py`, which share
the secure join in `sandbox/mpc/protocols/overlap.py`. Registered at the end of `computations.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.mpc.computations import N_, Computation, ComputationError
from synthetic import vocab

if TYPE_CHECKING:  # pandas and NumPy load where records are prepared, not when a command starts
    import pandas as pd

__all__ = ["CAPTURE_PATTERNS", "MO_COOCCURRENCE", "capture_pattern_cells", "mo_cells", "register"]

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
    raise ComputationError("this computation needs the run's organisations (params['orgs'])")


def _keys(df: pd.DataFrame) -> list[int]:
    """The 64-bit linkage keys of one organisation's records; each key at most once per list."""
    keys = df["person_key"].astype(str)
    bad = ~keys.str.fullmatch(r"[0-9a-f]{16}")
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise ComputationError(f"row {row + 1}: person_key {keys.iloc[row]!r} is not 16 lowercase hex "
                               "characters")
    if keys.duplicated().any():
        row = int(keys.duplicated().to_numpy().argmax())
        raise ComputationError(f"row {row + 1}: person_key {keys.iloc[row]!r} occurs twice in one list; "
                               "the overlap computations need each person at most once per organisation")
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


def register(add: Callable[[Computation], None]) -> None:
    add(CAPTURE_PATTERNS)
    add(MO_COOCCURRENCE)
