"""Load a finished MPC run from its transcripts, and show one party's own view of it.

Everything here is read from the JSON-lines transcripts the party processes wrote
(`sandbox/mpc/transcript.py`); nothing is recomputed or illustrated. A party's view is exactly what
that organisation's process saw: its own inputs in the clear, the shares it received of every
organisation's inputs, the messages it sent and received, and the outputs opened to it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sandbox.mpc.transcript import read_transcript

__all__ = ["PartyView", "RunView", "ViewError", "facilitator_truth", "load_run", "party_view"]

_TRANSCRIPT_NAME = re.compile(r"^transcript-(\d+)-(.+)\.jsonl$")


class ViewError(ValueError):
    """A run cannot be shown (missing or unreadable transcripts); the message says why."""


@dataclass
class RunView:
    """All transcripts of one run, indexed by organisation, plus the run's summary when known."""

    computation: str
    orgs: list[str]  # in party order: orgs[i] is party i
    threshold: int
    modulus: int
    events: dict[str, list[dict[str, Any]]]
    result: dict[str, Any] = field(default_factory=dict)  # RunResult.to_json() when available
    out_dir: str | None = None

    @property
    def m(self) -> int:
        return len(self.orgs)

    def index(self, org: str) -> int:
        try:
            return self.orgs.index(org)
        except ValueError:
            raise ViewError(f"{org!r} did not take part in this run ({', '.join(self.orgs)})") from None

    def of_kind(self, org: str, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events[org] if e["event"] == kind]

    def own_inputs(self, org: str) -> dict[str, list[int]]:
        return {e["label"]: list(e["values"]) for e in self.of_kind(org, "own_input")}

    def own_input_cells(self, org: str) -> dict[str, list[str]]:
        """The name of every own input value, as the party logged it next to the value."""
        return {e["label"]: list(e["cells"]) for e in self.of_kind(org, "own_input")}

    def shares_of(self, holder: str, owner: str, label: str) -> list[int]:
        """The field elements `holder` holds of `owner`'s vector `label` (empty if none)."""
        event = self.share_event(holder, owner, label)
        return list(event["values"]) if event else []

    def share_event(self, holder: str, owner: str, label: str) -> dict[str, Any] | None:
        owner_i = self.index(owner)
        return next((e for e in self.of_kind(holder, "shares") if e["owner"] == owner_i and e["label"] == label),
                    None)

    def share_labels(self) -> list[str]:
        """Labels of the secret-shared input vectors, in the order the parties logged them."""
        labels: list[str] = []
        for org in self.orgs:
            for e in self.of_kind(org, "shares"):
                if e["label"] not in labels:
                    labels.append(e["label"])
        return labels

    def share_cells(self, owner: str, label: str) -> list[str]:
        """The names of `owner`'s shared values `label` (from any holder's transcript)."""
        for holder in self.orgs:
            event = self.share_event(holder, owner, label)
            if event:
                return list(event["cells"])
        return []


def load_run(source: Any) -> RunView:
    """Load a run from its output folder, a RunResult, or a RunResult.to_json() dict."""
    result: dict[str, Any] = {}
    if hasattr(source, "to_json"):
        result = source.to_json()
    elif isinstance(source, dict):
        result = dict(source)
    if result:
        paths = {org: Path(p) for org, p in (result.get("transcripts") or {}).items()}
        out_dir = result.get("out_dir")
        if not paths and out_dir:
            return load_run(out_dir)
    else:
        out_dir = str(source)
        folder = Path(source)
        if not folder.is_dir():
            raise ViewError(f"{folder}: no such run folder")
        found = []
        for p in folder.glob("transcript-*.jsonl"):
            match = _TRANSCRIPT_NAME.match(p.name)
            if match:
                found.append((int(match.group(1)), match.group(2), p))
        paths = {org: p for _, org, p in sorted(found)}
        summary = folder / "result.json"
        if summary.is_file():
            result = json.loads(summary.read_text(encoding="utf-8"))
    if not paths:
        raise ViewError("this run has no transcripts to show")
    events: dict[str, list[dict[str, Any]]] = {}
    for org, path in paths.items():
        if not path.is_file():
            raise ViewError(f"transcript of {org} not found: {path} (was the run's folder removed?)")
        events[org] = read_transcript(path)
    starts = {org: next((e for e in ev if e["event"] == "start"), None) for org, ev in events.items()}
    missing = [org for org, s in starts.items() if s is None]
    if missing:
        raise ViewError(f"transcript of {', '.join(missing)} has no start event (did the party fail?)")
    first = next(iter(starts.values()))
    orgs = list(first["orgs"])
    if sorted(orgs) != sorted(events):
        raise ViewError(f"the run had parties {orgs} but transcripts for {sorted(events)}")
    return RunView(
        computation=str(first["computation"]),
        orgs=orgs,
        threshold=int(first["t"]),
        modulus=int(first["modulus"]),
        events={org: events[org] for org in orgs},
        result=result,
        out_dir=out_dir,
    )


