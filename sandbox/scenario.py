"""Workshop scenarios: one YAML file per scenario in `scenarios/`, validated with pydantic.

A scenario names the organisations (one MPC party and one MSE list each), the generator's
parameters, the disclosure rules, the workshop script and the governance plan.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sandbox.i18n import N_
from sandbox.timeline.governance import GovernancePlan
from sandbox.workshop.script import Script
from synthetic.config import GeneratorParams, Organisation, check_links
from synthetic.text import LocalText, Text

__all__ = ["Disclosure", "Scenario", "ScenarioError", "list_scenarios", "load_scenario", "scenario_dir"]

DEFAULT_SCENARIO = "nl-baseline"
# libyaml's safe loader when PyYAML has it (the pure-Python one took about 0.1-0.3 s per scenario file);
# the same documents and the same safe types, and a nesting limit that is reported as a YAML error
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ScenarioError(ValueError):
    """A scenario file is missing or invalid; the message names the file and the field."""


class Disclosure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_cell: int = Field(10, ge=0, le=1_000_000, strict=True,  # strict: `true` is not the number 1
                          description="cells below this are suppressed inside MPC")


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")
    title: Text
    description: Text = LocalText({"en": ""})
    organisations: list[Organisation] = Field(min_length=2, max_length=7)
    generator: GeneratorParams = GeneratorParams()
    disclosure: Disclosure = Disclosure()
    script: Script = Field(default_factory=list)
    governance: GovernancePlan | None = None

    @model_validator(mode="after")
    def _unique_org_ids(self) -> Scenario:
        ids = [o.id for o in self.organisations]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"organisation ids must be unique, repeated: {', '.join(dupes)}")
        check_links(self.organisations, self.generator)
        return self

    @property
    def org_ids(self) -> list[str]:
        return [o.id for o in self.organisations]

    def org(self, org_id: str) -> Organisation:
        for o in self.organisations:
            if o.id == org_id:
                return o
        raise KeyError(org_id)


def scenario_dir() -> Path:
    """The folder holding the scenario files (override with MPC_SANDBOX_SCENARIOS)."""
    env = os.environ.get("MPC_SANDBOX_SCENARIOS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "scenarios"


def list_scenarios() -> list[str]:
    return sorted(p.stem for p in scenario_dir().glob("*.yaml"))


def _format_validation_error(exc: ValidationError, path: Path) -> str:
    lines = [N_("{path}: invalid scenario ({n} problem(s))").format(path=path, n=exc.error_count())]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = N_("unknown key")
        elif err["type"] == "value_error" and "error" in err.get("ctx", {}):  # our validators' own message
            msg = N_("Value error, {error}").format(error=err["ctx"]["error"])  # pydantic's words, unchanged
        lines.append(N_("  - {where}: {reason}").format(where=where, reason=msg))
    return "\n".join(lines)


def load_scenario(name_or_path: str | os.PathLike[str]) -> Scenario:
    """Load a scenario by name (`nl-baseline`) or by path; raise ScenarioError with a clear message."""
    text = str(name_or_path)
    path = Path(text)
    if not (path.suffix in {".yaml", ".yml"} or os.sep in text):
        path = scenario_dir() / f"{text}.yaml"
    if not path.is_file():
        known = ", ".join(list_scenarios()) or "none"
        raise ScenarioError(N_("scenario not found: {path} (known scenarios: {known})").format(path=path, known=known))
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise ScenarioError(N_("{path}: not valid YAML: {detail}").format(path=path, detail=exc)) from None
    except RecursionError:
        raise ScenarioError(N_("{path}: not a usable scenario (nested too deeply)").format(path=path)) from None
    except UnicodeDecodeError:
        raise ScenarioError(N_("{path}: not a UTF-8 text file").format(path=path)) from None
    if not isinstance(raw, dict):
        raise ScenarioError(N_("{path}: a scenario must be a mapping of keys to values").format(path=path))
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_format_validation_error(exc, path)) from None
