"""AppTest checks for the Size estimate page (sandbox/app_pages/size_estimate.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "sandbox" / "app_pages" / "size_estimate.py"
DATA = REPO.parent / "shared" / "data" / "mse"


def number(text: str) -> float:
    """Parse a metric value such as ``"11,418"``."""
    return float(text.replace(",", ""))


def metric(at: AppTest, label_start: str):
    return next(m for m in at.metric if m.label.startswith(label_start))


@pytest.mark.skipif(not DATA.is_dir(), reason="bundled MSE data sets not present")
def test_bundled_uk_dataset_shows_stepwise_estimate():
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    assert not at.exception
    at.radio(key="mse_source").set_value("Published example")
    at.selectbox(key="mse_dataset").set_value("UKdat.csv").run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) >= 2
    figure = json.loads(charts[0].proto.spec)
    assert figure["data"][0]["type"] == "bar"
    assert number(metric(at, "Stepwise (p < 0.02)").value) == pytest.approx(11_418, rel=0.005)
    assert number(metric(at, "Main effects").value) == pytest.approx(12_214, rel=0.005)
    assert any("share nobody" in w.value for w in at.warning)
    assert not at.error


def test_mpc_capture_patterns_with_true_population():
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["capture_patterns"] = {
        "lists": ["Police", "Shelter", "Inspectorate"],
        "patterns": [
            {"lists": ["Police"], "count": 120},
            {"lists": ["Shelter"], "count": 80},
            {"lists": ["Inspectorate"], "count": 40},
            {"lists": ["Police", "Shelter"], "count": 20},
            {"lists": ["Police", "Inspectorate"], "count": 9},
            {"lists": ["Shelter", "Inspectorate"], "count": 5},
            {"lists": ["Police", "Shelter", "Inspectorate"], "count": 2},
        ],
        "true_population": 900,
    }
    at.run()
    assert not at.exception
    assert at.radio(key="mse_source").value == "Result of the MPC run"
    assert metric(at, "True population").value == "900"
    assert metric(at, "Best BIC")  # three lists: AIC/BIC offered
    assert len(at.get("plotly_chart")) >= 3


def test_estimate_that_does_not_exist_shows_error_not_traceback():
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["capture_patterns"] = {
        "lists": ["A", "B"],
        "patterns": [{"lists": ["A"], "count": 10}, {"lists": ["B"], "count": 4}],
        "true_population": None,
    }
    at.run()
    assert not at.exception
    assert any("does not exist" in e.value for e in at.error)


@pytest.mark.skipif(not DATA.is_dir(), reason="bundled MSE data sets not present")
def test_bootstrap_button_adds_intervals():
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    at.selectbox(key="mse_dataset").set_value("Western.csv").run()
    assert metric(at, "Best AIC")  # five lists: AIC/BIC offered
    at.number_input(key="mse_n_boot").set_value(30)
    at.button(key="mse_bootstrap_run").click().run()
    assert not at.exception
    assert "95%" in metric(at, "Stepwise").proto.delta
    assert "95%" in metric(at, "Main effects").proto.delta
