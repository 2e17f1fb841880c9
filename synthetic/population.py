"""The hidden population: every victim of the year, registered or not (vectorised with numpy).

Attributes are drawn in dependency order: form(s) -> sex, minor, age, nationality, sector,
recruitment, means of control, ILO indicators, traffickers; then region/municipality, dates and
names. Categorical attributes are kept as small-integer codes plus a label array, so a million
victims fit comfortably in memory; `Population.frame()` turns them into a pandas DataFrame (pandas is
imported only then: the command that writes the files does not need it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

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
    # column name -> (codes, labels) with labels[codes] == the column's values; lets `frame()` build
    # categoricals without hashing a million strings (optional: missing columns are factorised)
    label_codes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False,
                                                                   compare=False)

    def __len__(self) -> int:
        return len(self.primary_form)

    @cached_property
    def form_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Codes into a label table of every (primary, second) pair ('a;b' and 'b;a' share a label)."""
        width = len(_FORMS) + 1
        labels = np.empty(len(_FORMS) * width, dtype=object)
        for p in range(len(_FORMS)):
            for s in range(-1, len(_FORMS)):
                chosen = sorted({p, s} - {-1})
                labels[p * width + s + 1] = vocab.MULTI_VALUE_SEPARATOR.join(_FORMS[i] for i in chosen)
        codes = self.primary_form.astype(np.int64) * width + self.second_form.astype(np.int64) + 1
        return codes, labels

    @cached_property
    def forms(self) -> np.ndarray:
        """The ';'-joined forms of each victim, in FORMS order (computed once)."""
        codes, labels = self.form_codes
        return labels[codes]

    def frame(self):
        """One row per victim (a pandas DataFrame); categorical columns as pandas categoricals, dates as datetime64."""
        from synthetic.frames import population_frame

        return population_frame(self)


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
    last = probs.shape[1] - 1
    if len(probs) <= 4 and np.isfinite(cdf).all() and (np.diff(cdf, axis=1) >= 0).all() and (cdf >= 0).all():
        # One searchsorted for all rows: non-negative float64s order like their bit patterns, so the key
        # (row << 62) | bits(value) sorts by row, then by value (values <= 1.0 need fewer than 62 bits).
        shift = np.uint64(62)
        keys = (np.arange(len(probs), dtype=np.uint64)[:, None] << shift) | (cdf + 0.0).view(np.uint64)  # no -0.0
        query = (rows.astype(np.uint64) << shift) | u.view(np.uint64)
        found = np.searchsorted(keys.ravel(), query, side="right") - rows.astype(np.int64) * probs.shape[1]
        return np.minimum(found, last).astype(np.int16)
    out = np.empty(len(rows), dtype=np.int16)
    for r in range(len(probs)):
        sel = rows == r
        out[sel] = np.minimum(np.searchsorted(cdf[r], u[sel], side="right"), probs.shape[1] - 1)
    return out


def _multi_labels(rates: ItemRatesByForm, items: tuple[str, ...], primary: np.ndarray,
                  second: np.ndarray, rng: np.random.Generator):
    """Independent yes/no per item (rate = max over the victim's forms), joined with ';'.

    Returns the joined labels plus (codes, label table) with table[codes] == labels.
    """
    table = np.zeros((len(_FORMS), len(items)), dtype=np.float32)
    for f, form in enumerate(_FORMS):
        for item, p in rates.by_form[form].items():
            table[f, items.index(item)] = p
    # rates of every (primary, second) pair: the max over both forms; one row lookup per victim
    width = len(_FORMS) + 1
    pairs = np.empty((len(_FORMS), width, len(items)), dtype=np.float32)
    pairs[:, 0] = table
    pairs[:, 1:] = np.maximum(table[:, None, :], table[None, :, :])
    pair = primary.astype(np.intp) * width + second.astype(np.intp) + 1
    p = np.take(pairs.reshape(-1, len(items)), pair, axis=0)
    bits = rng.random(p.shape, dtype=np.float32) < p
    packed = np.packbits(bits, axis=1, bitorder="little")  # bit k of the mask = item k
    masks = np.zeros(len(primary), dtype=np.int64)
    for b in range(packed.shape[1]):
        masks |= packed[:, b].astype(np.int64) << (8 * b)
    present = np.flatnonzero(np.bincount(masks, minlength=1 << len(items)))
    labels = np.empty(1 << len(items), dtype=object)
    labels[present] = [_mask_label(int(m), items) for m in present]
    return labels[masks], masks, labels


