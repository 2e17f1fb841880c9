"""The governance plan of an MPC project: phases, durations, dependencies, resources and risks.

The plan lives in a scenario file under the top-level ``governance:`` key and is validated here
with pydantic (unknown keys are refused). Durations are in *working days*. `project.simulate_project`
turns a plan into a Monte Carlo forecast.

The durations of `default_plan` are ASSUMPTIONS for the workshop, not measurements: they are meant
to be discussed and replaced by each organisation's own experience.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.i18n import N_
from synthetic.text import Text

if TYPE_CHECKING:  # a scenario loads without NumPy; sampling gets a generator from the caller
    import numpy as np

__all__ = [
    "Duration",
    "GovernancePlan",
    "LoopBackRisk",
    "PauseRisk",
    "Phase",
    "ResourceSpec",
    "Risks",
    "default_plan",
]

_ID = r"^[a-z][a-z0-9_]{0,40}$"


class Duration(BaseModel):
    """A three-point estimate in working days (min <= mode <= max), sampled as PERT or triangular."""

    model_config = ConfigDict(extra="forbid")

    min: float = Field(ge=0, le=2000, description="optimistic duration, working days")
    mode: float = Field(ge=0, le=2000, description="most likely duration, working days")
    max: float = Field(ge=0, le=2000, description="pessimistic duration, working days")
    distribution: Literal["pert", "triangular"] = "pert"

    @model_validator(mode="after")
    def _ordered(self) -> Duration:
        if not self.min <= self.mode <= self.max:
            raise ValueError(N_("duration needs min <= mode <= max, got min={low}, mode={mode}, max={high}").format(
                low=f"{self.min:g}", mode=f"{self.mode:g}", high=f"{self.max:g}"))
        return self

    def sample(self, rng: np.random.Generator) -> float:
        """One random duration (working days)."""
        lo, mode, hi = self.min, self.mode, self.max
        if hi - lo < 1e-12:
            return float(lo)
        if self.distribution == "triangular":
            return float(rng.triangular(lo, mode, hi))
        a = 1 + 4 * (mode - lo) / (hi - lo)  # PERT: a beta distribution with weight 4 on the mode
        b = 1 + 4 * (hi - mode) / (hi - lo)
        return float(lo + rng.beta(a, b) * (hi - lo))

    @property
    def mean(self) -> float:
        if self.distribution == "triangular":
            return (self.min + self.mode + self.max) / 3
        return (self.min + 4 * self.mode + self.max) / 6


class PauseRisk(BaseModel):
    """With `probability`, an organisation pauses (other priorities, reorganisation, staff leave)."""

    model_config = ConfigDict(extra="forbid")

    probability: float = Field(ge=0, le=1)
    duration: Duration
    reason: str = ""


class LoopBackRisk(BaseModel):
    """With `probability`, this phase ends in a question that sends the project back to phase `to`.

    The earlier phase is reworked (its duration x `rework_factor`) and then this phase is repeated
    (its own duration x `rework_factor`), at most `max_loops` times.
    """

    model_config = ConfigDict(extra="forbid")

    probability: float = Field(ge=0, le=1)
    to: str = Field(pattern=_ID, description="id of an earlier phase this phase depends on (directly or not)")
    rework_factor: float = Field(0.5, gt=0, le=2)
    max_loops: int = Field(2, ge=1, le=10)
    reason: str = ""


class Risks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pause: PauseRisk | None = None
    loop_back: LoopBackRisk | None = None


class ResourceSpec(BaseModel):
    """A scarce team: `capacity` phases can use it at once; per_org gives every organisation its own."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    title: Text
    capacity: int = Field(1, ge=1, le=100)
    per_org: bool = False


