"""Workshop core: script model, live room (SQLite) and report export. No Streamlit, no browser needed."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from sandbox.mpc import computations
from sandbox.scenario import list_scenarios, load_scenario
from sandbox.workshop.report import collect, to_html, to_pdf
from sandbox.workshop.room import NotAllowed, RoomError, RoomStore, SeatTaken, UnknownRoom
from sandbox.workshop.script import PAGES, Step

PAGES_DIR = Path(__file__).resolve().parents[1] / "sandbox" / "app_pages"
CARDS = {"legal": ["Which lawful basis?"], "technical": ["Shares"], "organisational": ["Who decides?"]}


def step(**extra):
    return {"id": "one", "title": "Step one", "facilitator": "Say hello", "participants": "Listen", "impact": CARDS,
            **extra}


# ------------------------------------------------------------------------------------------ script

def test_step_accepts_a_valid_step():
    s = Step.model_validate(step(page="run", computation="counts-by-form", presenter_notes="psst"))
    assert s.page == "run" and s.minutes == 10


@pytest.mark.parametrize(("bad", "message"), [
    ({"page": "nowhere"}, "unknown page 'nowhere'"),
    ({"computation": "mind-reading"}, "unknown computation 'mind-reading'"),
    ({"colour": "red"}, "Extra inputs are not permitted"),
    ({"impact": {"legal": [], "technical": ["x"], "organisational": ["y"]}}, "at least 1 item"),
])
def test_step_errors_are_clear(bad, message):
    with pytest.raises(ValidationError, match=message):
        Step.model_validate(step(**bad))


def test_scenario_script_rejects_repeated_step_ids(tmp_path):
    import yaml

    raw = yaml.safe_load((Path(__file__).resolve().parents[1] / "scenarios" / "nl-baseline.yaml").read_text())
    raw["script"] = [step(), step()]
    path = tmp_path / "twice.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match="step ids must be unique, repeated: one"):
        load_scenario(path)


@pytest.mark.parametrize("name", list_scenarios())
def test_every_shipped_script_loads_and_names_known_pages(name):
    scenario = load_scenario(name)
    assert 8 <= len(scenario.script) <= 12, f"{name}: a workshop script has 8-12 steps"
    assert 80 <= sum(s.minutes for s in scenario.script) <= 100, f"{name}: about 90 minutes"
    for s in scenario.script:
        assert s.page is None or (PAGES_DIR / PAGES[s.page]).is_file(), f"{name}/{s.id}: page file missing"
        assert s.computation is None or s.computation in computations.names()
        assert s.impact.legal and s.impact.technical and s.impact.organisational


# ------------------------------------------------------------------------------------------ room

@pytest.fixture
def store(tmp_path) -> RoomStore:
    return RoomStore(tmp_path / "rooms.sqlite3")


def test_room_open_join_refuse_rejoin(store):
    room = store.open_room("nl-baseline", 1, ["police", "kmar", "nla", "fairwork"])
    assert len(room.code) == 6 and set(room.code) <= set("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
    police = store.join(room.code.lower(), "police")  # codes are case-insensitive
    with pytest.raises(SeatTaken, match="already taken"):
        store.join(room.code, "police")  # another browser
    assert store.join(room.code, "police", police) == police  # same participant after a refresh
    assert store.who(room.code, police) == "police"
    assert store.who(room.code, room.facilitator_token) == "facilitator"
    assert store.who(room.code, "forged") is None
    with pytest.raises(RoomError, match="not one of the organisations"):
        store.join(room.code, "shelters")
    with pytest.raises(UnknownRoom):
        store.join("ZZZZZZ", "police")
    assert list(store.seats(room.code)) == ["police"]


def _room_with_three(store):
    room = store.open_room("nl-baseline", 1, ["police", "kmar", "nla", "fairwork"])
    tokens = {o: store.join(room.code, o) for o in ("police", "kmar", "nla")}
    return room, tokens


def test_proposal_runs_only_after_everyone_approved(store):
    room, tokens = _room_with_three(store)
    with pytest.raises(RoomError, match="at least 3"):
        store.propose(room.code, room.facilitator_token, "counts-by-form", ["police", "kmar"])
    p = store.propose(room.code, room.facilitator_token, "counts-by-form", ["police", "kmar", "nla"])
    assert p.status == "pending" and p.waiting_for == ["police", "kmar", "nla"]
    assert store.claim_run(room.code, p.id) is False  # not approved yet
    store.vote(room.code, p.id, tokens["police"], True)
    with pytest.raises(NotAllowed, match="already voted"):
        store.vote(room.code, p.id, tokens["police"], True)
    store.vote(room.code, p.id, tokens["kmar"], True)
    assert store.proposal(room.code, p.id).status == "pending"
    assert store.vote(room.code, p.id, tokens["nla"], True).status == "approved"
    assert store.claim_run(room.code, p.id) is True
    assert store.claim_run(room.code, p.id) is False  # exactly one session starts it
    store.finish_run(room.code, p.id, {"computation": "counts-by-form", "revealed": {"sexual": 216}})
    assert store.proposal(room.code, p.id).result["revealed"] == {"sexual": 216}


def test_one_rejection_blocks_and_audit_log_is_in_order(store):
    room, tokens = _room_with_three(store)
    p = store.propose(room.code, tokens["kmar"], "counts-by-form", ["police", "kmar", "nla"])
    assert p.proposed_by == "kmar"
    store.vote(room.code, p.id, tokens["police"], True)
    assert store.vote(room.code, p.id, tokens["nla"], False).status == "rejected"
    with pytest.raises(NotAllowed, match="already rejected"):
        store.vote(room.code, p.id, tokens["kmar"], True)
    assert store.claim_run(room.code, p.id) is False
    log = [(a.actor, a.action) for a in store.audit(room.code)]
    assert log == [("facilitator", "opened room"), ("police", "joined"), ("kmar", "joined"), ("nla", "joined"),
                   ("kmar", "proposed"), ("police", "approved"), ("nla", "rejected"), ("room", "proposal stopped")]
    with pytest.raises(NotAllowed):
        store.vote(room.code, p.id, "not-a-token", True)


def test_twenty_participants_join_and_approve_concurrently(store):
    orgs = [f"org{i:02d}" for i in range(20)]  # the store does not limit the number of seats
    room = store.open_room("load-test", 1, orgs)
    tokens: dict[str, str] = {}
    errors: list[Exception] = []
    barrier = threading.Barrier(20)

    def participant(org: str, phase: str, pid: int | None = None) -> None:
        try:
            barrier.wait()
            if phase == "join":
                tokens[org] = store.join(room.code, org)
            else:
                store.vote(room.code, pid, tokens[org], True)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    def all_at_once(phase: str, pid: int | None = None) -> None:
        threads = [threading.Thread(target=participant, args=(o, phase, pid)) for o in orgs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)

    all_at_once("join")
    assert not errors and len(store.seats(room.code)) == 20
    p = store.propose(room.code, room.facilitator_token, "counts-by-form", orgs)
    all_at_once("vote", p.id)
    assert not errors
    assert store.proposal(room.code, p.id).status == "approved"
    assert [a.action for a in store.audit(room.code)].count("approved") == 20

    # 20 browsers race for the same seat: exactly one wins.
    other = store.open_room("nl-baseline", 1, ["police", "kmar", "nla"])
    wins: list[str] = []
    race = threading.Barrier(20)

    def grab() -> None:
        race.wait()
        try:
            wins.append(store.join(other.code, "police"))
        except SeatTaken:
            pass

    threads = [threading.Thread(target=grab) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(wins) == 1


# ------------------------------------------------------------------------------------------ report

@pytest.fixture
def report(store):
    room, tokens = _room_with_three(store)
    p = store.propose(room.code, room.facilitator_token, "counts-by-form", ["police", "kmar", "nla"])
    for t in tokens.values():
        store.vote(room.code, p.id, t, True)
    store.claim_run(room.code, p.id)
    store.finish_run(room.code, p.id, {"computation": "counts-by-form", "parties": ["police", "kmar", "nla"],
                                       "revealed": {"sexual": 4321, "labour": 1234, "criminal": None, "other": 77},
                                       "suppressed": ["criminal"]})
    scenario = load_scenario("nl-baseline")
    return collect(scenario, steps_done=["intro-trust", "own-data"], store=store, room_code=room.code,
                   timeline={"naive_days": 100, "p50_days": 150, "p80_days": 180, "p90_days": 200})


def test_report_html_contains_revealed_numbers_and_approvals(report):
    html = to_html(report)
    assert "4,321" in html and "1,234" in html and "suppressed" in html
    assert "police: approved" in html and "Audit log" in html
    assert html.count("plotly.js v") <= 2  # plotly.js inlined once (its banner names the version)
    assert report.steps[0]["done"] and not report.steps[-1]["done"]


def test_report_pdf_without_charts_says_so(report, monkeypatch):
    import sandbox.workshop.report as rep

    monkeypatch.setattr(rep, "chart_pngs", lambda figs: ({}, "RuntimeError: no browser"))
    pdf = to_pdf(report)
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" not in pdf


@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="kaleido needs Chromium")
@pytest.mark.xdist_group("browser")  # kaleido starts Chromium: never beside the real-browser tests (tests/conftest.py)
def test_report_pdf_has_charts_with_chromium(report, monkeypatch):
    import sandbox.workshop.report as rep

    drawn = []
    real = rep.chart_pngs
    monkeypatch.setattr(rep, "chart_pngs", lambda figs: drawn.append(real(figs)) or drawn[-1])
    pdf = to_pdf(report)
    assert pdf.startswith(b"%PDF")
    assert drawn and drawn[0][1] is None, f"the charts could not be drawn: {drawn[0][1] if drawn else 'not asked'}"
    assert pdf.count(b"/Subtype /Image") >= 2  # the revealed counts and the timeline
