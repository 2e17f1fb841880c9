"""Every page in Dutch in a real browser (?lang=nl), one browser session, with the Dutch screenshots for the README.

The server's default language is English in the tests (tests/conftest.py); `?lang=nl` in the address is what
switches this browser to Dutch, and the language stays with the session while the sidebar navigates.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import copy_screenshot

pytestmark = pytest.mark.e2e

# (Dutch page title in the sidebar, a Dutch text the page shows, screenshot in docs/img/)
PAGES = [
    ("Scenario en draaiboek", "Juridisch", "nl-script.png"),
    ("Data", "Alleen zichtbaar voor", "nl-data.png"),
    ("Geheime deling", "Geheime deling: één getal, veel stukjes", "nl-secret_sharing.png"),
    ("Wat partijen zien", "Wat elke organisatie ziet", "nl-party_views.png"),
    ("Wat is onthuld", "Het onthullingsregister", "nl-revealed.png"),
    ("Omvangsschatting", "Omvangsschatting: hoeveel slachtoffers ziet niemand?", "nl-size_estimate.png"),
    ("Tijdlijn", "Hoe lang gaat het duren?", "nl-timeline.png"),
    ("Uitrol", "Uitrol: één partij per organisatie", "nl-deployment.png"),
    ("Ruimte", "Workshopruimte", "nl-room.png"),
    ("Verslag", "Workshopverslag", "nl-report.png"),
]


def _open(page: Page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    expect(page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')).to_contain_text(title)


def _shot(page: Page, artifacts, name: str) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.wait_for_timeout(700)  # let the charts draw
    path = artifacts / name
    page.screenshot(path=str(path))
    copy_screenshot(path, name)


def test_every_page_in_dutch(page: Page, streamlit_server: str, artifacts):
    page.set_default_timeout(90_000)
    page.goto(streamlit_server + "/?lang=nl")
    expect(page.get_by_text("SYNTHETISCHE DATA").first).to_be_visible(timeout=90_000)
    expect(page.get_by_text("meervoudige partijberekening (MPC)")).to_be_visible()
    expect(page.get_by_text("Nationale Politie").first).to_be_visible()
    _shot(page, artifacts, "nl-home.png")

    _open(page, "Uitvoeren")
    page.get_by_role("button", name="Uitvoeren met MPC").click()
    metric = page.locator('[data-testid="stMetricValue"]').filter(has_text="klopt")
    expect(metric).to_be_visible(timeout=150_000)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=60_000)
    _shot(page, artifacts, "nl-run.png")

    for title, text, shot in PAGES:
        _open(page, title)
        expect(page.get_by_text(text).first).to_be_visible(timeout=90_000)
        _shot(page, artifacts, shot)

    # The switch in the sidebar turns this session back to English, and the address says so.
    page.get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name="Workshop report")).to_be_visible(timeout=60_000)
    assert "lang=en" in page.url