class Phase(BaseModel):
    """One step of the project; per_org phases run once for every organisation."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    title: Text
    per_org: bool = False
    duration: Duration
    depends_on: list[str] = Field(default_factory=list)
    resource: str | None = None
    risks: Risks = Field(default_factory=Risks)
    note: str = ""


class GovernancePlan(BaseModel):
    """The phases of the project and the teams they need (validated as a dependency graph)."""

    model_config = ConfigDict(extra="forbid")

    source: Text = Field(
        "assumptions for the workshop (not measured)", description="where the duration figures come from"
    )
    note: str = ""
    unit: Literal["working_days"] = "working_days"
    resources: list[ResourceSpec] = Field(default_factory=list)
    phases: list[Phase] = Field(min_length=1, max_length=60)

    @model_validator(mode="after")
    def _check_graph(self) -> GovernancePlan:
        ids = [p.id for p in self.phases]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(N_("phase ids must be unique, repeated: {ids}").format(ids=", ".join(dupes)))
        rids = [r.id for r in self.resources]
        rdupes = sorted({i for i in rids if rids.count(i) > 1})
        if rdupes:
            raise ValueError(N_("resource ids must be unique, repeated: {ids}").format(ids=", ".join(rdupes)))
        for p in self.phases:
            for d in p.depends_on:
                if d == p.id:
                    raise ValueError(N_("phase {phase!r} depends on itself").format(phase=p.id))
                if d not in ids:
                    raise ValueError(N_("phase {phase!r} depends on unknown phase {other!r} (known phases: {known})"
                                        ).format(phase=p.id, other=d, known=", ".join(ids)))
            if p.resource is not None and p.resource not in rids:
                known = ", ".join(rids) or "none defined"
                raise ValueError(N_("phase {phase!r} uses unknown resource {resource!r} (known resources: {known})"
                                    ).format(phase=p.id, resource=p.resource, known=known))
        self.topological_order()  # raises on a cycle
        for p in self.phases:
            lb = p.risks.loop_back
            if lb is not None and lb.to not in self.ancestors(p.id):
                raise ValueError(N_("phase {phase!r}: loop_back.to must be an earlier phase it depends on, got "
                                    "{other!r}").format(phase=p.id, other=lb.to))
        return self

    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)

    def topological_order(self) -> list[str]:
        """Phase ids so that every phase comes after its dependencies; ValueError on a cycle."""
        deps = {p.id: list(p.depends_on) for p in self.phases}
        order: list[str] = []
        state: dict[str, int] = {}  # 1 = visiting, 2 = done

        def visit(pid: str, path: list[str]) -> None:
            if state.get(pid) == 2:
                return
            if state.get(pid) == 1:
                cycle = path[path.index(pid) :] + [pid]
                raise ValueError(N_("phase dependencies form a cycle: {cycle}").format(cycle=" -> ".join(cycle)))
            state[pid] = 1
            for d in deps[pid]:
                visit(d, path + [pid])
            state[pid] = 2
            order.append(pid)

        for p in self.phases:
            visit(p.id, [])
        return order

    def ancestors(self, phase_id: str) -> set[str]:
        """All phases that `phase_id` depends on, directly or indirectly."""
        seen: set[str] = set()
        stack = list(self.phase(phase_id).depends_on)
        while stack:
            d = stack.pop()
            if d not in seen:
                seen.add(d)
                stack.extend(self.phase(d).depends_on)
        return seen


DEFAULT_PLAN_DATA: dict = {
    "source": {
        "en": "Assumptions for the workshop, not measurements: three-point estimates in working days "
              "chosen by the sandbox team to be plausible for Dutch public organisations. The 40-70 day "
              "consultation reflects the GDPR art. 36 deadline for a supervisory authority (8 weeks, "
              "extendable by 6). Replace with your own.",
        "nl": "Aannames voor de workshop, geen metingen: driepuntsschattingen in werkdagen die het sandboxteam "
              "plausibel vindt voor Nederlandse publieke organisaties. De raadpleging van 40-70 dagen volgt de "
              "termijn van AVG art. 36 voor een toezichthouder (8 weken, met 6 weken te verlengen). Vervang ze "
              "door uw eigen ervaring.",
    },
    "note": (
        "Legal counsel is a shared pool of privacy lawyers (capacity 2); each organisation has one IT team."
    ),
    "resources": [
        {"id": "legal_counsel", "title": {"en": "Privacy/legal counsel (shared pool)",
                                           "nl": "Privacy- en juridisch adviseurs (gedeelde pool)"}, "capacity": 2},
        {"id": "it_team", "title": {"en": "IT team of the organisation",
                                     "nl": "IT-team van de organisatie"}, "capacity": 1, "per_org": True},
    ],
    "phases": [
        {
            "id": "workshops",
            "title": {"en": "Stakeholder workshops", "nl": "Workshops met belanghebbenden"},
            "duration": {"min": 10, "mode": 20, "max": 40},
            "risks": {
                "pause": {
                    "probability": 0.1,
                    "duration": {"min": 5, "mode": 10, "max": 30},
                    "reason": "an organisation cannot send the right people",
                }
            },
        },
        {
            "id": "legal_review",
            "title": {"en": "Legal review", "nl": "Juridische toets"},
            "per_org": True,
            "depends_on": ["workshops"],
            "resource": "legal_counsel",
            "duration": {"min": 10, "mode": 15, "max": 40},
            "risks": {
                "pause": {
                    "probability": 0.15,
                    "duration": {"min": 5, "mode": 15, "max": 40},
                    "reason": "other priorities or a reorganisation",
                }
            },
        },
        {
            "id": "dpia",
            "title": {"en": "Data protection impact assessment (DPIA)",
                      "nl": "Gegevensbeschermingseffectbeoordeling (DPIA)"},
            "depends_on": ["legal_review"],
            "duration": {"min": 15, "mode": 25, "max": 60},
        },
        {
            "id": "dpa_consultation",
            "title": {"en": "Consultation with the data protection authority",
                      "nl": "Voorafgaande raadpleging van de Autoriteit Persoonsgegevens"},
            "depends_on": ["dpia"],
            "duration": {"min": 20, "mode": 40, "max": 70},
            "risks": {
                "loop_back": {
                    "probability": 0.3,
                    "to": "dpia",
                    "rework_factor": 0.5,
                    "max_loops": 2,
                    "reason": "the regulator asks questions; the DPIA is revised",
                }
            },
        },
        {
            "id": "agreements",
            "title": {"en": "Data-sharing agreements", "nl": "Afspraken over gegevensdeling"},
            "per_org": True,
            "depends_on": ["dpa_consultation"],
            "resource": "legal_counsel",
            "duration": {"min": 5, "mode": 10, "max": 30},
            "risks": {
                "pause": {
                    "probability": 0.1,
                    "duration": {"min": 5, "mode": 10, "max": 30},
                    "reason": "board signature delayed",
                }
            },
        },
        {
            "id": "data_prep",
            "title": {"en": "Data preparation", "nl": "Voorbereiden van de data"},
            "per_org": True,
            "depends_on": ["agreements"],
            "resource": "it_team",
            "duration": {"min": 5, "mode": 10, "max": 25},
        },
        {
            "id": "node_setup",
            "title": {"en": "MPC node set-up", "nl": "Inrichten van de MPC-node"},
            "per_org": True,
            "depends_on": ["legal_review"],
            "resource": "it_team",
            "duration": {"min": 5, "mode": 10, "max": 30},
            "risks": {
                "pause": {
                    "probability": 0.1,
                    "duration": {"min": 5, "mode": 10, "max": 25},
                    "reason": "security approval or firewall change queue",
                }
            },
        },
        {
            "id": "test_run",
            "title": {"en": "Test run", "nl": "Testrun"},
            "depends_on": ["data_prep", "node_setup"],
            "resource": "it_team",
            "duration": {"min": 3, "mode": 5, "max": 15},
        },
        {
            "id": "production_runs",
            "title": {"en": "Production runs", "nl": "Productieruns"},
            "depends_on": ["test_run"],
            "duration": {"min": 5, "mode": 10, "max": 20},
        },
        {
            "id": "reporting",
            "title": {"en": "Reporting", "nl": "Rapportage"},
            "depends_on": ["production_runs"],
            "duration": {"min": 5, "mode": 10, "max": 20},
        },
    ],
}


def default_plan() -> GovernancePlan:
    """The sandbox's default governance plan (assumptions for the workshop)."""
    return GovernancePlan.model_validate(DEFAULT_PLAN_DATA)
