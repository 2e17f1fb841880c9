"""Ground truth: what the facilitator knows and the organisations do not.

Computed from TRUE identities (the population table), never from the noisy records: the true
population size, the number of registered victims, records per organisation, the capture-pattern
counts that Multiple Systems Estimation works from, and marginals per attribute.
"""

from __future__ import annotations

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


def _counts(series: pd.Series) -> dict[str, int]:
    counts = series.value_counts(sort=False)
    return {str(k): int(v) for k, v in sorted((str(k), v) for k, v in counts.items() if v > 0)}


def _multi_counts(series: pd.Series) -> dict[str, int]:
    """Counts per item of a ';'-joined field: count the distinct labels first, then split those."""
    out: dict[str, int] = {}
    for label, count in series.value_counts(sort=False).items():
        for item in str(label).split(vocab.MULTI_VALUE_SEPARATOR):
            if item and count:
                out[item] = out.get(item, 0) + int(count)
    return dict(sorted(out.items()))


def marginals(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Counts per value of each attribute; multi-value fields count every item."""
    out = {name: _counts(frame[name]) for name in _MARGINAL_COLUMNS}
    out.update({name: _multi_counts(frame[name]) for name in _MULTI_COLUMNS})
    out["age_band"] = _counts(age_band(frame["age"]))
    groups: dict[str, int] = {}
    for nat, count in _counts(frame["nationality"]).items():
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
    reg_frame = population[registered]
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
        "marginals": {"population": marginals(population), "registered": marginals(reg_frame)},
        "seed": int(seed),
        "year": int(year),
        "scenario_orgs": list(org_ids),
    }
