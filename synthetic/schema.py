"""The CSV column contract for one organisation's records, and a validator for it.

Every organisation writes one CSV file. A few columns are required in every file; all others are
optional (an organisation holds only the fields it realistically knows). All values are strings;
'' means "unknown". The MPC party program calls `validate_records` before it secret-shares anything,
so the error messages must tell a workshop participant exactly what to fix: the file, the 1-based
data row and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from synthetic import vocab

if TYPE_CHECKING:  # pandas is imported where records are checked: loading a scenario does not need it
    import pandas as pd

__all__ = [
    "COLUMNS",
    "COLUMN_ORDER",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ColumnSpec",
    "RecordError",
    "spec",
    "validate_records",
]

SYNTHETIC_MARK = "SYNTHETIC"
_SEP = vocab.MULTI_VALUE_SEPARATOR


def N_(message: str) -> str:  # noqa: N802  (the gettext convention)
    """Marks a message template for extraction (`make i18n`); identity here: synthetic/ never translates, the
    app shows the message in the session's language (sandbox.i18n.translate_message)."""
    return message


class RecordError(ValueError):
    """A records file breaks the column contract; the message names the file, row and field."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the contract.

    Attributes:
        name: column name in the CSV header.
        kind: how values are checked: text, record_id, key, org, org_ref, date, int, flag, code,
            iso2 or synthetic.
        allowed: the code list for kind "code" (from `synthetic.vocab`).
        multi: values are one or more codes joined by ';'.
        required: the column must be present and no value may be empty.
        max_value: upper bound for kind "int" (lower bound is always 0).
        description: one line for documentation.
    """

    name: str
    kind: str
    allowed: tuple[str, ...] = ()
    multi: bool = False
    required: bool = False
    max_value: int | None = None
    description: str = ""


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("record_id", "record_id", required=True, description="organisation-local record number"),
    ColumnSpec("person_key", "key", required=True, description="HMAC-SHA256 pseudonym, 16 lowercase hex"),
    ColumnSpec("org", "org", required=True, description="id of the organisation holding the record"),
    ColumnSpec("registration_date", "date", required=True, description="date the case was registered"),
    ColumnSpec("form", "code", vocab.FORMS, multi=True, required=True, description="form(s) of exploitation"),
    ColumnSpec("given_name", "text", description="given name as recorded (may be misspelt)"),
    ColumnSpec("family_name", "text", description="family name as recorded (may be misspelt)"),
    ColumnSpec("birth_date", "date", description="birth date as recorded (day/month may be swapped)"),
    ColumnSpec("sex", "code", vocab.SEXES),
    ColumnSpec("age", "int", max_value=99, description="age in years at registration"),
    ColumnSpec("minor_at_exploitation", "flag", description="1 if under 18 when exploitation began"),
    ColumnSpec("nationality", "iso2", description="ISO 3166 alpha-2"),
    ColumnSpec("residence_status", "code", vocab.RESIDENCE_STATUSES),
    ColumnSpec("sector", "code", vocab.SECTORS),
    ColumnSpec("recruitment", "code", vocab.RECRUITMENT_METHODS),
    ColumnSpec("means_of_control", "code", vocab.MEANS_OF_CONTROL, multi=True),
    ColumnSpec("ilo_indicators", "code", vocab.ILO_INDICATORS, multi=True),
    ColumnSpec("region", "code", vocab.REGIONS, description="police regional unit"),
    ColumnSpec("municipality", "text"),
    ColumnSpec("exploitation_start", "date"),
    ColumnSpec("exploitation_end", "date"),
    ColumnSpec("trafficker_count", "int", max_value=999),
    ColumnSpec("trafficker_nationality", "iso2"),
    ColumnSpec("trafficker_relation", "code", vocab.TRAFFICKER_RELATIONS),
    ColumnSpec("referral_from", "org_ref", description="id of the organisation that referred the case"),
    ColumnSpec("synthetic", "synthetic", required=True, description=f"always '{SYNTHETIC_MARK}'"),
)

_BY_NAME = {c.name: c for c in COLUMNS}
COLUMN_ORDER: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if not c.required)

_ORG_ID = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


def spec(name: str) -> ColumnSpec:
    """The spec of one column (KeyError for an unknown column)."""
    return _BY_NAME[name]


