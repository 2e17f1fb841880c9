"""AppTest of the app frame and the Home, Data and Run pages (headless, no browser)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import plotly_array

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "sandbox" / "app.py")


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path / "data"))


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120)


def test_home_page_shows_scenario_and_roles():
    at = _app().run()
    assert not at.exception
    assert any("MPC Trust Sandbox" in t.value for t in at.title)
    assert at.sidebar.selectbox[0].value == "nl-baseline"
    roles = at.radio(key="role").options
    assert roles[0] == "Facilitator" and "National Police" in roles


def test_data_page_shows_each_organisation_marked_synthetic():
    at = _app().run()
    at.switch_page(str(ROOT / "sandbox" / "app_pages" / "data.py")).run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) >= 3
    sizes = json.loads(charts[0].proto.spec)
    assert sorted(sizes["data"][i]["name"] for i in range(len(sizes["data"]))) == sorted(
        ["police", "kmar", "nla", "care_coordination", "shelters", "fairwork"])
    assert any("SYNTHETIC" in m.value for m in at.markdown)
    assert len(at.dataframe) == 6


@pytest.mark.mpc
def test_run_page_runs_real_mpc_and_matches_oracle():
    at = _app().run()
    at.switch_page(str(ROOT / "sandbox" / "app_pages" / "run.py")).run()
    assert not at.exception
    at.multiselect(key="run_orgs").set_value(["police", "kmar", "nla"]).run()
    at.button(key="run_start").click().run()
    deadline = time.monotonic() + 90
    # The opened result is shown first (check "pending"), the plaintext check when it arrives.
    while "last_run" not in at.session_state or at.session_state["last_run"]["check"] == "pending":
        assert not at.error, at.error[0].value
        assert not at.exception
        assert time.monotonic() < deadline, "the run and its check did not finish in 90 s"
        time.sleep(0.5)
        at.run()  # run_every timers do not fire in AppTest: poll
    assert not at.exception
    run = at.session_state["last_run"]
    assert run["check"] == "match"
    assert run["match"] is True and run["parties"] == ["police", "kmar", "nla"]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    shown = dict(zip(plotly_array(spec["data"][0]["x"]), plotly_array(spec["data"][0]["y"]), strict=True))
    assert {k: v for k, v in run["revealed"].items() if v is not None} == shown
    assert [m.value for m in at.metric][-1] == "match"


def test_run_page_refuses_two_parties():
    at = _app().run()
    at.switch_page(str(ROOT / "sandbox" / "app_pages" / "run.py")).run()
    at.multiselect(key="run_orgs").set_value(["police", "kmar"]).run()
    at.button(key="run_start").click().run()
    assert not at.exception
    assert any("at least three organisations" in e.value for e in at.error)


def test_run_page_small_cell_threshold_cannot_go_below_0():
    at = _app().run()
    at.switch_page(str(ROOT / "sandbox" / "app_pages" / "run.py")).run()
    box = at.number_input(key="run_min_cell")
    assert box.min == 0 and box.value == 10  # nl-baseline's disclosure.min_cell
    box.set_value(-1).run()  # what typing -1 sends: Streamlit keeps the last valid value
    assert not at.exception
    assert at.number_input(key="run_min_cell").value == 10
    at.number_input(key="run_min_cell").set_value(0).run()
    assert at.number_input(key="run_min_cell").value == 0
