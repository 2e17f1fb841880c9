"""The independent plaintext oracle (`sandbox.mpc.oracle`), checked three ways.

(a) Tiny hand-made frames whose answers are written out by hand below (not computed by product code).
(b) Hypothesis: random small frames, the oracle (pandas) against a brute-force pure-Python loop written
    here: two independent implementations.
(c) The generated nl-baseline data: every catalogue computation's oracle against the brute force on the
    CSVs (read with the csv module), plus counts-by-form re-derived with value_counts after explode.
"""

from __future__ import annotations

import ast
import csv
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.mpc import computations
from sandbox.mpc import oracle as plain
from sandbox.mpc.oracle import OracleError, compute, oracle, own_counts
from synthetic import vocab

ROOT = Path(__file__).resolve().parents[1]
FORMS = ("sexual", "labour", "criminal", "other")


def frame(org: str, rows: list[dict], drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """One organisation's records: the required columns plus whatever each row gives (all text)."""
    out = []
    for i, r in enumerate(rows):
        row = {"record_id": f"{org}-{i}", "person_key": r.pop("key", f"{org.encode().hex()[:8]}{i:08x}"),
               "org": org, "registration_date": "2024-01-01", "form": r.pop("form", "")}
        row.update(r)
        out.append(row)
    df = pd.DataFrame(out).fillna("").astype(str)
    return df.drop(columns=[c for c in drop if c in df.columns])


def forms(org: str, *values: str) -> pd.DataFrame:
    return frame(org, [{"form": v} for v in values])


def key(n: int) -> str:
    return f"{n:016x}"


# =========================================================================== (a) by hand

# ----------------------------------------------------------------------------- counts-by-form


def test_counts_by_form_multi_valued_and_unknown_codes():
    frames = {
        # sexual: rows 1, 2, 6; labour: rows 2, 3 (twice in row 3: once); criminal: row 4; "unknown", "" skipped
        "a": forms("a", "sexual", "sexual;labour", "labour;labour", "criminal;unknown", "", "sexual;"),
        "b": forms("b", "other", "labour", "Sexual"),  # codes are case-sensitive: "Sexual" is unknown
    }
    got = oracle(frames, "counts-by-form", {"min_cell": 0})
    assert got == {"revealed": {"sexual": 3, "labour": 3, "criminal": 1, "other": 1}, "suppressed": []}
    assert list(got["revealed"]) == ["sexual", "labour", "criminal", "other"]  # catalogue order
    assert own_counts(frames, "counts-by-form", {"min_cell": 0}) == {
        "a": {"sexual": 3, "labour": 2, "criminal": 1, "other": 0},
        "b": {"sexual": 0, "labour": 1, "criminal": 0, "other": 1},
    }
    assert oracle(frames, "counts-by-form", {"min_cell": 2}) == {
        "revealed": {"sexual": 3, "labour": 3, "criminal": None, "other": None},
        "suppressed": ["criminal", "other"],
    }
    assert oracle(frames, "counts-by-form", {"min_cell": 4}) == {
        "revealed": {"sexual": None, "labour": None, "criminal": None, "other": None},
        "suppressed": ["sexual", "labour", "criminal", "other"],
    }


def test_small_cell_edges_zero_one_min_cell_minus_one_and_min_cell():
    # sexual 0, labour 1, criminal 2 (= min_cell - 1), other 3 (= min_cell)
    frames = {"a": forms("a", "labour", "criminal", "other"), "b": forms("b", "criminal;other", "other")}
    assert oracle(frames, "counts-by-form", {"min_cell": 3}) == {
        "revealed": {"sexual": 0, "labour": None, "criminal": None, "other": 3},
        "suppressed": ["labour", "criminal"],
    }
    # min_cell 0 and 1 suppress nothing
    for mc in (0, 1):
        assert oracle(frames, "counts-by-form", {"min_cell": mc})["revealed"] == {
            "sexual": 0, "labour": 1, "criminal": 2, "other": 3}
    # the organisations come from params["orgs"] when given (here only b)
    assert oracle(frames, "counts-by-form", {"min_cell": 0, "orgs": ["b"]})["revealed"] == {
        "sexual": 0, "labour": 0, "criminal": 1, "other": 2}


# ----------------------------------------------------------------------------- cross-tabs


def test_crosstab_form_sector():
    frames = {
        "a": frame("a", [
            {"form": "sexual;labour", "sector": "hospitality"},  # sexual × hospitality, labour × hospitality
            {"form": "labour", "sector": "hospitality;cleaning"},  # labour × hospitality, labour × cleaning
            {"form": "labour", "sector": ""},  # no sector: nothing
        ]),
        "b": frame("b", [
            {"form": "unknown", "sector": "cleaning"},  # unknown form: nothing
            {"form": "criminal", "sector": "begging;begging"},  # criminal × begging once
            {"form": "other", "sector": "spaceflight"},  # unknown sector: nothing
        ]),
        "c": frame("c", [{"form": "sexual"}], drop=("sector",)),  # no sector column at all
    }
    got = oracle(frames, "crosstab-form-sector", {"min_cell": 0})
    assert len(got["revealed"]) == 4 * 22
    assert list(got["revealed"])[:3] == ["sexual × sex_home", "sexual × sex_escort_hotel", "sexual × sex_street"]
    assert list(got["revealed"])[-1] == "other × other"
    nonzero = {c: v for c, v in got["revealed"].items() if v}
    assert nonzero == {"sexual × hospitality": 1, "labour × hospitality": 2, "labour × cleaning": 1,
                       "criminal × begging": 1}
    assert got["suppressed"] == []
    two = oracle(frames, "crosstab-form-sector", {"min_cell": 2})
    assert two["suppressed"] == ["sexual × hospitality", "labour × cleaning", "criminal × begging"]
    assert two["revealed"]["labour × hospitality"] == 2 and two["revealed"]["sexual × cleaning"] == 0
    own = own_counts(frames, "crosstab-form-sector", {"min_cell": 0})
    assert {c: v for c, v in own["a"].items() if v} == {"sexual × hospitality": 1, "labour × hospitality": 2,
                                                        "labour × cleaning": 1}
    assert {c: v for c, v in own["b"].items() if v} == {"criminal × begging": 1}
    assert not any(own["c"].values()) and len(own["c"]) == 88


def test_crosstab_nationality_form_groups_each_record_once_per_group():
    frames = {
        "a": frame("a", [
            {"form": "sexual", "nationality": "NL"},  # dutch × sexual
            {"form": "labour", "nationality": "PL;RO"},  # both eu_central_eastern: once
            {"form": "labour", "nationality": "nl"},  # lower case is still dutch
            {"form": "other", "nationality": "US"},  # any other code: group "other"
            {"form": "sexual", "nationality": ""},  # unknown: nothing
        ]),
        "b": frame("b", [{"form": "criminal;other", "nationality": "UA;DE"}]),  # 2 groups × 2 forms
    }
    got = oracle(frames, "crosstab-nationality-form", {"min_cell": 0})
    assert len(got["revealed"]) == 8 * 4 and list(got["revealed"])[0] == "dutch × sexual"
    assert {c: v for c, v in got["revealed"].items() if v} == {
        "dutch × sexual": 1, "dutch × labour": 1, "eu_central_eastern × labour": 1, "eu_other × criminal": 1,
        "eu_other × other": 1, "ukraine × criminal": 1, "ukraine × other": 1, "other × other": 1,
    }


def test_crosstab_region_form():
    frames = {
        "a": frame("a", [{"form": "sexual;labour", "region": "amsterdam"}, {"form": "sexual", "region": "atlantis"},
                         {"form": "labour", "region": "amsterdam"}]),
        "b": frame("b", [{"form": "sexual"}], drop=("region",)),
    }
    got = oracle(frames, "crosstab-region-form", {"min_cell": 2})
    assert len(got["revealed"]) == 10 * 4 and list(got["revealed"])[0] == "noord-nederland × sexual"
    assert {c: v for c, v in got["revealed"].items() if v != 0} == {"amsterdam × sexual": None,
                                                                    "amsterdam × labour": 2}
    assert got["suppressed"] == ["amsterdam × sexual"]


# ----------------------------------------------------------------------------- count-filtered


def _filter_frames() -> dict[str, pd.DataFrame]:
    return {
        "a": frame("a", [
            {"form": "sexual", "region": "amsterdam", "nationality": "NL"},  # a0
            {"form": "labour", "region": "amsterdam", "nationality": "PL"},  # a1
            {"form": "sexual;criminal", "region": "amsterdam", "nationality": "NL"},  # a2
            {"form": "labour", "region": "rotterdam", "nationality": "NL"},  # a3
        ]),
        "b": frame("b", [
            {"form": "other", "region": "amsterdam", "nationality": ""},  # b0
            {"form": "labour", "region": "amsterdam", "nationality": "PL;NL"},  # b1: whole field is not "NL"
        ]),
        "c": frame("c", [{"form": "sexual"}, {"form": "labour;other"}], drop=("region", "nationality")),
    }


AMSTERDAM = {"region": "amsterdam", "exclude_nationality": None}
AMSTERDAM_NOT_NL = {"region": "amsterdam", "exclude_nationality": "NL"}


def test_count_filtered_queries():
    frames = _filter_frames()
    # a0 a1 a2 b0 b1 (c has no region column: none of its records is in a region)
    assert oracle(frames, "count-filtered", {**AMSTERDAM, "min_cell": 0}) == {
        "revealed": {"sexual": 2, "labour": 2, "criminal": 1, "other": 1, "all": 5}, "suppressed": []}
    # a1 b0 b1
    assert oracle(frames, "count-filtered", {**AMSTERDAM_NOT_NL, "min_cell": 0})["revealed"] == {
        "sexual": 0, "labour": 2, "criminal": 0, "other": 1, "all": 3}
    # no region: every record; c has no nationality column, so nothing of c is excluded: a1 b0 b1 c0 c1
    assert oracle(frames, "count-filtered", {"region": None, "exclude_nationality": "NL", "min_cell": 0})[
        "revealed"] == {"sexual": 1, "labour": 3, "criminal": 0, "other": 2, "all": 5}
    assert oracle(frames, "count-filtered", {"min_cell": 0})["revealed"] == {
        "sexual": 3, "labour": 4, "criminal": 1, "other": 2, "all": 8}
    # symmetric difference amsterdam Δ amsterdam-without-NL = {a0, a2}
    diff = oracle(frames, "count-filtered", {**AMSTERDAM, "differs_from": AMSTERDAM_NOT_NL, "min_cell": 0})
    assert diff["revealed"] == {"sexual": 2, "labour": 0, "criminal": 1, "other": 0, "all": 2}
    # small cells
    assert oracle(frames, "count-filtered", {**AMSTERDAM, "min_cell": 2}) == {
        "revealed": {"sexual": 2, "labour": 2, "criminal": None, "other": None, "all": 5},
        "suppressed": ["criminal", "other"]}
    assert own_counts(frames, "count-filtered", {**AMSTERDAM, "min_cell": 0}) == {
        "a": {"sexual": 2, "labour": 1, "criminal": 1, "other": 0, "all": 3},
        "b": {"sexual": 0, "labour": 1, "criminal": 0, "other": 1, "all": 2},
        "c": {"sexual": 0, "labour": 0, "criminal": 0, "other": 0, "all": 0},
    }


def test_count_filtered_ignores_noise_and_keeps_the_small_cell_rule():
    frames = _filter_frames()
    noisy = {**AMSTERDAM, "noise_epsilon": 0.5, "noise_seed": 3}
    assert oracle(frames, "count-filtered", {**noisy, "min_cell": 0})["revealed"] == {
        "sexual": 2, "labour": 2, "criminal": 1, "other": 1, "all": 5}
    assert oracle(frames, "count-filtered", {**noisy, "noise_seed": None, "min_cell": 2}) == {
        "revealed": {"sexual": 2, "labour": 2, "criminal": None, "other": None, "all": 5},
        "suppressed": ["criminal", "other"]}


def test_query_approval():
    frames = _filter_frames()
    b_vs_a = {**AMSTERDAM_NOT_NL, "differs_from": AMSTERDAM}  # d = 2 (a0, a2)
    assert oracle(frames, "query-approval", {**b_vs_a, "min_cell": 0}) == {"revealed": {"approved": 1},
                                                                            "suppressed": []}
    assert oracle(frames, "query-approval", {**b_vs_a, "min_cell": 2})["revealed"] == {"approved": 1}
    assert oracle(frames, "query-approval", {**b_vs_a, "min_cell": 3})["revealed"] == {"approved": 0}
    same = {**AMSTERDAM, "differs_from": AMSTERDAM}  # d = 0: below max(min_cell, 1)
    assert oracle(frames, "query-approval", {**same, "min_cell": 0})["revealed"] == {"approved": 0}
    rotterdam = {"region": "rotterdam", "differs_from": AMSTERDAM}  # d = 5 + 1
    assert oracle(frames, "query-approval", {**rotterdam, "min_cell": 6})["revealed"] == {"approved": 1}
    assert oracle(frames, "query-approval", {**rotterdam, "min_cell": 7})["revealed"] == {"approved": 0}
    assert own_counts(frames, "query-approval", {**b_vs_a, "min_cell": 0}) is None
    with pytest.raises(OracleError, match="differs_from"):
        oracle(frames, "query-approval", {**AMSTERDAM, "min_cell": 0})


# ----------------------------------------------------------------------------- age statistics

NONE_AGE = {"records_with_age": None, "mean_age": None, "q1": None, "median": None, "q3": None,
            "share_minors": None}


def _age_frames(*per_org: list[str]) -> dict[str, pd.DataFrame]:
    return {f"o{i}": frame(f"o{i}", [{"form": "labour", "age": a} for a in ages]) for i, ages in enumerate(per_org)}


def test_age_statistics_by_hand():
    # valid ages: 30, 40, 17 (spaces stripped), 10, 50, 60; "", "abc", "100" (> 99) and "4.5" are skipped;
    # sorted 10 17 30 40 50 60: n 6, sum 207, q1 = 2nd (ceil 6/4), median = 3rd, q3 = 5th (ceil 4.5); 2 minors
    frames = _age_frames(["30", "40", "", "abc", "100", " 17 "], ["10", "50", "60", "4.5"])
    frames["none"] = frame("none", [{"form": "sexual"}])  # no age column at all
    full = {"records_with_age": 6, "mean_age": 34.5, "q1": 17, "median": 30, "q3": 50, "share_minors": 1 / 3}
    for mc in (0, 1, 2):  # minors 2 and adults 4: neither is below min_cell
        assert oracle(frames, "age-statistics", {"min_cell": mc}) == {"revealed": full, "suppressed": []}
    for mc in (3, 5, 6):  # 2 minors < min_cell (and for 5, 6 also 4 adults): only the share is withheld
        assert oracle(frames, "age-statistics", {"min_cell": mc}) == {
            "revealed": {**full, "share_minors": None}, "suppressed": ["share_minors"]}
    # fewer records with an age than min_cell: nothing at all (and "all" only, though the share is small too)
    assert oracle(frames, "age-statistics", {"min_cell": 7}) == {"revealed": NONE_AGE, "suppressed": ["all"]}
    assert own_counts(frames, "age-statistics", {"min_cell": 0}) is None


def test_age_statistics_edges():
    # no minors (0 is never small) / only minors (0 adults)
    assert oracle(_age_frames(["20", "30"], ["40"]), "age-statistics", {"min_cell": 3}) == {
        "revealed": {"records_with_age": 3, "mean_age": 30.0, "q1": 20, "median": 30, "q3": 40,
                     "share_minors": 0.0}, "suppressed": []}
    assert oracle(_age_frames(["5", "7"], ["6"]), "age-statistics", {"min_cell": 3})["revealed"] == {
        "records_with_age": 3, "mean_age": 6.0, "q1": 5, "median": 6, "q3": 7, "share_minors": 1.0}
    # one minor and two adults with min_cell 2: the single minor withholds the share
    assert oracle(_age_frames(["17", "18", "99"]), "age-statistics", {"min_cell": 2}) == {
        "revealed": {"records_with_age": 3, "mean_age": 134 / 3, "q1": 17, "median": 18, "q3": 99,
                     "share_minors": None}, "suppressed": ["share_minors"]}
    # a single record with min_cell 0; and nobody with an age
    assert oracle(_age_frames(["0"]), "age-statistics", {"min_cell": 0})["revealed"] == {
        "records_with_age": 1, "mean_age": 0.0, "q1": 0, "median": 0, "q3": 0, "share_minors": 1.0}
    assert oracle(_age_frames(["", "x"]), "age-statistics", {"min_cell": 0}) == {"revealed": NONE_AGE,
                                                                                "suppressed": ["all"]}
    # quartiles are lower quantiles: 4 ages 1 2 3 4 -> q1 = 1st, median = 2nd, q3 = 3rd
    assert oracle(_age_frames(["4", "3", "2", "1"]), "age-statistics", {"min_cell": 0})["revealed"] == {
        "records_with_age": 4, "mean_age": 2.5, "q1": 1, "median": 2, "q3": 3, "share_minors": 1.0}


# ----------------------------------------------------------------------------- linkage

def _linked_frames() -> dict[str, pd.DataFrame]:
    # persons 1..7: 1 on a b; 2 on a; 3 on a b c; 4 on b; 5 on c; 6 on a c; 7 on a b
    return {
        "a": frame("a", [{"key": key(1), "means_of_control": "threats"},
                         {"key": key(2), "means_of_control": "threats;debt_bondage"},  # one list only
                         {"key": key(3), "means_of_control": "debt_bondage"},
                         {"key": key(6), "means_of_control": ""},
                         {"key": key(7), "means_of_control": "juju_oath;unknown_means"}]),
        "b": frame("b", [{"key": key(1), "means_of_control": "debt_bondage"},
                         {"key": key(3), "means_of_control": ""},
                         {"key": key(4), "means_of_control": "threats"},
                         {"key": key(7), "means_of_control": "juju_oath"}]),
        "c": frame("c", [{"key": key(3), "means_of_control": "threats;threats"},
                         {"key": key(5), "means_of_control": "threats"},
                         {"key": key(6), "means_of_control": "substances"}]),
    }


def test_capture_patterns_by_hand():
    frames = _linked_frames()
    # a only 1 (p2), b only 1 (p4), a+b 2 (p1, p7), c only 1 (p5), a+c 1 (p6), b+c 0, a+b+c 1 (p3)
    assert oracle(frames, "capture-patterns", {"min_cell": 0, "orgs": ["a", "b", "c"]}) == {
        "revealed": [{"lists": ["a"], "count": 1}, {"lists": ["b"], "count": 1}, {"lists": ["a", "b"], "count": 2},
                     {"lists": ["c"], "count": 1}, {"lists": ["a", "c"], "count": 1},
                     {"lists": ["a", "b", "c"], "count": 1}],
        "suppressed": [],
    }
    assert oracle(frames, "capture-patterns", {"min_cell": 2, "orgs": ["a", "b", "c"]}) == {
        "revealed": [{"lists": ["a", "b"], "count": 2}],
        "suppressed": [["a"], ["b"], ["c"], ["a", "c"], ["a", "b", "c"]],
    }
    # bit j is the j-th organisation of the run: with c, a, b the masks (and so the order) change
    assert oracle(frames, "capture-patterns", {"min_cell": 0, "orgs": ["c", "a", "b"]})["revealed"] == [
        {"lists": ["c"], "count": 1}, {"lists": ["a"], "count": 1}, {"lists": ["c", "a"], "count": 1},
        {"lists": ["b"], "count": 1}, {"lists": ["a", "b"], "count": 2}, {"lists": ["c", "a", "b"], "count": 1}]
    assert own_counts(frames, "capture-patterns", {"min_cell": 0}) is None
    # a key twice in one list (the parties refuse such a list) is still one person on that list
    frames["c"] = pd.concat([frames["c"], frames["c"].iloc[[0]]], ignore_index=True)
    assert oracle(frames, "capture-patterns", {"min_cell": 0})["revealed"][-1] == {"lists": ["a", "b", "c"],
                                                                                   "count": 1}


def test_mo_cooccurrence_by_hand():
    frames = _linked_frames()
    # persons on 2+ lists: p1 {threats, debt_bondage}, p3 {debt_bondage, threats}, p6 {substances},
    # p7 {juju_oath}; p2's means are on one list only and do not count; unknown codes are skipped
    got = oracle(frames, "mo-cooccurrence", {"min_cell": 0})
    assert len(got["revealed"]) == 14 * 15 // 2
    assert list(got["revealed"])[:3] == ["debt_bondage", "debt_bondage + takes_earnings", "debt_bondage + threats"]
    assert list(got["revealed"])[-1] == "juju_oath"
    assert {c: v for c, v in got["revealed"].items() if v} == {
        "debt_bondage": 2, "debt_bondage + threats": 2, "threats": 2, "substances": 1, "juju_oath": 1}
    assert got["suppressed"] == []
    two = oracle(frames, "mo-cooccurrence", {"min_cell": 2})
    assert two["suppressed"] == ["substances", "juju_oath"]
    assert {c: v for c, v in two["revealed"].items() if v != 0} == {
        "debt_bondage": 2, "debt_bondage + threats": 2, "threats": 2, "substances": None, "juju_oath": None}
    # an organisation without the column contributes links but no means
    frames["b"] = frames["b"].drop(columns=["means_of_control"])
    assert {c: v for c, v in oracle(frames, "mo-cooccurrence", {"min_cell": 0})["revealed"].items() if v} == {
        "threats": 2, "debt_bondage": 1, "debt_bondage + threats": 1, "substances": 1, "juju_oath": 1}


# ----------------------------------------------------------------------------- files, errors, process


def _write(folder: Path, frames: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for org, df in frames.items():
        df.to_csv(folder / f"{org}.csv", index=False)
    return folder


def test_compute_reads_the_files_itself(tmp_path):
    folder = _write(tmp_path / "d", _filter_frames())
    plan = {"computation": "count-filtered", "data_dir": str(folder), "orgs": ["a", "b"],
            "params": {**AMSTERDAM, "min_cell": 2, "noise_epsilon": 1.0, "noise_seed": 1}}
    assert compute(plan) == {
        "revealed": {"sexual": 2, "labour": 2, "criminal": None, "other": None, "all": 5},
        "suppressed": ["criminal", "other"],
        "own_counts": {"a": {"sexual": 2, "labour": 1, "criminal": 1, "other": 0, "all": 3},
                       "b": {"sexual": 0, "labour": 1, "criminal": 0, "other": 1, "all": 2}},
    }
    age = compute({"computation": "age-statistics", "data_dir": str(folder), "orgs": ["a"], "params": {}})
    assert age == {"revealed": NONE_AGE, "suppressed": ["all"], "own_counts": None}
    # the process: same output as JSON
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    out = tmp_path / "out.json"
    assert plain.main(["--plan", str(tmp_path / "plan.json"), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == compute(plan)


def test_clear_errors_name_the_file(tmp_path, capsys):
    folder = _write(tmp_path / "d", {"a": forms("a", "sexual")})
    plan = {"computation": "counts-by-form", "data_dir": str(folder), "orgs": ["a", "zz"], "params": {}}
    with pytest.raises(OracleError, match=r"zz\.csv: file not found"):
        compute(plan)
    (folder / "zz.csv").write_bytes(b"")
    with pytest.raises(OracleError, match=r"zz\.csv: not a readable CSV file"):
        compute(plan)
    (folder / "zz.csv").write_bytes(b"\xff\xfe\x00bad\xff\n\x00\xff")
    with pytest.raises(OracleError, match=r"zz\.csv: not a readable CSV file"):
        compute(plan)
    (folder / "zz.csv").write_text("record_id,org,form\nx,zz,sexual\n")
    with pytest.raises(OracleError, match=r"zz\.csv: missing required column\(s\): person_key, registration_date"):
        compute(plan)
    with pytest.raises(OracleError, match="no computation 'nope'"):
        compute({**plan, "computation": "nope"})
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    assert plain.main(["--plan", str(tmp_path / "plan.json"), "--out", str(tmp_path / "o.json")]) == 1
    assert "ORACLE-ERROR: OracleError:" in capsys.readouterr().err and not (tmp_path / "o.json").exists()
    frames = {"a": forms("a", "sexual").drop(columns=["person_key"])}
    with pytest.raises(OracleError, match="records of a have no person_key column"):
        oracle(frames, "capture-patterns", {})
    with pytest.raises(OracleError, match="no records given for organisation"):
        oracle(frames, "counts-by-form", {"orgs": ["a", "b"]})


def test_the_oracle_shares_no_code_with_the_parties():
    source = (ROOT / "sandbox" / "mpc" / "oracle.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert imported <= {"__future__", "argparse", "json", "os", "sys", "pathlib", "typing", "pandas",
                        "synthetic", "synthetic.vocab"}, imported
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, sandbox.mpc.oracle; print(sorted(m for m in sys.modules "
                               "if m.startswith(('sandbox', 'streamlit', 'mpyc'))))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert eval(loaded) == ["sandbox", "sandbox.mpc", "sandbox.mpc.oracle"]  # noqa: S307 - our own output


def test_the_oracle_knows_every_catalogue_computation_with_the_same_cells():
    assert set(computations.names()) <= set(plain.COMPUTATIONS)
    frames = _linked_frames()
    params = {"min_cell": 0, "orgs": list(frames), "differs_from": AMSTERDAM,
              "query": {"group_by": ["form", "sex"], "where": {"region": ["amsterdam"]}}, "covariates": ["form"]}
    for name in computations.names():
        got = oracle(frames, name, params)
        if isinstance(got["revealed"], dict):
            assert list(got["revealed"]) == computations.get(name).cells(params), name
        elif name == "capture-patterns-by":  # cells 'a + b | form=labour', in the catalogue's order
            cells = computations.get(name).cells(params)
            named = [" + ".join(r["lists"]) + " | form=" + r["levels"]["form"] for r in got["revealed"]]
            assert named and named == [c for c in cells if c in named], named


# =========================================================================== (b) against a brute force

BF_GROUP = {"NL": "dutch", "nl": "dutch", "PL": "eu_central_eastern", "DE": "eu_other", "UA": "ukraine",
            "NG": "africa", "BR": "latin_america", "VN": "asia", "US": "other", "zz": "other"}
BF_REGIONS = ("amsterdam", "rotterdam", "limburg")
BF_SECTORS = ("hospitality", "cleaning", "begging", "other")
BF_MEANS = ("debt_bondage", "threats", "substances", "juju_oath")


def _bf_split(value: str) -> list[str]:
    return value.split(";") if value else []


def _bf_matches(rec: dict, query: dict) -> bool:
    if query.get("region"):
        if "region" not in rec or rec["region"] != query["region"]:
            return False
    excluded = query.get("exclude_nationality")
    return not (excluded and "nationality" in rec and rec["nationality"] == excluded)


def _bf_cells_per_record(rec: dict, name: str, params: dict, group) -> set[str]:
    """The cells one record counts in, by plain loops."""
    out = set()
    if name == "counts-by-form":
        out = {f for f in _bf_split(rec["form"]) if f in vocab.FORMS}
    elif name == "count-filtered":
        inside = _bf_matches(rec, params)
        if params.get("differs_from"):
            inside = inside != _bf_matches(rec, params["differs_from"])
        if inside:
            out = {f for f in _bf_split(rec["form"]) if f in vocab.FORMS} | {"all"}
    else:
        row, rows, col, cols, mapping = {
            "crosstab-form-sector": ("form", vocab.FORMS, "sector", vocab.SECTORS, None),
            "crosstab-nationality-form": ("nationality", vocab.NATIONALITY_GROUPS, "form", vocab.FORMS, group),
            "crosstab-region-form": ("region", vocab.REGIONS, "form", vocab.FORMS, None),
        }[name]
        if row in rec and col in rec:
            for r in _bf_split(rec[row]):
                r = mapping(r) if mapping else r
                for c in _bf_split(rec[col]):
                    if r in rows and c in cols:
                        out.add(r + " × " + c)
    return out


def _bf_cells(name: str) -> list[str]:
    if name == "counts-by-form":
        return list(vocab.FORMS)
    if name == "count-filtered":
        return [*vocab.FORMS, "all"]
    rows, cols = {"crosstab-form-sector": (vocab.FORMS, vocab.SECTORS),
                  "crosstab-nationality-form": (vocab.NATIONALITY_GROUPS, vocab.FORMS),
                  "crosstab-region-form": (vocab.REGIONS, vocab.FORMS)}[name]
    return [r + " × " + c for r in rows for c in cols]


def _bf_hide(counts: dict, min_cell: int) -> dict:
    shown = {}
    for cell, n in counts.items():
        shown[cell] = None if (n >= 1 and n < min_cell) else n
    return {"revealed": shown, "suppressed": [c for c in counts if shown[c] is None]}


def brute_force(lists: dict[str, list[dict]], name: str, params: dict, group=BF_GROUP.get):
    """The same figure as the oracle, computed from lists of record dicts with plain loops."""
    orgs = params.get("orgs") or list(lists)
    min_cell = params.get("min_cell") or 0
    if name in plain.AGGREGATES:
        cells = _bf_cells(name)
        total = dict.fromkeys(cells, 0)
        own = {}
        for org in orgs:
            own[org] = dict.fromkeys(cells, 0)
            for rec in lists[org]:
                for cell in _bf_cells_per_record(rec, name, params, group):
                    own[org][cell] += 1
                    total[cell] += 1
        return _bf_hide(total, min_cell), own
    if name == "query-approval":
        d = 0
        for org in orgs:
            for rec in lists[org]:
                if _bf_matches(rec, params) != _bf_matches(rec, params["differs_from"]):
                    d += 1
        return {"revealed": {"approved": int(d >= max(min_cell, 1))}, "suppressed": []}, None
    if name == "age-statistics":
        hist = [0] * 100
        for org in orgs:
            for rec in lists[org]:
                a = rec.get("age", "").strip()
                if a and all(ch in "0123456789" for ch in a) and int(a) <= 99:
                    hist[int(a)] += 1
        n = sum(hist)
        if n == 0 or n < min_cell:
            return {"revealed": dict.fromkeys(["records_with_age", "mean_age", "q1", "median", "q3",
                                               "share_minors"]), "suppressed": ["all"]}, None
        running, cum = 0, []
        for h in hist:
            running += h
            cum.append(running)
        out = {"records_with_age": n, "mean_age": sum(a * h for a, h in enumerate(hist)) / n}
        for label, num, den in (("q1", 1, 4), ("median", 1, 2), ("q3", 3, 4)):
            out[label] = sum(1 for c in cum if den * c < num * n)  # the protocol's definition
        minors = cum[17]
        small = (0 < minors < min_cell) or (0 < n - minors < min_cell)
        out["share_minors"] = None if small else minors / n
        return {"revealed": out, "suppressed": ["share_minors"] if small else []}, None
    # linkage
    mask_of = {}
    for j, org in enumerate(orgs):
        for rec in lists[org]:
            mask_of[rec["person_key"]] = mask_of.get(rec["person_key"], 0) | (1 << j)
    if name == "capture-patterns":
        counts = [0] * (1 << len(orgs))
        for mask in mask_of.values():
            counts[mask] += 1
        revealed, suppressed = [], []
        for mask in range(1, 1 << len(orgs)):
            names = [o for j, o in enumerate(orgs) if mask >> j & 1]
            if 0 < counts[mask] < min_cell:
                suppressed.append(names)
            elif counts[mask]:
                revealed.append({"lists": names, "count": counts[mask]})
        return {"revealed": revealed, "suppressed": suppressed}, None
    means: dict[str, set] = {}
    for org in orgs:
        for rec in lists[org]:
            if bin(mask_of[rec["person_key"]]).count("1") >= 2:
                found = {m for m in _bf_split(rec.get("means_of_control", "")) if m in vocab.MEANS_OF_CONTROL}
                means.setdefault(rec["person_key"], set()).update(found)
    mc = vocab.MEANS_OF_CONTROL
    counts = {}
    for i in range(len(mc)):
        for j in range(i, len(mc)):
            cell = mc[i] if i == j else mc[i] + " + " + mc[j]
            counts[cell] = sum(1 for s in means.values() if mc[i] in s and mc[j] in s)
    return _bf_hide(counts, min_cell), None


def _multi(choices):
    return st.lists(st.sampled_from(choices), max_size=3).map(";".join)


QUERY = st.fixed_dictionaries({"region": st.sampled_from([None, "", *BF_REGIONS]),
                               "exclude_nationality": st.sampled_from([None, "NL", "PL", "PL;NL"])})


@st.composite
def datasets(draw):
    """2 to 4 organisations with up to 12 records each; persons drawn from a small pool (overlaps)."""
    m = draw(st.integers(2, 4))
    orgs = [f"org{j}" for j in range(m)]
    lists = {}
    for org in orgs:
        persons = draw(st.lists(st.integers(0, 15), unique=True, max_size=12))  # unique within a list
        missing = draw(st.sets(st.sampled_from(["region", "nationality", "age", "sector", "means_of_control"])))
        records = []
        for p in persons:
            rec = {
                "person_key": key(p),
                "form": draw(_multi([*FORMS, "unknown", ""])),
                "region": draw(st.sampled_from([*BF_REGIONS, "", "atlantis"])),
                "nationality": draw(st.one_of(st.sampled_from(list(BF_GROUP)), _multi(["NL", "PL", "UA", "zz"]))),
                "age": draw(st.one_of(st.integers(0, 105).map(str), st.sampled_from(["", " 17", "x", "3.5"]))),
                "sector": draw(_multi([*BF_SECTORS, "unknown"])),
                "means_of_control": draw(_multi([*BF_MEANS, "unknown"])),
            }
            records.append({k: v for k, v in rec.items() if k not in missing})
        lists[org] = records
    return lists


def _frames_of(lists: dict[str, list[dict]]) -> dict[str, pd.DataFrame]:
    columns = ["person_key", "form", "region", "nationality", "age", "sector", "means_of_control"]
    out = {}
    for org, records in lists.items():
        present = [c for c in columns if c in records[0]] if records else columns
        out[org] = pd.DataFrame(records, columns=present, dtype=str)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lists=datasets(), query=QUERY, earlier=QUERY, differ=st.booleans(),
       min_cell=st.sampled_from([0, 1, 2, 3, 5]),
       name=st.sampled_from([n for n in plain.COMPUTATIONS  # own checks: test_query.py, test_capture_patterns_by.py
                             if n not in ("designed-query", "capture-patterns-by")]))
def test_oracle_equals_a_brute_force_loop(lists, query, earlier, differ, min_cell, name):
    params = {**query, "min_cell": min_cell, "orgs": list(lists)}
    if differ or name == "query-approval":
        params["differs_from"] = earlier
    expected, expected_own = brute_force(lists, name, params)
    frames = _frames_of(lists)
    got = oracle(frames, name, params)
    assert got["suppressed"] == expected["suppressed"]
    if name == "age-statistics" and expected["revealed"]["mean_age"] is not None:
        assert got["revealed"]["mean_age"] == pytest.approx(expected["revealed"]["mean_age"], rel=1e-12)
        expected["revealed"]["mean_age"] = got["revealed"]["mean_age"]
    assert got["revealed"] == expected["revealed"]
    assert own_counts(frames, name, params) == expected_own


# =========================================================================== (c) on generated data


def _read_csvs(folder: Path, orgs: list[str]) -> dict[str, list[dict]]:
    lists = {}
    for org in orgs:
        with (folder / f"{org}.csv").open(newline="", encoding="utf-8") as fh:
            lists[org] = list(csv.DictReader(fh))
    return lists


@pytest.mark.parametrize("min_cell", [0, 5])
def test_every_computation_on_generated_data(generated, scenario, min_cell):
    orgs = scenario.org_ids
    lists = _read_csvs(generated, orgs)
    region = "amsterdam"
    nationality = next(r["nationality"] for r in lists[orgs[0]] if r.get("region") == region and r.get("nationality"))
    params = {"min_cell": min_cell, "orgs": orgs, "region": region, "exclude_nationality": nationality,
              "differs_from": {"region": region, "exclude_nationality": None}}
    for name in [*computations.names(), "query-approval"]:
        if name in ("designed-query", "capture-patterns-by"):  # own checks: tests/test_query.py and
            continue  # tests/test_capture_patterns_by.py (hand-made expected counts)
        got = compute({"computation": name, "data_dir": str(generated), "orgs": orgs, "params": params})
        expected, own = brute_force(lists, name, params, group=vocab.nationality_group)
        if name == "age-statistics" and expected["revealed"]["mean_age"] is not None:
            assert got["revealed"]["mean_age"] == pytest.approx(expected["revealed"]["mean_age"], rel=1e-12)
            expected["revealed"]["mean_age"] = got["revealed"]["mean_age"]
        assert {**expected, "own_counts": own} == got, name
        assert json.loads(json.dumps(got)) == got  # plain JSON types (the process writes JSON)


def test_counts_by_form_and_capture_patterns_on_generated_data(generated, scenario):
    orgs = scenario.org_ids
    got = compute({"computation": "counts-by-form", "data_dir": str(generated), "orgs": orgs,
                   "params": {"min_cell": 0}})
    pooled = pd.concat([pd.read_csv(generated / f"{o}.csv", dtype=str, keep_default_na=False) for o in orgs])
    per_record = pooled.reset_index(drop=True)["form"].str.split(";").explode().reset_index().drop_duplicates()
    counts = per_record["form"].value_counts()
    assert got["revealed"] == {f: int(counts.get(f, 0)) for f in FORMS} and sum(got["revealed"].values()) > 0

    got = compute({"computation": "capture-patterns", "data_dir": str(generated), "orgs": orgs,
                   "params": {"min_cell": 0}})
    lists = _read_csvs(generated, orgs)
    mask: dict[str, int] = {}
    for j, org in enumerate(orgs):
        for rec in lists[org]:
            mask[rec["person_key"]] = mask.get(rec["person_key"], 0) | 1 << j
    expected = []
    for b in range(1, 1 << len(orgs)):
        n = list(mask.values()).count(b)
        if n:
            expected.append({"lists": [o for j, o in enumerate(orgs) if b >> j & 1], "count": n})
    assert got["revealed"] == expected and got["suppressed"] == []
    assert sum(p["count"] for p in expected) == len(mask) and any(len(p["lists"]) > 1 for p in expected)
