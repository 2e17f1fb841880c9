"""The workshop script of a scenario, kept as data (the `script:` block of a scenario YAML file).

A script is a list of steps. Each step tells the facilitator what to say, the participants what to
do, which app page and which MPC computation it uses, and carries three impact cards (legal,
technical, organisational) that show what the step means in a real project.

The legal card holds questions and considerations for the participants' own lawyers and data
protection officers; it is never legal advice.

Pure: no Streamlit import.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from synthetic.text import LocalText, Text

__all__ = ["PAGES", "Impact", "Script", "Step", "page_file"]

# App pages a step may point to: name used in the YAML -> file in sandbox/app_pages/.
PAGES: dict[str, str] = {
    "home": "home.py",
    "script": "script.py",
    "data": "data.py",
    "secret_sharing": "secret_sharing.py",
    "run": "run.py",
    "party_views": "party_views.py",
    "revealed": "revealed.py",
    "size_estimate": "size_estimate.py",
    "timeline": "timeline.py",
    "room": "room.py",
    "report": "report.py",
}

def _min3(value: LocalText) -> LocalText:
    if any(len(v) < 3 for v in value.by_lang.values()):
        raise ValueError("String should have at least 3 characters")
    return value


Text3 = Annotated[Text, AfterValidator(_min3)]
Bullets = Annotated[list[Text], Field(min_length=1, max_length=8)]


class Impact(BaseModel):
    """Three cards shown side by side: what the step means legally, technically and organisationally."""

    model_config = ConfigDict(extra="forbid")

    legal: Bullets = Field(description="questions and considerations, e.g. lawful basis, what the DPA will ask")
    technical: Bullets
    organisational: Bullets


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")
    title: Text3
    minutes: int = Field(10, ge=1, le=90, description="planned duration within the workshop")
    facilitator: Text3 = Field(description="what the facilitator says or does")
    participants: Text3 = Field(description="what the participants do")
    page: str | None = Field(None, description=f"app page used in this step: one of {', '.join(PAGES)}")
    computation: str | None = Field(None, description="a computation from the catalogue")
    presenter_notes: Text = Field(LocalText({"en": ""}), description="shown to the facilitator only")
    impact: Impact

    @field_validator("page")
    @classmethod
    def _known_page(cls, value: str | None) -> str | None:
        if value is not None and value not in PAGES:
            raise ValueError(f"unknown page {value!r}; known pages: {', '.join(PAGES)}")
        return value

    @field_validator("computation")
    @classmethod
    def _known_computation(cls, value: str | None) -> str | None:
        from sandbox.mpc import computations  # imported here: the catalogue is only needed to check names

        if value is not None and value not in computations.names():
            raise ValueError(f"unknown computation {value!r}; known: {', '.join(computations.names())}")
        return value


def _unique_ids(steps: list[Step]) -> list[Step]:
    ids = [s.id for s in steps]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"step ids must be unique, repeated: {', '.join(repeated)}")
    return steps


# The type of `Scenario.script`.
Script = Annotated[list[Step], AfterValidator(_unique_ids)]


def page_file(page: str) -> str:
    """The file in sandbox/app_pages/ for a page name used in a script."""
    return PAGES[page]
