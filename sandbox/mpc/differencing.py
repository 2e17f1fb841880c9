"""The differencing protection for designed queries (issue 19), decided inside MPC (no Streamlit, no MPyC).

Two answered queries with the same group-by and measure but different filters can be subtracted cell by
cell: the difference is an answer about the records that only one of them selects. When those are one
person ("region R" minus "region R, every nationality group but G"), the small-cell rule of each query does
not help: both answers have large cells. So before a designed query runs, it is compared with every earlier
answered query of the room (or of the session) that `needs_differencing_check`: for each, the computation
`query-approval` (sandbox/mpc/protocols/approval_bit.py) opens ONE bit, "the records answering exactly one of
the two queries number at least max(min_cell, 1), and no single cell differs by 1 to max(min_cell, 1) - 1
records". The first refusal stops the query; nothing else is opened (not the size of the difference, not the
cell). The bits are still information, and stated as such in `REFUSAL_TELLS`.

What is not compared (said in docs/workshop.md): queries with a different group-by or measure (their cells
cannot be subtracted directly, but sums over cells sometimes can), and queries run over a different set of
organisations.

Distinct persons (measure {"distinct": "person"}) are NOT checked: the check counts registrations, and the
difference of two distinct-person answers is about persons, not records. Rather than treat it as a record
count, a distinct-person query that would need a check (an earlier distinct-person query with the same
group-by but other filters) is refused before anything runs, with `QueryError(DISTINCT_DIFFERENCING)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.i18n import N_
from sandbox.mpc.query import DISTINCT_DIFFERENCING, QueryError, needs_differencing_check, parse_query

__all__ = ["REFUSAL_TELLS", "Check", "DesignedRun", "checks_needed", "run_designed_query"]

REFUSAL_TELLS = N_("A refusal tells everyone one bit: that the two queries' answers differ by fewer than "
                   "min_cell records in all, or by 1 to min_cell - 1 records in some cell (possibly by none at "
                   "all). It does not say by how many, nor in which cell.")


@dataclass
class Check:
    """One differencing check: the new query against one earlier answered query."""

    earlier_label: str
    earlier: dict[str, Any]
    approved: bool
    match: bool | None  # the check's own plaintext check (sandbox only)
    seconds: float = 0.0


@dataclass
class DesignedRun:
    """The outcome of a designed query with its differencing checks: `run` is None when refused."""

    query: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    run: dict[str, Any] | None = None

    @property
    def refused_by(self) -> Check | None:
        return next((c for c in self.checks if not c.approved), None)


def checks_needed(query: Any, earlier: list[tuple[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The earlier (label, query) pairs the new query must be checked against, each distinct query once."""
    seen: list[dict[str, Any]] = []
    out = []
    for label, q in earlier:
        j = parse_query(q).to_json()
        if needs_differencing_check(query, j) and j not in seen:
            seen.append(j)
            out.append((label, j))
    return out


def run_designed_query(
    scenario: Any, data_dir: str | Path, query: Any, *, orgs: list[str], earlier: list[tuple[str, Any]],
    min_cell: int, run: Callable[..., Any] | None = None, **run_kwargs: Any,
) -> DesignedRun:
    """Check `query` against the earlier answered queries (one `query-approval` run each, stopping at the
    first refusal), then run it as `designed-query` when every check approved.

    `min_cell` is the threshold when the query has none of its own. `run` defaults to `run_mpc`; extra
    keyword arguments (threshold, timeout, cancel, nice, ...) go to every run.
    """
    if run is None:
        from sandbox.mpc.runner import run_mpc as run
    q = parse_query(query)
    threshold = q.min_cell if q.min_cell is not None else int(min_cell)
    new = {**q.to_json(), "min_cell": threshold}
    outcome = DesignedRun(query=new)
    needed = checks_needed(new, earlier)
    if needed and q.measure == "distinct":
        raise QueryError(N_("compared with {label}: {reason}").format(label=needed[0][0], reason=DISTINCT_DIFFERENCING))
    for label, old in needed:
        result = run(scenario, data_dir, "query-approval", orgs=orgs,
                     params={"query": new, "differs_from_query": old, "min_cell": threshold}, **run_kwargs)
        check = Check(label, old, bool(result.revealed["approved"]), result.match, result.seconds)
        outcome.checks.append(check)
        if not check.approved:
            return outcome
    outcome.run = run(scenario, data_dir, "designed-query", orgs=orgs,
                      params={"query": new, "min_cell": threshold}, **run_kwargs).to_json()
    return outcome
