"""Ground truth: what the facilitator knows and the organisations do not.

Computed from TRUE identities (the population table), never from the noisy records: the true
population size, the number of registered victims, records per organisation, the capture-pattern
counts that Multiple Systems Estimation works from, and marginals per attribute.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from synthetic import vocab

__all__ = ["AGE_BANDS", "age_band", "capture_patterns", "ground_truth", "marginals"]

AGE_BANDS = ((0, 17, "0-17"), (18, 22, "18-22"), (23, 29, "23-29"), (30, 39, "30-39"), (40, 49, "40-49"),
             (50, 200, "50+"))
_MARGINAL_COLUMNS = ("primary_form", "sex", "minor_at_exploitation", "nationality", "residence_status",
                     "sector", "recruitment", "region", "trafficker_relation")
_MULTI_COLUMNS = ("form", "means_of_control", "ilo_indicators")


def age_band(age: pd.Series) -> pd.Series:
    """Reporting bands used in Dutch figures (<18, 18-22, ...)."""
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


def ground_truth(population: pd.DataFrame, on: np.ndarray, org_ids: list[str], records_per_org: dict[str, int],
                 key_corrupted: dict[str, int], *, seed: int, year: int) -> dict:
    """The JSON-serialisable truth of one generated dataset."""
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
        "marginals": {"population": marginals(population), "registered": marginals(population, registered)},
        "seed": int(seed),
        "year": int(year),
        "scenario_orgs": list(org_ids),
    }
