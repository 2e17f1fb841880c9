"""Report: download what happened in this workshop as HTML (interactive charts) or PDF (thin UI)."""

import streamlit as st

from sandbox.timeline import default_plan, simulate_project
from sandbox.ui import T, _, current_scenario, lang, synthetic_banner, what_it_means
from sandbox.workshop.report import collect, to_html, to_pdf
from sandbox.workshop.room import RoomStore

st.title(_("Workshop report"))
synthetic_banner()
scenario = current_scenario()
if scenario is None:
    st.stop()

code = st.session_state.get("room_code")
done = st.session_state.get("script_done", [])
run = st.session_state.get("last_run")
st.markdown(
    _("The report covers **{title}**: {done} of {steps} script steps visited, ").format(
        title=T(scenario.title), done=len(done), steps=len(scenario.script))
    + (_("one run in this browser") if run else _("no run in this browser"))
    + (_(", and everything in room **{code}** (proposals, approvals, results, audit log).").format(code=code)
       if code else ".")
)
with_timeline = st.checkbox(_("Include the project timeline (Monte Carlo of the governance plan)"), value=True,
                            key="report_timeline")
with_charts = st.checkbox(_("Charts in the PDF (needs Chromium; adds a few seconds)"), value=True,
                          key="report_charts")

if st.button(_("Prepare the report"), key="report_prepare", type="primary"):
    with st.spinner(_("Writing the report...")):
        timeline = None
        if with_timeline:
            plan = scenario.governance or default_plan()
            timeline = simulate_project(plan, scenario.org_ids, runs=200, seed=1).summary()
        report = collect(scenario, steps_done=done, session_run=run, store=RoomStore() if code else None,
                         room_code=code, timeline=timeline, lang=lang())
        st.session_state["report_html"] = to_html(report, lang=lang())
        st.session_state["report_pdf"] = to_pdf(report, with_charts=with_charts, lang=lang())

if "report_html" in st.session_state:
    c1, c2 = st.columns(2)
    c1.download_button(_("Download report (HTML)"), st.session_state["report_html"], file_name="workshop-report.html",
                       mime="text/html", on_click="ignore", key="report_download_html", icon=":material/download:")
    c2.download_button(_("Download report (PDF)"), st.session_state["report_pdf"], file_name="workshop-report.pdf",
                       mime="application/pdf", on_click="ignore", key="report_download_pdf",
                       icon=":material/picture_as_pdf:")
    st.caption(_("The HTML file works offline and keeps the charts interactive; the PDF is for printing and "
                 "archives."))
what_it_means(_("the report lists only what was opened to everyone and who approved it; no records of any "
                "organisation are in it."))
