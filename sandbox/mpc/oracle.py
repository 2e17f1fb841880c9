"""The independent plaintext oracle: every catalogue computation, computed in the clear from the pooled files.

The sandbox checks every MPC result against this module. It shares NO code with the parties: it does not
import `sandbox.mpc.computations`, `overlap_catalogue`, `inputs` or the protocols, but reads the CSV files
with pandas itself and computes each figure with pandas idioms (explode, drop_duplicates, value_counts,
merge). A bug in a party's preparation therefore shows up as a mismatch instead of twice. It uses only the
code lists in `synthetic.vocab` (data, the same for everyone). No real deployment has such an oracle.

As its own process (the runner starts it next to the parties, so that pooling the files in the clear
neither holds the web server's interpreter lock nor adds to a run's wall time)::

    python -m sandbox.mpc.oracle --plan P --out O

The plan holds the computation, the data folder, the organisations and the parameters; the output is
``{"revealed": ..., "suppressed": [...], "own_counts": ...}`` as JSON, where ``own_counts`` is each
organisation's own count per cell for the aggregate computations (None for the others).

In process: `oracle(frames, computation, params)` and `own_counts(frames, computation, params)`.

Semantics (what the parties compute):

* Multi-valued fields are split on `vocab.MULTI_VALUE_SEPARATOR`; a record counts once per distinct
  value; values that are not in the code list are skipped.
* Small-cell rule: a cell with 0 < value < min_cell is withheld (None; named in "suppressed"); 0 is shown.
* count-filtered / query-approval: a record matches a query when its `region` field equals the query's
  region (whole field; no region: every record; no region column: no record) and its `nationality` field
  is not the excluded code (whole field; no nationality column: nothing is excluded). Noise parameters are
  ignored: the oracle gives the exact counts (the runner accounts for the parties' noise itself).
* designed-query (params["query"], checked by the runner): see the section below; written from the
  query format in README.md, not from `sandbox.mpc.query`. Distinct persons ({"distinct": "person"}):
  the (record, cell) pairs of the records passing the filters, joined to the records' person_key and
  counted once per (person_key, cell); also "join_opened": records per organisation and persons per
  number of lists, over all records.
* Linkage computations: a person is a distinct `person_key`; its lists are the organisations whose files
  hold that key (bit j of the capture pattern = j-th organisation of the run).
* capture-patterns-by (params["covariates"]: sex, minor, dutch, form; default sex, minor): a record's
  level is its field's code as in the designed-query section (form: the first form in `vocab.FORMS`
  order among its forms); a person's level is the level of its record at the first organisation in the
  run's order whose record has one, else "missing". Counts per (pattern, level combination), patterns
  by bitmask, level combinations with the first covariate outer and "missing" after each code list.
  Small cells: with min_cell > 1 every cell with fewer than min_cell persons is withheld, EMPTY cells
  included; with min_cell 0 or 1 every non-empty cell is shown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from synthetic import vocab

__all__ = ["AGGREGATES", "COMPUTATIONS", "OracleError", "compute", "oracle", "own_counts", "read_frames"]

SEP = vocab.MULTI_VALUE_SEPARATOR
MAX_AGE = 99
MINOR_BELOW = 18
AGE_CELLS = ("records_with_age", "mean_age", "q1", "median", "q3", "share_minors")
AGE_QUANTILES = (("q1", 1, 4), ("median", 1, 2), ("q3", 3, 4))  # lower quantile: smallest a, #(age <= a) >= q·n

# The aggregate computations: one count per cell, added up over the organisations.
AGGREGATES = ("counts-by-form", "crosstab-form-sector", "crosstab-nationality-form", "crosstab-region-form",
              "count-filtered")
COMPUTATIONS = (*AGGREGATES, "age-statistics", "capture-patterns", "capture-patterns-by", "mo-cooccurrence",
                "query-approval", "designed-query")

_ORG = "__org"  # columns the oracle adds to the pooled frame (names no CSV uses)
_REC = "__rec"


class OracleError(ValueError):
    """The plaintext check cannot be computed; the message says which file or parameter is at fault."""


# ------------------------------------------------------------------------------------------- reading


def read_frames(data_dir: str | Path, orgs: list[str]) -> dict[str, pd.DataFrame]:
    """Every organisation's CSV `<data_dir>/<org>.csv`, all columns as text; OracleError naming the file."""
    frames = {}
    for org in orgs:
        path = Path(data_dir) / f"{org}.csv"
        if not path.is_file():
            raise OracleError(f"{path}: file not found (the records of organisation {org!r})")
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise OracleError(f"{path}: not a readable CSV file ({type(exc).__name__}: {exc})") from None
        missing = [c for c in vocab.REQUIRED_COLUMNS if c not in df.columns]
        if missing:
            raise OracleError(f"{path}: missing required column(s): {', '.join(missing)}")
        frames[org] = df
    return frames


