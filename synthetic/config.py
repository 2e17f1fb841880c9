"""Pydantic models for the generator part of a scenario file (owned by the synthetic package).

A scenario file has two sections for the generator:

* `organisations:` – one entry per data holder (one MSE list, one MPC party): who it captures
  (`capture`), to whom it refers victims (`referrals`), which record fields it holds (`fields`) and
  how often each is unknown (`missing`).
* `generator:` – the hidden population: its size and year, the distributions of victim attributes
  (each with a `source:` string saying where the numbers come from) and the identity/linkage noise.

Every default below mirrors `scenarios/nl-baseline.yaml` (see `synthetic/defaults.py`), so a scenario
only has to list what it changes. All models forbid unknown keys, so a typo is an error, not a no-op.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from synthetic import defaults, vocab
from synthetic.schema import N_, OPTIONAL_COLUMNS
from synthetic.text import Text

__all__ = [
    "AdultAge",
    "Capture",
    "Exploitation",
    "GeneratorParams",
    "IdentityNoise",
    "ItemRatesByForm",
    "Organisation",
    "Rate",
    "RatesByForm",
    "Referral",
    "Residence",
    "Shares",
    "SharesByForm",
    "Traffickers",
    "check_links",
]

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=0.0)]
Factor = Annotated[float, Field(ge=0.0, le=100.0)]
Source = Annotated[str, Field(min_length=3, description="where the numbers come from ([A] = assumption)")]

_STRICT = ConfigDict(extra="forbid")
_RECORD_FIELDS = tuple(c for c in OPTIONAL_COLUMNS if c != "synthetic")


def _check_keys(keys, allowed: tuple[str, ...], what: str) -> None:
    unknown = [k for k in keys if k not in allowed]
    if unknown:
        raise ValueError(N_("unknown {what}: {codes} (allowed: {allowed})").format(
            what=what, codes=", ".join(unknown), allowed=", ".join(allowed)))


def _check_weights(weights: dict[str, float], what: str) -> None:
    if not weights or sum(weights.values()) <= 0:
        raise ValueError(N_("{what}: at least one weight must be positive").format(what=what))


# --------------------------------------------------------------------------- distributions


class Rate(BaseModel):
    """One probability with its source."""

    model_config = _STRICT
    source: Source
    value: Prob


class Shares(BaseModel):
    """A categorical distribution: weights (normalised when drawing) with their source."""

    model_config = _STRICT
    source: Source
    weights: dict[str, Weight]

    @model_validator(mode="after")
    def _positive(self) -> Shares:
        _check_weights(self.weights, "weights")
        return self


def _require_all_forms(value: dict[str, object]) -> None:
    """A per-form table must name every form of exploitation, and only those."""
    _check_keys(value, vocab.FORMS, "form")
    missing = [f for f in vocab.FORMS if f not in value]
    if missing:
        raise ValueError(N_("missing form(s): {forms}").format(forms=", ".join(missing)))


class SharesByForm(BaseModel):
    """One categorical distribution per form of exploitation (all four forms required)."""

    model_config = _STRICT
    source: Source
    by_form: dict[str, dict[str, Weight]]

    @field_validator("by_form")
    @classmethod
    def _all_forms(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        _require_all_forms(value)
        for form, weights in value.items():
            _check_weights(weights, form)
        return value


class RatesByForm(BaseModel):
    """One probability per form of exploitation (all four forms required)."""

    model_config = _STRICT
    source: Source
    by_form: dict[str, Prob]

    @field_validator("by_form")
    @classmethod
    def _all_forms(cls, value: dict[str, float]) -> dict[str, float]:
        _require_all_forms(value)
        return value


class ItemRatesByForm(BaseModel):
    """For multi-value fields: per form, the probability that each item applies (independently)."""

    model_config = _STRICT
    source: Source
    by_form: dict[str, dict[str, Prob]]

    @field_validator("by_form")
    @classmethod
    def _all_forms(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        _require_all_forms(value)
        return value


class AdultAge(BaseModel):
    """Age at exploitation start of adults: 18 + a gamma distribution with this mean and spread."""

    model_config = _STRICT
    source: Source
    mean_by_form: dict[str, Annotated[float, Field(gt=18.5, le=70)]]
    sd: Annotated[float, Field(gt=0, le=30)] = 9.0

    @field_validator("mean_by_form")
    @classmethod
    def _all_forms(cls, value: dict[str, float]) -> dict[str, float]:
        _require_all_forms(value)
        return value


class Residence(BaseModel):
    """Residence status given nationality: NL citizens and EU citizens follow from the nationality."""

    model_config = _STRICT
    source: Source
    ua_temporary_protection: Prob = 0.9
    non_eu: dict[str, Weight]

    @field_validator("non_eu")
    @classmethod
    def _codes(cls, value: dict[str, float]) -> dict[str, float]:
        _check_keys(value, vocab.RESIDENCE_STATUSES, "residence status")
        _check_weights(value, "non_eu")
        return value


class Exploitation(BaseModel):
    """Timing: exploitation starts on average `mean_months_before_registration` before registration."""

    model_config = _STRICT
    source: Source
    mean_months_before_registration: Annotated[float, Field(ge=0, le=240)] = 10.0
    ongoing_at_registration: Prob = 0.35


class Traffickers(BaseModel):
    """Trafficker count (1 + Poisson), nationality and relation to the victim."""

    model_config = _STRICT
    source: Source
    extra_count_mean_by_form: dict[str, Annotated[float, Field(ge=0, le=50)]]
    same_nationality: Prob = 0.6
    dutch_if_different: Prob = 0.5
    relation: SharesByForm

    @field_validator("extra_count_mean_by_form")
    @classmethod
    def _all_forms(cls, value: dict[str, float]) -> dict[str, float]:
        _require_all_forms(value)
        return value


class IdentityNoise(BaseModel):
    """Per-record noise in the identity fields an organisation writes down (the key is unaffected)."""

    model_config = _STRICT
    source: Source
    spelling_variant: Prob = 0.08
    swap_day_month: Prob = 0.03


# --------------------------------------------------------------------------- organisations


class Capture(BaseModel):
    """Probability that the organisation registers a victim on its own (before referrals).

    p = base × by_form[form] × minor (if minor at exploitation) × by_nationality_group[group], capped
    at 1. With several forms the largest form factor counts. Missing keys mean factor 1.
    """

    model_config = _STRICT
    source: Source = "[A] workshop default"
    base: Prob = 0.05
    by_form: dict[str, Factor] = Field(default_factory=dict)
    minor: Factor = 1.0
    by_nationality_group: dict[str, Factor] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _codes(self) -> Capture:
        _check_keys(self.by_form, vocab.FORMS, "form in by_form")
        _check_keys(self.by_nationality_group, vocab.NATIONALITY_GROUPS, "nationality group")
        return self


class Referral(BaseModel):
    """A referral edge: a victim this organisation registers is also registered by `to`.

    p = probability × by_form[form] × minor (if minor at exploitation), capped at 1 – e.g. minors
    are referred on to care and shelter far more often than adults.
    """

    model_config = _STRICT
    to: str = Field(description="id of the receiving organisation (must be in the scenario)")
    probability: Prob
    by_form: dict[str, Factor] = Field(default_factory=dict)
    minor: Factor = 1.0
    delay_days: int = Field(14, ge=0, le=365, description="mean days until the receiver registers")
    source: Source = "[A] workshop default"

    @model_validator(mode="after")
    def _codes(self) -> Referral:
        _check_keys(self.by_form, vocab.FORMS, "form in by_form")
        return self


class Organisation(BaseModel):
    """One data-holding organisation: one list for MSE, one party in MPC."""

    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,30}$", description="short id, used in file names")
    name: Text
    kind: str = Field(description="law_enforcement | victim_care | ngo | municipality | national_centre")
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    capture: Capture = Field(default_factory=Capture)
    referrals: list[Referral] = Field(default_factory=list)
    fields: list[str] = Field(
        default_factory=lambda: list(defaults.DEFAULT_FIELDS),
        description="optional record columns this organisation holds",
    )
    missing: dict[str, Prob] = Field(default_factory=dict, description="share of records with '' per field")

    @model_validator(mode="after")
    def _fields_known(self) -> Organisation:
        _check_keys(self.fields, _RECORD_FIELDS, "field in fields")
        repeated = sorted({f for f in self.fields if self.fields.count(f) > 1})
        if repeated:
            raise ValueError(N_("fields listed twice: {fields}").format(fields=", ".join(repeated)))
        not_held = [f for f in self.missing if f not in self.fields]
        if not_held:
            raise ValueError(N_("missing names field(s) not in fields: {fields}").format(fields=", ".join(not_held)))
        targets = [r.to for r in self.referrals]
        if self.id in targets:
            raise ValueError(N_("organisation {org!r} refers to itself").format(org=self.id))
        return self


# --------------------------------------------------------------------------- generator


class GeneratorParams(BaseModel):
    """The hidden population and the noise; defaults = the nl-baseline calibration."""

    model_config = _STRICT

    population: int = Field(5000, ge=0, le=5_000_000, description="true number of victims in the year")
    year: int = Field(2024, ge=2000, le=2100)
    linkage_secret: str = Field(
        defaults.LINKAGE_SECRET, min_length=8, description="HMAC key of person_key (a workshop secret)"
    )
    key_noise: Prob = Field(0.0, description="share of records whose person_key is corrupted")
    forms: Shares = Field(default_factory=lambda: Shares(**defaults.FORMS))
    second_form: Rate = Field(default_factory=lambda: Rate(**defaults.SECOND_FORM))
    female_share: RatesByForm = Field(default_factory=lambda: RatesByForm(**defaults.FEMALE_SHARE))
    minor_share: RatesByForm = Field(default_factory=lambda: RatesByForm(**defaults.MINOR_SHARE))
    adult_age: AdultAge = Field(default_factory=lambda: AdultAge(**defaults.ADULT_AGE))
    nationality: SharesByForm = Field(default_factory=lambda: SharesByForm(**defaults.NATIONALITY))
    residence: Residence = Field(default_factory=lambda: Residence(**defaults.RESIDENCE))
    sector: SharesByForm = Field(default_factory=lambda: SharesByForm(**defaults.SECTOR))
    recruitment: SharesByForm = Field(default_factory=lambda: SharesByForm(**defaults.RECRUITMENT))
    means_of_control: ItemRatesByForm = Field(
        default_factory=lambda: ItemRatesByForm(**defaults.MEANS_OF_CONTROL)
    )
    ilo_indicators: ItemRatesByForm = Field(default_factory=lambda: ItemRatesByForm(**defaults.ILO_INDICATORS))
    region: Shares = Field(default_factory=lambda: Shares(**defaults.REGION))
    exploitation: Exploitation = Field(default_factory=lambda: Exploitation(**defaults.EXPLOITATION))
    traffickers: Traffickers = Field(default_factory=lambda: Traffickers(**defaults.TRAFFICKERS))
    identity_noise: IdentityNoise = Field(default_factory=lambda: IdentityNoise(**defaults.IDENTITY_NOISE))

    @model_validator(mode="after")
    def _codes(self) -> GeneratorParams:
        _check_keys(self.forms.weights, vocab.FORMS, "form in forms")
        _check_keys(self.region.weights, vocab.REGIONS, "region")
        for form in vocab.FORMS:
            _check_keys(self.sector.by_form[form], vocab.SECTORS, f"sector (sector.{form})")
            _check_keys(
                self.recruitment.by_form[form], vocab.RECRUITMENT_METHODS, f"recruitment (recruitment.{form})"
            )
            _check_keys(
                self.means_of_control.by_form[form], vocab.MEANS_OF_CONTROL, f"means_of_control.{form} item"
            )
            _check_keys(self.ilo_indicators.by_form[form], vocab.ILO_INDICATORS, f"ilo_indicators.{form} item")
            _check_keys(
                self.traffickers.relation.by_form[form],
                vocab.TRAFFICKER_RELATIONS,
                f"trafficker relation (traffickers.relation.{form})",
            )
            bad = [c for c in self.nationality.by_form[form] if len(c) != 2 or not c.isalpha() or not c.isupper()]
            if bad:
                raise ValueError(N_("nationality.{form}: not ISO 3166 alpha-2 code(s): {codes}").format(
                    form=form, codes=", ".join(bad)))
        return self


def check_links(organisations: list[Organisation], generator: GeneratorParams | None = None) -> None:
    """Cross-check a scenario's organisations: every referral edge must name an organisation in it.

    Called from the scenario model's validator, so the error is reported with the file name.

    Raises:
        ValueError: naming the organisation, the edge and the known ids.
    """
    ids = [o.id for o in organisations]
    for i, org in enumerate(organisations):
        for j, edge in enumerate(org.referrals):
            if edge.to not in ids:
                raise ValueError(N_(
                    "organisations.{i}.referrals.{j}.to: {org!r} refers to unknown organisation {to!r} "
                    "(organisations in this scenario: {ids})").format(i=i, j=j, org=org.id, to=edge.to,
                                                                      ids=", ".join(ids)))
