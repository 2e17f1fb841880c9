"""AppTest of the query designer (issue 19): the Run page, the Room's propose → approve → run → audit flow,
the differencing protection in both, and the Party views of a designed-query run.

Every number is checked against counts recomputed here with plain pandas from the organisations' CSVs.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sandbox.mpc.query import reveals_text
from sandbox.workshop.room import RoomError, RoomStore
from synthetic import vocab
from tests.app_pages import join_room, open_page

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "sandbox" / "app.py")
PAGES = ROOT / "sandbox" / "app_pages"
THREE = ["police", "kmar", "nla"]
SEP = ";"
DESIGN = "A query you design"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MPC_SANDBOX_ROOMS", str(tmp_path / "rooms.sqlite3"))


_page = open_page


def _designer(at: AppTest, prefix: str, *, group_by, where=None, measure="count", min_cell=None) -> None:
    at.multiselect(key=f"{prefix}_group_by").set_value(group_by).run()
    at.multiselect(key=f"{prefix}_filter_fields").set_value(list(where or {})).run()
    for name, allowed in (where or {}).items():
        at.multiselect(key=f"{prefix}_where_{name}").set_value(allowed).run()
    at.selectbox(key=f"{prefix}_measure").set_value(measure).run()
    if min_cell is not None:
        at.number_input(key=f"{prefix}_min_cell").set_value(min_cell).run()


def _table(at: AppTest, *columns: str) -> pd.DataFrame:
    """The one table on the page with these columns (AppTest does not find dataframes by key)."""
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert len(found) == 1, f"{len(found)} tables with columns {columns}"
    return found[0]


def _pooled(folder: Path, orgs=THREE) -> pd.DataFrame:
    return pd.concat([pd.read_csv(Path(folder) / f"{o}.csv", dtype=str, keep_default_na=False) for o in orgs],
                     ignore_index=True)


def _form_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Plain pandas: registrations per form (a record once per form), every form of the code list."""
    forms = frame["form"].str.split(SEP).explode()
    return {f: int((forms == f).sum()) for f in vocab.FORMS}


def _wait(at: AppTest, done, what: str, seconds: float = 150) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert not at.exception
        assert time.monotonic() < deadline, f"{what} did not finish in {seconds} s"
        time.sleep(0.5)
        at.run()  # run_every timers do not fire in AppTest: poll


def _one_group_target(pooled: pd.DataFrame, region: str, min_cell: int) -> str:
    """A nationality group whose records in `region` make some per-form difference of 1 .. min_cell-1."""
    part = pooled[pooled["region"] == region]
    groups = part["nationality"].map(lambda n: vocab.nationality_group(n) if n else "")
    for g in vocab.NATIONALITY_GROUPS:
        diff = _form_counts(part[groups == g])
        if any(1 <= d < min_cell for d in diff.values()):
            return g
    raise AssertionError(f"no nationality group in {region} with a small per-form difference")


# ------------------------------------------------------------------------------------ the Run page


def test_designer_shows_what_is_revealed_and_errors_never_a_traceback():
    at = _page("run.py")
    at.radio(key="run_mode").set_value(DESIGN).run()
    assert not at.exception
    _designer(at, "dq", group_by=["form", "sex"], where={"region": ["amsterdam"]}, min_cell=5)
    query = {"group_by": ["form", "sex"], "where": {"region": ["amsterdam"]}, "measure": "count", "min_cell": 5}
    shown = [i.value for i in at.info]
    assert any(reveals_text(query) in v for v in shown)  # the text generated from this very query
    assert any("12 cells" in v and "amsterdam" in v and "1 to 4" in v for v in shown)  # 4 forms × F, M, X

    at.multiselect(key="dq_where_region").set_value([]).run()  # a filter without any allowed value
    assert not at.exception
    assert any("where 'region': give a non-empty list" in e.value for e in at.error)
    at.button(key="run_start").click().run()  # an invalid query does not start anything
    assert not at.exception and "run_job" not in at.session_state
    at.multiselect(key="dq_where_region").set_value(["amsterdam"]).run()
    at.selectbox(key="dq_measure").set_value("distinct").run()  # distinct persons (linked on person_key)
    assert not at.exception and not at.error
    distinct = {**query, "measure": {"distinct": "person"}}
    assert any(reveals_text(distinct) in i.value for i in at.info)
    assert any("distinct persons" in i.value and "exactly one, two" in i.value for i in at.info)
    at.selectbox(key="dq_measure").set_value("mean").run()
    assert not at.error
    assert any("mean age" in i.value for i in at.info)