@dataclass
class PartyView:
    """What one organisation's process saw during the run."""

    org: str
    index: int
    own_inputs: pd.DataFrame  # label, index, cell, value: in the clear, only at this organisation
    shares: pd.DataFrame  # owner_org, label, index, cell, share: field elements it received
    public: pd.DataFrame  # owner_org, label, index, cell, value: public constants in place of shares
    messages: pd.DataFrame  # time, round, pc, direction, peer, peer_org, bytes, phase, preview
    opened: pd.DataFrame  # label, role, index, cell, value: everything opened to it (None = suppressed)
    phases: list[dict[str, Any]]  # name, begin, end (seconds since the party started)


def _phases(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    begins: dict[str, float] = {}
    out = []
    for e in events:
        if e["event"] != "phase":
            continue
        if e["state"] == "begin":
            begins[e["name"]] = e["time"]
        elif e["name"] in begins:
            out.append({"name": e["name"], "begin": begins.pop(e["name"]), "end": e["time"]})
    return out


def _phase_at(phases: list[dict[str, Any]], time: float) -> str:
    for p in phases:
        if p["begin"] <= time <= p["end"]:
            return p["name"]
    return "set-up" if not phases or time < phases[0]["begin"] else "wrap-up"


def party_view(run: RunView, org: str) -> PartyView:
    """One organisation's view, straight from its own transcript.

    Rounds are numbered by program-counter order: MPyC tags every message with the program counter
    of the protocol step it belongs to (the same value at every party), so the k-th distinct program
    counter in this party's transcript is round k.
    """
    index = run.index(org)
    events = run.events[org]
    own_rows = [
        {"label": e["label"], "index": k, "cell": cell, "value": v}
        for e in run.of_kind(org, "own_input")
        for k, (cell, v) in enumerate(zip(e["cells"], e["values"], strict=True))
    ]
    share_rows = [
        {"owner_org": e["owner_org"], "label": e["label"], "index": k, "cell": cell, "share": int(v)}
        for e in run.of_kind(org, "shares")
        for k, (cell, v) in enumerate(zip(e["cells"], e["values"], strict=True))
    ]
    public_rows = [
        {"owner_org": e["owner_org"], "label": e["label"], "index": k, "cell": cell, "value": int(v)}
        for e in run.of_kind(org, "public")
        for k, (cell, v) in enumerate(zip(e["cells"], e["values"], strict=True))
    ]
    phases = _phases(events)
    rounds: dict[int, int] = {}
    message_rows = []
    for e in run.of_kind(org, "message"):
        rounds.setdefault(e["pc"], len(rounds) + 1)
        message_rows.append(
            {
                "time": e["time"],
                "round": rounds[e["pc"]],
                "pc": e["pc"],
                "direction": e["dir"],
                "peer": e["peer"],
                "peer_org": run.orgs[e["peer"]],
                "bytes": e["bytes"],
                "phase": _phase_at(phases, e["time"]),
                "preview": e.get("preview", ""),
            }
        )
    opened_rows = []
    for e in run.of_kind(org, "opened"):
        values = e["values"] if isinstance(e["values"], list) else [e["values"]]
        cells = e.get("cells") or [e["label"]] * len(values)
        opened_rows += [
            {"label": e["label"], "role": e.get("role", "result"), "index": k, "cell": cell, "value": v}
            for k, (cell, v) in enumerate(zip(cells, values, strict=True))
        ]
    return PartyView(
        org=org,
        index=index,
        own_inputs=pd.DataFrame(own_rows, columns=["label", "index", "cell", "value"]),
        shares=pd.DataFrame(share_rows, columns=["owner_org", "label", "index", "cell", "share"]),
        public=pd.DataFrame(public_rows, columns=["owner_org", "label", "index", "cell", "value"]),
        messages=pd.DataFrame(
            message_rows,
            columns=["time", "round", "pc", "direction", "peer", "peer_org", "bytes", "phase", "preview"],
        ),
        opened=_with_object_column(opened_rows, ["label", "role", "index", "cell", "value"], "value"),
        phases=phases,
    )


def _with_object_column(rows: list[dict[str, Any]], columns: list[str], name: str) -> pd.DataFrame:
    """A table whose column `name` keeps None as None (pandas would turn it into NaN)."""
    table = pd.DataFrame(rows, columns=columns)
    table[name] = pd.Series([r[name] for r in rows], dtype=object, index=table.index)
    return table


def facilitator_truth(run: RunView, org: str) -> pd.DataFrame:
    """FACILITATOR ONLY: the shares `org` holds next to the true values they hide.

    The true values come from each owner's own transcript (`own_input`); no party ever sees this
    table in a real run. It exists so a facilitator can show that the shares look nothing like them.
    """
    shares = party_view(run, org).shares
    truth = {(o, label): values for o in run.orgs for label, values in run.own_inputs(o).items()}
    shares["true_value"] = [
        truth.get((r.owner_org, r.label), [None] * (r.index + 1))[r.index] for r in shares.itertuples()
    ]
    return shares
