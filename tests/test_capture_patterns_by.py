"""capture-patterns-by (issue 18): capture patterns per covariate level, each person's level chosen inside MPC.

* a hand-made SYNTHETIC data set where organisations disagree, leave values empty or lack a column: the
  expected counts are written out by hand here (the rule: the first organisation in the run's order that
  recorded a value decides; form: the first form in code-list order), and the MPC run and the oracle
  must both give exactly those;
* every shipped scenario (generated SYNTHETIC data) with several covariate sets, a column removed from
  one organisation's file and min_cell > 0: MPC equals the independent oracle, and per capture pattern the
  cells add up to the number of persons recounted from the CSVs here;
* bad input is refused with a message naming the problem before any party starts.

The attacker tests for this computation are in tests/test_attacks.py (section 8).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sandbox.mpc import computations
from sandbox.mpc.oracle import OracleError, oracle
from sandbox.mpc.overlap_catalogue import MAX_BY_CELLS, covariates_of
from sandbox.mpc.runner import MPCError, run_mpc, run_plain
from sandbox.scenario import load_scenario

NL = load_scenario("nl-baseline")
THREE = ["police", "kmar", "nla"]
COLUMNS = {  # police has no nationality column, nla no sex column
    "police": ["record_id", "person_key", "org", "registration_date", "form", "sex", "age"],
    "kmar": ["record_id", "person_key", "org", "registration_date", "form", "sex", "age", "nationality"],
    "nla": ["record_id", "person_key", "org", "registration_date", "form", "age", "nationality"],
}
# person -> {org: (form, sex, age, nationality)}; '' = left empty; a column the org lacks is ignored
PEOPLE = {
    1: {"police": ("labour;sexual", "F", "30", ""), "kmar": ("criminal", "M", "16", "PL")},
    2: {"police": ("other", "", "", ""), "kmar": ("labour", "M", "", "NL"), "nla": ("labour", "", "17", "")},
    3: {"kmar": ("labour", "", "40", ""), "nla": ("labour", "", "", "NL")},
    4: {"nla": ("labour", "", "25", "NG")},
    5: {"police": ("criminal", "X", "12", "")},
    6: {"police": ("sexual", "F", "22", ""), "nla": ("labour;criminal", "", "50", "NL")},
    7: {"kmar": ("other;criminal", "F", "", "")},
    8: {"police": ("sexual", "F", "31", "")},
    9: {"police": ("sexual", "F", "44", "")},
    10: {"police": ("sexual", "F", "29", "")},
}
COVARIATES = ["sex", "minor", "dutch", "form"]
# Written out by hand from the rule (first organisation in the order police, kmar, nla with a value).
EXPECTED = {
    (("police", "kmar"), ("F", "adult", "non_dutch", "sexual")): 1,  # sex, age, form: police; dutch: kmar
    (("police", "kmar", "nla"), ("M", "minor", "dutch", "other")): 1,  # sex, dutch: kmar; minor: nla
    (("kmar", "nla"), ("missing", "adult", "dutch", "labour")): 1,  # no sex anywhere (nla has no column)
    (("nla",), ("missing", "adult", "non_dutch", "labour")): 1,
    (("police",), ("X", "minor", "missing", "criminal")): 1,
    (("police", "nla"), ("F", "adult", "dutch", "sexual")): 1,
    (("kmar",), ("F", "missing", "missing", "criminal")): 1,  # criminal comes before other in vocab.FORMS
    (("police",), ("F", "adult", "missing", "sexual")): 3,
}


def write_crafted(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for org in THREE:
        rows = []
        for person, records in PEOPLE.items():
            if org in records:
                form, sex, age, nationality = records[org]
                values = {"record_id": f"{org}-{person}", "person_key": f"{person:016x}", "org": org,
                          "registration_date": "2024-03-01", "form": form, "sex": sex, "age": age,
                          "nationality": nationality, "synthetic": "SYNTHETIC"}
                rows.append({c: values[c] for c in [*COLUMNS[org], "synthetic"]})
        pd.DataFrame(rows, columns=[*COLUMNS[org], "synthetic"]).to_csv(folder / f"{org}.csv", index=False)
    return folder


def as_cells(revealed: list[dict], covariates: list[str]) -> dict[tuple, int]:
    return {(tuple(r["lists"]), tuple(r["levels"][c] for c in covariates)): r["count"] for r in revealed}


@pytest.fixture(scope="module")
def crafted(tmp_path_factory) -> Path:
    return write_crafted(tmp_path_factory.mktemp("crafted"))


# ------------------------------------------------------------------------------- plaintext half


def test_oracle_on_the_hand_made_data(crafted):
    got = run_plain(NL, crafted, "capture-patterns-by", orgs=THREE, params={"min_cell": 0, "covariates": COVARIATES})
    assert as_cells(got["revealed"], COVARIATES) == EXPECTED and got["suppressed"] == []
    # min_cell 3: only the cell of three persons is opened; every other cell is withheld, empty ones too
    got = run_plain(NL, crafted, "capture-patterns-by", orgs=THREE, params={"min_cell": 3, "covariates": COVARIATES})
    assert as_cells(got["revealed"], COVARIATES) == {(("police",), ("F", "adult", "missing", "sexual")): 3}
    assert len(got["suppressed"]) == 7 * 4 * 3 * 3 * 5 - 1
    # the order of the organisations decides: with nla first, person 6 is dutch from nla's record ...
    got = run_plain(NL, crafted, "capture-patterns-by", orgs=["nla", "kmar", "police"],
                    params={"min_cell": 0, "covariates": ["minor", "form"]})
    cells = as_cells(got["revealed"], ["minor", "form"])
    assert cells[(("nla", "police"), ("adult", "labour"))] == 1  # person 6: nla's forms labour;criminal
    assert cells[(("nla", "kmar", "police"), ("minor", "labour"))] == 1  # person 2: nla's age 17


def test_cells_and_local_inputs(crafted):
    comp = computations.get("capture-patterns-by")
    cells = comp.cells({"orgs": ["a", "b", "c"], "covariates": ["minor", "dutch"]})
    assert len(cells) == 7 * 3 * 3
    assert cells[:4] == ["a | minor=minor, dutch=dutch", "a | minor=minor, dutch=non_dutch",
                         "a | minor=minor, dutch=missing", "a | minor=adult, dutch=dutch"]
    assert cells[-1] == "a + b + c | minor=missing, dutch=missing"
    df = pd.read_csv(crafted / "kmar.csv", dtype=str, keep_default_na=False)
    inputs = comp.local_inputs(df, {"covariates": ["form", "dutch"]})
    # kmar's persons 1, 2, 3, 7: forms criminal, labour, labour, other;criminal -> criminal; nationality PL, NL, '', ''
    assert inputs["levels"] == [0, 0, 1, 0, 0, 1,
                                0, 1, 0, 0, 1, 0,
                                0, 1, 0, 0, 0, 0,
                                0, 0, 1, 0, 0, 0]
    assert inputs["held"] == [1, 1]
    police = pd.read_csv(crafted / "police.csv", dtype=str, keep_default_na=False)
    assert comp.local_inputs(police, {"covariates": ["form", "dutch"]})["held"] == [1, 0]


def test_bad_covariates_are_refused_before_anything_starts(crafted, tmp_path):
    cases = [
        (["sex", "age"], r"unknown covariate 'age'; allowed: sex, minor, dutch, form"),
        (["sex", "sex"], r"listed more than once: sex"),
        ([], r"non-empty list"),
        ("sex,region", r"unknown covariate 'region'"),
    ]
    for covariates, message in cases:
        out = tmp_path / "never"
        with pytest.raises(MPCError, match=message):
            run_mpc(NL, crafted, "capture-patterns-by", orgs=THREE, params={"covariates": covariates}, out_dir=out)
        assert not out.exists()  # refused before the runner made its folder or started a party
        with pytest.raises(MPCError, match=message):
            run_plain(NL, crafted, "capture-patterns-by", orgs=THREE, params={"covariates": covariates})
    # a column no organisation of the run has: nationality is only at kmar and nla; remove it there too
    nonat = tmp_path / "no-nationality"
    nonat.mkdir()
    for org in THREE:
        df = pd.read_csv(crafted / f"{org}.csv", dtype=str, keep_default_na=False)
        df.drop(columns="nationality", errors="ignore").to_csv(nonat / f"{org}.csv", index=False)
    out = tmp_path / "never"
    message = r"covariate\(s\) dutch: no organisation of this run has the column nationality"
    with pytest.raises(MPCError, match=message):
        run_mpc(NL, nonat, "capture-patterns-by", orgs=THREE, params={"covariates": ["sex", "dutch"]}, out_dir=out)
    assert not out.exists()
    with pytest.raises(MPCError, match=message):
        run_plain(NL, nonat, "capture-patterns-by", orgs=THREE, params={"covariates": ["dutch"]})
    frames = {o: pd.read_csv(crafted / f"{o}.csv", dtype=str, keep_default_na=False).drop(columns="nationality",
                                                                                          errors="ignore")
              for o in THREE}
    with pytest.raises(OracleError, match="no organisation has the column 'nationality'"):
        oracle(frames, "capture-patterns-by", {"orgs": THREE, "covariates": ["sex", "dutch"]})
    # too many cells: 7 organisations and all four covariates
    with pytest.raises(computations.ComputationError, match=f"at most {MAX_BY_CELLS:,}"):
        covariates_of({"orgs": list("abcdefg"), "covariates": COVARIATES})


# ------------------------------------------------------------------------------------ MPC half


@pytest.mark.mpc
def test_mpc_on_the_hand_made_data(crafted, tmp_path):
    result = run_mpc(NL, crafted, "capture-patterns-by", orgs=THREE, out_dir=tmp_path, timeout=300,
                     params={"min_cell": 0, "covariates": COVARIATES})
    assert result.match is True, (result.revealed, result.oracle)
    assert as_cells(result.revealed, COVARIATES) == EXPECTED and result.suppressed == []


def _recount_patterns(folder: Path, orgs: list[str]) -> dict[tuple[str, ...], int]:
    """Persons per capture pattern, recounted from the CSVs with plain Python."""
    lists: dict[str, set[str]] = {}
    for org in orgs:
        for key in pd.read_csv(folder / f"{org}.csv", dtype=str, keep_default_na=False)["person_key"]:
            lists.setdefault(key, set()).add(org)
    out: dict[tuple[str, ...], int] = {}
    for on in lists.values():
        pattern = tuple(o for o in orgs if o in on)
        out[pattern] = out.get(pattern, 0) + 1
    return out


# scenario, organisations (None: all), covariates, min_cell, (organisation, column) removed from its file
SCENARIO_CASES = [
    ("nl-baseline", None, ["sex", "minor"], 5, ("police", "age")),
    ("horticulture-labour", None, ["dutch", "form"], 0, ("nla", "nationality")),
    ("minors-criminal", None, ["form", "sex", "minor", "dutch"], 10, ("police", "sex")),
]


@pytest.mark.mpc
@pytest.mark.parametrize("name,orgs,covariates,min_cell,drop", SCENARIO_CASES,
                         ids=[c[0] for c in SCENARIO_CASES])
def test_exact_against_the_oracle_on_every_shipped_scenario(name, orgs, covariates, min_cell, drop, tmp_path):
    import synthetic

    scenario = load_scenario(name)
    orgs = orgs or scenario.org_ids
    data = tmp_path / "data"
    synthetic.write_dataset(synthetic.generate(scenario.organisations, scenario.generator, seed=5), data)
    if drop:  # an organisation that lacks the column: its persons' level comes from a later organisation
        org, column = drop
        df = pd.read_csv(data / f"{org}.csv", dtype=str, keep_default_na=False)
        assert column in df.columns
        df.drop(columns=column).to_csv(data / f"{org}.csv", index=False)
    result = run_mpc(scenario, data, "capture-patterns-by", orgs=orgs, timeout=600,
                     params={"min_cell": min_cell, "covariates": covariates})
    assert result.match is True, (name, result.revealed, result.oracle)
    assert all(r["count"] >= min_cell and r["count"] > 0 for r in result.revealed)
    patterns = _recount_patterns(data, orgs)
    assert any(len(p) > 1 for p in patterns), "the data should link persons across lists"
    levels = [r["levels"] for r in result.revealed]
    assert any("missing" in lv.values() for lv in levels), "some persons should have a missing level"
    opened: dict[tuple[str, ...], int] = {}
    for r in result.revealed:
        opened[tuple(r["lists"])] = opened.get(tuple(r["lists"]), 0) + r["count"]
    for pattern, n in opened.items():  # the opened cells of a pattern never exceed its recounted persons ...
        assert n <= patterns[pattern], pattern
    if min_cell == 0:  # ... and with nothing withheld they add up to exactly that
        assert opened == patterns and result.suppressed == []
    else:
        assert result.suppressed


# ------------------------------------------------------------------------------------ Run page


def _run_page(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path / "appdata"))
    root = Path(__file__).resolve().parents[1]
    at = AppTest.from_file(str(root / "sandbox" / "app.py"), default_timeout=120).run()
    at.switch_page(str(root / "sandbox" / "app_pages" / "run.py")).run()
    at.selectbox(key="run_computation").set_value("capture-patterns-by").run()
    assert not at.exception
    return at


def test_run_page_needs_a_covariate(tmp_path, monkeypatch):
    at = _run_page(tmp_path, monkeypatch)
    assert at.multiselect(key="run_covariates").value == ["sex", "minor"]
    at.multiselect(key="run_covariates").set_value([]).run()
    at.button(key="run_start").click().run()
    assert not at.exception and any("at least one covariate" in e.value for e in at.error)


@pytest.mark.mpc
def test_run_page_runs_it_and_keeps_the_table_for_the_size_estimate(tmp_path, monkeypatch):
    import json
    import time

    from tests.conftest import plotly_array

    at = _run_page(tmp_path, monkeypatch)
    at.multiselect(key="run_orgs").set_value(THREE).run()
    at.multiselect(key="run_covariates").set_value(["minor", "form"]).run()
    at.number_input(key="run_min_cell").set_value(0).run()
    at.button(key="run_start").click().run()
    deadline = time.monotonic() + 240
    while "last_run" not in at.session_state:
        assert not at.error, at.error[0].value
        assert time.monotonic() < deadline, "the run did not finish in 240 s"
        time.sleep(0.5)
        at.run()
    assert not at.exception
    run = at.session_state["last_run"]
    assert run["match"] is True and run["computation"] == "capture-patterns-by"
    kept = at.session_state["capture_patterns_by"]
    assert kept["covariates"] == ["minor", "form"] and kept["revealed"] == run["revealed"]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    shown = set(plotly_array(spec["data"][0]["x"]))
    names = {" + ".join(r["lists"]) + f" | minor={r['levels']['minor']}, form={r['levels']['form']}"
             for r in run["revealed"]}
    assert shown and shown <= names  # the chart's cells name the pattern and the levels


# ------------------------------------------------------------------------------------ command line


def _cli(*args: str) -> tuple[int, str, str]:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "sandbox", "run", *args], capture_output=True, text=True,
                          timeout=600, cwd=Path(__file__).resolve().parents[1])
    return done.returncode, done.stdout, done.stderr


def test_cli_refuses_bad_covariates(crafted):
    code, _, err = _cli("--data", str(crafted), "--orgs", ",".join(THREE), "--computation", "capture-patterns-by",
                        "--covariates", "sex,age")
    assert code == 2 and err.strip() == "error: unknown covariate 'age'; allowed: sex, minor, dutch, form"
    code, _, err = _cli("--data", str(crafted), "--computation", "counts-by-form", "--covariates", "sex")
    assert code == 2 and "--covariates belongs to --computation capture-patterns-by" in err


@pytest.mark.mpc
def test_cli_json_contract(crafted):
    import json

    code, out, err = _cli("--data", str(crafted), "--orgs", ",".join(THREE), "--computation", "capture-patterns-by",
                          "--covariates", "sex,minor", "--min-cell", "3", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["computation"] == "capture-patterns-by" and result["match"] is True
    assert result["revealed"] == [{"lists": ["police"], "levels": {"sex": "F", "minor": "adult"}, "count": 3}]
    assert {"lists": ["police", "kmar"], "levels": {"sex": "F", "minor": "adult"}} in result["suppressed"]
    assert len(result["suppressed"]) == 7 * 4 * 3 - 1
