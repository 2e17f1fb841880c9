"""Map an organisation's own export format onto the sandbox's record schema (pilot step).

The mapping is built from the export's HEADER ROW and the organisation's code lists only: no data
row is read or stored. The organisation's IT staff (or the workshop lead, with them) write a small
JSON file that says which of their columns is which schema field and how their codes translate:

    {
      "columns": {"Dossiernr": "record_id", "Pseudoniem": "person_key", "Datum": "registration_date",
                  "Vorm": "form", "Sector": "sector", "Notities": null},
      "codes": {"form": {"SEX": "sexual", "ARB": "labour", "CRIM": "criminal", "OV": "other"}},
      "separators": {"form": "|"},
      "date_formats": {"registration_date": "%d-%m-%Y"}
    }

* a column mapped to `null` is dropped before anything else happens (it never reaches the MPC);
* a header column that already has a schema name maps to itself; any other column must be listed;
* `codes` translate every value of a field (multi-valued fields per part, split on the separator);
  with a code list for a field, a value that is not in it is refused, naming the row;
* the `org` column is filled with the organisation id, and the `synthetic` marker column that the
  sandbox schema requires is filled in (see docs/deployment.md: a known gap for real records).

`build_mapping` validates the mapping against the schema (unknown target fields, codes that map to
values outside the `synthetic.vocab` code lists, ...). The party program calls
`read_mapped_records` on its own CSV before validation and before anything is secret-shared.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from sandbox.i18n import N_
from synthetic import schema, vocab

__all__ = ["FORMAT", "MappingError", "apply_mapping", "build_mapping", "load_mapping", "parse_header",
           "read_mapped_records"]

FORMAT = "mpc-sandbox-mapping/1"
CODED_KINDS = ("code", "iso2", "flag", "org_ref")  # fields whose values form a code list
_ORG_ID = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
_KNOWN_KEYS = {"columns", "codes", "separators", "date_formats"}


class MappingError(ValueError):
    """The mapping is invalid, or a row cannot be mapped; the message says what to fix."""


def parse_header(text: str) -> list[str]:
    """One CSV header line (comma- or semicolon-separated) as a list of column names."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    if not line:
        raise MappingError(N_("the header row is empty"))
    delimiter = ";" if line.count(";") > line.count(",") else ","
    names = [c.strip() for c in next(csv.reader(io.StringIO(line), delimiter=delimiter))]
    if any(not c for c in names):
        raise MappingError(N_("the header row has an empty column name: {line!r}").format(line=line))
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise MappingError(N_("the header row repeats column(s): {columns}").format(columns=", ".join(dupes)))
    return names


def _allowed(spec: schema.ColumnSpec) -> str:
    if spec.kind == "code":
        return ", ".join(spec.allowed)
    return {"iso2": "ISO 3166 alpha-2 codes (two capitals)", "flag": "0 or 1",
            "org_ref": "organisation ids"}.get(spec.kind, "")


def _target_ok(spec: schema.ColumnSpec, value: str) -> bool:
    if value == "":
        return not spec.required  # '' = unknown, allowed for optional fields only
    if spec.kind == "code":
        parts = value.split(vocab.MULTI_VALUE_SEPARATOR) if spec.multi else [value]
        return all(p in spec.allowed for p in parts)
    if spec.kind == "iso2":
        return re.fullmatch(r"[A-Z]{2}", value) is not None
    if spec.kind == "flag":
        return value in ("0", "1")
    if spec.kind == "org_ref":
        return _ORG_ID.fullmatch(value) is not None
    return False


