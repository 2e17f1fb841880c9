"""The disclosure ledger: one row per secret value of a run, and who saw it in the clear.

Built from the transcripts only:

* every input value (one row per owner, label and cell): seen in the clear by its owner only
  (its `own_input` event); the share holders are the parties whose transcript has a `shares` event
  for that owner and label covering that cell;
* every output cell (from the `opened` events): "all parties (opened)" when the parties opened it,
  "nobody (suppressed)" when the opened value is empty because the small-cell rule withheld it;
* every intermediate protocol step (one row per program counter of the compute phase, the batch of
  values the parties re-shared or exchanged masked for a multiplication or comparison): "nobody
  (intermediate)". Intermediate values are grouped per step, not counted one by one.
"""

from __future__ import annotations

import pandas as pd

from sandbox.views.run_view import RunView, party_view

__all__ = ["COLUMNS", "OPENED", "OWNER_ONLY", "SUPPRESSED", "INTERMEDIATE", "ledger", "ledger_csv"]

OWNER_ONLY = "owner only"
OPENED = "all parties (opened)"
SUPPRESSED = "nobody (suppressed)"
INTERMEDIATE = "nobody (intermediate)"
COLUMNS = ["kind", "owner", "label", "index", "cell", "seen_in_clear_by", "share_holders", "opened_value"]


def ledger(run: RunView) -> pd.DataFrame:
    """One row per secret value; see the module docstring for the rules."""
    rows: list[dict] = []
    everyone = ", ".join(run.orgs)

    # Inputs: what each owner logged, and who holds shares of it.
    for owner in run.orgs:
        owner_i = run.index(owner)
        for label, values in run.own_inputs(owner).items():
            cells = run.cells(len(values))
            for k in range(len(values)):
                holders = [
                    h
                    for h in run.orgs
                    for e in run.of_kind(h, "shares")
                    if e["owner"] == owner_i and e["label"] == label and k < e["n"]
                ]
                rows.append(
                    {
                        "kind": "input",
                        "owner": owner,
                        "label": label,
                        "index": k,
                        "cell": cells[k],
                        "seen_in_clear_by": OWNER_ONLY,
                        "share_holders": ", ".join(holders),
                        "opened_value": None,
                    }
                )

    # Outputs: what was opened, to whom.
    opened_to: dict[tuple[str, int], list[str]] = {}
    opened_value: dict[tuple[str, int], object] = {}
    order: list[tuple[str, int]] = []
    for org in run.orgs:
        for e in run.of_kind(org, "opened"):
            values = e["values"] if isinstance(e["values"], list) else [e["values"]]
            for k, v in enumerate(values):
                key = (e["label"], k)
                if key not in opened_to:
                    order.append(key)
                    opened_to[key] = []
                    opened_value[key] = v
                opened_to[key].append(org)
    for label, k in order:
        value = opened_value[(label, k)]
        to = opened_to[(label, k)]
        if value is None:
            seen = SUPPRESSED
        elif len(to) == run.m:
            seen = OPENED
        else:
            seen = f"opened to {', '.join(to)}"
        n = sum(1 for key in order if key[0] == label)
        rows.append(
            {
                "kind": "output",
                "owner": "joint",
                "label": label,
                "index": k,
                "cell": run.cells(n)[k],
                "seen_in_clear_by": seen,
                "share_holders": everyone,
                "opened_value": value,
            }
        )

    # Intermediate steps of the compute phase, numbered as rounds in the first party's view.
    view = party_view(run, run.orgs[0])
    compute = view.messages[view.messages["phase"] == "compute"]
    for step, rnd in enumerate(sorted(compute["round"].unique()), start=1):
        rows.append(
            {
                "kind": "intermediate",
                "owner": "joint",
                "label": "compute step",
                "index": step,
                "cell": f"round {int(rnd)}",
                "seen_in_clear_by": INTERMEDIATE,
                "share_holders": everyone,
                "opened_value": None,
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["opened_value"] = pd.Series([r["opened_value"] for r in rows], dtype=object, index=table.index)
    return table


def ledger_csv(table: pd.DataFrame) -> str:
    """The ledger as CSV text (for a download button or a file)."""
    return table.to_csv(index=False)
