"""Make tests/data/mse_cov_simdat_missing.csv: simdat with covariate values blanked by a fixed rule.

Input: sandbox/mse/data/simdat.csv (one row per person, lists R1-R4, covariates X1-X4).
Output: the same rows and columns R1-R4, X1, X2, X4 with some covariate values left empty.
The rule uses only the row number i (0-based, file order) and the person's list values, so it is
deterministic and needs no random numbers:

* X1 is blanked when i % 6 == 0                      (missing completely at random, 1 in 6);
* X2 is blanked when R1 == 0 and i % 4 == 1          (missing at random given the lists: only people
                                                      not on R1, 1 in 4 of them);
* X4 is blanked when R3 == 1 and i % 5 == 2          (missing at random given the lists).

A person can miss several values.  EM (MSEincomplete, sandbox.mse.covariates) is valid under
missingness at random given the recorded variables, which both kinds are.

Usage (repository root): python benchmarks/r/make_missing_covariates.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "sandbox" / "mse" / "data" / "simdat.csv"
TARGET = ROOT / "tests" / "data" / "mse_cov_simdat_missing.csv"


def blanked(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[["R1", "R2", "R3", "R4", "X1", "X2", "X4"]].astype(object).copy()
    i = pd.Series(range(len(out)), index=out.index)
    out.loc[i % 6 == 0, "X1"] = None
    out.loc[(frame["R1"] == 0) & (i % 4 == 1), "X2"] = None
    out.loc[(frame["R3"] == 1) & (i % 5 == 2), "X4"] = None
    return out


def main() -> None:
    out = blanked(pd.read_csv(SOURCE))
    out.to_csv(TARGET, index=False)
    missing = out[["X1", "X2", "X4"]].isna()
    print(
        f"wrote {TARGET.relative_to(ROOT)}: {len(out)} people, missing per column {missing.sum().to_dict()}, "
        f"people with any missing {int(missing.any(axis=1).sum())}"
    )


if __name__ == "__main__":
    main()
