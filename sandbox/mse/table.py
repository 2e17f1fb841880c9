"""Capture-pattern tables for multiple systems estimation (MSE).

A *capture pattern* is the set of lists (organisations, registers) on which a
person was seen.  With ``k`` lists there are ``2**k - 1`` observable patterns;
the all-zero pattern (seen by nobody) is the "dark figure" that MSE estimates.

:class:`CaptureTable` always holds every observable pattern, with explicit
zeros, in a fixed order: by number of lists, then in list order (the order
used by the R package SparseMSE).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sandbox.i18n import N_

# Where a bad cell of a counts CSV is (the {place} of the errors below).
_CELL = N_("{source}, line {line}, column {column!r}")

#: Fewest lists for which MSE makes sense.
MIN_LISTS = 2
#: Most lists accepted (2**10 - 1 = 1023 cells); more makes every cell tiny.
MAX_LISTS = 10
#: Name of the count column in CSV input.
COUNT_COLUMN = "count"


class MSEError(ValueError):
    """Invalid input or an estimate that does not exist; the message says why."""


def all_patterns(k: int) -> np.ndarray:
    """Return the ``2**k - 1`` non-empty 0/1 patterns for ``k`` lists.

    Rows are ordered by the number of lists in the pattern, then
    lexicographically so that patterns involving earlier lists come first.
    """
    rows: list[tuple[int, ...]] = []
    for size in range(1, k + 1):
        for members in itertools.combinations(range(k), size):
            rows.append(tuple(1 if i in members else 0 for i in range(k)))
    return np.array(rows, dtype=np.int8).reshape(-1, k)


def _check_list_names(lists: Sequence[str], source: str) -> tuple[str, ...]:
    """Validate the list names and return them as a tuple."""
    names = tuple(str(name).strip() for name in lists)
    if len(names) < MIN_LISTS:
        raise MSEError(N_(
            "{source}: multiple systems estimation needs at least {min} lists, got {n} ({names})"
        ).format(source=source, min=MIN_LISTS, n=len(names), names=", ".join(names) or "none"))
    if len(names) > MAX_LISTS:
        raise MSEError(N_(
            "{source}: {n} lists is more than the supported maximum of {max}; merge small lists first"
        ).format(source=source, n=len(names), max=MAX_LISTS))
    if any(not name for name in names):
        raise MSEError(N_("{source}: a list name is empty").format(source=source))
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise MSEError(N_("{source}: duplicate list name(s): {names}").format(
            source=source, names=", ".join(duplicates)))
    return names


def _check_count(value: object, where: str) -> int:
    """Return ``value`` as a non-negative int or raise :class:`MSEError`."""
    if isinstance(value, bool):
        raise MSEError(N_("{place}: count must be a whole number, got {value!r}").format(
            place=where, value=value))
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MSEError(N_("{place}: count must be a whole number, got {value!r}").format(
            place=where, value=value)) from None
    if not math.isfinite(number) or number != int(number):
        raise MSEError(N_("{place}: count must be a whole number, got {value!r}").format(
            place=where, value=value))
    if number < 0:
        raise MSEError(N_("{place}: count must not be negative, got {value}").format(place=where, value=int(number)))
    return int(number)


@dataclass(frozen=True)
class CaptureTable:
    """Counts of people per capture pattern, zeros explicit.

    Attributes:
        lists: list names, in column order.
        patterns: ``(2**k - 1, k)`` 0/1 array, one row per observable pattern.
        counts: number of people seen on exactly that pattern.
    """

    lists: tuple[str, ...]
    patterns: np.ndarray
    counts: np.ndarray

    # ----------------------------------------------------------- construction
    @classmethod
    def from_counts(
        cls, lists: Sequence[str], counts_by_pattern: Mapping[tuple[int, ...], int]
    ) -> CaptureTable:
        """Build a table from ``{0/1 tuple: count}``; absent patterns count zero."""
        names = _check_list_names(lists, "capture table")
        patterns = all_patterns(len(names))
        index = {tuple(int(v) for v in row): i for i, row in enumerate(patterns)}
        counts = np.zeros(len(patterns), dtype=np.int64)
        for key, value in counts_by_pattern.items():
            counts[index[tuple(key)]] = value
        return cls(names, patterns, counts)

    @classmethod
    def from_patterns(cls, patterns: Iterable[Mapping[str, object]], lists: Sequence[str]) -> CaptureTable:
        """Build a table from ``[{"lists": [names...], "count": n}, ...]``.

        ``lists`` is the full ordered list of list names: lists nobody was
        seen on may be absent from ``patterns``.  Patterns not given count 0.
        """
        names = _check_list_names(lists, "capture patterns")
        position = {name: i for i, name in enumerate(names)}
        found: dict[tuple[int, ...], int] = {}
        for number, item in enumerate(patterns, start=1):
            where = f"capture pattern #{number}"
            if not isinstance(item, Mapping) or "lists" not in item or "count" not in item:
                raise MSEError(f"{where}: expected a mapping with keys 'lists' and 'count', got {item!r}")
            members = item["lists"]
            if isinstance(members, str) or not isinstance(members, Iterable):
                raise MSEError(f"{where}: 'lists' must be a list of list names, got {members!r}")
            members = [str(m) for m in members]
            unknown = [m for m in members if m not in position]
            if unknown:
                raise MSEError(
                    f"{where}: unknown list name(s) {', '.join(unknown)}; known lists are {', '.join(names)}"
                )
            if len(set(members)) != len(members):
                raise MSEError(f"{where}: a list is named twice in {members}")
            if not members:
                raise MSEError(
                    f"{where}: the empty pattern (on no list) cannot be observed; it is what MSE estimates"
                )
            key = tuple(1 if name in members else 0 for name in names)
            if key in found:
                raise MSEError(f"{where}: duplicate pattern {'+'.join(members)}")
            found[key] = _check_count(item["count"], where)
        return cls.from_counts(names, found)

    # ------------------------------------------------------------- properties
    @property
    def k(self) -> int:
        """Number of lists."""
        return len(self.lists)

    @property
    def observed(self) -> int:
        """Total number of distinct people seen on at least one list."""
        return int(self.counts.sum())

    def list_totals(self) -> dict[str, int]:
        """Number of people on each list (alone or with others)."""
        totals = self.patterns.T.astype(np.int64) @ self.counts
        return {name: int(t) for name, t in zip(self.lists, totals, strict=True)}

    def pair_overlap(self, i: int, j: int) -> int:
        """Number of people on both list ``i`` and list ``j`` (by index)."""
        both = (self.patterns[:, i] == 1) & (self.patterns[:, j] == 1)
        return int(self.counts[both].sum())

    def pair_overlaps(self) -> dict[tuple[int, int], int]:
        """Overlap count for every pair of lists, keyed by index pair."""
        return {(i, j): self.pair_overlap(i, j) for i, j in itertools.combinations(range(self.k), 2)}

    def pattern_labels(self) -> list[str]:
        """Readable label per pattern, e.g. ``"LA+PF"``."""
        return ["+".join(n for n, bit in zip(self.lists, row, strict=True) if bit) for row in self.patterns]

    # ---------------------------------------------------------------- derived
    def with_counts(self, counts: np.ndarray) -> CaptureTable:
        """Return a copy with the same patterns and new counts."""
        counts = np.asarray(counts, dtype=np.int64)
        if counts.shape != self.counts.shape:
            raise MSEError(f"expected {len(self.counts)} counts, got {counts.shape}")
        return CaptureTable(self.lists, self.patterns, counts)

    def drop_lists(self, names: Iterable[str]) -> CaptureTable:
        """Return the table without the named lists, merging patterns that coincide."""
        drop = set(names)
        keep = [i for i, name in enumerate(self.lists) if name not in drop]
        merged: dict[tuple[int, ...], int] = {}
        for row, count in zip(self.patterns, self.counts, strict=True):
            if not count:
                continue
            key = tuple(int(row[i]) for i in keep)
            if not any(key):
                raise MSEError("cannot drop lists that hold people seen on no other list")
            merged[key] = merged.get(key, 0) + int(count)
        return CaptureTable.from_counts([self.lists[i] for i in keep], merged)

    def to_frame(self, include_zero: bool = True) -> pd.DataFrame:
        """Return the table as a DataFrame: one 0/1 column per list, then ``count``."""
        frame = pd.DataFrame(self.patterns.astype(int), columns=list(self.lists))
        frame[COUNT_COLUMN] = self.counts
        if not include_zero:
            frame = frame[frame[COUNT_COLUMN] > 0].reset_index(drop=True)
        return frame

    def to_patterns(self, include_zero: bool = False) -> list[dict[str, object]]:
        """Return ``[{"lists": [...], "count": n}, ...]`` (the MPC output form)."""
        out = []
        for row, count in zip(self.patterns, self.counts, strict=True):
            if count or include_zero:
                out.append(
                    {
                        "lists": [n for n, bit in zip(self.lists, row, strict=True) if bit],
                        "count": int(count),
                    }
                )
        return out


def table_from_frame(frame: pd.DataFrame, source: str = "table") -> CaptureTable:
    """Validate a DataFrame (0/1 list columns, last column ``count``) into a table.

    ``source`` (e.g. the file name) is used in error messages.
    """
    columns = [str(c).strip() for c in frame.columns]
    if not columns or columns[-1].lower() != COUNT_COLUMN:
        raise MSEError(N_("{source}: the last column must be '{count}', got {last!r}").format(
            source=source, count=COUNT_COLUMN, last=columns[-1] if columns else "no columns"))
    names = _check_list_names(columns[:-1], source)
    if frame.empty:
        raise MSEError(N_("{source}: no rows").format(source=source))
    counts: dict[tuple[int, ...], int] = {}
    for position, (_, row) in enumerate(frame.iterrows()):
        line = position + 2  # header is line 1
        key = tuple(
            _parse_bit(row.iloc[i], _CELL.format(source=source, line=line, column=names[i])) for i in range(len(names))
        )
        count = _check_count(row.iloc[-1], _CELL.format(source=source, line=line, column=COUNT_COLUMN))
        if not any(key):
            raise MSEError(N_(
                "{source}, line {line}: all-zero row; people on no list cannot be "
                "observed (that is what MSE estimates) - remove the row"
            ).format(source=source, line=line))
        if key in counts:
            raise MSEError(N_("{source}, line {line}: duplicate pattern {pattern}").format(
                source=source, line=line, pattern=_label(names, key)))
        counts[key] = count
    return CaptureTable.from_counts(names, counts)


def _label(names: Sequence[str], key: Sequence[int]) -> str:
    """Readable name of a 0/1 pattern."""
    return "+".join(n for n, bit in zip(names, key, strict=True) if bit)


def _parse_bit(value: object, where: str) -> int:
    """Return 0 or 1 from a cell value, else raise :class:`MSEError`."""
    text = str(value).strip()
    if text in {"0", "1", "0.0", "1.0"}:
        return int(float(text))
    raise MSEError(N_("{place}: expected 0 or 1, got {text!r}").format(place=where, text=text))


def load_counts_csv(path: str | Path) -> CaptureTable:
    """Read a CSV with one 0/1 column per list and a final ``count`` column.

    Patterns that are not listed count as zero.  Raises :class:`MSEError`
    naming the file, line and column for malformed input.
    """
    path = Path(path)
    if not path.is_file():
        raise MSEError(N_("{path}: file not found").format(path=path))
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise MSEError(N_("{path}: the file is empty").format(path=path.name)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MSEError(N_("{path}: not a readable CSV file ({detail})").format(path=path.name, detail=exc)) from None
    return table_from_frame(frame, source=path.name)


def suppress_small_cells(table: CaptureTable, min_cell: int) -> CaptureTable:
    """Disclosure control: set every pattern count below ``min_cell`` to zero.

    Mimics publishing only cells of at least ``min_cell`` people; comparing
    the estimate before and after shows what suppression costs.
    """
    if min_cell < 0:
        raise MSEError(f"min_cell must not be negative, got {min_cell}")
    counts = np.where(table.counts < min_cell, 0, table.counts)
    return table.with_counts(counts)
