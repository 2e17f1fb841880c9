"""The catalogue of workshop computations (pure Python: no MPyC, no Streamlit).

Each computation has two halves that must agree exactly:

* `local_inputs(df, params)` — what one organisation prepares from its OWN records, in the clear,
  on its own machine (e.g. its own counts per form). Only this leaves the organisation, and only
  as secret shares.
* `oracle(frames, params)` — the same figure computed in the clear from the pooled files, as a
  trusted third party would. The sandbox uses it to check every MPC result; a real deployment has
  no such oracle.

The MPC half lives in `sandbox/mpc/protocols/<protocol>.py` and runs only in party processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthetic import vocab

__all__ = ["CATALOGUE", "Computation", "ComputationError", "get", "names"]

SEP = vocab.MULTI_VALUE_SEPARATOR


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
    oracle: Callable[[dict[str, pd.DataFrame], dict[str, Any]], dict[str, Any]]
    needs_columns: tuple[str, ...] = field(default=())


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


def suppress(values: list[int], min_cell: int) -> tuple[list[int | None], list[int]]:
    """Disclosure control: a cell below `min_cell` is withheld (None); returns (values, suppressed indices).

    A cell of 0 is not suppressed: "nobody" is not a small group that can be singled out.
    """
    out: list[int | None] = []
    hidden: list[int] = []
    for i, v in enumerate(values):
        if 0 < v < min_cell:
            out.append(None)
            hidden.append(i)
        else:
            out.append(int(v))
    return out, hidden


def _aggregate(name: str, title: str, summary: str, cells_fn, local_fn, needs) -> Computation:
    """A computation that adds up one count vector per organisation and opens suppressed cells only."""

    def oracle(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> dict[str, Any]:
        total = np.zeros(len(cells_fn(params)), dtype=np.int64)
        for df in frames.values():
            total += np.asarray(local_fn(df, params), dtype=np.int64)
        values, hidden = suppress(total.tolist(), int(params.get("min_cell", 0)))
        cells = cells_fn(params)
        return {"revealed": dict(zip(cells, values, strict=True)), "suppressed": [cells[i] for i in hidden]}

    return Computation(
        name=name,
        title=title,
        summary=summary,
        reveals=(
            "Only the totals over all organisations, and for each cell whether it was below the "
            "small-cell threshold (then its value stays hidden from everyone). No organisation's own "
            "counts are revealed."
        ),
        protocol="secure_sum",
        cells=cells_fn,
        local_inputs=lambda df, params: {"counts": local_fn(df, params)},
        oracle=oracle,
        needs_columns=needs,
    )


def _pairs(rows, cols) -> list[str]:
    return [f"{r} × {c}" for r in rows for c in cols]


CATALOGUE: dict[str, Computation] = {}


def _register(c: Computation) -> None:
    CATALOGUE[c.name] = c


_register(_aggregate(
    "counts-by-form",
    "Registrations per form of exploitation",
    "How many registrations each form of exploitation has across all organisations together.",
    lambda p: list(vocab.FORMS),
    lambda df, p: _count_vector(df, "form", vocab.FORMS),
    ("form",),
))
_register(_aggregate(
    "crosstab-form-sector",
    "Form of exploitation × sector",
    "Registrations per form and sector, added up over all organisations.",
    lambda p: _pairs(vocab.FORMS, vocab.SECTORS),
    lambda df, p: _crosstab_vector(df, "form", vocab.FORMS, "sector", vocab.SECTORS),
    ("form",),
))
_register(_aggregate(
    "crosstab-nationality-form",
    "Nationality group × form of exploitation",
    "Registrations per nationality group and form, added up over all organisations.",
    lambda p: _pairs(vocab.NATIONALITY_GROUPS, vocab.FORMS),
    lambda df, p: _crosstab_vector(
        df, "nationality", vocab.NATIONALITY_GROUPS, "form", vocab.FORMS, row_map=vocab.nationality_group
    ),
    ("form",),
))
_register(_aggregate(
    "crosstab-region-form",
    "Police region × form of exploitation",
    "Registrations per police region and form, added up over all organisations.",
    lambda p: _pairs(vocab.REGIONS, vocab.FORMS),
    lambda df, p: _crosstab_vector(df, "region", vocab.REGIONS, "form", vocab.FORMS),
    ("form",),
))


def names() -> list[str]:
    return sorted(CATALOGUE)


def get(name: str) -> Computation:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ComputationError(f"unknown computation {name!r}; known: {', '.join(names())}") from None
