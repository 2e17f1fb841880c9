"""Timeline page: how long one MPC run takes, and how long the whole project takes (thin UI)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from sandbox.scenario import load_scenario
from sandbox.timeline import (
    NETWORKS,
    GovernancePlan,
    NetworkProfile,
    computation_names,
    default_plan,
    forecast,
    load_calibration,
    scaling,
    simulate_project,
)
from sandbox.timeline.project import WORKING_DAYS_PER_MONTH
from sandbox.ui import T, _, dec, error_text, num, pct, separators

FONT = {"size": 18}
COLOURS = {"compute": "#1f4e9c", "latency": "#e76f51", "bandwidth": "#f4a261", "startup": "#9b5de5"}
RECORD_STEPS = [100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000]


@st.cache_data(show_spinner=False, max_entries=64)
def _scaling_all(computation: str, parties: int, custom: tuple | None) -> pd.DataFrame:
    nets = list(NETWORKS.values()) + ([NetworkProfile.custom(*custom)] if custom else [])
    return pd.concat([scaling(computation, parties, n) for n in nets], ignore_index=True)


@st.cache_data(show_spinner=False, max_entries=16)
def _project(plan_json: str, org_ids: tuple[str, ...], runs: int, seed: int):
    return simulate_project(
        GovernancePlan.model_validate_json(plan_json), list(org_ids), runs=runs, seed=seed
    )


def _network_descriptions() -> dict[str, str]:
    return {
        "loopback": _("all parties on one machine (the sandbox itself)"),
        "lan": _("one office network"),
        "nl-organisations": _("organisations across the Netherlands (VPN/internet)"),
        "cross-cloud": _("servers in different cloud data centres"),
        "laptop-4g": _("a laptop on a 4G mobile connection"),
    }


def _parts() -> dict[str, str]:
    return {"compute": _("compute"), "latency": _("latency"), "bandwidth": _("bandwidth"),
            "startup": _("start-up")}


def _predicts_text(f, parties: int, network) -> str:
    """What the forecast predicts, in this language (sandbox.timeline says it in English: f.predicts)."""
    if f.command_seconds is not None:
        relay = " through the delaying relay" in f.predicts
        text = (_("the wall time of `mpc-sandbox run` with {n} parties on this machine through the delaying relay")
                if relay else _("the wall time of `mpc-sandbox run` with {n} parties on this machine"))
        return text.format(n=parties)
    if network.host_cores:
        return _("the protocol run of {n} parties sharing one {cores}-core machine (per-party start-up included; "
                 "not the command's own start-up or the plaintext check)").format(n=parties, cores=network.host_cores)
    return _("the protocol run of every party, each on a machine of its own (start-up included)")


def _protocol_section() -> None:
    st.header(_("One MPC run"))
    cal = load_calibration()
    st.caption(
        _("A simulation of the parties exchanging messages round after round, with costs measured on real "
          "MPyC runs of this sandbox (`make bench` refits them) and checked against runs through delaying "
          "relays.") + " "
        + (_("Calibration: {measured_on}").format(measured_on=cal["measured_on"]) if cal.get("status") == "fitted"
           else _("Calibration is provisional: hand-derived, not yet refitted from real runs."))
    )
    descriptions, parts = _network_descriptions(), _parts()
    names = computation_names()
    c1, c2 = st.columns(2)
    computation = c1.selectbox(_("Computation"), names, key="tl_computation")
    network_name = c2.selectbox(
        _("Network"),
        [*NETWORKS, "custom"],
        index=2,
        key="tl_network",
        format_func=lambda n: (f"{n}: {descriptions.get(n, NETWORKS[n].description)}" if n in NETWORKS
                               else _("custom values")),
    )
    records = c1.select_slider(_("Records per organisation"), RECORD_STEPS, value=10_000, key="tl_records",
                               format_func=num)
    parties = c2.slider(_("Parties (organisations)"), 2, 7, 6, key="tl_parties")
    custom = None
    if network_name == "custom":
        k1, k2, k3, k4 = st.columns(4)
        custom = (
            k1.number_input(_("Latency, one way (ms)"), 0.0, 2000.0, 20.0, key="tl_latency"),
            k2.number_input(_("Bandwidth (Mbit/s)"), 0.1, 100_000.0, 50.0, key="tl_bandwidth"),
            k3.number_input(_("Jitter (ms)"), 0.0, 1000.0, 2.0, key="tl_jitter"),
            int(k4.number_input(_("All parties on one machine with … cores (0 = a machine each)"), 0, 256, 0,
                                key="tl_host_cores")) or None,
        )
        network = NetworkProfile.custom(*custom)
    else:
        network = NETWORKS[network_name]

    f = forecast(computation, records, parties, network)
    m1, m2, m3 = st.columns(3)
    wait = f.command_seconds if f.command_seconds is not None else f.predicted_seconds  # what the user waits for
    m1.metric(_("Expected duration"), f"{dec(wait, 1)} s")
    m2.metric(_("Rounds (messages per peer)"), num(f.rounds))
    m3.metric(_("Data sent per party"), f"{dec(f.bytes_per_party / 1e6, 2)} MB")
    predicts = _predicts_text(f, parties, network)
    if f.command_seconds is not None:
        st.caption(_("Predicts {what}: {seconds} s of it is start-up, each party reading its own file and the "
                     "plaintext check (fitted on measured commands); the chart below is the protocol itself.").format(
            what=predicts, seconds=dec(f.command_overhead_seconds, 1)))
    else:
        st.caption(_("Predicts {what}.").format(what=predicts))
    fig = go.Figure(
        [
            go.Bar(
                y=[_("this run")],
                x=[v],
                name=parts.get(k, k),
                orientation="h",
                marker_color=COLOURS[k],
                hovertemplate=f"{parts.get(k, k)}: %{{x:.2f}} s<extra></extra>",
            )
            for k, v in f.breakdown.items()
        ]
    )
    fig.update_layout(
        barmode="stack", height=220, font=FONT, xaxis_title=_("seconds"), margin={"t": 30, "b": 40}
    )
    st.plotly_chart(fig, key="tl_breakdown_chart")
    biggest = max(f.breakdown, key=f.breakdown.get)
    st.markdown(
        _("**What this means for your organisation:** on this network most of the time goes to "
          "**{part}**.").format(part=parts.get(biggest, biggest)) + " "
        + {
            "latency": _("Many short back-and-forth rounds: a faster connection will hardly help, "
                         "a closer one will."),
            "bandwidth": _("Large transfers: a faster upload connection would shorten the run."),
            "compute": _("The computers themselves are the bottleneck: faster machines or fewer records help."),
            "startup": _("Starting the programs dominates; the computation itself is quick."),
        }[biggest]
    )

    df = _scaling_all(computation, parties, custom)
    fig2 = go.Figure()
    for name, part in df.groupby("network", sort=False):
        fig2.add_scatter(
            x=part["records"],
            y=part["predicted_seconds"],
            mode="lines+markers",
            name=name,
            line={"width": 5 if name == network.name else 2},
        )
    fig2.update_layout(
        font=FONT,
        height=460,
        xaxis={"type": "log", "title": _("records per organisation")},
        yaxis={"type": "log", "title": _("expected seconds")},
        legend_title=_("network"),
        title=_("{computation} with {parties} parties").format(computation=computation, parties=parties),
        separators=separators(),
    )
    st.plotly_chart(fig2, key="tl_scaling_chart")
    st.caption(_("Both axes are logarithmic: each step to the right is three to ten times more records."))
    st.download_button(
        _("Download scaling table (CSV)"),
        df.to_csv(index=False),
        "timeline-scaling.csv",
        "text/csv",
        key="tl_dl_scaling",
        on_click="ignore",
    )


def _project_section() -> None:
    st.header(_("The whole project"))
    name = st.session_state.get("scenario_name", "nl-baseline")
    scenario = load_scenario(name)
    plan = scenario.governance or default_plan()
    st.caption(
        (_("Scenario **{title}** ({n} organisations). Phases, durations and risks come from the scenario file.")
         if scenario.governance else
         _("Scenario **{title}** ({n} organisations). Phases, durations and risks come from the scenario file "
           "(none given: the default plan).")).format(title=T(scenario.title), n=len(scenario.org_ids))
        + " " + _("Source: {source}").format(source=T(plan.source))
    )
    c1, c2 = st.columns(2)
    runs = c1.slider(_("Simulated projects"), 100, 2000, 500, step=100, key="tl_runs")
    seed = int(c2.number_input(_("Seed"), 0, 1_000_000, 0, key="tl_seed"))
    titles = sorted(((str(ph.title), T(ph.title)) for ph in plan.phases), key=lambda p: -len(p[0]))

    def phase_label(text: str) -> str:
        for english, shown in titles:
            text = text.replace(english, shown)
        return text.replace("(rework ", _("(rework ")).replace("(round ", _("(round "))
    r = _project(plan.model_dump_json(), tuple(scenario.org_ids), runs, seed)

    m = st.columns(4)
    for col, label, days in zip(
        m,
        [_("Naive plan"), "P50", "P80", "P90"],
        [r.naive_days, r.p50_days, r.p80_days, r.p90_days],
        strict=True,
    ):
        col.metric(
            label, _("{days} days").format(days=num(days)),
            _("≈ {months} months").format(months=dec(days / WORKING_DAYS_PER_MONTH, 1)), delta_color="off"
        )
    st.markdown(_(
        "**What this means for your organisation:** the plan that adds up the most likely durations says "
        "**{naive} working days**; in 8 out of 10 simulated projects it took up to "
        "**{p80}** ({factor} × the plan). Only "
        "{share} finished within the naive plan. "
        "Waiting for shared lawyers, organisations "
        "pausing and questions from the regulator add up."
    ).format(naive=num(r.naive_days), p80=num(r.p80_days), factor=dec(r.p80_days / r.naive_days, 1),
             share=pct(r.share_within_naive)))

    g = r.gantt
    fig = go.Figure()
    kinds = {"work": "#1f4e9c", "waiting for team": "#bbbbbb", "pause": "#f4a261", "rework": "#e76f51"}
    kind_names = {"work": _("work"), "waiting for team": _("waiting for team"), "pause": _("pause"),
                  "rework": _("rework")}
    labels = [f"{phase_label(p)} · {o}" for p, o in zip(g["phase"], g["org"], strict=True)]
    for kind, colour in kinds.items():
        sel = g["kind"] == kind
        if sel.any():
            fig.add_bar(
                y=[lbl for lbl, s in zip(labels, sel, strict=True) if s],
                x=g.loc[sel, "duration"],
                base=g.loc[sel, "start"],
                orientation="h",
                name=kind_names[kind],
                marker_color=colour,
                marker_line={"width": [3 if c else 0 for c in g.loc[sel, "critical"]], "color": "black"},
            )
    fig.update_layout(
        font=FONT,
        height=max(420, 26 * len(set(labels))),
        barmode="overlay",
        xaxis_title=_("working days from the start"),
        yaxis={
            "autorange": "reversed",
            "categoryorder": "array",
            "categoryarray": list(dict.fromkeys(labels)),
        },
        title=_("One representative project (the median run); outlined = critical path"),
        separators=separators(),
    )
    st.plotly_chart(fig, key="tl_gantt_chart")

    hist = go.Figure(go.Histogram(x=r.completion_days, nbinsx=40, marker_color="#4c9be8", name=_("projects")))
    for label, x, colour in [
        (_("naive plan"), r.naive_days, "black"),
        ("P50", r.p50_days, "#2a9d8f"),
        ("P80", r.p80_days, "#e76f51"),
        ("P90", r.p90_days, "#9b5de5"),
    ]:
        hist.add_vline(
            x=x,
            line_width=3,
            line_dash="dash" if x == r.naive_days and colour == "black" else "solid",
            line_color=colour,
            annotation_text=label,
            annotation_font_size=16,
        )
    hist.update_layout(
        font=FONT, height=420, xaxis_title=_("working days to finish"), yaxis_title=_("simulated projects"),
        separators=separators(),
    )
    st.plotly_chart(hist, key="tl_hist_chart")

    st.subheader(_("Critical path (median run)"))
    st.markdown("\n".join(f"{i}. {phase_label(step)}" for i, step in enumerate(r.critical_path, 1)))
    st.caption(_("The chain of steps that set the end date: speeding up anything else would not have helped."))

    d1, d2 = st.columns(2)
    d1.download_button(
        _("Download completion days (CSV)"),
        pd.DataFrame({"run": range(r.runs), "working_days": r.completion_days}).to_csv(index=False),
        "project-completion.csv",
        "text/csv",
        key="tl_dl_runs",
        on_click="ignore",
    )
    d2.download_button(
        _("Download Gantt table (CSV)"),
        g.to_csv(index=False),
        "project-gantt.csv",
        "text/csv",
        key="tl_dl_gantt",
        on_click="ignore",
    )


st.title(_("How long will it take?"))
st.caption(_("Two forecasts: the minutes a computation takes, and the months the project around it takes."))
for section in (_protocol_section, _project_section):
    try:
        section()
    except Exception as exc:  # the page must never show a traceback
        st.error(_("This part could not be computed: {error}").format(error=error_text(exc)))
