"""Plaintext covariate tables from the generator's hidden population (sandbox only).

The analyst's side of the covariate lesson: from the generator's population
frame (one row per victim, ``lists`` = ';'-joined ids of the lists the victim is
on, '' if none) build one row per *registered* person with a 0/1 column per list
and the covariates the MPC computation ``capture-patterns-by`` stratifies by, and
the true number of victims per level.  Pure pandas; it does not import the
generator (``synthetic``) or MPyC.

Levels are the codes of capture-patterns-by (sex F/M, minor minor/adult, dutch dutch/non_dutch, form
sexual/labour/criminal/other) and use the true attribute of the person (the MPC computation takes the value
the first organisation recorded; the generator records these attributes without
error, so both agree except where no organisation recorded one).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .table import MSEError

#: Covariates of the lesson: name -> how the level is read from the population frame.
COVARIATES = ("sex", "minor", "dutch", "form")


def _levels(population: pd.DataFrame, name: str) -> pd.Series:
    if name == "sex":
        return population["sex"].astype(str)
    if name == "minor":
        return population["minor_at_exploitation"].astype(int).map({1: "minor", 0: "adult"})
    if name == "dutch":
        return (population["nationality"].astype(str) == "NL").map({True: "dutch", False: "non_dutch"})
    if name == "form":
        return population["primary_form"].astype(str)
    raise MSEError(f"unknown covariate '{name}'; the generator knows {', '.join(COVARIATES)}")


def person_frame(population: pd.DataFrame, lists: Sequence[str], covariates: Sequence[str]) -> pd.DataFrame:
    """One row per person on at least one list: 0/1 per list, then the covariate levels."""
    on = population["lists"].astype(str)
    seen = population[on != ""]
    members = seen["lists"].astype(str).str.split(";")
    out = pd.DataFrame({name: members.map(lambda m, n=name: int(n in m)) for name in lists}, index=seen.index)
    for name in covariates:
        out[name] = _levels(seen, name)
    return out.reset_index(drop=True)


def true_by_level(population: pd.DataFrame, covariates: Sequence[str]) -> dict[str, dict[str, int]]:
    """The generator's true number of victims per level of every covariate."""
    return {name: {str(k): int(v) for k, v in _levels(population, name).value_counts().items()} for name in covariates}


def true_by_level_from_marginals(
    marginals: dict[str, dict[str, int]], covariates: Sequence[str]
) -> dict[str, dict[str, int]]:
    """The same from ``ground_truth.json``'s ``marginals["population"]`` (a Run's data folder)."""
    out: dict[str, dict[str, int]] = {}
    for name in covariates:
        if name == "sex" and "sex" in marginals:
            out[name] = dict(marginals["sex"])
        elif name == "minor" and "minor_at_exploitation" in marginals:
            out[name] = {{"1": "minor", "0": "adult"}.get(str(k), str(k)): v
                         for k, v in marginals["minor_at_exploitation"].items()}
        elif name == "dutch" and "nationality" in marginals:
            nl = sum(v for k, v in marginals["nationality"].items() if k == "NL")
            out[name] = {"dutch": nl, "non_dutch": sum(marginals["nationality"].values()) - nl}
        elif name == "form" and "primary_form" in marginals:
            out[name] = dict(marginals["primary_form"])
    return out