def _run_designed(**designer) -> tuple[AppTest, dict, pd.DataFrame]:
    """The Run page with THREE organisations: design a query, run it with real MPC; (page, run, pooled CSVs)."""
    at = _page("run.py")
    at.multiselect(key="run_orgs").set_value(THREE).run()
    at.radio(key="run_mode").set_value(DESIGN).run()
    _designer(at, "dq", **designer)
    at.button(key="run_start").click().run()
    _wait(at, lambda: "last_run" in at.session_state, "the designed query")
    run = at.session_state["last_run"]
    assert run["computation"] == "designed-query" and run["match"] is True
    return at, run, _pooled(at.session_state["data_dir"])


def _check_designed_table(at: AppTest, expected: dict[str, int], min_cell: int) -> None:
    """The page's answer table against counts recomputed in the test: small cells suppressed, others exact."""
    table = _table(at, "cell", "revealed", "status", "oracle")
    for row in table.itertuples():
        if 1 <= expected[row.cell] < min_cell:
            assert row.status.startswith("suppressed") and pd.isna(row.revealed)
        else:
            assert row.status == "opened" and row.revealed == expected[row.cell]


@pytest.mark.mpc
def test_designer_runs_real_mpc_and_refuses_a_differencing_query(tmp_path):
    at, run, pooled = _run_designed(group_by=["form"], where={"region": ["amsterdam"]}, min_cell=5)
    _check_designed_table(at, _form_counts(pooled[pooled["region"] == "amsterdam"]), 5)
    assert at.session_state["dq_history"][0]["query"]["where"] == {"region": ["amsterdam"]}

    # The same question without one nationality group: the difference would show a small cell -> refused.
    group = _one_group_target(pooled, "amsterdam", 5)
    others = [g for g in vocab.NATIONALITY_GROUPS if g != group]
    _designer(at, "dq", group_by=["form"], where={"region": ["amsterdam"], "nationality_group": others})
    assert any("query 1" in c.value for c in at.caption)  # the earlier answered query it will be checked against
    first = at.session_state["last_run_job"]
    at.button(key="run_start").click().run()
    _wait(at, lambda: at.session_state["last_run_job"] != first, "the differencing check")
    assert any("Refused by the differencing protection" in e.value and "query 1" in e.value for e in at.error)
    assert at.session_state["last_run"] == run  # nothing new was answered
    assert [c["approved"] for c in at.session_state["dq_checks"]] == [False]
    assert at.session_state["dq_checks"][0]["match"] is True
    assert len(at.session_state["dq_history"]) == 1


@pytest.mark.mpc
def test_designer_counts_distinct_persons_with_real_mpc():
    at, run, pooled = _run_designed(group_by=["form"], where={"region": ["amsterdam"]}, measure="distinct",
                                    min_cell=3)
    part = pooled[pooled["region"] == "amsterdam"].assign(form=lambda d: d["form"].str.split(SEP)).explode("form")
    _check_designed_table(at, {f: part.loc[part["form"] == f, "person_key"].nunique() for f in vocab.FORMS}, 3)
    assert run["join_opened"]["list_sizes"] == {o: int((pooled["org"] == o).sum()) for o in THREE}
    per_lists = pooled.groupby("person_key")["org"].nunique().value_counts()
    sizes = pooled["org"].value_counts()
    caption = next(c.value for c in at.caption if "Also opened by linking the records" in c.value)
    assert all(f"{o} {sizes[o]}" in caption for o in THREE)
    assert all(f"{n} on {s}" in caption for s, n in per_lists.items())


# ------------------------------------------------------------------------------------ the Room


_join = join_room


def _propose(at: AppTest, **designer) -> None:
    at.radio(key="room_prop_kind").set_value("a query you design").run()
    _designer(at, "room_dq", **designer)
    at.button(key="room_select_joined").click().run()
    at.button(key="room_propose").click().run()
    assert not at.exception


def _room_with_three():
    """A room opened by the facilitator's page, joined by kmar and nla (tokens) and by police (its own page)."""
    fac = _page("room.py")
    fac.radio(key="room_view").set_value("the facilitator").run()
    fac.button(key="room_open").click().run()
    code = fac.session_state["room_code"]
    store = RoomStore()
    tokens = {o: store.join(code, o) for o in ("kmar", "nla")}
    police = _join(code, "police")
    fac.run()
    return fac, code, store, tokens, police


