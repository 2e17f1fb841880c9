"""The hidden population: every victim of the year, registered or not (vectorised with numpy).

Attributes are drawn in dependency order: form(s) -> sex, minor, age, nationality, sector,
recruitment, means of control, ILO indicators, traffickers; then region/municipality, dates and
names. Categorical attributes are kept as small-integer codes plus a label array, so a million
victims fit comfortably in memory; `Population.frame()` turns them into a pandas DataFrame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from synthetic import vocab
from synthetic.config import GeneratorParams, ItemRatesByForm, SharesByForm
from synthetic.names import NamePool, build_pools
from synthetic.places import MUNICIPALITIES

__all__ = ["Population", "draw_population"]

DAYS_PER_YEAR = 365.25
_FORMS = vocab.FORMS


@dataclass
class Population:
    """Column arrays of the hidden population (codes index into the matching label tuple)."""

    year: int
    primary_form: np.ndarray  # int8 index into FORMS
    second_form: np.ndarray  # int8 index into FORMS, -1 = none
    female: np.ndarray  # bool
    minor: np.ndarray  # bool: under 18 when exploitation began
    birth_date: np.ndarray  # datetime64[D]
    nationality: np.ndarray  # object (ISO2)
    residence: np.ndarray  # int8 index into RESIDENCE_STATUSES
    sector: np.ndarray  # int8 index into SECTORS
    recruitment: np.ndarray  # int8 index into RECRUITMENT_METHODS
    means_of_control: np.ndarray  # object, ';'-joined
    ilo_indicators: np.ndarray  # object, ';'-joined
    region: np.ndarray  # int8 index into REGIONS
    municipality: np.ndarray  # object
    reference_date: np.ndarray  # datetime64[D]: when the victim would be registered this year
    exploitation_start: np.ndarray  # datetime64[D]
    exploitation_end: np.ndarray  # datetime64[D], NaT = ongoing at registration
    trafficker_count: np.ndarray  # int
    trafficker_nationality: np.ndarray  # object (ISO2)
    trafficker_relation: np.ndarray  # int8 index into TRAFFICKER_RELATIONS
    given_name: np.ndarray  # object
    family_name: np.ndarray  # object

    def __len__(self) -> int:
        return len(self.primary_form)

    @cached_property
    def forms(self) -> np.ndarray:
        """The ';'-joined forms of each victim, in FORMS order (computed once)."""
        labels = np.empty((len(_FORMS), len(_FORMS) + 1), dtype=object)
        for p in range(len(_FORMS)):
            for s in range(-1, len(_FORMS)):
                chosen = sorted({p, s} - {-1})
                labels[p, s] = vocab.MULTI_VALUE_SEPARATOR.join(_FORMS[i] for i in chosen)
        return labels[self.primary_form, self.second_form]

    def frame(self) -> pd.DataFrame:
        """One row per victim; categorical columns as pandas categoricals, dates as datetime64."""

        def cat(codes: np.ndarray, labels: tuple[str, ...]) -> pd.Categorical:
            return pd.Categorical.from_codes(codes, categories=list(labels))

        n = len(self)
        return pd.DataFrame(
            {
                "victim_id": np.arange(1, n + 1),
                "form": pd.Categorical(self.forms),
                "primary_form": cat(self.primary_form, _FORMS),
                "sex": cat(np.where(self.female, 0, 1), ("F", "M")),
                "age": age_on(self.birth_date, self.reference_date),
                "minor_at_exploitation": self.minor.astype(np.int8),
                "birth_date": self.birth_date,
                "given_name": pd.Categorical(self.given_name),
                "family_name": pd.Categorical(self.family_name),
                "nationality": pd.Categorical(self.nationality),
                "residence_status": cat(self.residence, vocab.RESIDENCE_STATUSES),
                "sector": cat(self.sector, vocab.SECTORS),
                "recruitment": cat(self.recruitment, vocab.RECRUITMENT_METHODS),
                "means_of_control": pd.Categorical(self.means_of_control),
                "ilo_indicators": pd.Categorical(self.ilo_indicators),
                "region": cat(self.region, vocab.REGIONS),
                "municipality": pd.Categorical(self.municipality),
                "reference_date": self.reference_date,
                "exploitation_start": self.exploitation_start,
                "exploitation_end": self.exploitation_end,
                "trafficker_count": self.trafficker_count,
                "trafficker_nationality": pd.Categorical(self.trafficker_nationality),
                "trafficker_relation": cat(self.trafficker_relation, vocab.TRAFFICKER_RELATIONS),
            }
        )


def age_on(birth: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Whole years between two datetime64[D] arrays (capped at 99)."""
    days = (when - birth).astype(np.int64)
    return np.minimum(np.floor(days / DAYS_PER_YEAR), 99).astype(np.int64)


