"""Entry point: `streamlit run sandbox/app.py` (or `make run`). Router and frame only; pages are thin."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from sandbox.i18n import LANGUAGES, normalise_language
from sandbox.scenario import DEFAULT_SCENARIO, list_scenarios
from sandbox.ui import PROJECTOR_CSS, _, lang
from sandbox.workshop.style import FACILITATOR_CSS

st.set_page_config(page_title="MPC Trust Sandbox", page_icon=":material/lock:", layout="wide")


@st.cache_resource
def _warm_parties() -> bool:
    """Once per server: keep a warm fork server ready, so a click on Run does not wait for imports."""
    from sandbox.mpc import forkserver

    forkserver.keep_warm(19)
    return True


_warm_parties()
st.markdown(PROJECTOR_CSS, unsafe_allow_html=True)

st.session_state.setdefault("scenario_name", os.environ.get("MPC_SANDBOX_SCENARIO", DEFAULT_SCENARIO))
st.session_state.setdefault("seed", 1)

# Language per browser session: ?lang=nl / ?lang=en in the address, else the sidebar switch, else the default
# (MPC_SANDBOX_LANG, Dutch). A new ?lang= in the address wins once; the switch writes it back to the address.
asked = normalise_language(st.query_params.get("lang"))
if asked and asked != st.session_state.get("lang_from_url"):
    st.session_state["lang"] = asked
    st.session_state["lang_from_url"] = asked
lang()


def _switch_language() -> None:
    st.session_state["lang"] = st.session_state["lang_switch"]
    st.session_state["lang_from_url"] = st.session_state["lang"]
    st.query_params["lang"] = st.session_state["lang"]


PAGES = Path(__file__).resolve().parent / "app_pages"
PAGE_LIST = [
    ("home.py", _("Home"), ":material/home:"),
    ("script.py", _("Scenario and script"), ":material/list_alt:"),
    ("data.py", _("Data"), ":material/table:"),
    ("secret_sharing.py", _("Secret sharing"), ":material/key:"),
    ("run.py", _("Run"), ":material/play_circle:"),
    ("party_views.py", _("Party views"), ":material/visibility:"),
    ("revealed.py", _("Revealed and disclosure"), ":material/policy:"),
    ("size_estimate.py", _("Size estimate"), ":material/groups:"),
    ("timeline.py", _("Timeline"), ":material/timeline:"),
    ("deployment.py", _("Deployment"), ":material/dns:"),
    ("room.py", _("Room"), ":material/meeting_room:"),
    ("report.py", _("Report"), ":material/summarize:"),
]
# A page's address comes from its file name (st.Page's default), so it does not change with the language.
pages = [st.Page(str(PAGES / f), title=t, icon=i, default=(f == "home.py"))
         for f, t, i in PAGE_LIST if (PAGES / f).is_file()]

with st.sidebar:
    st.markdown("### MPC Trust Sandbox")
    st.session_state["lang_switch"] = st.session_state["lang"]
    st.radio("Taal / Language", list(LANGUAGES), format_func=LANGUAGES.get, key="lang_switch",
             on_change=_switch_language, horizontal=True)
    names = list_scenarios() or [DEFAULT_SCENARIO]
    current = st.session_state["scenario_name"]
    st.selectbox(_("Scenario"), names, index=names.index(current) if current in names else 0, key="scenario_name")
    st.number_input(_("Data seed"), min_value=1, max_value=10_000, step=1, key="seed",
                    help=_("Same scenario and seed give exactly the same synthetic records."))
    st.toggle(_("Facilitator mode"), key="facilitator_mode", help=_("Larger text for the projector; presenter notes."))
if st.session_state.get("facilitator_mode"):
    st.markdown(FACILITATOR_CSS, unsafe_allow_html=True)
if "role" in st.session_state:  # keep the role chosen on Home while other pages are shown
    st.session_state["role"] = st.session_state["role"]

st.navigation(pages).run()
