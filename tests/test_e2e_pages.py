"""Every page in a real browser, within one session (so the run's result is shared), with screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import copy_screenshot

pytestmark = pytest.mark.e2e

PAGES_AFTER_RUN = [
    ("Party views", "party_views.png"),
    ("Revealed and disclosure", "revealed.png"),
    ("Secret sharing", "secret_sharing.png"),
    ("Size estimate", "size_estimate.png"),
    ("Timeline", "timeline.png"),
]


def _open(page: Page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    expect(page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')).to_contain_text(title)


def test_every_page_after_a_real_run(page: Page, streamlit_server: str, artifacts):
    page.set_default_timeout(90_000)
    page.goto(streamlit_server)
    expect(page.get_by_text("SYNTHETIC DATA").first).to_be_visible()
    _open(page, "Run")
    page.get_by_role("button", name="Run with MPC").click()
    expect(page.locator('[data-testid="stMetricValue"]').filter(has_text="match")).to_be_visible(timeout=150_000)

    for title, shot in PAGES_AFTER_RUN:
        _open(page, title)
        page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=120_000)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        page.wait_for_timeout(500)  # let the remaining charts draw
        path = artifacts / shot
        page.screenshot(path=str(path))
        copy_screenshot(path, shot)
