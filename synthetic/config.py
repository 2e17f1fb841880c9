"""Pydantic models for the generator part of a scenario file (owned by the synthetic package).

Skeleton: the generator work (issue 3) extends `Organisation` and `GeneratorParams`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Organisation(BaseModel):
    """One data-holding organisation: one list for MSE, one party in MPC."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,30}$", description="short id, used in file names")
    name: str
    kind: str = Field(description="law_enforcement | victim_care | ngo | municipality | national_centre")
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")


class GeneratorParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    population: int = Field(5000, ge=1, le=5_000_000)
    year: int = Field(2024, ge=2000, le=2100)