def build_mapping(header: list[str], spec_in: dict[str, Any], *, org: str) -> dict[str, Any]:
    """Validate a column/code specification against the schema and return the mapping document.

    Args:
        header: the export's column names (header row only).
        spec_in: {"columns": {their: field|null}, "codes": {field: {their_code: our_code}},
                  "separators": {field: str}, "date_formats": {field: strptime format}}.
        org: the organisation id the records belong to.
    Raises:
        MappingError naming the column, field or code at fault.
    """
    if not isinstance(spec_in, dict):
        raise MappingError(N_("the code list must be a JSON object with 'columns' and 'codes'"))
    extra = sorted(set(spec_in) - _KNOWN_KEYS)
    if extra:
        raise MappingError(N_("unknown key(s) in the code list: {keys} (allowed: {allowed})").format(
            keys=", ".join(extra), allowed=", ".join(sorted(_KNOWN_KEYS))))
    if not _ORG_ID.fullmatch(org or ""):
        raise MappingError(N_("{org!r} is not an organisation id (lowercase letters, digits, _)").format(org=org))
    fields = schema.COLUMN_ORDER
    columns_in = spec_in.get("columns") or {}
    if not isinstance(columns_in, dict):
        raise MappingError(N_("'columns' must map the export's column names to schema fields (or null)"))
    header = list(header)
    listed_not_in_header = [c for c in columns_in if c not in header]
    if listed_not_in_header:
        raise MappingError(N_("column(s) {columns} are mapped but not in the header row ({header})").format(
            columns=", ".join(map(repr, listed_not_in_header)), header=", ".join(header)))
    columns: dict[str, str | None] = {}
    for col in header:
        if col in columns_in:
            target = columns_in[col]
        elif col in fields:
            target = col
        else:
            raise MappingError(N_("column {col!r} of the export is neither mapped to a schema field nor dropped: "
                                  "add \"{col}\": \"<field>\" or \"{col}\": null to 'columns'").format(col=col))
        if target is not None and target not in fields:
            raise MappingError(N_("column {col!r} maps to {target!r}, which is not a schema field (fields: {fields})"
                                  ).format(col=col, target=target, fields=", ".join(fields)))
        if target in ("org", "synthetic"):
            raise MappingError(N_("column {col!r} maps to {target!r}, which the mapping fills in itself; map it to "
                                  "null").format(col=col, target=target))
        columns[col] = target
    targets = [t for t in columns.values() if t is not None]
    dupes = sorted({t for t in targets if targets.count(t) > 1})
    if dupes:
        raise MappingError(N_("more than one column maps to field(s): {fields}").format(fields=", ".join(dupes)))
    constants = {"org": org, "synthetic": schema.SYNTHETIC_MARK}
    missing = [f for f in schema.REQUIRED_COLUMNS if f not in targets and f not in constants]
    if missing:
        raise MappingError(N_("no column maps to the required field(s): {fields}").format(fields=", ".join(missing)))

    codes_in = spec_in.get("codes") or {}
    if not isinstance(codes_in, dict):
        raise MappingError(N_("'codes' must be an object {{field: {{their_code: schema_code}}}}").format())
    codes: dict[str, dict[str, str]] = {}
    for field, table in codes_in.items():
        if field not in fields:
            raise MappingError(N_("codes for {field!r}: not a schema field (fields: {fields})").format(
                field=field, fields=", ".join(fields)))
        if field not in targets:
            raise MappingError(N_("codes for {field!r}: no column of the export maps to this field").format(
                field=field))
        spec = schema.spec(field)
        if spec.kind not in CODED_KINDS:
            raise MappingError(N_("codes for {field!r}: this field takes free values ({kind}), not a code list").format(
                field=field, kind=spec.kind))
        if not isinstance(table, dict) or not table:
            raise MappingError(N_("codes for {field!r} must be a non-empty object {{their_code: schema_code}}").format(
                field=field))
        for theirs, ours in table.items():
            if not isinstance(ours, str) or not _target_ok(spec, ours):
                allowed = _allowed(spec)
                raise MappingError(N_("codes for {field!r}: {theirs!r} maps to {ours!r}, which is not in the code "
                                      "list of {field!r} ({allowed})").format(
                    field=field, theirs=theirs, ours=ours, allowed=allowed))
        codes[field] = {str(k): v for k, v in table.items()}

    separators = spec_in.get("separators") or {}
    for field, sep in separators.items():
        if field not in codes or not schema.spec(field).multi:
            raise MappingError(N_("separator for {field!r}: only multi-valued fields with a code list take one "
                                  "({fields})").format(field=field,
                                                       fields=", ".join(c.name for c in schema.COLUMNS if c.multi)))
        if not isinstance(sep, str) or len(sep) != 1:
            raise MappingError(N_("separator for {field!r} must be one character, not {sep!r}").format(
                field=field, sep=sep))
    date_formats = spec_in.get("date_formats") or {}
    for field, fmt in date_formats.items():
        if field not in targets or schema.spec(field).kind != "date":
            raise MappingError(N_("date format for {field!r}: not a date field that a column maps to").format(
                field=field))
        try:
            dt.datetime.strptime(dt.date(2024, 3, 1).strftime(fmt), fmt)
        except (ValueError, TypeError):
            raise MappingError(N_("date format for {field!r}: {fmt!r} is not a usable strptime format").format(
                field=field, fmt=fmt)) from None
    return {
        "format": FORMAT,
        "org": org,
        "header": header,
        "columns": columns,
        "codes": codes,
        "separators": dict(separators),
        "date_formats": dict(date_formats),
        "constants": constants,
    }