@functools.lru_cache(maxsize=1 << 16)
def _mask_label(mask: int, items: tuple[str, ...]) -> str:
    """The ';'-joined items whose bits are set in `mask`, in item order (built from the shorter prefix)."""
    if mask == 0:
        return ""
    top = mask.bit_length() - 1
    rest = mask & ~(1 << top)
    return f"{_mask_label(rest, items)}{vocab.MULTI_VALUE_SEPARATOR}{items[top]}" if rest else items[top]


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
    means, means_codes, means_labels = _multi_labels(params.means_of_control, vocab.MEANS_OF_CONTROL, primary,
                                                     second, rng)
    ilo, ilo_codes, ilo_labels = _multi_labels(params.ilo_indicators, vocab.ILO_INDICATORS, primary, second, rng)

    region = _draw_codes(params.region.weights, vocab.REGIONS, n, rng)
    municipality, town_codes, town_labels = _municipality(region, rng)

    traffickers = params.traffickers
    extra = np.array([traffickers.extra_count_mean_by_form[f] for f in _FORMS])[primary]
    trafficker_count = 1 + rng.poisson(extra)
    same = rng.random(n) < traffickers.same_nationality
    dutch = rng.random(n) < traffickers.dutch_if_different
    other_codes = _draw_by_row(_table(params.nationality, tuple(nat_labels)), primary, rng)
    trafficker_labels = np.array(nat_labels + ([] if "NL" in nat_labels else ["NL"]), dtype=object)
    trafficker_codes = np.where(same, nat_codes, np.where(dutch, list(trafficker_labels).index("NL"), other_codes))
    trafficker_nat = trafficker_labels[trafficker_codes]
    relation = _draw_by_row(_table(traffickers.relation, vocab.TRAFFICKER_RELATIONS), primary, rng)

    pools = build_pools(nat_labels, rng)
    given, family, name_codes = _names(nat_codes, nat_labels, female, pools, rng)
    nat_array = np.array(nat_labels, dtype=object)

    return Population(
        year=year, primary_form=primary, second_form=second, female=female, minor=minor, birth_date=birth,
        nationality=nationality, residence=residence, sector=sector, recruitment=recruitment,
        means_of_control=means, ilo_indicators=ilo, region=region, municipality=municipality,
        reference_date=reference, exploitation_start=start, exploitation_end=end,
        trafficker_count=trafficker_count, trafficker_nationality=trafficker_nat,
        trafficker_relation=relation, given_name=given, family_name=family,
        label_codes={"nationality": (nat_codes, nat_array), "means_of_control": (means_codes, means_labels),
                     "ilo_indicators": (ilo_codes, ilo_labels), "municipality": (town_codes, town_labels),
                     "trafficker_nationality": (trafficker_codes, trafficker_labels), **name_codes},
    )


def _residence(params: GeneratorParams, nat_codes: np.ndarray, nat_labels: list[str],
               rng: np.random.Generator) -> np.ndarray:
    """NL -> nl_citizen, EU -> eu_citizen, UA -> mostly temporary protection, others by weights."""
    statuses = vocab.RESIDENCE_STATUSES
    group_names = vocab.NATIONALITY_GROUPS
    group_index = {g: i for i, g in enumerate(group_names)}
    groups = np.array([group_index.get(vocab.nationality_group(c), -1) for c in nat_labels],
                      dtype=np.int64)[nat_codes]
    non_eu = _draw_codes(params.residence.non_eu, statuses, len(nat_codes), rng)
    ua_protected = rng.random(len(nat_codes)) < params.residence.ua_temporary_protection
    out = non_eu.copy()
    out[groups == group_names.index("dutch")] = statuses.index("nl_citizen")
    out[(groups == group_names.index("eu_central_eastern")) | (groups == group_names.index("eu_other"))] = \
        statuses.index("eu_citizen")
    is_ua = groups == group_names.index("ukraine")
    out[is_ua] = np.where(ua_protected[is_ua], statuses.index("ua_temporary_protection"),
                          statuses.index("legal_non_eu"))
    return out


def _municipality(region: np.ndarray, rng: np.random.Generator):
    """A municipality inside the victim's police region (uniform over the listed ones).

    Returns the names plus (codes, label table) with table[codes] == names.
    """
    u = rng.random(len(region))
    towns = [MUNICIPALITIES[name] for name in vocab.REGIONS]
    labels = np.array([t for group in towns for t in group], dtype=object)
    sizes = np.array([len(group) for group in towns], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    codes = offsets[region] + (u * sizes[region]).astype(np.int64)
    return labels[codes], codes, labels


def _names(nat_codes: np.ndarray, nat_labels: list[str], female: np.ndarray, pools: dict[str, NamePool],
           rng: np.random.Generator):
    """Given and family names from the pool of each victim's nationality.

    All pools are concatenated (per nationality: female, then male), so each victim's name is one
    index: offset of its (nationality, sex) pool + floor(u × pool size). Also returns the codes.
    """
    n = len(nat_codes)
    u = rng.random((2, n))
    out = []
    codes = {}
    for part, (fem_attr, male_attr) in enumerate((("given_female", "given_male"), ("family_female", "family_male"))):
        arrays = []
        for nat in nat_labels:
            arrays += [getattr(pools[nat], fem_attr), getattr(pools[nat], male_attr)]
        sizes = np.array([len(a) for a in arrays], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        labels = np.concatenate(arrays) if arrays else np.empty(0, dtype=object)
        group = nat_codes.astype(np.int64) * 2 + (~female).astype(np.int64)
        code = offsets[group] + (u[part] * sizes[group]).astype(np.int64)
        out.append(labels[code])
        codes["given_name" if part == 0 else "family_name"] = (code, labels)
    return out[0], out[1], codes
