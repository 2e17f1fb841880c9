"""Run: pick a computation, run it with one real MPyC process per organisation, see the result."""

import json
import time
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from sandbox.datasets import ensure_dataset
from sandbox.mpc import computations
from sandbox.mpc.runner import run_mpc
from sandbox.results import own_slices, revealed_table, slices_table
from sandbox.ui import (
    DQ_TEXT,
    N_,
    _,
    big_layout,
    cell_text,
    comp_reveals,
    comp_summary,
    comp_title,
    current_scenario,
    dec,
    designed_query_form,
    error_text,
    job_manager,
    join_opened_caption,
    local_columns,
    ngettext,
    num,
    org_colours,
    org_names,
    synthetic_banner,
    what_it_means,
)

st.title(_("Run a joint computation"))
synthetic_banner()
scenario = current_scenario()
if scenario is None:
    st.stop()

# ------------------------------------------------------------------ the query designer (issue 19)
# The designer's widgets and texts live in sandbox/ui.py (the Room uses them too); the Run page's own texts:
DQ_RUN_TEXT = {
    "history": N_("Answered earlier in this session (a new query with the same group-by and measure but other "
                  "filters is first checked against each of them inside MPC):"),
    "refused": N_("Refused by the differencing protection: compared with {label}, the two answers differ by too "
                  "few records (decided inside MPC; only this yes/no was opened). {tells}"),
    "checks": N_("Differencing checks before this query ran (one opened bit each):"),
}


def designed_history(scn_name: str, seed_: int, chosen: list[str]) -> list[tuple[str, dict]]:
    """The designed queries answered earlier in this session on the same data and organisations."""
    return [(h["label"], h["query"]) for h in st.session_state.get("dq_history", [])
            if h["scenario"] == scn_name and h["seed"] == seed_ and sorted(h["orgs"]) == sorted(chosen)]


mode = st.radio(_(DQ_TEXT["mode"]), DQ_TEXT["modes"], horizontal=True, key="run_mode", format_func=_)
designing = mode == DQ_TEXT["modes"][1]
designed_query: dict | None = None
if designing:
    choice = "designed-query"
    comp = computations.get(choice)
    designed_query, _designed_error = designed_query_form(scenario.disclosure.min_cell, key="dq")
else:
    names = [n for n in computations.names() if not computations.get(n).needs_params]
    default = names.index("counts-by-form") if "counts-by-form" in names else 0
    choice = st.selectbox(_("Computation"), names, index=default, key="run_computation",
                          format_func=lambda n: f"{comp_title(computations.get(n))}  ({n})")
    comp = computations.get(choice)
    st.write(comp_summary(comp))
    st.info(_("**What is revealed:** {reveals}").format(reveals=comp_reveals(comp)))

org_name = org_names(scenario)
orgs = st.multiselect(_("Organisations taking part"), scenario.org_ids, default=scenario.org_ids, key="run_orgs",
                      format_func=lambda o: org_name.get(o, o))
