"""pandas views of generated data: the population table and each organisation's records as DataFrames.

The generator itself works on numpy arrays and writes its CSV files without pandas (see
`synthetic.io`); these conversions run only when a caller asks for `SyntheticData.records` or
`SyntheticData.population`, so `mpc-sandbox generate` does not import pandas or pyarrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from synthetic import vocab
from synthetic.population import age_on

if TYPE_CHECKING:  # pragma: no cover
    from synthetic.population import Population

__all__ = ["categorical_from_codes", "coded_string_column", "population_frame", "records_frame", "string_column"]

_STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default `str` dtype
_FORMS = vocab.FORMS


def string_column(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """An object array of Python str -> pandas' default `str` array (what read_csv(dtype=str) gives).

    One pyarrow conversion in C instead of pandas' element-wise `_from_sequence`.
    """
    return pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(values, type=pa.large_string())]),
                                      dtype=_STR_DTYPE)


def coded_string_column(codes: np.ndarray, labels: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """`string_column(labels[codes])`, built by one pyarrow take (labels: object array of str)."""
    taken = pa.array(labels, type=pa.large_string()).take(pa.array(np.asarray(codes, dtype=np.int64)))
    return pd.arrays.ArrowStringArray(pa.chunked_array([taken]), dtype=_STR_DTYPE)


def records_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """One organisation's records (columns of str, '' = unknown) as a DataFrame of `str` columns."""
    return pd.DataFrame({name: string_column(values) for name, values in columns.items()})


def categorical_from_codes(codes: np.ndarray, labels: np.ndarray) -> pd.Categorical:
    """`pd.Categorical(labels[codes])` (categories = the observed values, sorted) without hashing strings.

    `labels` may hold duplicates and unused entries; codes must be valid indices (no -1).
    """
    labels = np.asarray(labels, dtype=object)
    used = np.flatnonzero(np.bincount(codes, minlength=len(labels)) if len(codes) else np.zeros(0, dtype=np.int64))
    first, distinct = pd.factorize(labels[used])  # hash first, then sort only the distinct labels
    order = np.argsort(np.asarray(distinct, dtype=object), kind="stable")
    categories = np.asarray(distinct, dtype=object)[order]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    remap = np.full(len(labels), -1, dtype=np.int64)
    remap[used] = rank[first]
    # (pandas infers str categories from strings, and object ones when there are no values at all)
    dtype = pd.CategoricalDtype(pd.Index(categories, dtype="str" if len(categories) else object))
    return pd.Categorical.from_codes(remap[codes] if len(codes) else np.zeros(0, dtype=np.int64), dtype=dtype)


def population_frame(pop: Population) -> pd.DataFrame:
    """One row per victim; categorical columns as pandas categoricals, dates as datetime64."""

    def cat(codes: np.ndarray, labels: tuple[str, ...]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=list(labels))

    def observed(name: str, values: np.ndarray) -> pd.Categorical:
        """Same as pd.Categorical(values) (observed values, sorted), from integer codes if known."""
        if name in pop.label_codes:
            return categorical_from_codes(*pop.label_codes[name])
        codes, uniques = pd.factorize(values)
        return categorical_from_codes(codes, np.asarray(uniques, dtype=object))

    n = len(pop)
    return pd.DataFrame(
        {
            "victim_id": np.arange(1, n + 1),
            "form": categorical_from_codes(*pop.form_codes),
            "primary_form": cat(pop.primary_form, _FORMS),
            "sex": cat(np.where(pop.female, 0, 1), ("F", "M")),
            "age": age_on(pop.birth_date, pop.reference_date),
            "minor_at_exploitation": pop.minor.astype(np.int8),
            "birth_date": pop.birth_date,
            "given_name": observed("given_name", pop.given_name),
            "family_name": observed("family_name", pop.family_name),
            "nationality": observed("nationality", pop.nationality),
            "residence_status": cat(pop.residence, vocab.RESIDENCE_STATUSES),
            "sector": cat(pop.sector, vocab.SECTORS),
            "recruitment": cat(pop.recruitment, vocab.RECRUITMENT_METHODS),
            "means_of_control": observed("means_of_control", pop.means_of_control),
            "ilo_indicators": observed("ilo_indicators", pop.ilo_indicators),
            "region": cat(pop.region, vocab.REGIONS),
            "municipality": observed("municipality", pop.municipality),
            "reference_date": pop.reference_date,
            "exploitation_start": pop.exploitation_start,
            "exploitation_end": pop.exploitation_end,
            "trafficker_count": pop.trafficker_count,
            "trafficker_nationality": observed("trafficker_nationality", pop.trafficker_nationality),
            "trafficker_relation": cat(pop.trafficker_relation, vocab.TRAFFICKER_RELATIONS),
        }
    )
