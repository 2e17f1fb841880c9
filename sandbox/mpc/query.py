"""Designed queries (issue 19): a small query model and its compiler (pure Python: no MPyC, no Streamlit).

A query, as JSON (the file of ``mpc-sandbox run --query FILE.json``)::

    {"group_by": ["form", "sex"],            # one or two fields (below)
     "where": {"region": ["amsterdam"]},     # optional: {field: [allowed values]}
     "measure": "count",                     # or {"sum": "age"}, {"mean": "age"}, {"distinct": "person"}
     "min_cell": 5}                          # optional: the small-cell threshold

Fields (`FIELDS`), all from the record schema (`synthetic/schema.py`) and its code lists (`synthetic/vocab.py`):
form, means_of_control and ilo_indicators are multi-valued (a record counts once in each of its values);
``minor`` is derived from age ("minor" below 18, else "adult"; no age: no value); ``dutch`` and
``nationality_group`` from nationality ("NL" is dutch, any other code non_dutch; the groups of
`vocab.nationality_group`). A record without a value for a field (empty, or the column absent) counts in
no cell of that field and passes no filter on it.

Semantics:
* filters: a record is kept when, for every filtered field, at least one of its values is allowed;
* cells: one per value of the first group-by field ("<value>"), or per pair ("<a> × <b>", the first
  field's values outer), in the code lists' order; a group-by field that is also filtered has only its
  allowed values as cells;
* measures: ``count`` = records per cell; ``{"sum": "age"}`` / ``{"mean": "age"}`` = sum / mean of the
  age of the records in the cell that have an age; ``{"distinct": "person"}`` = distinct persons per cell
  (below);
* distinct persons: records are linked across organisations on ``person_key`` (as capture-patterns does;
  a key occurs at most once per organisation's list). A person counts ONCE in a cell when at least one of
  their records -- at any organisation -- passes every filter and has that cell's value; for a two-field
  group-by both values must come from that SAME record (a person whose police record says "sexual" and
  whose other record says "M" is not in "sexual × M" unless one record has both). A person can count in
  several cells (one record with two forms, or two records with different values). Computed by the
  linked protocol `sandbox/mpc/protocols/designed_distinct.py` (secure join, OR per person, sum per cell);
* small cells: a cell is opened only when its record count (for sum and mean: records with an age; for
  distinct: persons) is 0 or at least min_cell, decided inside MPC; otherwise it is absent from
  ``revealed`` and named in ``suppressed``. A mean over 0 records does not exist: such cells are named in
  ``empty`` (and absent from ``revealed``). The mean is computed after opening the cell's sum and count
  (both are revealed).

`compile_query` raises `QueryError` (naming the field or value, and listing what is allowed) before
anything is secret-shared; the runner calls it first, so the CLI and the app get the same message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthetic import vocab

if TYPE_CHECKING:  # pandas and NumPy load where records are prepared, not when a command starts
    import pandas as pd


def N_(message: str) -> str:  # noqa: N802  (the gettext convention)
    """Marks a text for translation (`make i18n` extracts it); `reveals_text` translates it. Identity here."""
    return message

__all__ = ["DISTINCT_DIFFERENCING", "FIELDS", "LINKAGE_COLUMN", "MAX_CELLS", "MAX_GROUP_BY", "NUMERIC_FIELDS",
           "CompiledQuery", "Field", "Query", "QueryError", "check_linkage", "compile_query", "difference_cells",
           "difference_inputs", "needs_differencing_check", "parse_query", "reveals_text"]

MAX_GROUP_BY = 2
MAX_CELLS = 200
MINOR_BELOW = 18
NUMERIC_FIELDS = ("age",)
MEASURES = ("count", "sum", "mean", "distinct")
KEYS = ("group_by", "where", "measure", "min_cell")
MEASURE_FORMS = '"count", {"sum": "age"}, {"mean": "age"}, {"distinct": "person"}'
DISTINCT_OF = ("person",)  # what {"distinct": ...} can count: persons, linked on LINKAGE_COLUMN
LINKAGE_COLUMN = "person_key"
SEP = vocab.MULTI_VALUE_SEPARATOR


class QueryError(ValueError):
    """A query is not valid; the message names the field or value and lists what is allowed."""


@dataclass(frozen=True)
class Field:
    name: str
    column: str
    codes: tuple[str, ...]
    multi: bool = False
    derive: Callable[[str], str] | None = None  # raw value -> code ('' = no value)


def _minor(age: str) -> str:
    age = age.strip()
    if not age.isdigit():
        return ""
    return "minor" if int(age) < MINOR_BELOW else "adult"


def _dutch(nationality: str) -> str:
    nationality = nationality.strip().upper()
    if not nationality:
        return ""
    return "dutch" if nationality == "NL" else "non_dutch"


FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("form", "form", vocab.FORMS, multi=True),
    Field("sex", "sex", vocab.SEXES),
    Field("minor", "age", ("minor", "adult"), derive=_minor),
    Field("dutch", "nationality", ("dutch", "non_dutch"), derive=_dutch),
    Field("nationality_group", "nationality", vocab.NATIONALITY_GROUPS, derive=vocab.nationality_group),
    Field("region", "region", vocab.REGIONS),
    Field("sector", "sector", vocab.SECTORS),
    Field("recruitment", "recruitment", vocab.RECRUITMENT_METHODS),
    Field("means_of_control", "means_of_control", vocab.MEANS_OF_CONTROL, multi=True),
    Field("ilo_indicators", "ilo_indicators", vocab.ILO_INDICATORS, multi=True),
    Field("residence_status", "residence_status", vocab.RESIDENCE_STATUSES),
    Field("trafficker_relation", "trafficker_relation", vocab.TRAFFICKER_RELATIONS),
)}


@dataclass(frozen=True)
class Query:
    group_by: tuple[str, ...]
    where: tuple[tuple[str, tuple[str, ...]], ...]  # (field, allowed values) in the order given
    measure: str  # count | sum | mean | distinct
    of: str | None  # the numeric field of sum / mean; "person" for distinct
    min_cell: int | None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"group_by": list(self.group_by), "where": {f: list(v) for f, v in self.where},
                               "measure": self.measure if self.of is None else {self.measure: self.of}}
        if self.min_cell is not None:
            out["min_cell"] = self.min_cell
        return out


def _known_fields() -> str:
    return ", ".join(FIELDS)


def _field(name: Any, where: str) -> Field:
    if not isinstance(name, str) or name not in FIELDS:
        if name in NUMERIC_FIELDS:
            raise QueryError(N_("{where}: unknown field {name!r} (age is numeric: use it in a measure, or group by "
                                "'minor'); known fields: {known}").format(
                where=where, name=name, known=_known_fields()))
        raise QueryError(N_("{where}: unknown field {name!r}; known fields: {known}").format(
            where=where, name=name, known=_known_fields()))
    return FIELDS[name]


def parse_query(obj: Any) -> Query:
    """Check a query given as JSON data and return it as a `Query`; QueryError says what is wrong."""
    if isinstance(obj, Query):
        return obj
    if not isinstance(obj, dict):
        raise QueryError(N_("a query is a JSON object with keys {keys}, not {type}").format(
            keys=", ".join(KEYS), type=type(obj).__name__))
    extra = [k for k in obj if k not in KEYS]
    if extra:
        raise QueryError(N_("unknown query key(s): {extra}; known: {keys}").format(
            extra=", ".join(map(repr, extra)), keys=", ".join(KEYS)))

    group_by = obj.get("group_by")
    if isinstance(group_by, str):
        group_by = [group_by]
    if not isinstance(group_by, list) or not group_by:
        raise QueryError(N_("group_by must be a list of 1 to {max} fields, not {group_by!r}; known fields: {known}"
                            ).format(max=MAX_GROUP_BY, group_by=group_by, known=_known_fields()))
    if len(group_by) > MAX_GROUP_BY:
        raise QueryError(N_("group_by has {n} fields ({fields}); at most {max} are allowed").format(
            n=len(group_by), fields=", ".join(map(str, group_by)), max=MAX_GROUP_BY))
    for name in group_by:
        _field(name, "group_by")
    if len(set(group_by)) != len(group_by):
        raise QueryError(N_("group_by names a field twice: {fields}").format(fields=", ".join(group_by)))

    where_obj = obj.get("where") or {}
    if not isinstance(where_obj, dict):
        raise QueryError(N_("where must be an object {{field: [allowed values]}}, not {where!r}").format(
            where=where_obj))
    where = []
    for name, values in where_obj.items():
        f = _field(name, "where")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not values:
            raise QueryError(N_("where {name!r}: give a non-empty list of allowed values; allowed: {codes}").format(
                name=name, codes=", ".join(f.codes)))
        for v in values:
            if v not in f.codes:
                raise QueryError(N_("where {name!r}: {value!r} is not in the code list of {name}; allowed: {codes}"
                                    ).format(name=name, value=v, codes=", ".join(f.codes)))
        where.append((name, tuple(dict.fromkeys(values))))

    measure_obj = obj.get("measure", "count")
    if measure_obj == "count":
        measure, of = "count", None
    elif isinstance(measure_obj, dict) and len(measure_obj) == 1:
        ((measure, of),) = measure_obj.items()
        if measure == "distinct":
            if of not in DISTINCT_OF:
                raise QueryError(N_("measure distinct: only {allowed} can be counted distinct (persons, linked on "
                                    "{column}), not {of!r}").format(allowed=", ".join(map(repr, DISTINCT_OF)),
                                                                    column=LINKAGE_COLUMN, of=of))
        elif measure not in ("sum", "mean"):
            raise QueryError(N_("unknown measure {measure!r}; known: {known}").format(
                measure=measure, known=MEASURE_FORMS))
        elif of not in NUMERIC_FIELDS:
            if isinstance(of, str) and of in FIELDS:
                raise QueryError(N_("measure {measure}: {of!r} is not numeric (numeric fields: {numeric})").format(
                    measure=measure, of=of, numeric=", ".join(NUMERIC_FIELDS)))
            raise QueryError(N_("measure {measure}: unknown field {of!r}; numeric fields: {numeric}").format(
                measure=measure, of=of, numeric=", ".join(NUMERIC_FIELDS)))
    else:
        raise QueryError(N_("measure must be one of {known}, not {measure!r}").format(
            known=MEASURE_FORMS, measure=measure_obj))

    min_cell = obj.get("min_cell")
    if min_cell is not None and (isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 0):
        raise QueryError(N_("min_cell must be a whole number of 0 or more, not {min_cell!r}").format(min_cell=min_cell))

    query = Query(tuple(group_by), tuple(where), measure, of, min_cell)
    n = len(_cell_names(query))
    if n > MAX_CELLS:
        sizes = " × ".join(f"{len(_axis(query, g))} ({g})" for g in query.group_by)
        raise QueryError(N_("the group-by has {n} cells ({sizes}); at most {max} are allowed (filter a field, or "
                            "group by fewer values)").format(n=n, sizes=sizes, max=MAX_CELLS))
    return query


def _axis(query: Query, name: str) -> tuple[str, ...]:
    """The cell values of group-by field `name`: its code list, or only the allowed values if filtered."""
    allowed = dict(query.where).get(name)
    codes = FIELDS[name].codes
    return codes if allowed is None else tuple(c for c in codes if c in allowed)


def _cell_names(query: Query) -> list[str]:
    axes = [_axis(query, g) for g in query.group_by]
    if len(axes) == 1:
        return list(axes[0])
    return [f"{a} × {b}" for a in axes[0] for b in axes[1]]


def record_values(df: pd.DataFrame, name: str) -> list[set[str]]:
    """Per record of `df`, the set of known codes of field `name` (empty set: no value)."""
    f = FIELDS[name]
    if f.column not in df.columns:
        return [set() for _ in range(len(df))]
    out = []
    for raw in df[f.column].astype(str):
        parts = raw.split(SEP) if f.multi else [raw]
        codes = {f.derive(p) if f.derive else p for p in parts}
        out.append({c for c in codes if c in f.codes})
    return out


def _ages(df: pd.DataFrame) -> list[int | None]:
    if "age" not in df.columns:
        return [None] * len(df)
    return [int(a) if a.strip().isdigit() else None for a in df["age"].astype(str)]


@dataclass(frozen=True)
class CompiledQuery:
    query: Query
    cells: list[str]

    @property
    def labels(self) -> tuple[str, ...]:
        """The names of the input vectors every party secret-shares."""
        return {"count": ("counts",), "distinct": ("keys", "cell_bits")}.get(self.query.measure,
                                                                             ("counts", "age_sums"))

    def input_cells(self, label: str, n: int | None = None) -> list[str]:
        """The names of the values of input vector `label` (`n`: its length; for the per-record vectors of
        distinct, which have one value per record (keys) or per record and cell (cell_bits))."""
        if label == "keys":
            return [f"record {k + 1}: {LINKAGE_COLUMN}" for k in range(n or 0)]
        if label == "cell_bits":
            width = len(self.cells)
            return [f"record {k // width + 1}: {self.cells[k % width]}" for k in range(n or 0)]
        if label == "counts" and self.query.measure != "count":
            return [f"records with age: {c}" for c in self.cells]
        if label == "age_sums":
            return [f"sum of ages: {c}" for c in self.cells]
        return list(self.cells)

    def cell_bits(self, df: pd.DataFrame) -> list[list[int]]:
        """distinct: per record of ONE organisation's own file, one 0/1 indicator per cell (cell order):
        1 when the record passes every filter and has that cell's value(s), itself (both values of a
        two-field cell from this record)."""
        _, member = _selection(self.query, df)
        return [[1 if c in cells else 0 for c in self.cells] for cells in member]

    def local_inputs(self, df: pd.DataFrame) -> dict[str, list[int]]:
        """What ONE organisation prepares from its own records: its vector(s) per cell, in cell order.

        (distinct: `cell_bits` per record; the linkage keys are added by the linked computation,
        `sandbox.mpc.overlap_catalogue.DESIGNED_DISTINCT`, which checks them.)
        """
        q = self.query
        if q.measure == "distinct":
            return {"cell_bits": [b for row in self.cell_bits(df) for b in row]}
        index = {c: k for k, c in enumerate(self.cells)}
        keep = [True] * len(df)
        for name, allowed in q.where:
            keep = [k and bool(vals & set(allowed)) for k, vals in zip(keep, record_values(df, name), strict=True)]
        groups = [record_values(df, g) for g in q.group_by]
        ages = _ages(df) if q.measure != "count" else [0] * len(df)
        counts, sums = [0] * len(self.cells), [0] * len(self.cells)
        for r in range(len(df)):
            if not keep[r] or ages[r] is None:
                continue
            if len(groups) == 1:
                names = groups[0][r]
            else:
                names = {f"{a} × {b}" for a in groups[0][r] for b in groups[1][r]}
            for name in names:
                k = index.get(name)  # None: a value outside a filtered axis
                if k is not None:
                    counts[k] += 1
                    sums[k] += ages[r]
        return {"counts": counts} if q.measure == "count" else {"counts": counts, "age_sums": sums}


def _selection(query: Query, df: pd.DataFrame) -> tuple[list[bool], list[set[str]]]:
    """Per record: does it contribute to the query's answer (passes every filter; for sum and mean: has an
    age), and the set of the query's cells it counts in."""
    cells = set(_cell_names(query))
    keep = [True] * len(df)
    for name, allowed in query.where:
        keep = [k and bool(vals & set(allowed)) for k, vals in zip(keep, record_values(df, name), strict=True)]
    if query.measure in ("sum", "mean"):
        keep = [k and a is not None for k, a in zip(keep, _ages(df), strict=True)]
    groups = [record_values(df, g) for g in query.group_by]
    member = []
    for r in range(len(df)):
        if not keep[r]:
            member.append(set())
        elif len(groups) == 1:
            member.append(groups[0][r] & cells)
        else:
            member.append({f"{a} × {b}" for a in groups[0][r] for b in groups[1][r]} & cells)
    return keep, member