def load_mapping(path: str | Path) -> dict[str, Any]:
    """Read a mapping file written by `build_mapping` and validate it again."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MappingError(N_("{path}: not a readable mapping file ({detail})").format(path=path, detail=exc)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise MappingError(N_("{path}: not a mapping file (expected \"format\": \"{format}\"; make one with "
                              "`mpc-sandbox map-export`)").format(path=path, format=FORMAT))
    spec_in = {k: doc.get(k) for k in _KNOWN_KEYS if doc.get(k)}
    try:
        return build_mapping(doc.get("header") or [], spec_in, org=doc.get("org", ""))
    except MappingError as exc:
        raise MappingError(N_("{path}: {error}").format(path=path, error=exc)) from None


def apply_mapping(df: pd.DataFrame, mapping: dict[str, Any], *, source: str) -> pd.DataFrame:
    """Rename, drop and recode the columns of an export (all values strings); raise MappingError by row."""
    header = mapping["header"]
    unexpected = [str(c) for c in df.columns if c not in header]
    if unexpected:
        raise MappingError(N_("{path}: column(s) {columns} are not in the mapping (the export changed since the "
                              "mapping was made: map them, or drop them with null)").format(
            path=source, columns=", ".join(map(repr, unexpected))))
    columns = mapping["columns"]
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        target = columns.get(col)
        if target is None:
            continue  # dropped: never used
        values = df[col].astype(str).str.strip()
        table = mapping["codes"].get(target)
        if table is not None:
            sep = mapping["separators"].get(target, vocab.MULTI_VALUE_SEPARATOR)
            multi = schema.spec(target).multi
            mapped = []
            for row, value in enumerate(values, start=1):
                if value == "":
                    mapped.append("")
                    continue
                parts = [p.strip() for p in value.split(sep)] if multi else [value]
                result = []
                for part in parts:
                    if part not in table:
                        raise MappingError(N_("{path} row {row}, field {field!r}: code {code!r} is not in the "
                                              "mapping (for {target!r})").format(
                            path=source, row=row, field=col, code=part, target=target))
                    if table[part] and table[part] not in result:
                        result.append(table[part])
                mapped.append(vocab.MULTI_VALUE_SEPARATOR.join(result))
            values = pd.Series(mapped, index=df.index, dtype=str)
        fmt = mapping["date_formats"].get(target)
        if fmt:
            converted = []
            for row, value in enumerate(values, start=1):
                if value == "":
                    converted.append("")
                    continue
                try:
                    converted.append(dt.datetime.strptime(value, fmt).strftime("%Y-%m-%d"))
                except ValueError:
                    raise MappingError(N_("{path} row {row}, field {field!r}: {value!r} does not match the date "
                                          "format {fmt!r}").format(path=source, row=row, field=col, value=value,
                                                                   fmt=fmt)) from None
            values = pd.Series(converted, index=df.index, dtype=str)
        out[target] = values
    for field, value in mapping["constants"].items():
        out[field] = value
    ordered = [c for c in schema.COLUMN_ORDER if c in out.columns]
    return out[ordered]


def read_mapped_records(csv_path: str | Path, mapping_path: str | Path) -> pd.DataFrame:
    """The party's hook: read its own export, map it, validate it like `read_own_records` does.

    Raises `sandbox.mpc.inputs.InputError` (the party prints it as `PARTY-ERROR:`).
    """
    from sandbox.mpc.inputs import InputError

    path = Path(csv_path)
    if not path.is_file():
        raise InputError(N_("{path}: file not found").format(path=path))
    try:
        mapping = load_mapping(mapping_path)
        try:
            with path.open(encoding="utf-8-sig") as fh:
                first = fh.readline()
            delimiter = ";" if first.count(";") > first.count(",") else ","
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, sep=delimiter, encoding="utf-8-sig")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(N_("{path}: not a readable CSV file ({detail})").format(
                path=path.name, detail=exc)) from None
        df = apply_mapping(raw, mapping, source=path.name)
    except MappingError as exc:
        raise InputError(str(exc)) from None
    try:
        schema.validate_records(df, source=f"{path.name} (after mapping)")
    except schema.RecordError as exc:
        raise InputError(str(exc)) from None
    return df
