"""Run: pick a computation, run it with one real MPyC process per organisation, see the result."""

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from sandbox.datasets import ensure_dataset
from sandbox.mpc import computations
from sandbox.mpc.runner import run_mpc
from sandbox.results import own_slices, revealed_table, slices_table
from sandbox.ui import (
    _,
    big_layout,
    comp_reveals,
    comp_summary,
    comp_title,
    current_scenario,
    dec,
    job_manager,
    local_columns,
    ngettext,
    num,
    org_colours,
    synthetic_banner,
    what_it_means,
)

st.title(_("Run a joint computation"))
synthetic_banner()
scenario = current_scenario()
if scenario is None:
    st.stop()

names = [n for n in computations.names() if not computations.get(n).needs_params]
default = names.index("counts-by-form") if "counts-by-form" in names else 0
choice = st.selectbox(_("Computation"), names, index=default, key="run_computation",
                      format_func=lambda n: f"{comp_title(computations.get(n))}  ({n})")
comp = computations.get(choice)
st.write(comp_summary(comp))
st.info(_("**What is revealed:** {reveals}").format(reveals=comp_reveals(comp)))

orgs = st.multiselect(_("Organisations taking part"), scenario.org_ids, default=scenario.org_ids, key="run_orgs")
col1, col2 = st.columns(2)
max_t = max(1, (len(orgs) - 1) // 2)
threshold = col1.selectbox(_("Collusion threshold t (a coalition of t learns nothing)"), list(range(1, max_t + 1)),
                           index=max_t - 1, key="run_threshold")
min_cell = col2.number_input(_("Small-cell threshold (cells below are suppressed inside MPC)"), 0, 1000,
                             value=scenario.disclosure.min_cell, key="run_min_cell")

manager = job_manager()
seed = int(st.session_state.get("seed", 1))


def start_job() -> None:
    scn, chosen, t, mc, comp_name = scenario, list(orgs), int(threshold), int(min_cell), choice
    # The job runs in a worker thread, outside this script run: its messages are translated here, in advance.
    preparing = _("preparing synthetic data")
    computing = _("{n} parties computing over TCP").format(n=len(chosen))

    def work(job):
        job.message, job.progress = preparing, 0.05
        folder = ensure_dataset(scn, seed=seed, isolate=True)  # not in this web server (see datasets.py)
        job.message, job.progress = computing, 0.3
        result = run_mpc(scn, folder, comp_name, orgs=chosen, threshold=t, params={"min_cell": mc},
                         cancel=job.cancel, timeout=180, nice=19)
        return {"run": result.to_json(), "data_dir": str(folder), "params": {"min_cell": mc}}

    if len(orgs) < 3:
        st.error(_("Choose at least three organisations: with two, Shamir secret sharing hides nothing "
                   "(an honest majority needs three parties; real projects add an independent third party)."))
        return
    st.session_state["run_job"] = manager.submit(_("{name} ({n} parties)").format(name=comp_name, n=len(chosen)),
                                                 work)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_own_slices(data_dir: str, orgs: tuple[str, ...], computation: str, params_json: str) -> pd.DataFrame:
    """Each organisation's own counts: read its file once per result, not on every rerun."""
    return own_slices(data_dir, list(orgs), computation, json.loads(params_json))


st.button(_("Run with MPC"), type="primary", key="run_start", on_click=start_job)

_job = manager.get(st.session_state.get("run_job"))
# Poll the job: every second while it runs, every 2 s while it waits in the queue. Each poll is a small
# rerun on the one web-server process, so with 20 users polling faster would itself slow the room down.
# (A fragment's interval is fixed by the page's full run; when the job ends, the status reruns the page.)
_poll = None if _job is None or not _job.active else (1.0 if _job.state == "running" else 2.0)


@st.fragment(run_every=_poll)
def job_status() -> None:
    """The job's state, polled while the job is active."""
    job = manager.get(st.session_state.get("run_job"))
    if job is None:
        st.caption(_("Press **Run with MPC** to start one process per organisation."))
        return
    if job.active:
        ahead = manager.position(job.id) if job.state == "queued" else 0
        label = f"{job.label}: {job.message}" + (" (" + ngettext("{n} job ahead", "{n} jobs ahead", ahead).format(
            n=ahead) + ")" if ahead else "")
        with st.status(label, state="running"):
            st.progress(job.progress)
        if st.button(_("Cancel"), key="run_cancel"):
            manager.cancel(job.id)
        return
    if st.session_state.get("last_run_job") != job.id:  # the job has just ended: once per job
        st.session_state["last_run_job"] = job.id
        if job.state == "done":
            st.session_state["last_run"] = job.result["run"]
            st.session_state["data_dir"] = job.result["data_dir"]
            st.session_state["last_run_params"] = job.result["params"]
            if job.result["run"]["computation"] == "capture-patterns":  # input for the Size estimate page
                truth = json.loads((Path(job.result["data_dir"]) / "ground_truth.json").read_text())
                st.session_state["capture_patterns"] = {"lists": job.result["run"]["parties"],
                                                        "patterns": job.result["run"]["revealed"],
                                                        "true_population": truth.get("population")}
        st.rerun()  # the whole page: draws the result and ends the polling
    if job.state in {"error", "cancelled"}:
        st.error(_("The run did not finish: {error}").format(error=job.error))


job_status()

run = st.session_state.get("last_run")
if run:
    st.subheader(_("Result opened to every organisation"))
    ok = run.get("match")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(_("Parties"), len(run["parties"]))
    c2.metric(_("Seconds"), dec(run["seconds"], 2))
    c3.metric(_("Bytes sent (max party)"), num(max(run["bytes_sent"].values())))
    c4.metric(_("Check against plaintext"), _("match") if ok else _("MISMATCH"))
    table = revealed_table(run["revealed"], run.get("oracle"))
    shown = table.dropna(subset=["revealed"])
    if len(shown) > 40:
        shown = shown.sort_values("revealed", ascending=False).head(40)
    # graph_objects, not plotly.express: a finished job reruns this page for every user at about the same
    # time, and px.bar costs the shared web server about ten times more (34 vs 3.6 ms for the grouped chart)
    fig = go.Figure(go.Bar(x=shown["cell"], y=shown["revealed"], marker_color="#0b5394"))
    fig.update_layout(title=_("Revealed: {title}").format(title=comp_title(computations.get(run["computation"]))),
                      xaxis_title=_("cell"), yaxis_title=_("revealed"))
    st.plotly_chart(big_layout(fig), key="run_revealed_chart")
    if run.get("suppressed"):
        st.warning(ngettext("{n} cell was below the small-cell threshold and was never opened: ",
                            "{n} cells were below the small-cell threshold and were never opened: ",
                            len(run["suppressed"])).format(n=len(run["suppressed"]))
                   + ", ".join(map(str, run["suppressed"][:20])) + ("…" if len(run["suppressed"]) > 20 else ""))
    what_it_means(_("everyone sees these totals and nothing else; your own numbers stayed with you."))

    try:
        if run.get("own_counts"):  # computed by the run's check process, outside this web server
            slices = slices_table(run["own_counts"])
        else:
            slices = cached_own_slices(st.session_state["data_dir"], tuple(run["parties"]), run["computation"],
                                       json.dumps(st.session_state.get("last_run_params", {}), sort_keys=True))
    except Exception as exc:
        slices = pd.DataFrame()
        st.caption(_("(own slices not available: {error})").format(error=exc))
    if not slices.empty:
        slices = slices[slices["cell"].isin(shown["cell"])]
        colours = org_colours(scenario)
        fig = go.Figure([go.Bar(x=part["cell"], y=part["count"], name=org, marker_color=colours.get(org))
                         for org, part in slices.groupby("organisation", sort=False)])
        fig.update_layout(barmode="group", title=_("Each organisation's own slice (each sees only its own bar)"),
                          xaxis_title=_("cell"), yaxis_title=_("count"), legend_title_text=_("organisation"))
        st.plotly_chart(big_layout(fig), key="run_slices_chart")
    with st.expander(_("Check panel: the same figure computed in the clear (sandbox only)")):
        st.dataframe(local_columns(table), hide_index=True, key="run_check_table")
        st.caption(_("A real deployment has no such check: nobody holds the pooled data. Here it proves the MPC "
                     "result is exactly what a trusted party would have computed."))
