"""Turn MPC results into tables for display (pure pandas; no Streamlit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sandbox.mpc import oracle
from sandbox.mpc.inputs import read_own_records

__all__ = ["designed_table", "own_counts", "own_slices", "revealed_table", "slices_table"]


def _pattern_cell(p: dict[str, Any]) -> str:
    """'police + kmar' for a capture pattern; 'police + kmar | sex=F, minor=adult' with covariate levels."""
    name = " + ".join(p["lists"])
    if p.get("levels"):
        name += " | " + ", ".join(f"{c}={v}" for c, v in p["levels"].items())
    return name


def revealed_table(revealed: Any, oracle: Any = None) -> pd.DataFrame:
    """One row per opened cell: cell, revealed value (None = suppressed), oracle value."""
    if isinstance(revealed, dict):
        rows = [{"cell": k, "revealed": v} for k, v in revealed.items()]
        if isinstance(oracle, dict):
            for r in rows:
                r["oracle"] = oracle.get(r["cell"])
    elif isinstance(revealed, list) and (not revealed or isinstance(revealed[0], dict)):
        rows = [{"cell": _pattern_cell(p), "revealed": p["count"]} for p in revealed]
        if isinstance(oracle, list):
            o = {_pattern_cell(p): p["count"] for p in oracle}
            for r in rows:
                r["oracle"] = o.get(r["cell"])
    else:
        rows = [{"cell": "value", "revealed": revealed, "oracle": oracle}]
    return pd.DataFrame(rows)


def own_counts(frames: dict[str, pd.DataFrame], computation: str, params: dict[str, Any]) -> dict[str, dict]:
    """Each organisation's own count per cell, from its own records (aggregate computations only; else {}).

    Computed by the independent oracle (`sandbox.mpc.oracle.own_counts`), not by the parties' preparation.
    """
    return oracle.own_counts(frames, computation, params) or {}


def own_slices(data_dir: str | Path, orgs: list[str], computation: str, params: dict[str, Any]) -> pd.DataFrame:
    """What each organisation holds itself for an aggregate computation: its own count per cell."""
    p = {**params, "orgs": orgs}
    frames = {org: read_own_records(Path(data_dir) / f"{org}.csv") for org in orgs}
    return slices_table(own_counts(frames, computation, p))


def slices_table(counts: dict[str, dict]) -> pd.DataFrame:
    """`own_counts` as one row per (organisation, cell): columns organisation, cell, count."""
    rows = [{"organisation": org, "cell": cell, "count": n} for org, per in counts.items() for cell, n in per.items()]
    return pd.DataFrame(rows, columns=["organisation", "cell", "count"])


def designed_table(run: dict[str, Any], cells: list[str]) -> pd.DataFrame:
    """A designed query's result, one row per cell in the query's order: revealed value, status
    (opened / suppressed / empty) and the plaintext check's value (None where the oracle did not open it)."""
    revealed, oracle_values = run.get("revealed") or {}, run.get("oracle") or {}
    suppressed, empty = set(run.get("suppressed") or []), set(run.get("empty") or [])
    rows = []
    for cell in cells:
        status = "suppressed (below min_cell)" if cell in suppressed else "empty (no records)" if cell in empty \
            else "opened"
        rows.append({"cell": cell, "revealed": revealed.get(cell), "status": status,
                     "oracle": oracle_values.get(cell) if isinstance(oracle_values, dict) else None})
    table = pd.DataFrame(rows, columns=["cell", "revealed", "status", "oracle"])
    table["revealed"] = pd.Series([r["revealed"] for r in rows], dtype=object, index=table.index)
    table["oracle"] = pd.Series([r["oracle"] for r in rows], dtype=object, index=table.index)
    return table
