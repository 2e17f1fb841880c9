"""The last core messages on Dutch pages (issue 20): the record schema and the scenario configuration
(synthetic/), the computation catalogue, the timeline and the deployment bundles.

As in tests/test_i18n_messages.py: each error is triggered for real, its English text (what the CLI prints) is
checked as written here, and the Dutch text is the .po's msgstr read with Babel and filled in by plain string
replacement (`fill`), never through `sandbox.i18n` itself."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from sandbox import i18n
from tests.conftest import write_small_dataset
from tests.test_i18n_messages import NL_PO, _error, fill, msgstr

ROOT = Path(__file__).resolve().parents[1]
FORMS = "sexual, labour, criminal, other"  # synthetic/vocab.py's FORMS, written out


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MPC_SANDBOX_ROOMS", str(tmp_path / "rooms.sqlite"))


def _records(tmp_path: Path, org: str = "kmar") -> pd.DataFrame:
    folder = write_small_dataset(tmp_path / "records", seed=3, orgs=[org], low=8, high=8)
    return pd.read_csv(folder / f"{org}.csv", dtype=str, keep_default_na=False)


# ------------------------------------------------------------------------------------- synthetic/schema.py

def test_a_missing_column_of_the_record_schema(tmp_path):
    from synthetic.schema import RecordError, validate_records

    exc = _error(validate_records, _records(tmp_path).drop(columns=["form"]), source="kmar.csv")
    assert isinstance(exc, RecordError)
    assert str(exc) == "kmar.csv: missing required column(s): form"
    assert i18n.translate_message(exc, "en") == str(exc)
    dutch = fill(msgstr("{path}: missing required column(s): {columns}"), path="kmar.csv", columns="form")
    assert i18n.translate_message(exc, "nl") == dutch
    assert dutch == "kmar.csv: verplichte kolom(men) ontbreken: form"


@pytest.mark.parametrize("how", ["bad code", "empty", "repeated key", "two organisations"])
def test_a_bad_value_of_the_record_schema_in_dutch_and_english(tmp_path, how):
    from synthetic.schema import RecordError, validate_records

    df = _records(tmp_path)
    row_template = msgstr("{path} row {row}, field {field!r}: {reason}")
    if how == "bad code":
        df.loc[2, "form"] = "space"
        english = f"kmar.csv row 3, field 'form': 'space' is not one or more of ({FORMS}) joined by ';'"
        reason = fill(msgstr("{value!r} is not one or more of ({allowed}) joined by {sep!r}"),
                      value="'space'", allowed=FORMS, sep="';'")
        field = "'form'"
    elif how == "empty":
        df.loc[4, "registration_date"] = ""
        english = "kmar.csv row 5, field 'registration_date': is empty but the field is required"
        reason, field = msgstr("is empty but the field is required"), "'registration_date'"
    elif how == "repeated key":
        df.loc[6, "person_key"] = df.loc[1, "person_key"]
        key = df.loc[1, "person_key"]
        english = (f"kmar.csv row 7, field 'person_key': '{key}' repeats row 2 "
                   "(one record per victim per organisation)")
        reason = fill(msgstr("{value!r} repeats row {earlier} (one record per victim per organisation)"),
                      value=f"'{key}'", earlier="2")
        field = "'person_key'"
    else:
        df.loc[3, "org"] = "police"
        english = "kmar.csv row 4, field 'org': 'police' differs from 'kmar' in row 1 (one organisation per file)"
        reason = fill(msgstr("{value!r} differs from {first!r} in row 1 (one organisation per file)"),
                      value="'police'", first="'kmar'")
        field = "'org'"
    exc = _error(validate_records, df, source="kmar.csv")
    assert isinstance(exc, RecordError)
    assert str(exc) == english  # the CLI's text, unchanged
    assert i18n.translate_message(exc, "en") == english
    row = english.split(" row ")[1].split(",")[0]
    dutch = fill(row_template, path="kmar.csv", row=row, field=field, reason=reason)
    assert i18n.translate_message(exc, "nl") == dutch
    assert dutch.startswith(f"kmar.csv rij {row}, veld {field}: ")
    # through a party process: the runner wraps the party's text, both levels come out in Dutch
    failed = f"party 1 (kmar) failed: {exc}"
    assert i18n.translate_message(failed, "nl") == fill(msgstr("party {i} ({org}) failed: {reason}"),
                                                        i="1", org="kmar", reason=dutch)


def test_the_record_check_fails_when_a_rule_is_not_in_the_catalog(tmp_path, monkeypatch):
    """The checks above can fail: with one rule's translation taken out of a copy of the catalog, the row
    sentence is Dutch but the rule stays English (what the Dutch page showed before the rule was marked)."""
    from synthetic.schema import validate_records

    df = _records(tmp_path)
    df.loc[0, "registration_date"] = "2024-13-01"
    exc = _error(validate_records, df, source="kmar.csv")
    rule = "{value!r} is not a date YYYY-MM-DD"
    good = fill(msgstr("{path} row {row}, field {field!r}: {reason}"), path="kmar.csv", row="1",
                field="'registration_date'", reason=fill(msgstr(rule), value="'2024-13-01'"))
    assert i18n.translate_message(exc, "nl") == good
    text = NL_PO.read_text(encoding="utf-8")
    broken = text.replace(f'msgid "{rule}"\nmsgstr "{msgstr(rule)}"', f'msgid "{rule}"\nmsgstr ""')
    assert broken != text
    folder = tmp_path / "locale" / "nl" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(broken, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    i18n._catalog.cache_clear()
    try:
        shown = i18n.translate_message(exc, "nl")
    finally:
        monkeypatch.undo()
        i18n._catalog.cache_clear()
    assert shown != good
    assert shown == fill(msgstr("{path} row {row}, field {field!r}: {reason}"), path="kmar.csv", row="1",
                         field="'registration_date'", reason="'2024-13-01' is not a date YYYY-MM-DD")


# ------------------------------------------------------------------------------------- synthetic/config.py

def _scenario_error(tmp_path, change) -> Exception:
    from sandbox.scenario import ScenarioError, load_scenario

    raw = yaml.safe_load((ROOT / "scenarios" / "nl-baseline.yaml").read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    exc = _error(load_scenario, path)
    assert isinstance(exc, ScenarioError)
    return exc, path


def test_a_scenario_whose_organisation_lists_a_field_twice(tmp_path):
    def change(raw):
        kmar = next(o for o in raw["organisations"] if o["id"] == "kmar")
        kmar["fields"].append("sex")

    exc, path = _scenario_error(tmp_path, change)
    where = str(exc).split("\n")[1].split(":")[0].strip(" -")
    assert str(exc) == (f"{path}: invalid scenario (1 problem(s))\n"
                        f"  - {where}: Value error, fields listed twice: sex")
    inner = fill(msgstr("fields listed twice: {fields}"), fields="sex")
    dutch = (fill(msgstr("{path}: invalid scenario ({n} problem(s))"), path=str(path), n="1") + "\n"
             + fill(msgstr("  - {where}: {reason}"), where=where,
                    reason=fill(msgstr("Value error, {error}"), error=inner)))
    assert i18n.translate_message(exc, "nl") == dutch
    assert i18n.translate_message(exc, "en") == str(exc)


def test_a_governance_plan_with_a_phase_that_depends_on_itself(tmp_path):
    def change(raw):
        phase = raw["governance"]["phases"][0]
        phase["depends_on"] = [phase["id"]]

    exc, path = _scenario_error(tmp_path, change)
    phase = yaml.safe_load((ROOT / "scenarios" / "nl-baseline.yaml").read_text())["governance"]["phases"][0]["id"]
    lines = str(exc).split("\n")
    assert lines[1].endswith(f": Value error, phase '{phase}' depends on itself"), lines
    where = lines[1].split(":")[0].strip(" -")
    inner = fill(msgstr("phase {phase!r} depends on itself"), phase=f"'{phase}'")
    assert i18n.translate_message(exc, "nl").split("\n")[1] == fill(
        msgstr("  - {where}: {reason}"), where=where, reason=fill(msgstr("Value error, {error}"), error=inner))


# ------------------------------------------------------------------------------------- computations

def test_an_unknown_computation_and_a_covariate_error():
    from sandbox.mpc import computations
    from sandbox.mpc.computations import ComputationError
    from sandbox.mpc.overlap_catalogue import covariates_of

    exc = _error(computations.get, "ghost")
    assert isinstance(exc, ComputationError)
    known = ", ".join(computations.names())
    assert str(exc) == f"unknown computation 'ghost'; known: {known}"
    assert i18n.translate_message(exc, "nl") == fill(msgstr("unknown computation {name!r}; known: {known}"),
                                                     name="'ghost'", known=known)
    assert i18n.translate_message(exc, "en") == str(exc)

    orgs = [f"org{i}" for i in range(12)]
    exc = _error(covariates_of, {"covariates": ["sex", "minor", "dutch", "form"], "orgs": orgs})
    assert isinstance(exc, ComputationError)
    english = str(exc)
    assert english.startswith("12 organisations and covariates sex, minor, dutch, form give ")
    number = english.split(" give ")[1].split(" cells")[0]
    most = english.split("at most ")[1].split(":")[0]
    assert "," in number  # thousands separated as before (4,095 capture patterns x level combinations)
    assert i18n.translate_message(exc, "nl") == fill(
        msgstr("{m} organisations and covariates {names} give {cells} cells (capture patterns x level "
               "combinations); at most {most}: choose fewer covariates or organisations"),
        m="12", names="sex, minor, dutch, form", cells=number, most=most)


def test_a_designed_query_error_inside_a_computation_error():
    from sandbox.mpc import computations
    from sandbox.mpc.computations import ComputationError

    comp = computations.get("designed-query")
    df = pd.DataFrame({"form": ["sexual"]})
    exc = _error(comp.local_inputs, df, {"query": {"group_by": ["colour"]}})
    assert isinstance(exc, ComputationError)
    assert str(exc).startswith("designed query: ")
    inner = str(exc).removeprefix("designed query: ")
    inner_nl = i18n.translate_message(inner, "nl")
    assert inner_nl != inner  # the query's own message is translated too (tests/test_i18n_messages.py)
    assert i18n.translate_message(exc, "nl") == fill(msgstr("designed query: {error}"), error=inner_nl)


# ------------------------------------------------------------------------------------- timeline

def test_timeline_network_errors():
    from sandbox.timeline.network import NetworkProfile, get_network

    exc = _error(NetworkProfile.custom, -5, 100)
    assert str(exc) == "latency_ms must be >= 0, got -5.0"
    assert i18n.translate_message(exc, "nl") == fill(msgstr("latency_ms must be >= 0, got {value}"), value="-5.0")
    assert i18n.translate_message(exc, "nl") == "latency_ms mag niet negatief zijn, gevonden: -5.0"
    exc = _error(get_network, "moon")
    assert str(exc).startswith("unknown network profile 'moon'; known: loopback, lan, ")
    known = str(exc).split("known: ")[1]
    assert i18n.translate_message(exc, "nl") == fill(msgstr("unknown network profile {name!r}; known: {known}"),
                                                     name="'moon'", known=known)
    assert i18n.translate_message(exc, "en") == str(exc)


def test_timeline_forecast_and_project_errors():
    from sandbox.timeline.calibration import profile
    from sandbox.timeline.project import simulate_project

    exc = _error(profile, "counts-by-form", 100, 0)
    assert str(exc) == "parties must be >= 1, got 0"
    assert i18n.translate_message(exc, "nl") == fill(msgstr("parties must be >= 1, got {value}"), value="0")
    from sandbox.timeline.governance import default_plan

    exc = _error(simulate_project, default_plan(), ["police", "police"], runs=2, seed=1)
    assert str(exc) == "organisation ids must be unique"
    assert i18n.translate_message(exc, "nl") == msgstr("organisation ids must be unique")


# ------------------------------------------------------------------------------------- deployment bundles

def test_bundle_address_errors_with_the_organisation_in_dutch():
    from sandbox.deploy.bundle import DeployError, parse_hosts

    orgs = ["police", "kmar", "nla"]
    exc = _error(parse_hosts, "10.0.0.1:7000,10.0.0.2,10.0.0.3:7000", 3, orgs)
    assert isinstance(exc, DeployError)
    assert str(exc) == "address of kmar '10.0.0.2' is not HOST:PORT with a port from 1 to 65535"
    place = fill(msgstr("address of {org}"), org="kmar")
    dutch = fill(msgstr("{place} {text!r} is not HOST:PORT with a port from 1 to 65535"), place=place,
                 text="'10.0.0.2'")
    assert i18n.translate_message(exc, "nl") == dutch
    assert dutch.startswith("adres van kmar '10.0.0.2' is geen HOST:PORT")
    # the text splits another way too ({place} = "address", {text!r} = "of kmar '10.0.0.2'"), which would leave
    # "of" in English: the check above tells the two readings apart
    template = "{place} {text!r} is not HOST:PORT with a port from 1 to 65535"
    assert template.replace("{place}", "address").replace("{text!r}", "of kmar '10.0.0.2'") == str(exc)
    other = fill(msgstr(template), place=msgstr("address"), text="of kmar '10.0.0.2'")
    assert other != dutch and other.startswith("adres of kmar")
    assert i18n.translate_message(exc, "en") == str(exc)

    exc = _error(parse_hosts, "a:1,b:2", 3, orgs)
    assert str(exc) == ("--hosts needs one HOST:PORT per organisation in the scenario's order (police, kmar, nla): "
                        "3 addresses, got 2")
    assert i18n.translate_message(exc, "nl") == fill(
        msgstr("--hosts needs one HOST:PORT per organisation in the scenario's order ({orgs}): {m} addresses, "
               "got {n}"), orgs="police, kmar, nla", m="3", n="2")


def test_a_bundle_export_for_too_few_organisations(scenario, tmp_path):
    from sandbox.deploy.bundle import DeployError, export_zip

    small = scenario.model_copy(update={"organisations": scenario.organisations[:2]})
    exc = _error(export_zip, small, None, "a:1,b:2")
    assert isinstance(exc, DeployError)
    assert str(exc) == ("2 organisation(s): Shamir secret sharing with an honest majority needs at least 3 parties "
                        "(add an independent third compute party)")
    assert i18n.translate_message(exc, "nl") == fill(
        msgstr("{m} organisation(s): Shamir secret sharing with an honest majority needs at least 3 parties (add "
               "an independent third compute party)"), m="2")


# ------------------------------------------------------------------------------------- on a Dutch page (AppTest)

@pytest.mark.mpc
def test_the_run_page_shows_a_broken_data_folder_in_dutch(scenario, tmp_path):
    """A record file with a bad date: the party's RecordError crosses the process boundary as text, the runner
    wraps it, and the Dutch Run page shows all three sentences in Dutch."""
    folder = tmp_path / "data" / f"{scenario.name}-seed1-pop{scenario.generator.population}"
    write_small_dataset(folder, seed=5, orgs=scenario.org_ids)
    (folder / "ground_truth.json").write_text('{"population": 0}')
    df = pd.read_csv(folder / "kmar.csv", dtype=str, keep_default_na=False)
    df.loc[1, "registration_date"] = "2024-13-01"
    df.to_csv(folder / "kmar.csv", index=False)
    at = AppTest.from_file(str(ROOT / "sandbox" / "app_pages" / "run.py"), default_timeout=60)
    at.session_state["lang"] = "nl"
    at.run()
    assert not at.exception
    # AppTest formats the page's radios outside the page (format_func=_), with the test process's own bare
    # session state: it must be Dutch too while the page is clicked
    import streamlit as st

    before = st.session_state.get("lang")
    st.session_state["lang"] = "nl"
    try:
        at.button(key="run_start").click().run()
        deadline = time.monotonic() + 90
        while not at.error and time.monotonic() < deadline:
            time.sleep(0.3)
            at.run()
    finally:
        if before is None:
            del st.session_state["lang"]
        else:
            st.session_state["lang"] = before
    assert not at.exception
    assert at.error, "no error shown for a broken data folder"
    shown = at.error[0].value
    index = scenario.org_ids.index("kmar")
    record = fill(msgstr("{path} row {row}, field {field!r}: {reason}"), path="kmar.csv", row="2",
                  field="'registration_date'",
                  reason=fill(msgstr("{value!r} is not a date YYYY-MM-DD"), value="'2024-13-01'"))
    party = fill(msgstr("party {i} ({org}) failed: {reason}"), i=str(index), org="kmar", reason=record)
    assert party in shown, shown
    assert "row" not in shown and "is not a date" not in shown, shown
