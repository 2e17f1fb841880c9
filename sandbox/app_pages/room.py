"""Live workshop room: the facilitator opens a room, each organisation joins from its own browser,
everyone approves a computation before it runs, and all see the same opened result (thin UI)."""

import json
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from sandbox.datasets import ensure_dataset
from sandbox.mpc import computations
from sandbox.mpc.query import compile_query, reveals_text
from sandbox.results import designed_table, revealed_table
from sandbox.scenario import load_scenario
from sandbox.ui import (
    N_,
    T,
    _,
    big_layout,
    comp_reveals,
    comp_title,
    current_scenario,
    designed_query_form,
    error_text,
    job_manager,
    join_opened_caption,
    local_columns,
    ngettext,
    num,
    synthetic_banner,
    what_it_means,
)
from sandbox.workshop.room import FACILITATOR, RoomError, RoomStore, UnknownRoom, rooms_path, run_proposal

STATUS = {"pending": _("waiting for approvals"), "approved": _("approved by all, starting"), "rejected": _("rejected"),
          "running": _("running with MPC"), "done": _("done"), "failed": _("failed"),
          "refused": _("refused by the differencing protection")}
# The Room's texts for designed queries (the designer's own texts are in sandbox/ui.py); shown with _().
ROOM_DQ_TEXT = {
    "kind": N_("Propose"),
    "kinds": (N_("a computation from the catalogue"), N_("a query you design")),
    "query": N_("The query: `{query}`"),
    "refused": N_("Not run: {reason}"),
    "log": N_("Audit log of the proposals (who proposed what, who approved or rejected it when, what ran, "
              "what was opened)"),
}
PROPOSAL_ACTIONS = ("proposed", "approved", "rejected", "proposal stopped", "all approved", "run started",
                    "differencing check", "refused", "ran", "revealed", "run failed")


@st.cache_resource
def _store(path: str) -> RoomStore:
    return RoomStore(path)


@st.cache_data(show_spinner=False)
def _scenario(name: str):
    return load_scenario(name)


store = _store(str(rooms_path()))
st.title(_("Workshop room"))
synthetic_banner()


def enter(code: str, token: str, who: str) -> None:
    st.session_state.update(room_code=code, room_token=token, room_who=who)
    st.query_params.update(room=code, token=token)  # a refresh of this browser keeps its seat


def leave() -> None:
    for key in ("room_code", "room_token", "room_who"):
        st.session_state.pop(key, None)
    st.query_params.clear()


# A refreshed browser comes back with ?room=CODE&token=...: restore who it is.
params = st.query_params
if not st.session_state.get("room_token") and params.get("room") and params.get("token"):
    who = store.who(params["room"], params["token"])
    if who:
        enter(params["room"].upper(), params["token"], who)
code = st.session_state.get("room_code")
if code:
    try:
        room = store.room(code)
    except UnknownRoom:
        st.warning(_("Room {code} was closed.").format(code=code))
        leave()
        st.stop()


def open_room() -> None:
    scenario = current_scenario()
    if scenario is None:
        return
    new = store.open_room(scenario.name, int(st.session_state.get("seed", 1)), scenario.org_ids)
    enter(new.code, new.facilitator_token, FACILITATOR)


def join() -> None:
    try:
        token = store.join(st.session_state["room_join_code"], st.session_state["room_join_org"])
    except RoomError as exc:
        st.session_state["room_join_error"] = error_text(exc)
        return
    joined = store.room(st.session_state["room_join_code"])
    enter(joined.code, token, st.session_state["room_join_org"])


if not code:  # ---------------------------------------------------------------- not in a room yet
    role = st.session_state.get("role")
    views = {"a participant (one organisation)": _("a participant (one organisation)"),
             "the facilitator": _("the facilitator")}
    view = st.radio(_("I am"), list(views), key="room_view", format_func=views.get,
                    index=1 if role == "Facilitator" else 0, horizontal=True)
    if view == "the facilitator":
        st.write(_("Open a room for the scenario chosen in the sidebar. Show the code on the projector; each "
                   "organisation joins from its own laptop."))
        st.button(_("Open a new room"), key="room_open", on_click=open_room, type="primary")
    else:
        st.text_input(_("Room code (on the projector)"), value=params.get("room", ""), key="room_join_code",
                      max_chars=8)
        typed = st.session_state.get("room_join_code", "").strip()
        try:
            found = store.room(typed) if typed else None
        except UnknownRoom as exc:
            found = None
            st.error(error_text(exc))
        if found:
            names = {o.id: T(o.name) for o in _scenario(found.scenario).organisations}
            taken = store.seats(found.code)
            st.selectbox(_("Your organisation"), found.orgs, key="room_join_org",
                         format_func=lambda o: names.get(o, o) + ("  " + _("(taken)") if o in taken else ""))
            st.button(_("Join the room"), key="room_join", on_click=join, type="primary")
            if err := st.session_state.pop("room_join_error", None):
                st.error(err)
    what_it_means(_("in the room each organisation decides for itself: nothing runs until every organisation "
                    "taking part has approved it."))
    st.stop()