def _pool(frames: dict[str, pd.DataFrame], orgs: list[str]) -> pd.DataFrame:
    """All records of `orgs` in one frame, with the organisation (_ORG) and a running record number (_REC)."""
    missing = [o for o in orgs if o not in frames]
    if missing:
        raise OracleError(f"no records given for organisation(s): {', '.join(missing)}")
    parts = [frames[o].astype(str).assign(**{_ORG: o}) for o in orgs]
    pooled = pd.concat(parts, ignore_index=True).fillna("") if parts else pd.DataFrame(columns=[_ORG])
    pooled[_REC] = range(len(pooled))
    return pooled


def _values(pooled: pd.DataFrame, column: str, codes: tuple[str, ...], mapping=None) -> pd.DataFrame:
    """One row per (record, distinct known value of `column`): columns _ORG, _REC, value."""
    if column not in pooled.columns:
        return pd.DataFrame({_ORG: pd.Series(dtype=str), _REC: pd.Series(dtype=int), "value": pd.Series(dtype=str)})
    long = pooled[[_ORG, _REC, column]].assign(value=pooled[column].str.split(SEP)).explode("value")
    long["value"] = long["value"].fillna("")
    if mapping is not None:
        long["value"] = long["value"].map(lambda v: mapping(v) if v else "")
    long = long[long["value"].isin(codes)]
    return long.drop_duplicates([_REC, "value"])[[_ORG, _REC, "value"]]


def _min_cell(params: dict[str, Any]) -> int:
    value = params.get("min_cell")
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        raise OracleError(f"min_cell must be a whole number, not {value!r}") from None


def _small(value: int, min_cell: int) -> bool:
    """The small-cell rule: withheld when 0 < value < min_cell (nobody is not a small group)."""
    return 0 < value < min_cell


# ------------------------------------------------------------------------------------------ aggregates


def _cross(rows: tuple[str, ...], cols: tuple[str, ...]) -> list[str]:
    return [f"{r} × {c}" for r in rows for c in cols]


def _aggregate_cells(computation: str) -> list[str]:
    return {
        "counts-by-form": list(vocab.FORMS),
        "crosstab-form-sector": _cross(vocab.FORMS, vocab.SECTORS),
        "crosstab-nationality-form": _cross(vocab.NATIONALITY_GROUPS, vocab.FORMS),
        "crosstab-region-form": _cross(vocab.REGIONS, vocab.FORMS),
        "count-filtered": [*vocab.FORMS, "all"],
    }[computation]


def _query_mask(pooled: pd.DataFrame, query: dict[str, Any] | None) -> pd.Series:
    """Records matching a count-filtered query (see the module docstring)."""
    query = query or {}
    keep = pd.Series(True, index=pooled.index)
    region = query.get("region")
    if region:
        keep &= (pooled["region"] == region) if "region" in pooled.columns else False
    excluded = query.get("exclude_nationality")
    if excluded and "nationality" in pooled.columns:
        keep &= pooled["nationality"] != excluded
    return keep


