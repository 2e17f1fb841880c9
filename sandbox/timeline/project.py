"""Governance Monte Carlo: a SimPy discrete-event model of the whole MPC project.

Every phase of a `GovernancePlan` becomes one SimPy process (per organisation for per_org phases).
A phase instance waits for its dependencies, possibly pauses (pause risk), queues for its team
(resource), works for a random duration and possibly loops back to an earlier phase (a regulator
question). One run gives one completion date; many seeded runs give its distribution.

Critical path: in every run we follow, from the phase instance that finished last, the dependency
that finished last before it ("what it was waiting for"). The reported `critical_path` is that
chain in the *representative run* (the run whose completion is closest to the median); pauses,
queueing for a team and rework are charged to the phase where they happened. `criticality` gives,
per phase, the share of runs in which it was on the critical chain, and `most_frequent_chain` the
most common chain across runs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import simpy

from sandbox.i18n import N_

from .governance import GovernancePlan, Phase

__all__ = ["ProjectResult", "naive_plan", "simulate_project", "WORKING_DAYS_PER_MONTH"]

WORKING_DAYS_PER_MONTH = 21.0
Key = tuple[str, str | None]  # (phase id, organisation id or None for a shared phase)


@dataclass
class ProjectResult:
    """Monte Carlo outcome, in working days from the project start."""

    p50_days: float
    p80_days: float
    p90_days: float
    naive_days: float
    mean_days: float
    critical_path: list[str]
    critical_chain: list[dict[str, str | None]]
    criticality: dict[str, float]
    most_frequent_chain: list[str]
    most_frequent_chain_share: float
    naive_path: list[str]
    completion_days: np.ndarray
    gantt: pd.DataFrame
    share_within_naive: float
    runs: int
    seed: int
    representative_run: int
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-friendly headline figures."""
        return {
            "p50_days": round(self.p50_days, 1),
            "p80_days": round(self.p80_days, 1),
            "p90_days": round(self.p90_days, 1),
            "naive_days": round(self.naive_days, 1),
            "mean_days": round(self.mean_days, 1),
            "p80_over_naive": round(self.p80_days / self.naive_days, 2) if self.naive_days else None,
            "share_within_naive": round(self.share_within_naive, 3),
            "critical_path": self.critical_path,
            "criticality": {k: round(v, 3) for k, v in self.criticality.items()},
            "runs": self.runs,
            "seed": self.seed,
            "source": self.source,
        }


def naive_plan(plan: GovernancePlan) -> tuple[float, list[str]]:
    """The deterministic plan: most-likely durations along the longest dependency chain.

    No queueing for teams, no pauses, no rework; per-organisation phases run side by side.
    Returns (working days, phase ids of the longest chain).
    """
    finish: dict[str, float] = {}
    pred: dict[str, str | None] = {}
    for pid in plan.topological_order():
        ph = plan.phase(pid)
        best = max(ph.depends_on, key=lambda d: finish[d]) if ph.depends_on else None
        finish[pid] = (finish[best] if best else 0.0) + ph.duration.mode
        pred[pid] = best
    end = max(finish, key=finish.get)
    chain = [end]
    while pred[chain[-1]] is not None:
        chain.append(pred[chain[-1]])
    return finish[end], chain[::-1]


class _ProjectRun:
    """One simulated project (environment, teams, completion events and the log)."""

    def __init__(
        self, env: simpy.Environment, plan: GovernancePlan, org_ids: list[str], rng: np.random.Generator
    ):
        self.env, self.plan, self.orgs, self.rng = env, plan, org_ids, rng
        self.teams: dict[str, dict[str | None, simpy.Resource]] = {}
        for r in plan.resources:
            keys: list[str | None] = list(org_ids) if r.per_org else [None]
            self.teams[r.id] = {k: simpy.Resource(env, capacity=r.capacity) for k in keys}
        self.done: dict[Key, simpy.Event] = {}
        for ph in plan.phases:
            for org in self._instances(ph):
                self.done[(ph.id, org)] = env.event()
        self.finish: dict[Key, float] = {}
        self.pred: dict[Key, Key | None] = {}
        self.log: list[dict[str, Any]] = []

    def _instances(self, ph: Phase) -> list[str | None]:
        return list(self.orgs) if ph.per_org else [None]

    def _dependencies(self, ph: Phase, org: str | None) -> list[Key]:
        keys: list[Key] = []
        for d in ph.depends_on:
            dep = self.plan.phase(d)
            if not dep.per_org:
                keys.append((d, None))
            elif org is not None:
                keys.append((d, org))
            else:
                keys.extend((d, o) for o in self.orgs)
        return keys

    def _record(
        self, ph_id: str, title: str, org: str | None, kind: str, start: float, detail: str = ""
    ) -> None:
        if self.env.now > start + 1e-9:
            self.log.append(
                {
                    "phase_id": ph_id,
                    "phase": title,
                    "org": org or "all",
                    "kind": kind,
                    "start": start,
                    "end": self.env.now,
                    "detail": detail,
                }
            )

    def instance(self, ph: Phase, org: str | None):
        """SimPy process of one phase (for one organisation, or shared)."""
        env, rng = self.env, self.rng
        deps = self._dependencies(ph, org)
        if deps:
            yield simpy.AllOf(env, [self.done[k] for k in deps])
        self.pred[(ph.id, org)] = max(deps, key=lambda k: self.finish[k]) if deps else None

        pause = ph.risks.pause
        if pause is not None:
            who = [org] if org is not None else list(self.orgs)
            waits = [(pause.duration.sample(rng), o) for o in who if rng.random() < pause.probability]
            if waits:
                wait, who_paused = max(waits, key=lambda w: w[0])
                start = env.now
                yield env.timeout(wait)
                self._record(ph.id, ph.title, org, "pause", start, f"{who_paused} paused")

        requests = []
        if ph.resource is not None:
            pool = self.teams[ph.resource]
            holders = [org] if (org is not None and org in pool) else sorted(pool, key=str)
            start = env.now
            for h in holders:  # a fixed order, so shared phases cannot deadlock
                req = pool[h].request()
                yield req
                requests.append((pool[h], req))
            self._record(ph.id, ph.title, org, "waiting for team", start)

        start = env.now
        yield env.timeout(ph.duration.sample(rng))
        self._record(ph.id, ph.title, org, "work", start)

        lb = ph.risks.loop_back
        loops = 0
        while lb is not None and loops < lb.max_loops and rng.random() < lb.probability:
            loops += 1
            target = self.plan.phase(lb.to)
            start = env.now
            yield env.timeout(target.duration.sample(rng) * lb.rework_factor)
            self._record(target.id, f"{target.title} (rework {loops})", org, "rework", start)
            start = env.now
            yield env.timeout(ph.duration.sample(rng) * lb.rework_factor)
            self._record(ph.id, f"{ph.title} (round {loops + 1})", org, "rework", start)

        for res, req in requests:
            res.release(req)
        self.finish[(ph.id, org)] = env.now
        self.done[(ph.id, org)].succeed()

    def critical_chain(self) -> list[Key]:
        last = max(self.finish, key=lambda k: self.finish[k])
        chain = [last]
        while (p := self.pred.get(chain[-1])) is not None:
            chain.append(p)
        return chain[::-1]


