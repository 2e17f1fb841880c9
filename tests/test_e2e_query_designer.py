"""The query designer on the Run page in a real browser: what is revealed (distinct persons too), a real MPC run."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import copy_screenshot

pytestmark = pytest.mark.e2e


def _choose(page: Page, key: str, option: str) -> None:
    box = page.locator(f".st-key-{key}")
    box.get_by_role("combobox").click()
    page.get_by_role("option").filter(has_text=option).first.click()
    expect(box.get_by_role("combobox")).to_have_value(option)


def test_designer_explains_refuses_and_runs(page: Page, streamlit_server: str, artifacts):
    page.set_default_timeout(60_000)
    page.goto(streamlit_server)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Run", exact=True).click()
    page.locator(".st-key-run_mode").get_by_text("A query you design").click()
    expect(page.get_by_text("What answering it reveals:", exact=False)).to_be_visible()
    expect(page.get_by_text("For each of the 4 cells of form", exact=False)).to_be_visible()

    _choose(page, "dq_measure", "distinct persons")
    expect(page.get_by_text("the number of distinct persons (records linked across organisations",
                            exact=False)).to_be_visible()
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    _choose(page, "dq_measure", "count of registrations")
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)

    page.get_by_role("button", name="Run with MPC").click()
    expect(page.locator('[data-testid="stMetricValue"]').filter(has_text="match")).to_be_visible(timeout=180_000)
    expect(page.get_by_text("The answer, cell by cell", exact=False)).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    path = artifacts / "query_designer.png"
    page.screenshot(path=str(path), full_page=True)
    copy_screenshot(path, "query_designer.png")