@pytest.mark.mpc
def test_room_designed_query_needs_every_approval_runs_and_logs_and_refuses_differencing():
    fac, code, store, tokens, police = _room_with_three()

    # 1. Proposed, two approve, one rejects: it never runs.
    _propose(fac, group_by=["form"], where={"region": ["amsterdam"]}, min_cell=5)
    first = store.proposals(code)[-1]
    assert first.computation == "designed-query" and first.params["query"]["where"] == {"region": ["amsterdam"]}
    for t in tokens.values():
        store.vote(code, first.id, t, True)
    police.run()
    assert any("Revealed if it runs" in c.value and "amsterdam" in c.value for c in police.caption)
    police.button(key=f"room_reject_{first.id}").click().run()
    assert store.proposal(code, first.id).status == "rejected"
    assert not [a for a in store.audit(code) if a.action in ("run started", "ran", "revealed")]

    # 2. The same query again, everyone approves (police in its browser): it runs and the log tells all.
    _propose(fac, group_by=["form"], where={"region": ["amsterdam"]}, min_cell=5)
    second = store.proposals(code)[-1]
    for t in tokens.values():
        store.vote(code, second.id, t, True)
    police.run()
    police.button(key=f"room_approve_{second.id}").click().run()
    _wait(police, lambda: store.proposal(code, second.id).status in ("done", "failed", "refused"), "the room run")
    done = store.proposal(code, second.id)
    assert done.status == "done", done.error
    room = store.room(code)
    from sandbox.datasets import ensure_dataset
    from sandbox.scenario import load_scenario

    pooled = _pooled(ensure_dataset(load_scenario(room.scenario), seed=room.seed), done.orgs)
    expected = _form_counts(pooled[pooled["region"] == "amsterdam"])
    assert done.result["revealed"] == {f: n for f, n in expected.items() if not 1 <= n < 5}
    assert done.result["match"] is True
    log = [(a.actor, a.action, a.detail) for a in store.audit(code)]
    mine = [(actor, action) for actor, action, detail in log if f"#{second.id}" in detail]
    assert mine[0] == ("facilitator", "proposed")
    assert sorted(a for a, act in mine if act == "approved") == sorted(done.orgs)
    for step in ("all approved", "run started", "ran", "revealed"):
        assert ("room", step) in mine
    revealed_line = next(d for _, act, d in log if act == "revealed" and f"#{second.id}" in d)
    assert str(expected["sexual"]) in revealed_line
    police.run()
    shown = _table(police, "at", "actor", "action", "detail")
    assert {"proposed", "approved", "rejected", "ran", "revealed"} <= set(shown["action"])

    # 3. A query differing from the answered one by a small cell: approved by all, then refused inside MPC.
    group = _one_group_target(pooled, "amsterdam", 5)
    others = [g for g in vocab.NATIONALITY_GROUPS if g != group]
    _propose(fac, group_by=["form"], where={"region": ["amsterdam"], "nationality_group": others}, min_cell=5)
    third = store.proposals(code)[-1]
    for t in tokens.values():
        store.vote(code, third.id, t, True)
    police.run()
    police.button(key=f"room_approve_{third.id}").click().run()
    _wait(police, lambda: store.proposal(code, third.id).status in ("done", "failed", "refused"), "the check")
    refused = store.proposal(code, third.id)
    assert refused.status == "refused" and refused.result is None
    actions = [(a.action, a.detail) for a in store.audit(code) if f"#{third.id}" in a.detail]
    assert ("differencing check", f"#{third.id} against #{second.id}: refused (one bit opened inside MPC)") in actions
    assert not [a for a, _ in actions if a in ("ran", "revealed")]
    police.run()
    assert any("Not run" in w.value for w in police.warning)


