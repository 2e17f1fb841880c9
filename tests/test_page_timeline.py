"""AppTest smoke tests for the timeline page."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "sandbox" / "app_pages" / "timeline.py")


def test_page_renders_charts():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert not at.error
    charts = at.get("plotly_chart")
    assert len(charts) >= 4  # breakdown, scaling, gantt, histogram
    specs = [json.loads(c.proto.spec) for c in charts]
    assert any(t.get("type") == "histogram" for s in specs for t in s["data"])


def test_page_custom_network_and_fewer_runs():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox(key="tl_network").set_value("custom").run()
    at.number_input(key="tl_latency").set_value(80.0).run()
    at.slider(key="tl_runs").set_value(200).run()
    assert not at.exception and not at.error
    assert at.metric[0].label == "Expected duration"


def test_page_unknown_scenario_shows_error_not_traceback():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["scenario_name"] = "no-such-scenario"
    at.run()
    assert not at.exception
    assert any("scenario not found" in e.value for e in at.error)
