"""Tests for synthetic.schema / read_records: the record contract and its error messages."""

from __future__ import annotations

import pandas as pd
import pytest

import synthetic
from synthetic import RecordError, read_records, validate_records
from synthetic.schema import COLUMN_ORDER, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, spec
from synthetic.vocab import REQUIRED_COLUMNS as VOCAB_REQUIRED


def _good(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({
        "record_id": [f"police-2024-{i:06d}" for i in range(1, n + 1)],
        "person_key": [f"{i:016x}" for i in range(1, n + 1)],
        "org": ["police"] * n,
        "registration_date": ["2024-02-29"] * n,
        "form": ["sexual", "labour;criminal", "other"][:n],
        "age": ["17", "", "45"][:n],
        "sex": ["F", "M", ""][:n],
        "means_of_control": ["threats;debt_bondage", "", "threats"][:n],
        "synthetic": ["SYNTHETIC"] * n,
    })


def test_contract_matches_the_shared_vocab():
    assert REQUIRED_COLUMNS == (*VOCAB_REQUIRED, "synthetic")
    assert set(OPTIONAL_COLUMNS) | set(REQUIRED_COLUMNS) == set(COLUMN_ORDER)
    assert spec("means_of_control").multi and not spec("sector").multi


def test_a_good_frame_passes():
    validate_records(_good(), source="police.csv")


@pytest.mark.parametrize(
    ("column", "row", "value", "message"),
    [
        ("age", 1, "abc", "police.csv row 2, field 'age': 'abc' is not a whole number"),
        ("age", 2, "120", "police.csv row 3, field 'age': '120' is not a whole number 0-99"),
        ("sex", 0, "female", "police.csv row 1, field 'sex': 'female' is not one of: F, M, X"),
        ("form", 2, "sexual;organs", "police.csv row 3, field 'form': 'sexual;organs' is not one or more of"),
        ("form", 1, "", "police.csv row 2, field 'form': is empty but the field is required"),
        ("person_key", 0, "ABCDEF0123456789", "police.csv row 1, field 'person_key'"),
        ("registration_date", 1, "2023-02-29", "row 2, field 'registration_date': '2023-02-29' is not a date"),
        ("synthetic", 2, "REAL", "row 3, field 'synthetic': 'REAL' is not 'SYNTHETIC'"),
        ("means_of_control", 2, "threats;", "row 3, field 'means_of_control'"),
    ],
)
def test_bad_values_are_reported_with_file_row_and_field(column, row, value, message):
    df = _good()
    df.loc[row, column] = value
    with pytest.raises(RecordError) as info:
        validate_records(df, source="police.csv")
    assert message in str(info.value)


def test_the_earliest_problem_is_reported():
    df = _good()
    df.loc[2, "age"] = "x"
    df.loc[1, "sex"] = "Q"
    with pytest.raises(RecordError, match=r"row 2, field 'sex'"):
        validate_records(df, source="police.csv")


def test_missing_and_unknown_columns():
    with pytest.raises(RecordError, match=r"^police.csv: missing required column\(s\): form$"):
        validate_records(_good().drop(columns=["form"]), source="police.csv")
    with pytest.raises(RecordError, match=r"police.csv: unknown column\(s\): shoe_size"):
        validate_records(_good().assign(shoe_size="42"), source="police.csv")


def test_repeated_keys_and_mixed_orgs_are_rejected():
    df = _good()
    df.loc[2, "person_key"] = df.loc[0, "person_key"]
    with pytest.raises(RecordError, match=r"row 3, field 'person_key': .* repeats row 1"):
        validate_records(df, source="police.csv")
    df = _good()
    df.loc[1, "org"] = "kmar"
    with pytest.raises(RecordError, match=r"row 2, field 'org'"):
        validate_records(df, source="police.csv")


def test_read_records_round_trip_and_errors(tmp_path):
    path = tmp_path / "police.csv"
    _good().to_csv(path, index=False)
    df = read_records(path, org_id="police")
    assert df.equals(_good())
    with pytest.raises(RecordError, match="should hold 'kmar'"):
        read_records(path, org_id="kmar")
    bad = _good()
    bad.loc[0, "age"] = "abc"
    bad.to_csv(path, index=False)
    with pytest.raises(RecordError, match=r"^police.csv row 1, field 'age': 'abc' is not a whole number"):
        read_records(path)


def test_hand_made_minimal_files_pass(small_data):
    for path in sorted(small_data.glob("*.csv")):
        assert len(synthetic.read_records(path, org_id=path.stem)) > 0