@pytest.mark.mpc
def test_room_distinct_persons_query_runs_and_a_differencing_one_is_refused_with_the_reason():
    from sandbox.datasets import ensure_dataset
    from sandbox.scenario import load_scenario

    fac, code, store, tokens, police = _room_with_three()

    def propose_and_approve(where):
        _propose(fac, group_by=["form"], where=where, measure="distinct", min_cell=3)
        prop = store.proposals(code)[-1]
        assert prop.params["query"]["measure"] == {"distinct": "person"}
        for t in tokens.values():
            store.vote(code, prop.id, t, True)
        police.run()
        police.button(key=f"room_approve_{prop.id}").click().run()
        _wait(police, lambda: store.proposal(code, prop.id).status in ("done", "failed", "refused"), "the room run")
        return store.proposal(code, prop.id)

    done = propose_and_approve({"region": ["amsterdam"]})
    assert done.status == "done", done.error
    room = store.room(code)
    pooled = _pooled(ensure_dataset(load_scenario(room.scenario), seed=room.seed), done.orgs)
    part = pooled[pooled["region"] == "amsterdam"].assign(form=lambda d: d["form"].str.split(SEP)).explode("form")
    expected = {f: part.loc[part["form"] == f, "person_key"].nunique() for f in vocab.FORMS}  # plain pandas
    assert done.result["revealed"] == {f: n for f, n in expected.items() if not 1 <= n < 3}
    assert done.result["match"] is True
    assert done.result["join_opened"]["list_sizes"] == {o: int((pooled["org"] == o).sum()) for o in done.orgs}
    police.run()
    assert any("Also opened by linking the records" in c.value for c in police.caption)

    # Other filters than the answered distinct query: the check counts records, so it is refused, saying why.
    failed = propose_and_approve({"region": ["amsterdam", "rotterdam"]})
    assert failed.status == "failed" and failed.result is None
    assert f"compared with #{done.id}" in failed.error and "not linked persons" in failed.error
    assert not [a for a in store.audit(code) if f"#{failed.id}" in a.detail and a.action in ("ran", "revealed")]


# ------------------------------------------------------------------------------------ Party views


@pytest.mark.mpc
def test_party_views_of_a_designed_query_show_each_organisation_its_own_counts(generated, scenario, tmp_path):
    from sandbox.mpc.runner import run_mpc

    query = {"group_by": ["form", "minor"], "where": {"sex": ["F", "M"]}, "measure": {"mean": "age"}}
    result = run_mpc(scenario, generated, "designed-query", orgs=THREE, params={"query": query, "min_cell": 3},
                     out_dir=tmp_path / "run")
    assert result.match is True
    at = _page("party_views.py", last_run=result.to_json(), data_dir=str(generated))
    for org in THREE:
        at.selectbox(key="pv_org").set_value(org).run()
        assert not at.exception
        own = _table(at, "label", "cell", "value", "who_sees_it")
        assert set(own["who_sees_it"]) == {"only you"}
        # plain pandas on this organisation's CSV: records with an age, and their ages, per form × minor
        frame = pd.read_csv(generated / f"{org}.csv", dtype=str, keep_default_na=False)
        frame = frame[frame["sex"].isin(["F", "M"]) & frame["age"].str.fullmatch(r"\d+")]
        frame = frame.assign(age=frame["age"].astype(int), form=frame["form"].str.split(SEP)).explode("form")
        frame["minor"] = frame["age"].map(lambda a: "minor" if a < 18 else "adult")
        counts = {f"records with age: {f} × {m}": 0 for f in vocab.FORMS for m in ("minor", "adult")}
        sums = {f"sum of ages: {f} × {m}": 0 for f in vocab.FORMS for m in ("minor", "adult")}
        for (f, m), part in frame.groupby(["form", "minor"]):
            counts[f"records with age: {f} × {m}"] = len(part)
            sums[f"sum of ages: {f} × {m}"] = int(part["age"].sum())
        got = {(r.label, r.cell): r.value for r in own.itertuples()}
        assert got == {**{("counts", c): n for c, n in counts.items()},
                       **{("age_sums", c): s for c, s in sums.items()}}
    at.switch_page(str(PAGES / "revealed.py")).run()  # the ledger of the same run draws without an error
    assert not at.exception


def test_the_room_refuses_a_designed_proposal_that_cannot_run():
    store = RoomStore()
    room = store.open_room("nl-baseline", 1, THREE)
    with pytest.raises(RoomError, match="the designed query cannot run: .*'gotham'"):
        store.propose(room.code, room.facilitator_token, "designed-query", THREE,
                      params={"query": {"group_by": ["form"], "where": {"region": ["gotham"]}}})
    assert store.proposals(room.code) == []
    p = store.propose(room.code, room.facilitator_token, "designed-query", THREE,
                      params={"query": {"group_by": "form"}})
    assert p.params["query"] == {"group_by": ["form"], "where": {}, "measure": "count"}  # stored normalised
    assert any('"group_by": ["form"]' in a.detail for a in store.audit(room.code) if a.action == "proposed")
