"""Real-browser tests: Playwright driving Debian's Chromium against `streamlit run sandbox/app.py`."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import copy_screenshot

pytestmark = pytest.mark.e2e


def test_run_page_in_a_real_browser(page: Page, streamlit_server: str, artifacts):
    page.set_default_timeout(60_000)
    frames: list[int] = []  # server messages; the Run page polls its job, and must stop when it ends
    page.on("websocket", lambda ws: ws.on("framereceived", lambda _: frames.append(1)))
    page.goto(streamlit_server)
    expect(page.get_by_text("SYNTHETIC DATA").first).to_be_visible()
    shot = artifacts / "home.png"
    page.screenshot(path=str(shot))
    copy_screenshot(shot, "home.png")

    page.goto(streamlit_server + "/run")
    expect(page.get_by_role("button", name="Run with MPC")).to_be_visible()
    page.get_by_role("button", name="Run with MPC").click()
    # The result chart appears only after the real parties finished and the check panel matched.
    expect(page.locator('[data-testid="stMetricValue"]').filter(has_text="match")).to_be_visible(timeout=120_000)
    page.wait_for_selector('.st-key-run_revealed_chart [data-testid="stPlotlyChart"] .main-svg')
    expect(page.locator(".st-key-run_revealed_chart g.point")).to_have_count(4)
    page.mouse.wheel(0, 900)
    shot = artifacts / "run.png"
    page.screenshot(path=str(shot))
    copy_screenshot(shot, "run.png")
    before = len(frames)
    page.wait_for_timeout(4_000)  # polling was every second while the job ran
    assert len(frames) == before, f"{len(frames) - before} messages in 4 s after the result: still polling"


def test_data_page_in_a_real_browser(page: Page, streamlit_server: str, artifacts):
    page.set_default_timeout(60_000)
    page.goto(streamlit_server + "/data")
    page.wait_for_selector('.st-key-data_sizes [data-testid="stPlotlyChart"] .main-svg')
    expect(page.get_by_text("Visible to National Police only").first).to_be_visible()
    shot = artifacts / "data.png"
    page.screenshot(path=str(shot))
    copy_screenshot(shot, "data.png")