def _hits(pooled: pd.DataFrame, computation: str, params: dict[str, Any]) -> pd.DataFrame:
    """One row per (record, cell it counts in): columns _ORG and cell."""
    if computation == "counts-by-form":
        hits = _values(pooled, "form", vocab.FORMS).rename(columns={"value": "cell"})
    elif computation.startswith("crosstab-"):
        row, rows, mapping, col, cols = {
            "crosstab-form-sector": ("form", vocab.FORMS, None, "sector", vocab.SECTORS),
            "crosstab-nationality-form": ("nationality", vocab.NATIONALITY_GROUPS, vocab.nationality_group,
                                          "form", vocab.FORMS),
            "crosstab-region-form": ("region", vocab.REGIONS, None, "form", vocab.FORMS),
        }[computation]
        left = _values(pooled, row, rows, mapping)
        right = _values(pooled, col, cols)
        both = left.merge(right[[_REC, "value"]], on=_REC, suffixes=("_row", "_col"))
        hits = both.assign(cell=both["value_row"] + " × " + both["value_col"])
    elif computation == "count-filtered":
        mask = _query_mask(pooled, params)
        if params.get("differs_from"):
            mask = mask ^ _query_mask(pooled, params["differs_from"])
        chosen = pooled[mask]
        forms = _values(chosen, "form", vocab.FORMS).rename(columns={"value": "cell"})
        hits = pd.concat([forms, chosen[[_ORG]].assign(cell="all")], ignore_index=True)
    else:  # pragma: no cover - callers pass aggregates only
        raise OracleError(f"{computation} is not an aggregate computation")
    return hits[[_ORG, "cell"]]


