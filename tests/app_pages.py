"""Shared AppTest helpers for the page tests: open one page of the app with a given session state."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "sandbox" / "app.py")
PAGES = ROOT / "sandbox" / "app_pages"


def open_page(name: str, **state) -> AppTest:
    """The app, run once with `state` in its session, then switched to page `name` (no exception)."""
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(str(PAGES / name)).run()
    assert not at.exception
    return at


def join_room(code: str, org: str) -> AppTest:
    """The Room page, joined as a participant for organisation `org` with the room code `code`."""
    at = open_page("room.py")
    at.radio(key="room_view").set_value("a participant (one organisation)").run()
    at.text_input(key="room_join_code").set_value(code).run()
    at.selectbox(key="room_join_org").set_value(org).run()
    at.button(key="room_join").click().run()
    assert not at.exception
    return at