def needs_differencing_check(new: Any, earlier: Any) -> bool:
    """Must `new` be checked against the earlier answered query (the differencing protection)?

    Yes when both have the same group-by and measure but their filters differ: the difference of the two
    answers, cell by cell, is an answer about the records in exactly one of them. (Identical queries give
    the same answer again; other pairs are not compared: see docs/workshop.md for that limit.)
    """
    a, b = parse_query(new), parse_query(earlier)
    return (a.group_by == b.group_by and (a.measure, a.of) == (b.measure, b.of)
            and {f: set(v) for f, v in a.where} != {f: set(v) for f, v in b.where})


def difference_cells(new: Any, earlier: Any) -> list[str]:
    """The cells compared by the differencing check: the new query's cells, then the earlier one's others."""
    a, b = parse_query(new), parse_query(earlier)
    return list(dict.fromkeys([*_cell_names(a), *_cell_names(b)]))


def difference_inputs(new: Any, earlier: Any, df: pd.DataFrame) -> dict[str, list[int]]:
    """What ONE organisation prepares for the differencing check of `new` against `earlier`, from its own
    records: ``difference`` = its records that contribute to exactly one of the two queries, and
    ``cell_differences`` = per cell (`difference_cells`), its records counted in that cell by exactly one."""
    a, b = parse_query(new), parse_query(earlier)
    if "distinct" in (a.measure, b.measure):
        raise QueryError(DISTINCT_DIFFERENCING)
    keep_a, cells_a = _selection(a, df)
    keep_b, cells_b = _selection(b, df)
    names = difference_cells(a, b)
    index = {c: k for k, c in enumerate(names)}
    per_cell = [0] * len(names)
    for ca, cb in zip(cells_a, cells_b, strict=True):
        for c in ca ^ cb:
            per_cell[index[c]] += 1
    total = sum(1 for x, y in zip(keep_a, keep_b, strict=True) if x != y)
    return {"difference": [total], "cell_differences": per_cell}


