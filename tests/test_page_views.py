"""AppTest for the three view pages: friendly without a run, charts with a real run, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sandbox.mpc.runner import run_mpc
from sandbox.scenario import load_scenario
from sandbox.views.demo_data import make_dataset

PAGES = Path(__file__).resolve().parents[1] / "sandbox" / "app_pages"
SCENARIO = load_scenario("nl-baseline")
VIEW_PAGES = ["secret_sharing.py", "party_views.py", "revealed.py"]


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / name), default_timeout=90)


@pytest.fixture(scope="module")
def last_run(tmp_path_factory):
    data_dir = make_dataset(tmp_path_factory.mktemp("data"), SCENARIO.org_ids, seed=2, records_per_org=25)
    result = run_mpc(
        SCENARIO,
        data_dir,
        "counts-by-form",
        orgs=SCENARIO.org_ids[:5],
        out_dir=tmp_path_factory.mktemp("run"),
    )
    return result.to_json(), str(data_dir)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


@pytest.mark.parametrize(
    "name, button", [("party_views.py", "pv_quick_run"), ("revealed.py", "rv_quick_run")]
)
def test_without_a_run_the_page_says_what_to_do(name, button):
    at = page(name).run()
    assert not at.exception
    assert not at.error
    assert any("Run" in info.value for info in at.info)
    assert at.button(key=button)


def test_secret_sharing_page_uses_mpyc_and_agrees():
    at = page("secret_sharing.py").run()
    assert not at.exception and not at.error
    assert len(charts(at)) == 2
    assert any("agrees" in s.value for s in at.success)
    at.slider(key="ss_parties").set_value(6).run()  # the scenario has six organisations
    at.slider(key="ss_threshold").set_value(2).run()
    assert not at.exception and not at.error
    assert len(at.dataframe[1].value) == 2**6 - 1  # every group of the 6 organisations
    assert any("agrees" in s.value for s in at.success)


@pytest.mark.mpc
def test_party_views_page_with_a_run(last_run):
    run, data_dir = last_run
    at = page("party_views.py")
    at.session_state["last_run"] = run
    at.session_state["data_dir"] = data_dir
    at.run()
    assert not at.exception and not at.error
    assert len(charts(at)) == 3  # share histogram, sequence diagram, bytes per round
    at.selectbox(key="pv_org").set_value("nla").run()
    assert not at.exception and not at.error
    assert "nla" in charts(at)[1]["layout"]["title"]["text"]


@pytest.mark.mpc
def test_revealed_page_with_a_run(last_run):
    run, data_dir = last_run
    at = page("revealed.py")
    at.session_state["last_run"] = run
    at.session_state["data_dir"] = data_dir
    at.run()
    assert not at.exception and not at.error
    assert len(charts(at)) == 3  # ledger, candidates, trade-off
    at.multiselect(key="rv_coalition").set_value(["police", "kmar", "nla"]).run()
    assert not at.exception and not at.error
    assert any("reconstruct" in w.value for w in at.warning)
    assert at.get("download_button")


@pytest.mark.mpc
def test_quick_run_button_fills_the_page():
    at = page("party_views.py").run()
    at.button(key="pv_quick_run").click().run()
    assert not at.exception and not at.error
    assert at.session_state["last_run"]["match"] is True
    assert len(charts(at)) == 3
