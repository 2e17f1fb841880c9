"""AppTest of the Deployment page: hosts table, what crosses the network, mapping step, bundle export."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import write_small_dataset

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "sandbox" / "app.py")
PAGE = str(ROOT / "sandbox" / "app_pages" / "deployment.py")
ORGS = ["police", "kmar", "nla", "care_coordination", "shelters", "fairwork"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path / "data-root"))


def _page(**state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def _frame(at: AppTest, column: str):
    """The dataframe element having `column` (AppTest does not expose dataframe keys)."""
    frames = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(frames) == 1, [list(d.value.columns) for d in at.dataframe]
    return frames[0]


def _texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("markdown", "error", "success", "warning", "caption")
                     for e in getattr(at, kind))


def test_hosts_and_flows_tables():
    at = _page()
    hosts = _frame(at, "accepts TLS connections from")
    assert list(hosts["organisation"]) == ORGS
    assert hosts["address"].iloc[0] == "mpc.police.example:7000"
    assert hosts["accepts TLS connections from"].iloc[0].startswith("nobody")
    assert hosts["accepts TLS connections from"].iloc[2] == "police, kmar"
    flows = _frame(at, "crosses the network?")
    assert "Your records (the CSV file)" in set(flows["what"])
    assert set(flows.loc[flows["what"].str.startswith("Secret shares"), "crosses the network?"]) == {
        "yes, encrypted with TLS"}


def test_mapping_step_validates_and_offers_download():
    at = _page()
    at.button(key="dep_map_check").click().run()  # the example in the form is valid
    assert not at.exception
    mapping = at.session_state["dep_mapping"]
    assert mapping["org"] == "police" and mapping["codes"]["form"]["ARB"] == "labour"
    assert at.get("download_button")  # mapping.json download
    bad = {"columns": {"Dossiernr": "record_id", "Pseudoniem": "person_key", "Datum": "registration_date",
                       "Vorm": "form", "Notities": None}, "codes": {"form": {"SEX": "seks"}}}
    at.text_area(key="dep_codes").set_value(json.dumps(bad)).run()
    at.button(key="dep_map_check").click().run()
    assert not at.exception
    assert any("'SEX' maps to 'seks'" in e.value for e in at.error)
    at.text_area(key="dep_codes").set_value("{not json").run()
    at.button(key="dep_map_check").click().run()
    assert not at.exception and any("not valid JSON" in e.value for e in at.error)


def test_export_builds_zip_of_bundles(tmp_path):
    data = write_small_dataset(tmp_path / "small", seed=3)
    at = _page(data_dir=str(data))
    at.button(key="dep_export").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    blob = at.session_state["dep_zip"]
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        names = set(zf.namelist())
        readme = zf.read("bundles/kmar/README.txt").decode()
    assert "bundles/kmar/data/kmar.csv" in names and "bundles/kmar/tls/.config/party_1.key" in names
    assert "mpc.kmar.example:7001" in readme
    assert at.session_state["dep_summary"]["ca_fingerprint_sha256"] in _texts(at)
    assert len(at.get("download_button")) == 1


def test_pilot_export_with_mapping_and_no_data():
    at = _page()
    at.selectbox(key="dep_map_org").set_value("nla").run()
    at.button(key="dep_map_check").click().run()
    at.radio(key="dep_data_mode").set_value("none").run()
    assert at.checkbox(key="dep_include_mapping").value is True
    at.button(key="dep_export").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with zipfile.ZipFile(io.BytesIO(at.session_state["dep_zip"])) as zf:
        names = set(zf.namelist())
    assert "bundles/nla/mapping.json" in names and "bundles/police/mapping.json" not in names
    assert not any(n.endswith(".csv") for n in names)


def test_export_error_is_a_message_not_a_traceback():
    at = _page()
    at.multiselect(key="dep_computations").set_value([]).run()
    at.button(key="dep_export").click().run()
    assert not at.exception
    assert any("choose at least one computation" in e.value for e in at.error)