def _run_once(plan: GovernancePlan, org_ids: list[str], rng: np.random.Generator) -> _ProjectRun:
    env = simpy.Environment()
    run = _ProjectRun(env, plan, org_ids, rng)
    for pid in plan.topological_order():
        ph = plan.phase(pid)
        for org in run._instances(ph):
            env.process(run.instance(ph, org))
    env.run()
    return run


def _label(plan: GovernancePlan, key: Key) -> str:
    title = plan.phase(key[0]).title
    return f"{title} ({key[1]})" if key[1] is not None else title


def simulate_project(plan: GovernancePlan, org_ids: list[str], *, runs: int, seed: int) -> ProjectResult:
    """Monte Carlo of the project: `runs` seeded runs of the SimPy model.

    Args:
        plan: the governance plan (phases, teams, risks).
        org_ids: the participating organisations (per-organisation phases expand over them).
        runs: number of simulated projects (>= 1).
        seed: same seed, same result; run i uses the i-th child of ``SeedSequence(seed)``.
    """
    if runs < 1:
        raise ValueError(N_("runs must be >= 1, got {value}").format(value=runs))
    if not org_ids:
        raise ValueError(N_("at least one organisation is needed"))
    if len(set(org_ids)) != len(org_ids):
        raise ValueError(N_("organisation ids must be unique"))
    children = np.random.SeedSequence(seed).spawn(runs)
    completion = np.empty(runs)
    chains: list[list[Key]] = []
    for i, child in enumerate(children):
        run = _run_once(plan, list(org_ids), np.random.default_rng(child))
        completion[i] = max(run.finish.values())
        chains.append(run.critical_chain())

    p50, p80, p90 = (float(x) for x in np.percentile(completion, [50, 80, 90]))
    rep = int(np.argmin(np.abs(completion - p50)))
    rep_run = _run_once(plan, list(org_ids), np.random.default_rng(children[rep]))  # replay, same seed
    rep_chain = chains[rep]
    on_chain = set(rep_chain)
    gantt = pd.DataFrame(rep_run.log, columns=["phase_id", "phase", "org", "kind", "start", "end", "detail"])
    gantt["duration"] = gantt["end"] - gantt["start"]
    gantt["critical"] = [
        (pid, None if org == "all" else org) in on_chain
        for pid, org in zip(gantt["phase_id"], gantt["org"], strict=True)
    ]
    gantt = gantt.sort_values(["start", "end"], kind="stable").reset_index(drop=True)

    counts = Counter(pid for ch in chains for pid in {k[0] for k in ch})
    criticality = {p.id: counts.get(p.id, 0) / runs for p in plan.phases}
    id_chains = Counter(tuple(k[0] for k in ch) for ch in chains)
    common, common_n = id_chains.most_common(1)[0]
    naive_days, naive_ids = naive_plan(plan)
    return ProjectResult(
        p50_days=p50,
        p80_days=p80,
        p90_days=p90,
        naive_days=float(naive_days),
        mean_days=float(completion.mean()),
        critical_path=[_label(plan, k) for k in rep_chain],
        critical_chain=[{"phase_id": k[0], "org": k[1]} for k in rep_chain],
        criticality=criticality,
        most_frequent_chain=[plan.phase(p).title for p in common],
        most_frequent_chain_share=common_n / runs,
        naive_path=[plan.phase(p).title for p in naive_ids],
        completion_days=completion,
        gantt=gantt,
        share_within_naive=float(np.mean(completion <= naive_days)),
        runs=runs,
        seed=seed,
        representative_run=rep,
        source=plan.source,
    )
