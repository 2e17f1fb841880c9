"""AppTest of the workshop pages: Scenario and script, Room, Report (headless, no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sandbox.workshop.room import RoomStore
from tests.app_pages import join_room, open_page

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "sandbox" / "app.py")
PAGES = ROOT / "sandbox" / "app_pages"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MPC_SANDBOX_ROOMS", str(tmp_path / "rooms.sqlite3"))


_page = open_page


_join = join_room


def _notes_shown(at: AppTest) -> bool:
    return any("Presenter notes" in m.value for m in at.markdown)


def test_script_page_steps_forward_and_back_with_three_cards():
    at = _page("script.py")
    assert at.header[0].value.startswith("Step 1 of 10")
    at.button(key="script_next").click().run()
    at.button(key="script_next").click().run()
    assert at.header[0].value.startswith("Step 3 of 10: Secret sharing")
    at.button(key="script_prev").click().run()
    assert at.header[0].value.startswith("Step 2 of 10")
    assert at.session_state["script_done"] == ["intro-trust", "own-data", "secret-sharing"]
    assert [s.value for s in at.subheader][:3] == ["Legal", "Technical", "Organisational"]
    assert any("What this means for your organisation" in c.value for c in at.caption)
    at.selectbox(key="script_step").set_value("wrap-up").run()
    assert at.header[0].value.startswith("Step 10 of 10")


def test_presenter_notes_only_for_facilitator_in_facilitator_mode():
    at = _page("script.py", role="Facilitator", facilitator_mode=True)
    assert _notes_shown(at)
    at = _page("script.py", role="National Police", facilitator_mode=True)
    assert not _notes_shown(at)
    at = _page("script.py", role="Facilitator", facilitator_mode=False)
    assert not _notes_shown(at)


def test_reset_workshop_clears_state_after_confirm():
    at = _page("script.py", role="Facilitator")
    at.button(key="script_next").click().run()
    at.sidebar.button(key="script_reset").click().run()
    assert "script_done" in at.session_state  # nothing cleared before the confirm
    at.sidebar.button(key="script_reset_confirm").click().run()
    assert not at.exception
    assert at.header[0].value.startswith("Step 1 of 10")
    assert at.session_state["script_done"] == ["intro-trust"]
    assert at.session_state["role"] == "Facilitator"


def test_room_page_facilitator_opens_and_participant_joins_and_approves():
    fac = _page("room.py")
    fac.radio(key="room_view").set_value("the facilitator").run()
    fac.button(key="room_open").click().run()
    assert not fac.exception
    code = fac.session_state["room_code"]
    assert any(code in m.value for m in fac.markdown)
    assert fac.query_params["room"] == code

    store = RoomStore()
    tokens = {o: store.join(code, o) for o in ("kmar", "nla")}
    police = _join(code, "police")
    assert police.session_state["room_who"] == "police"
    assert len(police.dataframe) == 1  # its own records only (no audit log for participants)
    assert any("Only you see this" in c.value for c in police.caption)

    fac.run()
    fac.button(key="room_select_joined").click().run()
    assert fac.multiselect(key="room_prop_orgs").value == ["police", "kmar", "nla"]
    fac.button(key="room_propose").click().run()
    pid = store.proposals(code)[0].id
    for t in tokens.values():
        store.vote(code, pid, t, True)
    police.run()
    police.button(key=f"room_approve_{pid}").click().run()
    assert store.proposal(code, pid).status in {"approved", "running", "done", "failed"}
    audit = fac.run().dataframe[-1].value
    assert list(audit["action"])[:2] == ["opened room", "joined"]

    # A second browser cannot take the police seat; the same token after a refresh can.
    other = _join(code, "police")
    assert any("already taken" in e.value for e in other.error)
    refreshed = AppTest.from_file(APP, default_timeout=60)
    refreshed.query_params["room"] = code
    refreshed.query_params["token"] = police.session_state["room_token"]
    refreshed.run()
    refreshed.switch_page(str(PAGES / "room.py")).run()
    assert refreshed.session_state["room_who"] == "police"


def test_report_page_prepares_html_and_pdf():
    at = _page("report.py", last_run={"computation": "counts-by-form", "parties": ["police", "kmar", "nla"],
                                      "revealed": {"sexual": 9876, "labour": 55}, "suppressed": []})
    at.checkbox(key="report_timeline").set_value(False).run()
    at.checkbox(key="report_charts").set_value(False).run()
    at.button(key="report_prepare").click().run()
    assert not at.exception
    assert "9,876" in at.session_state["report_html"]
    assert at.session_state["report_pdf"].startswith(b"%PDF")
    assert len(at.get("download_button")) == 2