# ------------------------------------------------------------------------------------ inside a room
who = st.session_state["room_who"]
token = st.session_state["room_token"]
scenario = _scenario(room.scenario)
names = {o.id: T(o.name) for o in scenario.organisations}
is_facilitator = who == FACILITATOR

with st.container(key="room_header"):
    st.markdown(_("## Room code: `{code}`").format(code=room.code))
    st.caption(_("{title} · seed {seed} · you are {who}").format(
        title=T(scenario.title), seed=room.seed,
        who=_("the **facilitator**") if is_facilitator else f"**{names.get(who, who)}**"))
st.button(_("Leave this room"), key="room_leave", on_click=leave)


def start_if_approved(proposal) -> None:
    """The first browser that sees an approved proposal starts it; the room records the result."""
    if proposal.status == "approved" and store.claim_run(room.code, proposal.id):
        rc, pid = room.code, proposal.id
        job_manager().submit(f"room {rc} #{pid}", lambda job: run_proposal(store, rc, pid, cancel=job.cancel))


def vote(pid: int, approve: bool) -> None:
    try:
        store.vote(room.code, pid, token, approve)
    except RoomError as exc:
        st.session_state["room_vote_error"] = error_text(exc)


def show_result(p) -> None:
    table = revealed_table(p.result.get("revealed"))
    shown = table.dropna(subset=["revealed"])
    if len(shown) > 40:
        shown = shown.sort_values("revealed", ascending=False).head(40)
    fig = px.bar(shown, x="cell", y="revealed", text="revealed", title=comp_title(computations.get(p.computation)),
                 labels={"cell": _("cell"), "revealed": _("revealed")})
    st.plotly_chart(big_layout(fig, height=360), key=f"room_result_chart_{p.id}")
    if p.computation == "designed-query" and p.params.get("query"):  # every cell, suppressed ones marked
        cells = compile_query(p.params["query"]).cells
        st.dataframe(local_columns(designed_table(p.result, cells)[["cell", "revealed", "status"]]), hide_index=True,
                     key=f"room_result_table_{p.id}")
        join_opened_caption(p.result)
    else:
        st.dataframe(local_columns(table[["cell", "revealed"]]), hide_index=True, key=f"room_result_table_{p.id}")
    if p.result.get("suppressed"):
        st.caption(ngettext("{n} small cell was never opened (below the threshold).",
                            "{n} small cells were never opened (below the threshold).",
                            len(p.result["suppressed"])).format(n=len(p.result["suppressed"])))


def propose() -> None:
    designed = st.session_state.get("room_prop_kind") == ROOM_DQ_TEXT["kinds"][1]
    try:
        if designed:
            query = st.session_state.get("room_prop_query")
            if query is None:
                raise RoomError(_("fix the query first (the message above says what is wrong)"))
            store.propose(room.code, token, "designed-query", st.session_state.get("room_prop_orgs", []),
                          params={"query": query})
        else:
            store.propose(room.code, token, st.session_state["room_prop_comp"],
                          st.session_state.get("room_prop_orgs", []))
    except RoomError as exc:
        st.session_state["room_prop_error"] = error_text(exc)


def select_joined() -> None:
    st.session_state["room_prop_orgs"] = [o for o in room.orgs if o in store.seats(room.code)]


def proposal_form() -> None:
    kind = st.radio(_(ROOM_DQ_TEXT["kind"]), ROOM_DQ_TEXT["kinds"], key="room_prop_kind", horizontal=True,
                    format_func=_)
    if kind == ROOM_DQ_TEXT["kinds"][1]:
        st.session_state["room_prop_query"], _error = designed_query_form(scenario.disclosure.min_cell,
                                                                          key="room_dq")
    else:
        catalogue = [n for n in computations.names() if not computations.get(n).needs_params]
        st.selectbox(_("Computation"), catalogue, key="room_prop_comp",
                     index=catalogue.index("counts-by-form") if "counts-by-form" in catalogue else 0,
                     format_func=lambda n: f"{comp_title(computations.get(n))} ({n})")
    st.multiselect(_("Organisations taking part (each must approve)"), room.orgs, key="room_prop_orgs",
                   format_func=lambda o: names.get(o, o))
    c1, c2 = st.columns(2)
    c1.button(_("Select everyone who joined"), key="room_select_joined", on_click=select_joined)
    c2.button(_("Propose"), key="room_propose", on_click=propose, type="primary")
    if err := st.session_state.pop("room_prop_error", None):
        st.error(err)


