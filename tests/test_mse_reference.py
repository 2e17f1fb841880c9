"""sandbox.mse against figures computed with the R packages (tests/data/mse_reference.json).

The figures were made by benchmarks/r/mse_reference.R with SparseMSE 2.0.1 and
MultipleSystemsEstimation 1.1.0 on the tables shipped in sandbox/mse/data/;
see benchmarks/r/README.md.  Only deterministic figures are compared.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest

from sandbox.mse import CaptureTable, analyse, fit_model, load_counts_csv, select_model, table_from_frame

REFERENCE = json.loads((Path(__file__).parent / "data" / "mse_reference.json").read_text())
TABLES = REFERENCE["tables"]
REL = 1e-4  # estimates agree to this relative tolerance (in practice to about 1e-9)
FIVE_OR_FEWER = [name for name, t in TABLES.items() if len(t["lists"]) <= 5]


@cache
def load(name: str) -> CaptureTable:
    """A shipped table; simdat (one row per person) is counted by pattern of R1-R4."""
    path = files("sandbox.mse") / "data" / f"{name}.csv"
    if name != "simdat":
        return load_counts_csv(Path(str(path)))
    people = pd.read_csv(Path(str(path)))[["R1", "R2", "R3", "R4"]]
    counts = people.value_counts().rename("count").reset_index()
    return table_from_frame(counts, source="simdat.csv")


def test_reference_covers_every_shipped_table():
    shipped = {p.name.removesuffix(".csv") for p in Path(str(files("sandbox.mse") / "data")).glob("*.csv")}
    assert set(TABLES) == shipped
    assert REFERENCE["packages"]["SparseMSE"] == "2.0.1"


@pytest.mark.parametrize("name", TABLES)
def test_table_matches_r_input(name):
    table = load(name)
    assert table.observed == TABLES[name]["observed"]
    assert list(table.lists) == TABLES[name]["lists"]


@pytest.mark.parametrize("name", TABLES)
def test_main_effects_match_sparsemse(name):
    assert select_model(load(name), "main").estimate == pytest.approx(
        TABLES[name]["sparsemse_main"]["estimate"], rel=REL
    )


@pytest.mark.parametrize("name", TABLES)
def test_stepwise_matches_sparsemse(name):
    ref = TABLES[name]["sparsemse_stepwise"]
    fit = select_model(load(name), "stepwise", pthresh=0.02)
    assert fit.estimate == pytest.approx(ref["estimate"], rel=REL)
    assert fit.term_names == ref["terms"]  # same terms, same order of addition
    assert set(fit.neg_inf_term_names) == set(ref["empty_overlap_terms"])


@pytest.mark.parametrize("name", TABLES)
def test_multiplesystemsestimation_stepwise_is_sparsemse(name):
    # the successor package's stepwise method gives the same model: one reference serves both
    assert TABLES[name]["mse_stepwise"]["estimate"] == pytest.approx(
        TABLES[name]["sparsemse_stepwise"]["estimate"], rel=1e-12
    )
    assert TABLES[name]["mse_stepwise"]["terms"] == TABLES[name]["sparsemse_stepwise"]["terms"]


@pytest.mark.parametrize("name", FIVE_OR_FEWER)
def test_two_way_bic_matches_multiplesystemsestimation(name):
    ref = TABLES[name]["mse_bic2"]
    fit = select_model(load(name), "bic")
    assert fit.estimate == pytest.approx(ref["estimate"], rel=REL)
    assert sorted(fit.term_names) == ref["terms"]
    assert fit.bic == pytest.approx(ref["bic"], rel=1e-6)


@pytest.mark.parametrize("name", FIVE_OR_FEWER)
def test_bic_of_the_r_top_models(name):
    # cheap check of the auto search's criterion: our BIC of R's five best hierarchical models
    table = load(name)
    for model in TABLES[name]["mse_auto"]["top5"]:
        terms = _hierarchy_terms(model["model"])
        fit = fit_model(table, terms)
        assert fit.bic == pytest.approx(model["bic"], rel=1e-6), model["model"]
        assert fit.estimate == pytest.approx(model["estimate"], rel=REL), model["model"]


# The full `auto` search on a five-list table fits 6,212 models (30-50 s each here). `make test` runs it on
# one of them (NewOrl_5) and checks our BIC of R's five best models on all (above); `make bench`
# (benchmarks/bench_mse_reference.py, MSE_AUTO_ALL=1) runs it on every five-list table.
FULL_AUTO_IN_MAKE_TEST = {"NewOrl_5"}


def _auto_params() -> list:
    every = os.environ.get("MSE_AUTO_ALL") == "1"
    return [pytest.param(name, marks=[pytest.mark.slow] if len(t["lists"]) == 5 else [], id=name)
            for name, t in TABLES.items()
            if every or len(t["lists"]) != 5 or name in FULL_AUTO_IN_MAKE_TEST]


@pytest.mark.parametrize("name", _auto_params())
def test_auto_matches_multiplesystemsestimation(name):
    ref = TABLES[name]["mse_auto"]
    fit = select_model(load(name), "auto")
    assert fit.estimate == pytest.approx(ref["estimate"], rel=REL)
    if ref["resolved_method"] == "stepwise":
        assert fit.term_names == ref["terms"]
    else:
        assert sorted(fit.term_names) == sorted(ref["terms"])
        assert fit.bic == pytest.approx(ref["bic"], rel=1e-6)


def test_ned_old_rule_is_distinguished():
    """The old behaviour (never add a pair that shares nobody) stops at 130,628 on Ned."""
    table = load("Ned")
    ref = TABLES["Ned"]["sparsemse_stepwise"]["estimate"]
    names = list(table.lists)
    old_terms = [tuple(names.index(n) for n in term.split(":")) for term in ["O:Z", "P:Z", "I:Z", "P:R", "O:P"]]
    old = fit_model(table, old_terms).estimate
    assert old == pytest.approx(130_627.8, abs=0.1)
    assert abs(old - ref) / ref > 100 * REL  # the comparison above would catch the old figure
    result = analyse(table, "stepwise")
    assert result.estimate == pytest.approx(ref, rel=REL)
    assert set(result.empty_overlap_terms) == {"I:K", "K:R"}
    assert set(result.to_dict()["empty_overlap_terms"]) == {"I:K", "K:R"}


def _hierarchy_terms(model: str) -> list[tuple[int, ...]]:
    """MultipleSystemsEstimation's ``[135,12,4]`` as the interaction terms of that hierarchy."""
    from itertools import combinations

    terms: set[tuple[int, ...]] = set()
    for generator in model.strip("[]").split(","):
        members = sorted(int(c) - 1 for c in generator)
        for size in range(2, len(members) + 1):
            terms.update(combinations(members, size))
    return sorted(terms, key=lambda t: (len(t), t))
