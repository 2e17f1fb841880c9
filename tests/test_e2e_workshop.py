"""Real-browser tests of the workshop: the facilitator's script and a live room with three organisations.

They also refresh the README screenshots docs/img/script.png and docs/img/room.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import copy_screenshot

pytestmark = pytest.mark.e2e

PARTICIPANTS = {"police": "National Police", "kmar": "Royal Netherlands Marechaussee (border police)",
                "nla": "Netherlands Labour Authority"}


def test_facilitator_walks_through_the_script(page: Page, streamlit_server: str, artifacts):
    page.set_default_timeout(60_000)
    page.goto(streamlit_server)  # Home sets the role (Facilitator by default)
    expect(page.get_by_text("SYNTHETIC DATA").first).to_be_visible()
    page.get_by_text("Facilitator mode").click()
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Scenario and script").click()
    expect(page.get_by_text("Step 1 of 10", exact=False)).to_be_visible()
    for n in range(2, 5):
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_text(f"Step {n} of 10", exact=False)).to_be_visible()
    expect(page.get_by_text("Presenter notes (only you see this)", exact=False)).to_be_visible()
    expect(page.locator(".st-key-script_card_legal")).to_contain_text("Legal")
    page.mouse.wheel(0, -5000)
    shot = artifacts / "script.png"
    page.screenshot(path=str(shot))
    copy_screenshot(shot, "script.png")


def _join(browser: Browser, url: str, code: str, org: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1500}).new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/room?room={code}")
    box = page.locator(".st-key-room_join_org")
    box.get_by_role("combobox").click()
    page.get_by_role("option").filter(has_text=PARTICIPANTS[org]).first.click()
    expect(box.get_by_role("combobox")).to_have_value(PARTICIPANTS[org])
    page.get_by_role("button", name="Join the room").click()
    expect(page.get_by_text(f"Your own data: {PARTICIPANTS[org]}")).to_be_visible()
    return page


def test_room_with_three_organisations(page: Page, browser: Browser, streamlit_server: str, artifacts):
    page.set_default_timeout(60_000)
    page.goto(streamlit_server + "/room")
    page.get_by_text("the facilitator").click()
    page.get_by_role("button", name="Open a new room").click()
    code = page.locator(".st-key-room_header code").first.inner_text(timeout=60_000).strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code)

    participants = {org: _join(browser, streamlit_server, code, org) for org in PARTICIPANTS}
    for org in PARTICIPANTS:  # the facilitator's live view refreshes every 2 s
        expect(page.get_by_text(PARTICIPANTS[org]).first).to_be_visible()
    expect(page.get_by_text("not joined yet")).to_have_count(3, timeout=30_000)  # 6 organisations, 3 joined
    page.get_by_role("button", name="Select everyone who joined").click()
    expect(page.locator(".st-key-room_prop_orgs")).to_contain_text("Netherlands Labour Authority")
    page.get_by_role("button", name="Propose").click()

    for p in participants.values():
        p.get_by_role("button", name=re.compile(r"^Approve #\d+$")).click(timeout=30_000)
    for p in [*participants.values(), page]:
        expect(p.locator('[class*="st-key-room_result_chart_"] .main-svg').first).to_be_visible(timeout=150_000)
    expect(page.get_by_text("revealed").first).to_be_visible()
    shot = artifacts / "room.png"
    participants["police"].screenshot(path=str(shot))
    copy_screenshot(shot, "room.png")
    for p in participants.values():
        p.context.close()