DISTINCT_DIFFERENCING = N_(
    "the differencing check compares registrations, not linked persons: a count of distinct persons "
    "cannot be checked against an earlier distinct-persons query with other filters (not implemented); "
    "such a query is refused. Keep the earlier query's filters, or ask for registrations (\"count\")")


def check_linkage(obj: Any, columns_per_org: dict[str, list[str]]) -> None:
    """distinct: QueryError naming every organisation whose file has no linkage column (checked on the
    files' header lines before anything is secret-shared). Other measures need no linkage: no check."""
    if parse_query(obj).measure != "distinct":
        return
    lacking = [org for org, cols in columns_per_org.items() if LINKAGE_COLUMN not in cols]
    if lacking:
        raise QueryError(N_("measure distinct links records on {column}, but the file(s) of {orgs} have no "
                            "{column} column; count registrations (\"count\") instead, or add the linkage key").format(
                                column=LINKAGE_COLUMN, orgs=", ".join(lacking)))


def compile_query(obj: Any) -> CompiledQuery:
    """Validate a query (JSON data or `Query`) and compile it for the designed-query protocol."""
    query = parse_query(obj)
    return CompiledQuery(query, _cell_names(query))


def _same(message: str) -> str:
    return message


def _describe_field(name: str, tr: Callable[[str], str]) -> str:
    f = FIELDS[name]
    if name == "minor":
        return tr(N_("minor (age below 18 or not; records without an age count in neither)"))
    if name in ("dutch", "nationality_group"):
        return tr(N_("{name} (derived from nationality)")).format(name=name)
    if f.multi:
        return tr(N_("{name} (multi-valued: a record counts once in each of its values)")).format(name=name)
    return name


