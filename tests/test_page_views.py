"""AppTest for the three view pages: friendly without a run, charts with a real run, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
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


def recount(data_dir: str, org: str) -> dict[str, int]:
    """Registrations per form in the organisation's own CSV, recounted with pandas (no product code)."""
    df = pd.read_csv(Path(data_dir) / f"{org}.csv", dtype=str, keep_default_na=False)
    forms = df.assign(form=df["form"].str.split(";")).explode("form").drop_duplicates(["record_id", "form"])
    counts = forms[forms["form"] != ""]["form"].value_counts()
    return {f: int(counts.get(f, 0)) for f in ("sexual", "labour", "criminal", "other")}


def table_with(at: AppTest, *columns: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert found, f"no table with columns {columns}"
    return found[0]


@pytest.mark.mpc
def test_party_views_page_labels_every_value_right(last_run):
    run, data_dir = last_run
    orgs = run["parties"]
    pooled = {f: sum(recount(data_dir, o)[f] for o in orgs) for f in ("sexual", "labour", "criminal", "other")}
    at = page("party_views.py")
    at.session_state["last_run"] = run
    at.session_state["data_dir"] = data_dir
    at.run()
    assert not at.exception and not at.error
    assert len(charts(at)) == 3  # share histogram, sequence diagram, bytes per round
    for org in orgs:
        at.selectbox(key="pv_org").set_value(org).run()
        assert not at.exception and not at.error
        assert org in charts(at)[1]["layout"]["title"]["text"]
        own = table_with(at, "label", "cell", "value", "who_sees_it")
        assert dict(zip(own["cell"], own["value"], strict=True)) == recount(data_dir, org), org
        opened = table_with(at, "label", "cell", "value", "what it is")
        totals = opened[opened["label"] == "totals"]
        shown = dict(zip(totals["cell"], totals["value"], strict=True))
        assert shown == {f: "withheld (below the small-cell threshold)" if 0 < n < 10 else str(n)
                         for f, n in pooled.items()}, org
        assert set(totals["what it is"]) == {"the agreed result"}


@pytest.mark.mpc
def test_revealed_page_ledger_and_collusion_against_a_recount(last_run):
    run, data_dir = last_run
    orgs, t = run["parties"], run["threshold"]
    at = page("revealed.py")
    at.session_state["last_run"] = run
    at.session_state["data_dir"] = data_dir
    at.run()
    assert not at.exception and not at.error
    assert len(charts(at)) == 2  # ledger, trade-off
    ledger = table_with(at, "kind", "owner", "cell", "seen_in_clear_by", "share_holders")
    inputs = ledger[ledger["kind"] == "input"]
    for org in orgs:
        rows = inputs[inputs["owner"] == org]
        assert sorted(rows["cell"]) == sorted(recount(data_dir, org)) and set(rows["seen_in_clear_by"]) == {org}
    # The collusion attack: t organisations get none of the others' 4 counts right, t + 1 get all.
    def boxes(kind):
        return [b.value for b in getattr(at, kind)]
    assert any(f"0 of {(len(orgs) - t) * 4}" in v for v in boxes("success"))
    assert any(f"{(len(orgs) - t - 1) * 4} of {(len(orgs) - t - 1) * 4}" in v for v in boxes("warning"))
    at.multiselect(key="rv_coalition").set_value(orgs[: t + 1]).run()
    assert not at.exception and not at.error
    assert any(f"{(len(orgs) - t - 1) * 4} of {(len(orgs) - t - 1) * 4}" in v for v in boxes("warning"))
    assert at.get("download_button")


@pytest.mark.mpc
def test_quick_run_button_fills_the_page():
    at = page("party_views.py").run()
    at.button(key="pv_quick_run").click().run()
    assert not at.exception and not at.error
    assert at.session_state["last_run"]["match"] is True
    assert len(charts(at)) == 3