# --------------------------------------------------------------------------- helpers


def _table(shares: SharesByForm, labels: tuple[str, ...]) -> np.ndarray:
    """Row-normalised probability matrix [form, label] from a per-form share table."""
    out = np.zeros((len(_FORMS), len(labels)))
    for f, form in enumerate(_FORMS):
        for label, weight in shares.by_form[form].items():
            out[f, labels.index(label)] = weight
    return out / out.sum(axis=1, keepdims=True)


def _draw_by_row(probs: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each element draw a column index from probs[row] (inverse CDF, one searchsorted per row)."""
    cdf = np.cumsum(probs, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(rows))
    out = np.empty(len(rows), dtype=np.int16)
    for r in range(len(probs)):
        sel = rows == r
        out[sel] = np.minimum(np.searchsorted(cdf[r], u[sel], side="right"), probs.shape[1] - 1)
    return out


def _multi_labels(rates: ItemRatesByForm, items: tuple[str, ...], primary: np.ndarray,
                  second: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Independent yes/no per item (rate = max over the victim's forms), joined with ';'."""
    table = np.zeros((len(_FORMS), len(items)), dtype=np.float32)
    for f, form in enumerate(_FORMS):
        for item, p in rates.by_form[form].items():
            table[f, items.index(item)] = p
    p = table[primary]
    has_second = second >= 0
    p[has_second] = np.maximum(p[has_second], table[second[has_second]])
    bits = rng.random(p.shape, dtype=np.float32) < p
    masks = bits.astype(np.int64) @ (1 << np.arange(len(items), dtype=np.int64))
    uniq, inverse = np.unique(masks, return_inverse=True)
    labels = np.array(
        [vocab.MULTI_VALUE_SEPARATOR.join(it for k, it in enumerate(items) if m >> k & 1) for m in uniq],
        dtype=object,
    )
    return labels[inverse]


def _draw_codes(weights: dict[str, float], labels: tuple[str, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    p = np.array([weights.get(label, 0.0) for label in labels])
    return rng.choice(len(labels), size=n, p=p / p.sum()).astype(np.int16)


# --------------------------------------------------------------------------- the draw


def draw_population(params: GeneratorParams, *, n: int, year: int, rng: np.random.Generator) -> Population:
    """Draw n victims for `year` from the distributions in `params`, using `rng` only."""
    form_p = np.array([params.forms.weights.get(f, 0.0) for f in _FORMS])
    primary = rng.choice(len(_FORMS), size=n, p=form_p / form_p.sum()).astype(np.int16)
    # a second form, drawn from the remaining forms in proportion to their weights
    second = np.full(n, -1, dtype=np.int16)
    has_second = rng.random(n) < params.second_form.value
    other_p = np.tile(form_p, (len(_FORMS), 1))
    np.fill_diagonal(other_p, 0.0)
    other_p = np.where(other_p.sum(axis=1, keepdims=True) > 0, other_p, 1.0 - np.eye(len(_FORMS)))
    other_p /= other_p.sum(axis=1, keepdims=True)
    idx = np.flatnonzero(has_second)
    second[idx] = _draw_by_row(other_p, primary[idx], rng)

    female = rng.random(n) < np.array([params.female_share.by_form[f] for f in _FORMS])[primary]
    minor = rng.random(n) < np.array([params.minor_share.by_form[f] for f in _FORMS])[primary]

    # age at the start of exploitation: 12-17 for minors, 18 + gamma for adults
    mean = np.array([params.adult_age.mean_by_form[f] for f in _FORMS])[primary] - 18.0
    sd = params.adult_age.sd
    adult_age = 18.0 + rng.gamma(shape=(mean / sd) ** 2, scale=sd**2 / mean)
    start_age = np.where(minor, rng.uniform(12.0, 18.0, n), np.minimum(adult_age, 75.0))

    # dates: a reference (registration) date in the year, exploitation before it
    first = np.datetime64(f"{year}-01-01")
    days_in_year = int((np.datetime64(f"{year + 1}-01-01") - first).astype(int))
    reference = first + rng.integers(0, days_in_year, n).astype("timedelta64[D]")
    lag = rng.exponential(params.exploitation.mean_months_before_registration * 30.44, n).astype(np.int64) + 1
    start = reference - lag.astype("timedelta64[D]")
    ongoing = rng.random(n) < params.exploitation.ongoing_at_registration
    ended_after = (lag * rng.uniform(0.2, 1.0, n)).astype(np.int64)
    end = np.where(ongoing, np.datetime64("NaT"), start + ended_after.astype("timedelta64[D]"))
    birth = start - np.round(start_age * DAYS_PER_YEAR).astype(np.int64).astype("timedelta64[D]")

    nat_labels = sorted({c for f in _FORMS for c in params.nationality.by_form[f]})
    nat_codes = _draw_by_row(_table(params.nationality, tuple(nat_labels)), primary, rng)
    nationality = np.array(nat_labels, dtype=object)[nat_codes]
    residence = _residence(params, nat_codes, nat_labels, rng)

    sector = _draw_by_row(_table(params.sector, vocab.SECTORS), primary, rng)
    recruitment = _draw_by_row(_table(params.recruitment, vocab.RECRUITMENT_METHODS), primary, rng)
    means = _multi_labels(params.means_of_control, vocab.MEANS_OF_CONTROL, primary, second, rng)
    ilo = _multi_labels(params.ilo_indicators, vocab.ILO_INDICATORS, primary, second, rng)

    region = _draw_codes(params.region.weights, vocab.REGIONS, n, rng)
    municipality = _municipality(region, rng)

    traffickers = params.traffickers
    extra = np.array([traffickers.extra_count_mean_by_form[f] for f in _FORMS])[primary]
    trafficker_count = 1 + rng.poisson(extra)
    same = rng.random(n) < traffickers.same_nationality
    dutch = rng.random(n) < traffickers.dutch_if_different
    other_nat = np.array(nat_labels, dtype=object)[_draw_by_row(_table(params.nationality, tuple(nat_labels)),
                                                                 primary, rng)]
    trafficker_nat = np.where(same, nationality, np.where(dutch, "NL", other_nat)).astype(object)
    relation = _draw_by_row(_table(traffickers.relation, vocab.TRAFFICKER_RELATIONS), primary, rng)

    pools = build_pools(nat_labels, rng)
    given, family = _names(nat_codes, nat_labels, female, pools, rng)

    return Population(
        year=year, primary_form=primary, second_form=second, female=female, minor=minor, birth_date=birth,
        nationality=nationality, residence=residence, sector=sector, recruitment=recruitment,
        means_of_control=means, ilo_indicators=ilo, region=region, municipality=municipality,
        reference_date=reference, exploitation_start=start, exploitation_end=end,
        trafficker_count=trafficker_count, trafficker_nationality=trafficker_nat,
        trafficker_relation=relation, given_name=given, family_name=family,
    )


def _residence(params: GeneratorParams, nat_codes: np.ndarray, nat_labels: list[str],
               rng: np.random.Generator) -> np.ndarray:
    """NL -> nl_citizen, EU -> eu_citizen, UA -> mostly temporary protection, others by weights."""
    statuses = vocab.RESIDENCE_STATUSES
    groups = np.array([vocab.nationality_group(c) for c in nat_labels], dtype=object)[nat_codes]
    non_eu = _draw_codes(params.residence.non_eu, statuses, len(nat_codes), rng)
    ua_protected = rng.random(len(nat_codes)) < params.residence.ua_temporary_protection
    out = non_eu.copy()
    out[groups == "dutch"] = statuses.index("nl_citizen")
    out[(groups == "eu_central_eastern") | (groups == "eu_other")] = statuses.index("eu_citizen")
    is_ua = groups == "ukraine"
    out[is_ua] = np.where(ua_protected[is_ua], statuses.index("ua_temporary_protection"),
                          statuses.index("legal_non_eu"))
    return out


def _municipality(region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A municipality inside the victim's police region (uniform over the listed ones)."""
    out = np.empty(len(region), dtype=object)
    u = rng.random(len(region))
    for r, name in enumerate(vocab.REGIONS):
        towns = np.array(MUNICIPALITIES[name], dtype=object)
        sel = region == r
        out[sel] = towns[(u[sel] * len(towns)).astype(np.int64)]
    return out


def _names(nat_codes: np.ndarray, nat_labels: list[str], female: np.ndarray, pools: dict[str, NamePool],
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Given and family names from the pool of each victim's nationality."""
    n = len(nat_codes)
    given = np.empty(n, dtype=object)
    family = np.empty(n, dtype=object)
    u = rng.random((2, n))
    for code, nat in enumerate(nat_labels):
        pool = pools[nat]
        is_nat = nat_codes == code
        for is_female, g_pool, f_pool in ((True, pool.given_female, pool.family_female),
                                          (False, pool.given_male, pool.family_male)):
            sel = is_nat & (female == is_female)
            given[sel] = g_pool[(u[0, sel] * len(g_pool)).astype(np.int64)]
            family[sel] = f_pool[(u[1, sel] * len(f_pool)).astype(np.int64)]
    return given, family
