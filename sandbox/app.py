"""Entry point: `streamlit run sandbox/app.py` (or `make run`). Router and frame only; pages are thin."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from sandbox.scenario import DEFAULT_SCENARIO, list_scenarios
from sandbox.ui import PROJECTOR_CSS
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

PAGES = Path(__file__).resolve().parent / "app_pages"
PAGE_LIST = [
    ("home.py", "Home", ":material/home:"),
    ("script.py", "Scenario and script", ":material/list_alt:"),
    ("data.py", "Data", ":material/table:"),
    ("secret_sharing.py", "Secret sharing", ":material/key:"),
    ("run.py", "Run", ":material/play_circle:"),
    ("party_views.py", "Party views", ":material/visibility:"),
    ("revealed.py", "Revealed and disclosure", ":material/policy:"),
    ("size_estimate.py", "Size estimate", ":material/groups:"),
    ("timeline.py", "Timeline", ":material/timeline:"),
    ("deployment.py", "Deployment", ":material/dns:"),
    ("room.py", "Room", ":material/meeting_room:"),
    ("report.py", "Report", ":material/summarize:"),
]
pages = [st.Page(str(PAGES / f), title=t, icon=i, default=(f == "home.py"))
         for f, t, i in PAGE_LIST if (PAGES / f).is_file()]

with st.sidebar:
    st.markdown("### MPC Trust Sandbox")
    names = list_scenarios() or [DEFAULT_SCENARIO]
    current = st.session_state["scenario_name"]
    st.selectbox("Scenario", names, index=names.index(current) if current in names else 0, key="scenario_name")
    st.number_input("Data seed", min_value=1, max_value=10_000, step=1, key="seed",
                    help="Same scenario and seed give exactly the same synthetic records.")
    st.toggle("Facilitator mode", key="facilitator_mode", help="Larger text for the projector; presenter notes.")
if st.session_state.get("facilitator_mode"):
    st.markdown(FACILITATOR_CSS, unsafe_allow_html=True)
if "role" in st.session_state:  # keep the role chosen on Home while other pages are shown
    st.session_state["role"] = st.session_state["role"]

st.navigation(pages).run()