col1, col2 = st.columns(2)
max_t = max(1, (len(orgs) - 1) // 2)
threshold = col1.selectbox(_("Collusion threshold t (a coalition of t learns nothing)"), list(range(1, max_t + 1)),
                           index=max_t - 1, key="run_threshold")
if designing:  # the query carries its own threshold (above)
    min_cell = int(st.session_state.get("dq_min_cell", scenario.disclosure.min_cell))
else:
    min_cell = col2.number_input(_("Small-cell threshold (cells below are suppressed inside MPC)"), 0, 1000,
                                 value=scenario.disclosure.min_cell, key="run_min_cell")
if designing:
    _earlier = designed_history(scenario.name, int(st.session_state.get("seed", 1)), list(orgs))
    if _earlier:
        st.caption(_(DQ_RUN_TEXT["history"]) + " " + "; ".join(f"{label}: {json.dumps(q, ensure_ascii=False)}"
                                                          for label, q in _earlier))

extra = {}
if choice == "capture-patterns-by":  # the covariates a person's levels are taken from (first organisation wins)
    from sandbox.mpc.overlap_catalogue import COVARIATES, DEFAULT_COVARIATES

    extra["covariates"] = st.multiselect(_("Covariates (levels per person, decided inside MPC)"), list(COVARIATES),
                                         default=list(DEFAULT_COVARIATES), key="run_covariates")

manager = job_manager()
seed = int(st.session_state.get("seed", 1))


def start_job() -> None:
    scn, chosen, t, mc, comp_name = scenario, list(orgs), int(threshold), int(min_cell), choice
    query = designed_query
    params = {"min_cell": mc, **extra}
    # The job runs in a worker thread, outside this script run: its messages are translated here, in advance.
    preparing = _("preparing synthetic data")
    computing = _("{n} parties computing over TCP").format(n=len(chosen))
    checking = _("result opened; checking it against the plaintext (sandbox only)")

    def work(job):
        job.message, job.progress = preparing, 0.05
        folder = ensure_dataset(scn, seed=seed, isolate=True)  # not in this web server (see datasets.py)
        job.message, job.progress = computing, 0.3
        if comp_name == "designed-query":
            return designed_work(scn, folder, query, chosen, t, mc, earlier, seed, job, checks_message)
        result = run_mpc(scn, folder, comp_name, orgs=chosen, threshold=t, params=params,
                         cancel=job.cancel, timeout=180, nice=19, check="later")
        # The opened result is shown at once; the plaintext check (sandbox only) follows when it is done.
        job.partial = {"run": result.to_json(), "data_dir": str(folder), "params": params}
        job.message, job.progress = checking, 0.9
        result.finish_check(timeout=180)
        return {"run": result.to_json(), "data_dir": str(folder), "params": params}

    if comp_name == "designed-query":
        st.session_state.pop("dq_refused", None)
        st.session_state.pop("dq_checks", None)
        if query is None:
            st.error(_("Fix the query first (the message above says what is wrong)."))
            return
        earlier = designed_history(scn.name, seed, chosen)
        checks_message = ngettext("differencing checks against {n} earlier query, then the query",
                                  "differencing checks against {n} earlier queries, then the query",
                                  len(earlier)).format(n=len(earlier))
    if comp_name == "capture-patterns-by" and not extra.get("covariates"):
        st.error(_("Choose at least one covariate."))
        return

    if len(orgs) < 3:
        st.error(_("Choose at least three organisations: with two, Shamir secret sharing hides nothing "
                   "(an honest majority needs three parties; real projects add an independent third party)."))
        return
    st.session_state["run_job"] = manager.submit(_("{name} ({n} parties)").format(name=comp_name, n=len(chosen)),
                                                 work)


def designed_work(scn, folder, query, chosen, t, mc, earlier, data_seed, job, checks_message="") -> dict:
    """A designed query in a job: the differencing checks (one opened bit each), then the query itself."""
    from sandbox.mpc.differencing import run_designed_query

    if earlier:
        job.message = checks_message
    outcome = run_designed_query(scn, folder, query, orgs=chosen, earlier=earlier, min_cell=mc, threshold=t,
                                 cancel=job.cancel, timeout=180, nice=19)
    checks = [{"label": c.earlier_label, "earlier": c.earlier, "approved": c.approved, "match": c.match}
              for c in outcome.checks]
    return {"run": outcome.run, "data_dir": str(folder), "params": {"min_cell": mc, "query": outcome.query},
            "designed": {"query": outcome.query, "checks": checks, "orgs": chosen, "scenario": scn.name,
                         "seed": data_seed}}


def remember_designed(result: dict) -> None:
    """After a designed-query job: keep an answered query in the session's history, or show the refusal."""
    designed = result["designed"]
    st.session_state["dq_checks"] = designed["checks"]
    refused = next((c for c in designed["checks"] if not c["approved"]), None)
    st.session_state["dq_refused"] = refused
    if refused is None:
        history = st.session_state.setdefault("dq_history", [])
        history.append({"label": _("query {name}").format(name=len(history) + 1), "query": designed["query"],
                        "orgs": designed["orgs"], "scenario": designed["scenario"], "seed": designed["seed"]})


@st.cache_data(show_spinner=False, max_entries=16)
def cached_own_slices(data_dir: str, orgs: tuple[str, ...], computation: str, params_json: str) -> pd.DataFrame:
    """Each organisation's own counts: read its file once per result, not on every rerun."""
    return own_slices(data_dir, list(orgs), computation, json.loads(params_json))


st.button(_("Run with MPC"), type="primary", key="run_start", on_click=start_job)

_job = manager.get(st.session_state.get("run_job"))
# Poll the job. A workshop run takes about a second, so for its first seconds (and while it is next in the
# queue) the page looks 4 times a second: polling once a second kept the result waiting half a second on
# average after it was open. Later every second while it runs, every 2 s while jobs are ahead of it. Each
# poll is a small rerun on the one web-server process, and with 20 users most jobs wait in the queue, so
# only the few that run or are next poll fast. (A fragment's interval is fixed by the page's full run;
# when the job ends, the status reruns the page.)
_FAST_POLL_SECONDS = 5.0


def _poll_interval(job) -> float | None:
    if job is None or not job.active:
        return None
    if job.state == "running":
        return 0.25 if time.time() - (job.started or 0.0) < _FAST_POLL_SECONDS else 1.0
    return 0.25 if manager.position(job.id) == 0 else 2.0


_poll = _poll_interval(_job)


def _keep_run(done: dict) -> None:
    """Make a run's result the one this session shows (and the Size estimate page's input)."""
    st.session_state["last_run"] = done["run"]
    st.session_state["data_dir"] = done["data_dir"]
    st.session_state["last_run_params"] = done["params"]
    if done["run"]["computation"] == "capture-patterns":  # input for the Size estimate page
        truth = json.loads((Path(done["data_dir"]) / "ground_truth.json").read_text())
        st.session_state["capture_patterns"] = {"lists": done["run"]["parties"], "patterns": done["run"]["revealed"],
                                                "true_population": truth.get("population")}
    if done["run"]["computation"] == "capture-patterns-by":  # for a size estimate with covariates
        st.session_state["capture_patterns_by"] = {"lists": done["run"]["parties"],
                                                   "covariates": done["params"]["covariates"],
                                                   "revealed": done["run"]["revealed"],
                                                   "suppressed": done["run"]["suppressed"],
                                                   "data_dir": done["data_dir"]}


@st.fragment(run_every=_poll)
def job_status() -> None:
    """The job's state, polled while the job is active."""
    job = manager.get(st.session_state.get("run_job"))
    if job is None:
        st.caption(_("Press **Run with MPC** to start one process per organisation."))
        return
    if job.active and job.partial is not None and st.session_state.get("partial_run_job") != job.id:
        st.session_state["partial_run_job"] = job.id  # the result is open: show it now, the check follows
        _keep_run(job.partial)
        st.rerun()
    if job.active:
        ahead = manager.position(job.id) if job.state == "queued" else 0
        label = f"{job.label}: {error_text(job.message)}" + (
            " (" + ngettext("{n} job ahead", "{n} jobs ahead", ahead).format(n=ahead) + ")" if ahead else "")
        with st.status(label, state="running"):
            st.progress(job.progress)
        if st.button(_("Cancel"), key="run_cancel"):
            manager.cancel(job.id)
        return
    if st.session_state.get("last_run_job") != job.id:  # the job has just ended: once per job
        st.session_state["last_run_job"] = job.id
        if job.state == "done" and job.result.get("designed"):
            remember_designed(job.result)
        if job.state == "done" and job.result["run"] is not None:
            _keep_run(job.result)
        st.rerun()  # the whole page: draws the result and ends the polling
    if job.state in {"error", "cancelled"}:
        st.error(_("The run did not finish: {error}").format(error=error_text(job.error)))


job_status()

if designing and st.session_state.get("dq_refused"):
    from sandbox.mpc.differencing import REFUSAL_TELLS

    st.error(_(DQ_RUN_TEXT["refused"]).format(label=st.session_state["dq_refused"]["label"],
                                              tells=error_text(REFUSAL_TELLS)))
if designing and st.session_state.get("dq_checks"):
    st.caption(_(DQ_RUN_TEXT["checks"]) + " " + "; ".join(
        f"{c['label']}: {_('approved') if c['approved'] else _('refused')}"
        f" ({_('check matches') if c['match'] else _('check MISMATCH')})" for c in st.session_state["dq_checks"]))

run = st.session_state.get("last_run")
if run:
    st.subheader(_("Result opened to every organisation"))
    ok = run.get("match")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(_("Parties"), len(run["parties"]))
    c2.metric(_("Seconds"), dec(run["seconds"], 2))
    c3.metric(_("Bytes sent (max party)"), num(max(run["bytes_sent"].values())))
    check = run.get("check", "match" if ok else "mismatch")
    verdict = {"match": _("match"), "pending": _("checking…"), "off": _("off")}.get(check, _("MISMATCH"))
    c4.metric(_("Check against plaintext"), verdict,
              help=(_("The same figure computed in the clear from the pooled files (sandbox only). The result is "
                      "shown as soon as the parties have opened it; the check follows {seconds} s later.").format(
                        seconds=dec(run["check_seconds"], 1)) if run.get("check_seconds") is not None else
                    _("The same figure computed in the clear from the pooled files (sandbox only). The result is "
                      "shown as soon as the parties have opened it; the check follows.")))
    table = revealed_table(run["revealed"], run.get("oracle"))
    shown = table.dropna(subset=["revealed"])
    if len(shown) > 40:
        shown = shown.sort_values("revealed", ascending=False).head(40)
    # graph_objects, not plotly.express: a finished job reruns this page for every user at about the same
    # time, and px.bar costs the shared web server about ten times more (34 vs 3.6 ms for the grouped chart)
    fig = go.Figure(go.Bar(x=[cell_text(c) for c in shown["cell"]], y=shown["revealed"], marker_color="#0b5394"))
    fig.update_layout(title=_("Revealed: {title}").format(title=comp_title(computations.get(run["computation"]))),
                      xaxis_title=_("cell"), yaxis_title=_("revealed"))
    st.plotly_chart(big_layout(fig), key="run_revealed_chart")
    if run.get("suppressed"):
        st.warning(ngettext("{n} cell was below the small-cell threshold and was never opened: ",
                            "{n} cells were below the small-cell threshold and were never opened: ",
                            len(run["suppressed"])).format(n=len(run["suppressed"]))
                   + ", ".join(cell_text(str(c)) for c in run["suppressed"][:20])
                   + ("…" if len(run["suppressed"]) > 20 else ""))
    if run["computation"] == "designed-query":
        from sandbox.mpc.query import compile_query
        from sandbox.results import designed_table

        query_run = st.session_state.get("last_run_params", {}).get("query")
        if query_run:
            st.markdown(_("**The answer, cell by cell** (suppressed cells were never opened):"))
            st.dataframe(local_columns(designed_table(run, compile_query(query_run).cells)), hide_index=True,
                         key="run_designed_table")
        join_opened_caption(run)
    what_it_means(_("everyone sees these totals and nothing else; your own numbers stayed with you."))

    try:
        if check == "pending":  # the slices come from the check process: they arrive with the check
            slices = pd.DataFrame()
            st.caption(_("Each organisation's own slice appears here when the plaintext check is done."))
        elif run.get("own_counts"):  # computed by the run's check process, outside this web server
            slices = slices_table(run["own_counts"])
        else:
            slices = cached_own_slices(st.session_state["data_dir"], tuple(run["parties"]), run["computation"],
                                       json.dumps(st.session_state.get("last_run_params", {}), sort_keys=True))
    except Exception as exc:
        slices = pd.DataFrame()
        st.caption(_("(own slices not available: {error})").format(error=error_text(exc)))
    if not slices.empty:
        slices = slices[slices["cell"].isin(shown["cell"])]
        colours = org_colours(scenario)
        fig = go.Figure([go.Bar(x=[cell_text(c) for c in part["cell"]], y=part["count"], name=org,
                                marker_color=colours.get(org))
                         for org, part in slices.groupby("organisation", sort=False)])
        fig.update_layout(barmode="group", title=_("Each organisation's own slice (each sees only its own bar)"),
                          xaxis_title=_("cell"), yaxis_title=_("count"), legend_title_text=_("organisation"))
        st.plotly_chart(big_layout(fig), key="run_slices_chart")
    with st.expander(_("Check panel: the same figure computed in the clear (sandbox only)")):
        st.dataframe(local_columns(table), hide_index=True, key="run_check_table")
        st.caption(_("A real deployment has no such check: nobody holds the pooled data. Here it proves the MPC "
                     "result is exactly what a trusted party would have computed."))