def _bad_mask(col: ColumnSpec, values: pd.Series) -> tuple[pd.Series, str]:
    """Rows whose non-empty value breaks the column's rule, and the rule in words: a template filled by
    `_rule_text` ({value!r} and the column's {max}, {allowed}, {sep}, {mark})."""
    import pandas as pd

    kind = col.kind
    if kind == "text" or kind == "record_id":
        return values.str.contains(r"[\r\n]", regex=True), N_("{value!r} contains a line break")
    if kind == "key":
        return ~values.str.fullmatch(r"[0-9a-f]{16}"), N_("{value!r} is not 16 lowercase hexadecimal characters")
    if kind in ("org", "org_ref"):
        return ~values.str.fullmatch(_ORG_ID.pattern), N_("{value!r} is not an organisation id")
    if kind == "date":
        shaped = values.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
        parsed = pd.to_datetime(values.where(shaped, "x"), format="%Y-%m-%d", errors="coerce")
        return parsed.isna(), N_("{value!r} is not a date YYYY-MM-DD")
    if kind == "int":
        digits = values.str.fullmatch(r"[0-9]{1,6}")
        too_big = digits & (pd.to_numeric(values.where(digits, "0")) > (col.max_value or 10**6))
        return ~digits | too_big, N_("{value!r} is not a whole number 0-{max}")
    if kind == "flag":
        return ~values.isin(("0", "1")), N_("{value!r} is not 0 or 1")
    if kind == "iso2":
        return ~values.str.fullmatch(r"[A-Z]{2}"), N_("{value!r} is not an ISO 3166 alpha-2 code (two capitals)")
    if kind == "synthetic":
        return values != SYNTHETIC_MARK, N_("{value!r} is not {mark!r}")
    if kind == "code":
        if not col.multi:
            return ~values.isin(col.allowed), N_("{value!r} is not one of: {allowed}")
        parts = values.str.split(_SEP, regex=False).explode()
        bad_part = ~parts.isin(col.allowed)
        bad = bad_part.groupby(level=0).any().reindex(values.index, fill_value=False)
        return bad, N_("{value!r} is not one or more of ({allowed}) joined by {sep!r}")
    raise ValueError(f"unknown column kind {kind!r}")  # pragma: no cover - a bug in COLUMNS


def _rule_text(rule: str, col: ColumnSpec, value: str) -> str:
    """The rule of `_bad_mask` filled in for one value ("'abc' is not a whole number 0-120")."""
    return rule.format(value=value, max=col.max_value, allowed=", ".join(col.allowed or ()), sep=_SEP,
                       mark=SYNTHETIC_MARK)


def validate_records(df: pd.DataFrame, *, source: str) -> None:
    """Check one organisation's records against the contract; raise RecordError on the first problem.

    Args:
        df: the records, all columns strings ('' = unknown), as read by `read_records`.
        source: how to name the file in messages, e.g. "police.csv".

    Raises:
        RecordError: missing required or unknown columns, an empty required value, a value that breaks
            its column's rule, a repeated person_key, or more than one org id in the file. The message
            reads like "police.csv row 12, field 'age': 'abc' is not a whole number".
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise RecordError(N_("{path}: missing required column(s): {columns}").format(
            path=source, columns=", ".join(missing)))
    unknown = [str(c) for c in df.columns if c not in _BY_NAME]
    if unknown:
        raise RecordError(N_("{path}: unknown column(s): {columns} (allowed: {allowed})").format(
            path=source, columns=", ".join(unknown), allowed=", ".join(COLUMN_ORDER)))
    if df.empty:
        return
    frame = df.reset_index(drop=True)
    present = [c for c in COLUMN_ORDER if c in frame.columns]
    problems: list[tuple[int, int, str]] = []  # (row, column position, message); the earliest is reported
    for pos, name in enumerate(present):
        col = _BY_NAME[name]
        values = frame[name].astype(str)
        empty = values == ""
        if col.required and empty.any():
            problems.append((int(empty.idxmax()), pos, N_("is empty but the field is required")))
        bad, rule = _bad_mask(col, values)
        bad = bad.fillna(True).astype(bool) & ~empty
        if bad.any():
            row = int(bad.idxmax())
            problems.append((row, pos, _rule_text(rule, col, values[row])))
    if problems:
        row, pos, message = min(problems)
        raise RecordError(N_("{path} row {row}, field {field!r}: {reason}").format(
            path=source, row=row + 1, field=present[pos], reason=message))
    _check_file_level(frame, source)


def _check_file_level(frame: pd.DataFrame, source: str) -> None:
    """Rules across rows: one person_key per victim, one org id per file."""
    dup = frame["person_key"].duplicated()
    if dup.any():
        row = int(dup.idxmax())
        earlier = int((frame["person_key"] == frame.at[row, "person_key"]).idxmax())
        raise RecordError(N_("{path} row {row}, field {field!r}: {reason}").format(
            path=source, row=row + 1, field="person_key", reason=N_(
                "{value!r} repeats row {earlier} (one record per victim per organisation)").format(
                value=frame.at[row, "person_key"], earlier=earlier + 1)))
    other = frame["org"] != frame.at[0, "org"]
    if other.any():
        row = int(other.idxmax())
        raise RecordError(N_("{path} row {row}, field {field!r}: {reason}").format(
            path=source, row=row + 1, field="org", reason=N_(
                "{value!r} differs from {first!r} in row 1 (one organisation per file)").format(
                value=frame.at[row, "org"], first=frame.at[0, "org"])))