def reveals_text(obj: Any, min_cell: int | None = None, *, translate: Callable[[str], str] | None = None) -> str:
    """What answering the query reveals, in words, generated from the query itself.

    `translate` (a page passes its session's gettext) gives the text in the reader's language; field names
    and code values stay as in the query.
    """
    tr = translate or _same
    q = parse_query(obj)
    threshold = q.min_cell if q.min_cell is not None else min_cell
    cells = _cell_names(q)
    measure = {"count": tr(N_("the number of registrations")),
               "distinct": tr(N_("the number of distinct persons (records linked across organisations on "
                                 "person_key; a person counts once in a cell when at least one of their "
                                 "registrations passes the filters and itself has the cell's value(s))")),
               "sum": tr(N_("the sum of {of} (of the registrations with a known {of})")).format(of=q.of),
               "mean": tr(N_("the mean {of} (of the registrations with a known {of})")).format(of=q.of)}[q.measure]
    parts = [tr(N_("For each of the {n} cells of {fields}: {measure}, over all organisations' registrations "
                   "together.")).format(n=len(cells), fields=" × ".join(_describe_field(g, tr) for g in q.group_by),
                                        measure=measure)]
    if q.where:
        filters = "; ".join(tr(N_("{name} is {values}")).format(name=name, values=tr(N_(" or ")).join(v))
                            for name, v in q.where)
        parts.append(tr(N_("Only registrations where {filters} are counted (a record passes a filter when one "
                           "of its values is allowed).")).format(filters=filters))
    if q.measure == "count":
        counted = tr(N_("records"))
    elif q.measure == "distinct":
        counted = tr(N_("persons"))
    else:
        counted = tr(N_("records with a known {of}")).format(of=q.of)
    if threshold:
        parts.append(tr(N_("Small-cell rule (decided inside MPC): a cell with 1 to {top} {counted} is never "
                           "opened; it is named as suppressed, which itself tells everyone that the cell has "
                           "between 1 and {top} {counted}. Cells with 0 {counted} are not suppressed."))
                     .format(top=threshold - 1, counted=counted))
    else:
        parts.append(tr(N_("No small-cell threshold: every cell is opened, however small (a count of 1 can "
                           "point at one person).")))
    if q.measure == "mean":
        parts.append(tr(N_("For a mean, the cell's sum of {of} and its number of {counted} are both opened and "
                           "divided afterwards; a cell without records has no mean and is listed as empty."))
                     .format(of=q.of, counted=counted))
    elif q.measure == "sum":
        parts.append(tr(N_("For a sum, only the sum is opened (the number of {counted} stays hidden, but the "
                           "suppression flag says whether it is below the threshold).")).format(counted=counted))
    elif q.measure == "distinct":
        parts.append(tr(N_("Linking the records (the secure join) also shows everyone how many records each "
                           "organisation has and how many persons are on exactly one, two, ... lists, over ALL "
                           "records (not only those passing the filters); a withheld cell can sometimes be "
                           "worked out by subtraction from such totals. Nobody learns which persons, which "
                           "records or which organisation's record put a person in a cell. Assumptions: "
                           "semi-honest parties, honest majority, q-DDHI in Ed25519, each person_key at most "
                           "once per organisation. Distinct-person queries are not compared with earlier "
                           "ones by the differencing protection: one with other filters than an earlier "
                           "distinct-person query is refused.")))
    parts.append(tr(N_("No organisation's own figures are revealed: they stay secret-shared (semi-honest "
                       "parties, honest majority: no coalition of at most t parties learns more). The cells' "
                       "values can still be combined with other answers (differencing).")))
    return " ".join(parts)


GENERIC_REVEALS = (
    "Depends on the query (generated from it: `sandbox.mpc.query.reveals_text`): for each cell of up to two "
    "group-by fields, the total over all organisations of the measure (count of registrations, or sum or "
    "mean of age: for a mean the sum and the number of records with an age are opened), among the "
    "registrations passing the filters; or the number of distinct persons, linked on person_key, with a "
    "registration passing the filters in the cell: then the secure join also opens the list sizes and how "
    "many persons are on exactly 1, 2, ... lists); and which cells were below the small-cell threshold "
    "(those are never opened). No organisation's own figures are revealed (semi-honest, honest majority)."
)
