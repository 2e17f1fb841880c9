"""Ground truth: what the facilitator knows and the organisations do not.

Computed from TRUE identities (the population table), never from the noisy records: the true
population size, the number of registered victims, records per organisation, the capture-pattern
counts that Multiple Systems Estimation works from, and marginals per attribute.

`ground_truth` counts from the population's integer codes with numpy (no pandas at generation time);
`marginals` is the same count from a pandas DataFrame (e.g. `SyntheticData.population`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from synthetic import vocab

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from synthetic.population import Population

__all__ = ["AGE_BANDS", "age_band", "capture_patterns", "ground_truth", "marginals", "population_marginals"]

AGE_BANDS = ((0, 17, "0-17"), (18, 22, "18-22"), (23, 29, "23-29"), (30, 39, "30-39"), (40, 49, "40-49"),
             (50, 200, "50+"))
_MARGINAL_COLUMNS = ("primary_form", "sex", "minor_at_exploitation", "nationality", "residence_status",
                     "sector", "recruitment", "region", "trafficker_relation")
_MULTI_COLUMNS = ("form", "means_of_control", "ilo_indicators")


def age_band(age: pd.Series) -> pd.Series:
    """Reporting bands used in Dutch figures (<18, 18-22, ...)."""
    import pandas as pd

    bins = [-1] + [hi for _, hi, _ in AGE_BANDS]
    return pd.cut(age, bins=bins, labels=[label for _, _, label in AGE_BANDS]).astype(str)


def capture_patterns(on: np.ndarray, org_ids: list[str]) -> list[dict]:
    """Count victims per exact set of lists; every non-empty pattern with a count > 0.

    Sorted by pattern: by the tuple of the lists' positions in the scenario, e.g. [police] <
    [police, kmar] < [police, nla] < [kmar].
    """
    k = len(org_ids)
    weights = 1 << np.arange(k, dtype=np.int64)
    codes = on.astype(np.int64) @ weights if on.size else np.zeros(len(on), dtype=np.int64)
    counts = np.bincount(codes, minlength=1 << k)
    rows = []
    for code in np.flatnonzero(counts):
        if code == 0:
            continue
        members = tuple(j for j in range(k) if code >> j & 1)
        rows.append((members, int(counts[code])))
    rows.sort()
    return [{"lists": [org_ids[j] for j in members], "count": count} for members, count in rows]


def _value_counts(series: pd.Series, rows: np.ndarray | None) -> list[tuple[str, int]]:
    """(str(value), count) pairs of a column, optionally only over `rows` (bool mask).

    Categoricals and small non-negative integers are counted with np.bincount on their codes, so no
    strings are hashed; other columns fall back to value_counts.
    """
    import pandas as pd

    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        if rows is not None:
            codes = codes[rows]
        counts = np.bincount(codes[codes >= 0], minlength=len(series.cat.categories))
        return [(str(k), int(v)) for k, v in zip(series.cat.categories.tolist(), counts.tolist(), strict=True)]
    if rows is not None:
        series = series[rows]
    if pd.api.types.is_integer_dtype(series.dtype) and len(series):
        values = series.to_numpy()
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi < 1_000_000:
            counts = np.bincount(values, minlength=hi + 1)
            return [(str(k), int(v)) for k, v in enumerate(counts)]
    return [(str(k), int(v)) for k, v in series.value_counts(sort=False).items()]


@functools.lru_cache(maxsize=65536)
def _items(label: str) -> tuple[str, ...]:
    return tuple(item for item in label.split(vocab.MULTI_VALUE_SEPARATOR) if item)


def _counts(series: pd.Series, rows: np.ndarray | None = None) -> dict[str, int]:
    return {k: v for k, v in sorted(_value_counts(series, rows)) if v > 0}


def _multi_counts(series: pd.Series, rows: np.ndarray | None = None) -> dict[str, int]:
    """Counts per item of a ';'-joined field: count the distinct labels first, then split those."""
    out: dict[str, int] = {}
    for label, count in _value_counts(series, rows):
        if count:
            for item in _items(label):
                out[item] = out.get(item, 0) + count
    return dict(sorted(out.items()))


def _age_bands(age: pd.Series, rows: np.ndarray | None) -> dict[str, int]:
    """Same as _counts(age_band(age)), from integer ages with np.searchsorted when that is exact."""
    import pandas as pd

    values = age.to_numpy()
    if rows is not None:
        values = values[rows]
    if not (pd.api.types.is_integer_dtype(values.dtype) and (len(values) == 0 or (
            values.min() > -1 and values.max() <= AGE_BANDS[-1][1]))):
        return _counts(age_band(pd.Series(values)))
    bands = np.searchsorted(np.array([hi for _, hi, _ in AGE_BANDS]), values, side="left")
    counts = np.bincount(bands, minlength=len(AGE_BANDS))
    return dict(sorted((label, int(c)) for (_, _, label), c in zip(AGE_BANDS, counts, strict=True) if c > 0))


def marginals(frame: pd.DataFrame, rows: np.ndarray | None = None) -> dict[str, dict[str, int]]:
    """Counts per value of each attribute; multi-value fields count every item.

    Args:
        rows: optional bool mask; count only those rows (same as `marginals(frame[rows])`).
    """
    out = {name: _counts(frame[name], rows) for name in _MARGINAL_COLUMNS}
    out.update({name: _multi_counts(frame[name], rows) for name in _MULTI_COLUMNS})
    out["age_band"] = _age_bands(frame["age"], rows)
    groups: dict[str, int] = {}
    for nat, count in _counts(frame["nationality"], rows).items():
        group = vocab.nationality_group(nat)
        groups[group] = groups.get(group, 0) + count
    out["nationality_group"] = dict(sorted(groups.items()))
    return out


def _coded_counts(codes: np.ndarray, labels, rows: np.ndarray | None) -> list[tuple[str, int]]:
    """(label, count) per distinct label of `labels[codes]` (duplicate labels added up), optionally over `rows`."""
    codes = np.asarray(codes, dtype=np.int64)
    if rows is not None:
        codes = codes[rows]
    counts = np.bincount(codes, minlength=len(labels)) if len(codes) else np.zeros(len(labels), dtype=np.int64)
    present = np.flatnonzero(counts)
    out: dict[str, int] = {}
    for label, count in zip(np.asarray(labels, dtype=object)[present].tolist(), counts[present].tolist(),
                            strict=True):
        out[str(label)] = out.get(str(label), 0) + count
    return list(out.items())


def population_marginals(pop: Population, rows: np.ndarray | None = None) -> dict[str, dict[str, int]]:
    """`marginals(pop.frame(), rows)` counted from the population's integer codes (no pandas, no strings hashed)."""
    from synthetic.population import age_on

    def coded(name: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if name in pop.label_codes:
            return pop.label_codes[name]
        labels, codes = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
        return codes, labels

    columns = {
        "primary_form": (pop.primary_form, vocab.FORMS),
        "sex": (np.where(pop.female, 0, 1), ("F", "M")),
        "minor_at_exploitation": (pop.minor.astype(np.int64), ("0", "1")),
        "nationality": coded("nationality", pop.nationality),
        "residence_status": (pop.residence, vocab.RESIDENCE_STATUSES),
        "sector": (pop.sector, vocab.SECTORS),
        "recruitment": (pop.recruitment, vocab.RECRUITMENT_METHODS),
        "region": (pop.region, vocab.REGIONS),
        "trafficker_relation": (pop.trafficker_relation, vocab.TRAFFICKER_RELATIONS),
        "form": pop.form_codes,
        "means_of_control": coded("means_of_control", pop.means_of_control),
        "ilo_indicators": coded("ilo_indicators", pop.ilo_indicators),
    }
    counted = {name: _coded_counts(*columns[name], rows) for name in (*_MARGINAL_COLUMNS, *_MULTI_COLUMNS)}
    out = {name: dict(sorted(counted[name])) for name in _MARGINAL_COLUMNS}
    for name in _MULTI_COLUMNS:
        items: dict[str, int] = {}
        for label, count in counted[name]:
            for item in _items(label):
                items[item] = items.get(item, 0) + count
        out[name] = dict(sorted(items.items()))
    age = age_on(pop.birth_date, pop.reference_date)
    if rows is not None:
        age = age[rows]
    if len(age) and not (age.min() > -1 and age.max() <= AGE_BANDS[-1][1]):  # pragma: no cover (ages are 0-99)
        import pandas as pd

        out["age_band"] = _counts(age_band(pd.Series(age)))
    else:
        bands = np.searchsorted(np.array([hi for _, hi, _ in AGE_BANDS]), age, side="left")
        counts = np.bincount(bands, minlength=len(AGE_BANDS))
        out["age_band"] = dict(sorted((label, int(c)) for (_, _, label), c in zip(AGE_BANDS, counts, strict=True)
                                      if c > 0))
    groups: dict[str, int] = {}
    for nat, count in out["nationality"].items():
        group = vocab.nationality_group(nat)
        groups[group] = groups.get(group, 0) + count
    out["nationality_group"] = dict(sorted(groups.items()))
    return {name: out[name] for name in (*_MARGINAL_COLUMNS, *_MULTI_COLUMNS, "age_band", "nationality_group")}


def ground_truth(population: Population, on: np.ndarray, org_ids: list[str], records_per_org: dict[str, int],
                 key_corrupted: dict[str, int], *, seed: int, year: int) -> dict:
    """The JSON-serialisable truth of one generated dataset (counted from the population's codes)."""
    registered = on.any(axis=1)
    n_registered = int(registered.sum())
    records_total = int(sum(records_per_org.values()))
    multi = int((on.sum(axis=1) >= 2).sum())
    return {
        "population": int(len(population)),
        "registered": n_registered,
        "records_total": records_total,
        "records_per_org": {o: int(records_per_org[o]) for o in org_ids},
        "multi_list": multi,
        "multi_list_share": round(multi / n_registered, 6) if n_registered else 0.0,
        "records_per_registered": round(records_total / n_registered, 6) if n_registered else 0.0,
        "key_corrupted_per_org": {o: int(key_corrupted[o]) for o in org_ids},
        "capture_patterns": capture_patterns(on, org_ids),
        "marginals": {"population": population_marginals(population),
                      "registered": population_marginals(population, registered)},
        "seed": int(seed),
        "year": int(year),
        "scenario_orgs": list(org_ids),
    }
