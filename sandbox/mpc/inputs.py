"""Reading one organisation's own records and checking them before anything is secret-shared.

MPyC does no range checks: a value outside the secure type's range silently breaks comparisons.
So every value is checked here, in the clear, on the owner's side, and refused with a message that
names the file, the row and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.i18n import N_
from synthetic import vocab

if TYPE_CHECKING:  # pandas and NumPy load where records are prepared, not when a command starts
    import pandas as pd

__all__ = ["InputError", "check_range", "read_own_records"]


class InputError(ValueError):
    """An organisation's input cannot be used; the message names file, row and field."""


def read_own_records(path: str | Path) -> pd.DataFrame:
    """Read an organisation's CSV (all columns as text) and validate it against the record schema."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(N_("{path}: file not found").format(path=path))
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(N_("{path}: not a readable CSV file ({detail})").format(path=path.name, detail=exc)) from None
    missing = [c for c in vocab.REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(N_("{path}: missing required column(s): {columns}").format(
            path=path.name, columns=", ".join(missing)))
    try:
        from synthetic.schema import RecordError, validate_records
    except ImportError:  # the schema module is optional for the minimal slice
        return df
    try:
        validate_records(df, source=path.name)
    except RecordError as exc:
        raise InputError(str(exc)) from None
    except (ValueError, TypeError) as exc:  # a validator bug must still name the file, never crash a party
        raise InputError(f"{path.name}: the records could not be checked ({type(exc).__name__}: {exc})") from None
    return df


def check_range(inputs: dict[str, Any], *, low: int, high: int, source: str) -> None:
    """Every prepared integer must lie in [low, high) — the headroom the secure type leaves."""
    for label, values in inputs.items():
        flat = values if isinstance(values, list) else [values]
        for i, v in enumerate(flat):
            if isinstance(v, list):
                check_range({f"{label}[{i}]": v}, low=low, high=high, source=source)
                continue
            if not isinstance(v, int) or not low <= v < high:
                raise InputError(N_(
                    "{source}: prepared value {label}[{i}] = {value!r} is outside the range [{low}, {high}) "
                    "that the secure integer type can hold with headroom; refused before secret-sharing"
                ).format(source=source, label=label, i=i, value=v, low=low, high=high))
