"""The disclosure ledger: one row per value of a run, and who saw it in the clear -- read from the transcripts.

Nothing here is written by hand: every row and every "who" comes from the parties' own transcripts
(`sandbox/mpc/transcript.py`):

* inputs (`own_input`): seen in the clear by the organisation whose transcript logs it as its own input
  (no other transcript holds another party's inputs in the clear: tests/test_attacks.py checks that);
  the share holders are the parties whose transcript has a `shares` event for that
  owner, label and cell;
* public constants (`public`): every party holds the same value, so all parties "see" it;
* everything opened or received in the clear (`opened`, with its role: the agreed result, a leak by
  design such as list sizes, pseudonyms or small-cell flags, a masked opening, or a permutation known to
  one subset of parties): seen by exactly the parties whose transcript holds it; a result cell whose
  opened value is empty was withheld by the small-cell rule ("nobody (suppressed)");
* long vectors (more than `ROWS_PER_VECTOR` values, e.g. one key or one pseudonym per record) get one
  summary row;
* intermediate protocol steps of the compute phase (one row per program counter): shares and masked
  values only, "nobody (intermediate)".
"""

from __future__ import annotations

import pandas as pd

from sandbox.i18n import gettext as _
from sandbox.views.run_view import RunView, party_view

__all__ = ["COLUMNS", "INTERMEDIATE", "OPENED", "ROWS_PER_VECTOR", "SUPPRESSED", "ledger", "ledger_csv",
           "seen_label"]

OPENED = "all parties (opened)"
SUPPRESSED = "nobody (suppressed)"
INTERMEDIATE = "nobody (intermediate)"
ROWS_PER_VECTOR = 60
COLUMNS = ["kind", "owner", "label", "index", "cell", "seen_in_clear_by", "share_holders", "opened_value"]


def seen_label(value: str) -> str:
    """A `seen_in_clear_by` value for the page, in the current language (the ledger itself stays English)."""
    return {OPENED: _("all parties (opened)"), SUPPRESSED: _("nobody (suppressed)"),
            INTERMEDIATE: _("nobody (intermediate)")}.get(value, value)


def _who(run: RunView, orgs: list[str]) -> str:
    return OPENED if len(orgs) == run.m else ", ".join(orgs)


def ledger(run: RunView) -> pd.DataFrame:
    """One row per value; see the module docstring for the rules."""
    rows: list[dict] = []
    everyone = ", ".join(run.orgs)

    def add(kind, owner, label, index, cell, seen, holders, value=None):
        rows.append({"kind": kind, "owner": owner, "label": label, "index": index, "cell": cell,
                     "seen_in_clear_by": seen, "share_holders": holders, "opened_value": value})

    # Inputs: who logged each value in the clear, and who holds shares of it.
    for owner in run.orgs:
        for event in run.of_kind(owner, "own_input"):
            label, cells = event["label"], event["cells"]  # logged in the clear in the owner's transcript only
            held = {h: run.share_event(h, owner, label) for h in run.orgs}
            if len(cells) > ROWS_PER_VECTOR:
                holders = [h for h, e in held.items() if e is not None and e["n"] == event["n"]]
                add("input", owner, label, 0, f"{event['n']} values", owner, ", ".join(holders))
                continue
            for k, cell in enumerate(cells):
                holders = [h for h, e in held.items() if e is not None and k < e["n"]]
                add("input", owner, label, k, cell, owner, ", ".join(holders))

    # Public constants standing in for shares: the same value at every party.
    for owner in run.orgs:
        owner_i = run.index(owner)
        labels = {e["label"] for org in run.orgs for e in run.of_kind(org, "public") if e["owner"] == owner_i}
        for label in sorted(labels):
            holders = [org for org in run.orgs
                       if any(e["label"] == label and e["owner"] == owner_i for e in run.of_kind(org, "public"))]
            event = next(e for e in run.of_kind(holders[0], "public") if e["label"] == label and e["owner"] == owner_i)
            add("public", owner, label, 0, f"{event['n']} values", _who(run, holders), "", event["values"][0])

    # Everything opened or received in the clear, with the parties whose transcript holds it.
    seen: dict[str, list[str]] = {}
    first: dict[str, dict] = {}
    for org in run.orgs:
        for event in run.of_kind(org, "opened"):
            seen.setdefault(event["label"], []).append(org)
            first.setdefault(event["label"], event)
    for label, event in first.items():
        role = event.get("role", "result")
        kind = "output" if role == "result" else role
        who = _who(run, seen[label])
        values = event["values"] if isinstance(event["values"], list) else [event["values"]]
        cells = event.get("cells") or [label] * len(values)
        if len(values) > ROWS_PER_VECTOR:
            add(kind, "joint", label, 0, f"{len(values)} values", who, everyone, f"{values[0]!s:.20} …")
            continue
        for k, (cell, value) in enumerate(zip(cells, values, strict=True)):
            add(kind, "joint", label, k, cell, SUPPRESSED if role == "result" and value is None else who,
                everyone, value)

    # Intermediate steps of the compute phase, numbered as rounds in the first party's view.
    view = party_view(run, run.orgs[0])
    compute = view.messages[view.messages["phase"] == "compute"]
    for step, rnd in enumerate(sorted(compute["round"].unique()), start=1):
        add("intermediate", "joint", "compute step", step, f"round {int(rnd)}", INTERMEDIATE, everyone)
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["opened_value"] = pd.Series([r["opened_value"] for r in rows], dtype=object, index=table.index)
    return table


def ledger_csv(table: pd.DataFrame) -> str:
    """The ledger as CSV text (for a download button or a file)."""
    return table.to_csv(index=False)