@st.fragment(run_every=2)
def live() -> None:
    """Seats, proposals, votes and results: refreshed every 2 seconds for everyone in the room."""
    seats = store.seats(room.code)
    st.subheader(_("Seats"))
    cols = st.columns(len(room.orgs))
    for col, org in zip(cols, room.orgs, strict=True):
        col.markdown(f"{':material/check_circle:' if org in seats else ':material/hourglass_empty:'} "
                     f"**{names.get(org, org)}**  \n{_('joined') if org in seats else _('not joined yet')}")
    if is_facilitator and seats:
        with st.expander(_("Free a seat (a participant lost their browser link)")):
            st.selectbox(_("Seat"), list(seats), key="room_free_org", format_func=lambda o: names.get(o, o))
            if st.button(_("Free this seat"), key="room_free"):
                store.free_seat(room.code, st.session_state["room_free_org"], token)
                st.rerun(scope="fragment")
    st.subheader(_("Proposals"))
    with st.expander(_("Propose a computation"), expanded=is_facilitator):
        proposal_form()
    proposals = store.proposals(room.code)
    if not proposals:
        st.caption(_("No proposal yet."))
    if err := st.session_state.pop("room_vote_error", None):
        st.error(err)
    for p in reversed(proposals):
        start_if_approved(p)
        with st.container(border=True, key=f"room_proposal_{p.id}"):
            comp = computations.get(p.computation)
            st.markdown(_("**#{id} {title}** for {orgs} · proposed by {who} · **{status}**").format(
                id=p.id, title=comp_title(comp), orgs=", ".join(names.get(o, o) for o in p.orgs),
                who=names.get(p.proposed_by, _("the facilitator") if p.proposed_by == FACILITATOR else p.proposed_by),
                status=STATUS.get(p.status, p.status)))
            if p.computation == "designed-query" and p.params.get("query"):
                st.markdown(_(ROOM_DQ_TEXT["query"]).format(query=json.dumps(p.params["query"], ensure_ascii=False)))
                st.caption(_("Revealed if it runs: {reveals}").format(
                    reveals=reveals_text(p.params["query"], scenario.disclosure.min_cell, translate=_)))
            else:
                st.caption(_("Revealed if it runs: {reveals}").format(reveals=comp_reveals(comp)))
            votes = [f"{names.get(o, o)}: {_('approved') if p.votes[o] else _('rejected')}" for o in p.votes]
            votes += [f"{names.get(o, o)}: {_('waiting')}" for o in p.waiting_for]
            st.write(" · ".join(votes))
            if p.status == "pending" and who in p.waiting_for:
                c1, c2 = st.columns(2)
                c1.button(_("Approve #{id}").format(id=p.id), key=f"room_approve_{p.id}", on_click=vote,
                          args=(p.id, True), type="primary")
                c2.button(_("Reject #{id}").format(id=p.id), key=f"room_reject_{p.id}", on_click=vote,
                          args=(p.id, False))
            if p.status in {"approved", "running"}:
                st.info(_("The parties are computing; the result appears here for everyone."))
            if p.status == "failed":
                st.error(_("The run failed: {error}").format(error=error_text(p.error)))
            if p.status == "refused":
                st.warning(_(ROOM_DQ_TEXT["refused"]).format(reason=error_text(p.error)))
            if p.status == "done" and p.result:
                show_result(p)
    if is_facilitator:
        st.subheader(_("Audit log"))
        log = pd.DataFrame([a.__dict__ for a in store.audit(room.code)])
        st.dataframe(log[["at", "actor", "action", "detail"]], hide_index=True, key="room_audit")
    elif proposals:  # every participant sees what happened to the proposals (not seats or refused joins)
        st.subheader(_("Audit log"))
        st.caption(_(ROOM_DQ_TEXT["log"]))
        log = pd.DataFrame([a.__dict__ for a in store.audit(room.code) if a.action in PROPOSAL_ACTIONS])
        st.dataframe(log[["at", "actor", "action", "detail"]], hide_index=True, key="room_audit_proposals")


live()

if not is_facilitator:
    st.subheader(_("Your own data: {org}").format(org=names.get(who, who)))
    folder = ensure_dataset(scenario, seed=room.seed, isolate=True)
    own = pd.read_csv(Path(folder) / f"{who}.csv")
    st.caption(_("Only you see this: {n} records of {org}. The other organisations' records never reach this "
                 "browser.").format(n=num(len(own)), org=names.get(who, who)))
    st.dataframe(own.head(200), hide_index=True, key="room_own_data")
what_it_means(_("you see your own records and the results everyone approved; never another organisation's "
                "records."))
