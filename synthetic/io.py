"""Writing and reading datasets: one CSV per organisation plus ground_truth.json."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from synthetic.generator import SyntheticData
from synthetic.schema import RecordError, validate_records

__all__ = ["read_records", "write_dataset"]


def write_dataset(data: SyntheticData, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write `<org id>.csv` for every organisation and `ground_truth.json`; return the paths.

    CSVs are UTF-8 with a plain header line, '\\n' line ends, no index, rows in the generator's
    deterministic order, and a `synthetic` column reading SYNTHETIC in every row. The JSON has sorted
    keys and indent 2. Same data -> byte-identical files.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for org_id, frame in data.records.items():
        path = out / f"{org_id}.csv"
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        paths.append(path)
    truth = out / "ground_truth.json"
    truth.write_text(json.dumps(data.ground_truth, sort_keys=True, indent=2, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    paths.append(truth)
    return paths


def read_records(path: str | os.PathLike[str], org_id: str | None = None) -> pd.DataFrame:
    """Read and validate one organisation's CSV (all columns as strings, '' = unknown).

    Args:
        path: the CSV file.
        org_id: if given, every row's `org` must equal it.

    Raises:
        RecordError: the file breaks the column contract (message names file, row and field).
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise RecordError(f"{path.name}: cannot be read as a UTF-8 CSV file: {exc}") from None
    validate_records(frame, source=path.name)
    if org_id is not None and len(frame) and frame.at[0, "org"] != org_id:
        raise RecordError(
            f"{path.name} row 1, field 'org': {frame.at[0, 'org']!r} but this file should hold {org_id!r}"
        )
    return frame
