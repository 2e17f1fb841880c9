"""Published capture-pattern tables shipped with the package (``sandbox/mse/data/*.csv``).

The files are package data, read with :mod:`importlib.resources`, so they are there in a clone, an
editable install and a wheel alike; nothing here reads outside the package. Sources and licences:
``sandbox/mse/data/README.md`` and ``THIRD_PARTY_LICENSES.md``.

* :func:`names` - the shipped tables, e.g. ``"UKdat"``.
* :func:`load` - one table as it is stored (a DataFrame of strings, one row per CSV line).
* :func:`load_table` - one table as a :class:`~sandbox.mse.table.CaptureTable`. ``simdat`` holds one
  row per person with covariates; it is counted per capture pattern over its lists R1-R4.
"""

from __future__ import annotations

import io
from importlib import resources
from importlib.abc import Traversable

import pandas as pd

from .table import CaptureTable, MSEError, table_from_frame

#: One line per shipped table, for menus (keys are the names :func:`names` returns).
DESCRIPTIONS: dict[str, str] = {
    "UKdat": "UK 2013, six lists, 2,744 people observed",
    "Ned": "Netherlands 2010-2015, six lists, 8,234 observed",
    "Ned_5": "Netherlands 2010-2015, five lists (I and O merged)",
    "NewOrl": "Greater New Orleans, eight lists",
    "NewOrl_5": "Greater New Orleans, five lists",
    "Western": "A U.S. western site, five lists",
    "simdat": "Simulated registrations with covariates, four lists (covariates ignored here)",
}
#: Tables stored one row per person: their 0/1 list columns (the other columns are covariates).
RECORD_LISTS: dict[str, tuple[str, ...]] = {"simdat": ("R1", "R2", "R3", "R4")}


def _folder() -> Traversable:
    return resources.files("sandbox.mse") / "data"


def names() -> list[str]:
    """Names of the shipped tables (file names without ``.csv``), sorted case-insensitively."""
    found = [item.name[: -len(".csv")] for item in _folder().iterdir() if item.name.endswith(".csv")]
    return sorted(found, key=str.lower)


def file(name: str) -> Traversable:
    """The shipped CSV file of table ``name``; raises :class:`MSEError` for an unknown name."""
    known = names()
    if name not in known:
        raise MSEError(f"no published table named {name!r}; the shipped tables are {', '.join(known)}")
    return _folder() / f"{name}.csv"


def load(name: str) -> pd.DataFrame:
    """Table ``name`` as stored: every cell a string, as in the CSV."""
    text = file(name).read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True, keep_default_na=False)


def load_table(name: str) -> CaptureTable:
    """Table ``name`` as capture-pattern counts (per-person tables are counted per pattern)."""
    frame = load(name)
    source = f"{name}.csv"
    lists = RECORD_LISTS.get(name)
    if lists is None:
        return table_from_frame(frame, source=source)
    counts = frame.groupby(list(lists)).size().rename("count").reset_index()
    return table_from_frame(counts, source=source)