def _aggregate(pooled: pd.DataFrame, orgs: list[str], computation: str,
               params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    cells = _aggregate_cells(computation)
    hits = _hits(pooled, computation, params)
    totals = hits["cell"].value_counts().reindex(cells, fill_value=0)
    per_org = hits.groupby([_ORG, "cell"]).size()
    own = {org: {cell: int(per_org.get((org, cell), 0)) for cell in cells} for org in orgs}
    min_cell = _min_cell(params)
    revealed = {cell: (None if _small(int(n), min_cell) else int(n)) for cell, n in totals.items()}
    return {"revealed": revealed, "suppressed": [c for c, v in revealed.items() if v is None]}, own


# ------------------------------------------------------------------------------------- age statistics


def _age_statistics(pooled: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    min_cell = _min_cell(params)
    text = pooled["age"].str.strip() if "age" in pooled.columns else pd.Series(dtype=str)
    ages = pd.to_numeric(text[text.str.fullmatch(r"[0-9]+")], errors="coerce")
    ages = ages[ages <= MAX_AGE].astype(int).sort_values().reset_index(drop=True)
    n = len(ages)
    if n < max(min_cell, 1):
        return {"revealed": dict.fromkeys(AGE_CELLS), "suppressed": ["all"]}
    revealed: dict[str, Any] = {"records_with_age": n, "mean_age": int(ages.sum()) / n}
    for label, num, den in AGE_QUANTILES:
        rank = -(-num * n // den)  # ceil(q·n): the rank of the lower q-quantile in the sorted ages
        revealed[label] = int(ages.iloc[rank - 1])
    minors = int((ages < MINOR_BELOW).sum())
    suppressed = []
    if _small(minors, min_cell) or _small(n - minors, min_cell):
        revealed["share_minors"] = None
        suppressed.append("share_minors")
    else:
        revealed["share_minors"] = minors / n
    return {"revealed": revealed, "suppressed": suppressed}


# ------------------------------------------------------------------------------------------ linkage


def _persons(pooled: pd.DataFrame, orgs: list[str]) -> pd.DataFrame:
    """One row per distinct person_key: its capture-pattern bitmask and its number of lists."""
    bit = {org: 1 << j for j, org in enumerate(orgs)}
    on = pooled[["person_key", _ORG]].drop_duplicates()
    on = on.assign(bit=on[_ORG].map(bit))
    persons = on.groupby("person_key").agg(mask=("bit", "sum"), lists=(_ORG, "nunique")).reset_index()
    return persons


def _lists(mask: int, orgs: list[str]) -> list[str]:
    return [org for j, org in enumerate(orgs) if mask & (1 << j)]


def _capture_patterns(pooled: pd.DataFrame, orgs: list[str], params: dict[str, Any]) -> dict[str, Any]:
    min_cell = _min_cell(params)
    counts = _persons(pooled, orgs)["mask"].value_counts()
    revealed, suppressed = [], []
    for mask in range(1, 1 << len(orgs)):
        n = int(counts.get(mask, 0))
        if _small(n, min_cell):
            suppressed.append(_lists(mask, orgs))
        elif n > 0:
            revealed.append({"lists": _lists(mask, orgs), "count": n})
    return {"revealed": revealed, "suppressed": suppressed}


def _mo_cooccurrence(pooled: pd.DataFrame, orgs: list[str], params: dict[str, Any]) -> dict[str, Any]:
    codes = vocab.MEANS_OF_CONTROL
    cells = [a if i == j else f"{a} + {codes[j]}" for i, a in enumerate(codes) for j in range(i, len(codes))]
    persons = _persons(pooled, orgs)
    several = persons.loc[persons["lists"] >= 2, ["person_key"]]
    records = pooled.merge(several, on="person_key")  # every record of a person on two or more lists
    means = _values(records, "means_of_control", codes).merge(records[[_REC, "person_key"]], on=_REC)
    means = means[["person_key", "value"]].drop_duplicates()  # per person: every means any list recorded
    order = {c: i for i, c in enumerate(codes)}
    pairs = means.merge(means, on="person_key", suffixes=("_a", "_b"))
    pairs = pairs[pairs["value_a"].map(order) <= pairs["value_b"].map(order)]
    names = pairs["value_a"].where(pairs["value_a"] == pairs["value_b"], pairs["value_a"] + " + " + pairs["value_b"])
    counts = names.value_counts().reindex(cells, fill_value=0)
    min_cell = _min_cell(params)
    revealed = {cell: (None if _small(int(n), min_cell) else int(n)) for cell, n in counts.items()}
    return {"revealed": revealed, "suppressed": [c for c, v in revealed.items() if v is None]}


BY_COVARIATES = ("sex", "minor", "dutch", "form")  # capture-patterns-by: fields of _QUERY_FIELDS below
BY_DEFAULT = ("sex", "minor")
MISSING = "missing"


def _by_covariates(params: dict[str, Any]) -> list[str]:
    raw = params.get("covariates", list(BY_DEFAULT))
    if isinstance(raw, str):
        raw = [c.strip() for c in raw.split(",") if c.strip()]
    bad = [c for c in raw if c not in BY_COVARIATES] if isinstance(raw, list | tuple) else [raw]
    if bad or not raw or len(set(raw)) != len(raw):
        raise OracleError(f"capture-patterns-by: covariates must be distinct names among {', '.join(BY_COVARIATES)}, "
                          f"not {raw!r}")
    return list(raw)


def _capture_patterns_by(pooled: pd.DataFrame, orgs: list[str], params: dict[str, Any]) -> dict[str, Any]:
    covariates = _by_covariates(params)
    for c in covariates:
        if _QUERY_FIELDS[c][0] not in pooled.columns:
            raise OracleError(f"capture-patterns-by: no organisation has the column {_QUERY_FIELDS[c][0]!r} "
                              f"(covariate {c})")
    rank = {org: j for j, org in enumerate(orgs)}
    records = pooled[[_REC, _ORG, "person_key"]].assign(rank=pooled[_ORG].map(rank))
    persons = _persons(pooled, orgs)[["person_key", "mask"]]
    for c in covariates:
        codes = _QUERY_FIELDS[c][1]
        long = _field_long(pooled, c)
        long = long.assign(order=long["value"].map({v: i for i, v in enumerate(codes)}))
        per_record = long.sort_values([_REC, "order"], kind="stable").drop_duplicates(_REC)  # form: first code
        known = records.merge(per_record[[_REC, "value"]], on=_REC)  # records with a level only
        first = known.sort_values(["rank", _REC], kind="stable").drop_duplicates("person_key")
        persons = persons.merge(first[["person_key", "value"]].rename(columns={"value": c}), on="person_key",
                                how="left")
        persons[c] = persons[c].fillna(MISSING)
    counts = persons.groupby(["mask", *covariates]).size().to_dict()
    axes = [[*_QUERY_FIELDS[c][1], MISSING] for c in covariates]
    combos = [()]
    for axis in axes:
        combos = [(*combo, level) for combo in combos for level in axis]
    min_cell = _min_cell(params)
    revealed, suppressed = [], []
    for mask in range(1, 1 << len(orgs)):
        for combo in combos:
            n = int(counts.get((mask, *combo), 0))
            cell = {"lists": _lists(mask, orgs), "levels": dict(zip(covariates, combo, strict=True))}
            if min_cell > 1 and n < min_cell:  # empty cells are withheld too (a sparse table)
                suppressed.append(cell)
            elif n > 0:
                revealed.append({**cell, "count": n})
    return {"revealed": revealed, "suppressed": suppressed}


# ------------------------------------------------------------------------------------ query approval


def _designed_approval(pooled: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """Two designed queries: refused unless the records answering exactly one of them number at least
    max(min_cell, 1) AND no cell is answered by exactly one of them for 1 .. max(min_cell, 1) - 1 records."""
    new, earlier = params.get("query"), params.get("differs_from_query")
    if not isinstance(new, dict) or not isinstance(earlier, dict):
        raise OracleError("query-approval of designed queries needs params['query'] and params['differs_from_query']")
    threshold = max(_min_cell(params), 1)
    kept_new, hits_new, _ = _designed_hits(pooled, new)
    kept_old, hits_old, _ = _designed_hits(pooled, earlier)
    total = len(set(kept_new[_REC]) ^ set(kept_old[_REC]))
    pairs = pd.concat([hits_new[[_REC, "cell"]].drop_duplicates(), hits_old[[_REC, "cell"]].drop_duplicates()])
    once = pairs[~pairs.duplicated(keep=False)]  # (record, cell) in exactly one of the two answers
    per_cell = once.groupby("cell").size()
    small_cell = bool(((per_cell >= 1) & (per_cell < threshold)).any())
    return {"revealed": {"approved": 1 if total >= threshold and not small_cell else 0}, "suppressed": []}


def _query_approval(pooled: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    if "differs_from_query" in params:  # two designed queries (a "query" alone is the playground form)
        return _designed_approval(pooled, params)
    earlier = params.get("differs_from")
    if not isinstance(earlier, dict):
        raise OracleError("query-approval needs the earlier query as params['differs_from'] "
                          "({'region': ..., 'exclude_nationality': ...})")
    d = int((_query_mask(pooled, params) ^ _query_mask(pooled, earlier)).sum())
    return {"revealed": {"approved": 1 if d >= max(_min_cell(params), 1) else 0}, "suppressed": []}


# ------------------------------------------------------------------------------------ designed query
# Each field: (column, code list, multi-valued, how a raw value becomes a code). Derived fields: "minor"
# from age (below 18; no age: no value), "dutch" and "nationality_group" from the ISO nationality code.

def _minor_code(text: str) -> str:
    text = text.strip()
    return ("minor" if int(text) < MINOR_BELOW else "adult") if text.isdigit() else ""


_QUERY_FIELDS: dict[str, tuple[str, tuple[str, ...], bool, Any]] = {
    "form": ("form", vocab.FORMS, True, None),
    "sex": ("sex", vocab.SEXES, False, None),
    "minor": ("age", ("minor", "adult"), False, _minor_code),
    "dutch": ("nationality", ("dutch", "non_dutch"), False,
              lambda v: "" if not v.strip() else ("dutch" if v.strip().upper() == "NL" else "non_dutch")),
    "nationality_group": ("nationality", vocab.NATIONALITY_GROUPS, False, vocab.nationality_group),
    "region": ("region", vocab.REGIONS, False, None),
    "sector": ("sector", vocab.SECTORS, False, None),
    "recruitment": ("recruitment", vocab.RECRUITMENT_METHODS, False, None),
    "means_of_control": ("means_of_control", vocab.MEANS_OF_CONTROL, True, None),
    "ilo_indicators": ("ilo_indicators", vocab.ILO_INDICATORS, True, None),
    "residence_status": ("residence_status", vocab.RESIDENCE_STATUSES, False, None),
    "trafficker_relation": ("trafficker_relation", vocab.TRAFFICKER_RELATIONS, False, None),
}


def _field_long(pooled: pd.DataFrame, name: str) -> pd.DataFrame:
    """One row per (record, distinct known code of field `name`): columns _REC, value."""
    if name not in _QUERY_FIELDS:
        raise OracleError(f"designed-query: the oracle knows no field {name!r}")
    column, codes, multi, mapping = _QUERY_FIELDS[name]
    if column not in pooled.columns:
        return pd.DataFrame({_REC: pd.Series(dtype=int), "value": pd.Series(dtype=str)})
    raw = pooled[column].fillna("").astype(str)
    value = raw.str.split(SEP) if multi else raw
    long = pd.DataFrame({_REC: pooled[_REC], "value": value}).explode("value")
    long["value"] = long["value"].fillna("")
    if mapping is not None:
        long["value"] = long["value"].map(mapping)
    return long[long["value"].isin(codes)].drop_duplicates()


def _designed_hits(pooled: pd.DataFrame, query: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The records answering `query` (passing its filters; for sum and mean: with an age), one row per
    (record, cell it counts in) with its age, and the query's cell names in order."""
    where = query.get("where") or {}
    measure = query.get("measure", "count")
    kind, of = (measure, None) if isinstance(measure, str) else next(iter(measure.items()))
    kept = pooled
    for name, allowed in where.items():
        long = _field_long(pooled, name)
        kept = kept[kept[_REC].isin(long.loc[long["value"].isin(allowed), _REC])]
    if kind == "distinct":
        if of != "person":
            raise OracleError(f"designed-query: cannot count distinct {of!r}")
        kept = kept.assign(__age=0)
    elif kind != "count":
        if of != "age":
            raise OracleError(f"designed-query: cannot take the {kind} of {of!r}")
        text = kept["age"].str.strip() if "age" in kept.columns else pd.Series("", index=kept.index)
        kept = kept[text.str.fullmatch(r"[0-9]+")].assign(__age=lambda d: d["age"].astype(int))
    else:
        kept = kept.assign(__age=0)

    axes = []
    for name in query["group_by"]:
        codes = _QUERY_FIELDS[name][1]
        axes.append([c for c in codes if name not in where or c in where[name]])
    if len(axes) == 1:
        names = list(axes[0])
    else:
        names = [f"{a} × {b}" for a in axes[0] for b in axes[1]]

    hits = kept[[_REC, "__age"]]
    for k, name in enumerate(query["group_by"]):
        long = _field_long(kept, name).rename(columns={"value": f"v{k}"})
        hits = hits.merge(long, on=_REC)
    if len(axes) == 1:
        hits = hits.assign(cell=hits["v0"])
    else:
        hits = hits.assign(cell=hits["v0"] + " × " + hits["v1"])
    return kept, hits[hits["cell"].isin(names)], names


def _designed_query(pooled: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    query = params.get("query")
    if not isinstance(query, dict) or not query.get("group_by"):
        raise OracleError("designed-query needs params['query'] with a group_by")
    measure = query.get("measure", "count")
    kind = measure if isinstance(measure, str) else next(iter(measure))
    min_cell = _min_cell(params)
    _, hits, names = _designed_hits(pooled, query)
    if kind == "distinct":  # one row per (person, cell): a person with several matching records counts once
        hits = hits.merge(pooled[[_REC, "person_key"]], on=_REC).drop_duplicates(["person_key", "cell"])
    table = hits.groupby("cell")["__age"].agg(["size", "sum"]).reindex(names, fill_value=0)

    revealed: dict[str, Any] = {}
    suppressed, empty = [], []
    for cell, row in table.iterrows():
        n, total = int(row["size"]), int(row["sum"])
        if _small(n, min_cell):
            suppressed.append(cell)
        elif kind in ("count", "distinct"):
            revealed[cell] = n
        elif kind == "sum":
            revealed[cell] = total
        elif n == 0:
            empty.append(cell)
        else:
            revealed[cell] = total / n
    out = {"revealed": revealed, "suppressed": suppressed, "empty": empty}
    if kind == "distinct":
        out["join_opened"] = _join_opened(pooled, _orgs_of(params, pooled))
    return out


def _orgs_of(params: dict[str, Any], pooled: pd.DataFrame) -> list[str]:
    return list(params["orgs"]) if params.get("orgs") else list(dict.fromkeys(pooled[_ORG]))


def _join_opened(pooled: pd.DataFrame, orgs: list[str]) -> dict[str, Any]:
    """What linking ALL records opens by design: records per organisation, persons per number of lists."""
    sizes = pooled[_ORG].value_counts()
    lists = pooled.groupby("person_key")[_ORG].nunique().value_counts().sort_index()
    return {"list_sizes": {org: int(sizes.get(org, 0)) for org in orgs},
            "persons_per_number_of_lists": {str(int(s)): int(n) for s, n in lists.items()}}


# ----------------------------------------------------------------------------------------- public API


def _orgs(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> list[str]:
    return list(params["orgs"]) if params.get("orgs") else list(frames)


def _check_name(computation: str) -> None:
    if computation not in COMPUTATIONS:
        raise OracleError(f"the oracle has no computation {computation!r}; known: {', '.join(COMPUTATIONS)}")


def _evaluate(frames: dict[str, pd.DataFrame], computation: str,
              params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, int]] | None]:
    _check_name(computation)
    orgs = _orgs(frames, params)
    pooled = _pool(frames, orgs)
    if computation in AGGREGATES:
        return _aggregate(pooled, orgs, computation, params)
    if computation == "age-statistics":
        return _age_statistics(pooled, params), None
    if computation == "designed-query":
        measure = (params.get("query") or {}).get("measure", "count")
        if isinstance(measure, dict) and "distinct" in measure:
            lacking = [o for o in orgs if "person_key" not in frames[o].columns]
            if lacking:
                raise OracleError(f"designed-query counts distinct persons on person_key, but the records of "
                                  f"{', '.join(lacking)} have no person_key column")
        own = {}
        for org in orgs:  # each organisation's own records per cell (for sum and mean: those with an age)
            _, hits, names = _designed_hits(pooled[pooled[_ORG] == org], params.get("query") or {})
            own[org] = {c: int(n) for c, n in hits.groupby("cell").size().reindex(names, fill_value=0).items()}
        return _designed_query(pooled, params), own
    if computation in ("capture-patterns", "capture-patterns-by", "mo-cooccurrence"):
        lacking = [o for o in orgs if "person_key" not in frames[o].columns]
        if lacking:
            raise OracleError(f"{computation} links records on person_key, but the records of "
                              f"{', '.join(lacking)} have no person_key column")
    if computation == "capture-patterns":
        return _capture_patterns(pooled, orgs, params), None
    if computation == "mo-cooccurrence":
        return _mo_cooccurrence(pooled, orgs, params), None
    if computation == "capture-patterns-by":
        return _capture_patterns_by(pooled, orgs, params), None
    return _query_approval(pooled, params), None


def oracle(frames: dict[str, pd.DataFrame], computation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The pooled plaintext figure: ``{"revealed": ..., "suppressed": [...]}`` in the shape the MPC run returns.

    `frames` maps each organisation to its records (all columns text); the organisations (and for the
    capture patterns their order) are ``params["orgs"]`` when given, else the keys of `frames`.
    """
    return _evaluate(frames, computation, params)[0]


def own_counts(frames: dict[str, pd.DataFrame], computation: str,
               params: dict[str, Any]) -> dict[str, dict[str, int]] | None:
    """Each organisation's own count per cell, {org: {cell: n}} (aggregates and designed queries, where it
    is the records per cell, for sum and mean those with an age; None for the others)."""
    _check_name(computation)
    if computation not in (*AGGREGATES, "designed-query"):
        return None
    return _evaluate(frames, computation, params)[1]


def compute(plan: dict) -> dict:
    """The check of one run: plan = {"computation", "data_dir", "orgs", "params"}."""
    orgs = list(plan["orgs"])
    params = {**plan.get("params", {}), "orgs": orgs}
    _check_name(plan["computation"])
    frames = read_frames(plan["data_dir"], orgs)
    result, own = _evaluate(frames, plan["computation"], params)
    return {**result, "own_counts": own}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The plaintext check of one run (see sandbox/mpc/oracle.py).")
    parser.add_argument("--plan", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    if plan.get("nice"):
        os.nice(int(plan["nice"]))
    try:
        result = compute(plan)
    except Exception as exc:  # reported by the runner as a failed check, never a traceback in the UI
        sys.stderr.write(f"ORACLE-ERROR: {type(exc).__name__}: {exc}\n")
        return 1
    tmp = Path(args.out).with_suffix(".tmp")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
