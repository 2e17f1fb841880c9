"""Scenario and script: the workshop step by step, with impact cards and presenter notes (thin UI)."""

from pathlib import Path

import streamlit as st

from sandbox.mpc import computations
from sandbox.ui import T, _, comp_reveals, comp_title, current_scenario, synthetic_banner, what_it_means
from sandbox.workshop.room import RoomStore
from sandbox.workshop.script import page_file

PAGES_DIR = Path(__file__).resolve().parent
KEEP_ON_RESET = {"scenario_name", "seed", "facilitator_mode", "role", "lang", "lang_from_url"}

st.title(_("Scenario and script"))
synthetic_banner()
scenario = current_scenario()
if scenario is None:
    st.stop()
steps = scenario.script
if not steps:
    st.info(_("The scenario **{title}** has no workshop script yet. Choose another scenario in the sidebar.").format(
        title=T(scenario.title)))
    st.stop()

ids = [s.id for s in steps]
# "script_current" survives visits to other pages (widget keys such as "script_step" do not).
if st.session_state.get("script_current") not in ids:
    st.session_state["script_current"] = ids[0]
st.session_state["script_step"] = st.session_state["script_current"]
page_titles = {
    "home": _("Home"), "script": _("Scenario and script"), "data": _("Data"), "secret_sharing": _("Secret sharing"),
    "run": _("Run"), "party_views": _("Party views"), "revealed": _("Revealed and disclosure"),
    "size_estimate": _("Size estimate"), "timeline": _("Timeline"), "room": _("Room"), "report": _("Report"),
}
facilitator = st.session_state.get("role") == "Facilitator" and bool(st.session_state.get("facilitator_mode"))


def move(delta: int) -> None:
    i = ids.index(st.session_state["script_current"])
    st.session_state["script_current"] = ids[max(0, min(len(ids) - 1, i + delta))]


def picked() -> None:
    st.session_state["script_current"] = st.session_state["script_step"]


def reset_workshop() -> None:
    """Clear this browser's workshop state and, if this browser opened a room, close that room."""
    code, token = st.session_state.get("room_code"), st.session_state.get("room_token")
    if code and token:
        store = RoomStore()
        if store.who(code, token) == "facilitator":
            store.close_room(code, token)
    for key in list(st.session_state.keys()):
        if key not in KEEP_ON_RESET:
            del st.session_state[key]
    st.query_params.clear()
    st.session_state["script_reset_done"] = True


st.caption(_("{title} · {steps} steps · {minutes} minutes").format(
    title=T(scenario.title), steps=len(steps), minutes=sum(s.minutes for s in steps)))
prev_col, pick_col, next_col = st.columns([1.4, 5, 1.4], vertical_alignment="bottom")
prev_col.button(_("Previous"), key="script_prev", on_click=move, args=(-1,),
                disabled=st.session_state["script_current"] == ids[0], width="stretch")
pick_col.selectbox(_("Step"), ids, key="script_step", on_change=picked,
                   format_func=lambda i: f"{ids.index(i) + 1}. {T(steps[ids.index(i)].title)}")
next_col.button(_("Next"), key="script_next", on_click=move, args=(1,), type="primary",
                disabled=st.session_state["script_current"] == ids[-1], width="stretch")

index = ids.index(st.session_state["script_current"])
step = steps[index]
done = st.session_state.setdefault("script_done", [])
if step.id not in done:
    done.append(step.id)

with st.container():
    st.header(_("Step {n} of {total}: {title}").format(n=index + 1, total=len(steps), title=T(step.title)))
    st.caption(_("about {minutes} minutes").format(minutes=step.minutes))
    st.markdown(_("**Facilitator:** {text}").format(text=T(step.facilitator)))
    st.markdown(_("**Participants:** {text}").format(text=T(step.participants)))
    if step.computation:
        comp = computations.get(step.computation)
        st.markdown(_("**Computation:** {title} (`{name}`). **Revealed:** {reveals}").format(
            title=comp_title(comp), name=step.computation, reveals=comp_reveals(comp)))
    if step.page:
        if st.button(_("Open the page for this step: {page}").format(page=page_titles.get(step.page, step.page)),
                     key="script_open_page", icon=":material/open_in_new:"):
            st.switch_page(str(PAGES_DIR / page_file(step.page)))
    if facilitator and T(step.presenter_notes):
        with st.container(border=True, key="script_presenter_notes"):
            st.markdown(_("**Presenter notes (only you see this):** {text}").format(text=T(step.presenter_notes)))

cards = st.columns(3)
for col, (name, title, items) in zip(cards, [("legal", _("Legal"), step.impact.legal),
                                             ("technical", _("Technical"), step.impact.technical),
                                             ("organisational", _("Organisational"), step.impact.organisational)],
                                     strict=True):
    with col.container(border=True, key=f"script_card_{name}"):
        st.subheader(title)
        st.markdown("\n".join(f"- {T(item)}" for item in items))
st.caption(_("The legal card lists questions to discuss with your own privacy officer and lawyers; "
             "it is not legal advice."))
what_it_means(_("each step shows what would leave your organisation, in which form, and who must agree first."))

with st.sidebar:
    st.markdown(_("**Workshop**"))
    if st.session_state.pop("script_reset_done", False):
        st.success(_("Workshop reset."))
    if st.button(_("Reset workshop"), key="script_reset", icon=":material/restart_alt:"):
        st.session_state["script_confirm_reset"] = True
    if st.session_state.get("script_confirm_reset"):
        st.warning(_("This clears every step, run and answer in this browser, and closes the room you opened."))
        c1, c2 = st.columns(2)
        c1.button(_("Yes, reset"), key="script_reset_confirm", on_click=reset_workshop, type="primary")
        if c2.button(_("Cancel"), key="script_reset_cancel"):
            st.session_state["script_confirm_reset"] = False
            st.rerun()
