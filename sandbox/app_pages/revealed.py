"""What is revealed: the disclosure ledger, the collusion explorer and the disclosure playground."""

from pathlib import Path

import pandas as pd
import streamlit as st

from sandbox.ui import last_run_or_offer, synthetic_banner, what_it_means
from sandbox.views import disclosure
from sandbox.views.collusion import collusion
from sandbox.views.figures import (
    fig_attack,
    fig_candidates,
    fig_ledger,
    fig_reconstructed,
    fig_tradeoff,
    org_colours,
)
from sandbox.views.ledger import ledger, ledger_csv

EPSILONS = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]


def show_ledger(run, colours) -> None:
    st.header("1. The disclosure ledger")
    table = ledger(run)
    st.plotly_chart(fig_ledger(table, colours), key="rv_fig_ledger")
    st.dataframe(table, hide_index=True, key="rv_ledger")
    st.download_button(
        "Download the ledger (CSV)",
        ledger_csv(table),
        file_name=f"ledger-{run.computation}.csv",
        mime="text/csv",
        key="rv_ledger_csv",
        on_click="ignore",
    )
    st.markdown(
        "One row per secret value of this run, read from the parties' transcripts: each input is seen "
        "in the clear by its owner only; outputs are opened to all or withheld; intermediate protocol "
        "steps are seen by nobody."
    )
    what_it_means("the only things any other organisation learns from you are the opened joint totals.")


def show_collusion(run, colours, names) -> None:
    st.header("2. What if organisations secretly pooled their shares?")
    default = run.orgs[: run.threshold]
    coalition = st.multiselect(
        "Colluding organisations",
        run.orgs,
        default=default,
        key="rv_coalition",
        format_func=lambda o: names.get(o, o),
    )
    if not coalition:
        st.info("Choose at least one organisation.")
        return
    outsiders = [o for o in run.orgs if o not in coalition]
    if len(coalition) > run.threshold:
        result = collusion(run, coalition)
        st.warning(result.explanation)
        cells = {o: run.cells(len(v)) for o, labels in result.reconstructed.items() for v in labels.values()}
        st.plotly_chart(fig_reconstructed(result, cells, colours), key="rv_fig_reconstructed")
        checks = pd.DataFrame(
            [
                {
                    "organisation": o,
                    "reconstructed exactly (checked against its own input)": "yes" if ok else "no",
                }
                for o, ok in result.agrees_with_owners.items()
            ]
        )
        st.dataframe(checks, hide_index=True, key="rv_reconstructed_check")
        what_it_means(
            f"the protection holds only while no more than t = {run.threshold} organisations collude; "
            "that is what the governance agreement must guarantee."
        )
        return
    col1, col2 = st.columns(2)
    owner = col1.selectbox(
        "Whose value do they try to learn?",
        outsiders,
        key="rv_target_owner",
        format_func=lambda o: names.get(o, o),
    )
    label = run.share_labels()[0]
    cells = run.cells(len(run.shares_of(coalition[0], owner, label)))
    cell = col2.selectbox(
        "Which value", list(range(len(cells))), key="rv_target_cell", format_func=lambda i: cells[i]
    )
    result = collusion(run, coalition, target_owner=owner, target_label=label, target_index=int(cell))
    st.success(result.explanation)
    st.plotly_chart(fig_candidates(result, colours), key="rv_fig_candidates")
    table = pd.DataFrame(
        [
            {
                "candidate secret": c.secret,
                "consistent with the coalition's shares": "yes" if c.consistent else "no",
                "polynomials": result.polynomials_per_candidate,
                **{f"{o} would hold": str(v) for o, v in c.implied_shares.items()},
            }
            for c in result.candidates
        ]
    )
    st.dataframe(table, hide_index=True, key="rv_candidates")
    with st.expander("FACILITATOR ONLY — the true value"):
        st.write(
            f"{owner}'s true '{result.target['cell']}' is {result.target['true_value_facilitator_only']}: "
            "just one of the equally consistent candidates above."
        )
    what_it_means(
        f"even if {len(coalition)} other organisation(s) broke the agreement and pooled everything they "
        "received, every possible value of your count would fit what they hold."
    )


def show_playground(scenario, run, data_dir) -> None:
    st.header("3. Disclosure playground: a differencing attack")
    st.markdown(
        "Two harmless-looking questions: **A** = registrations in region R, **B** = registrations in "
        "region R *excluding* nationality N. If exactly one registration in R has nationality N, then "
        "A − B = 1 exposes that person. Below the queries are answered by **real MPC runs**."
    )
    frames = disclosure.load_frames(data_dir, run.orgs)
    targets = disclosure.find_targets(frames)
    if not targets:
        st.info("This dataset has no region and nationality pair with exactly one registration.")
        return
    default = next((i for i, tg in enumerate(targets) if tg.a >= 3), 0)
    col1, col2, col3 = st.columns(3)
    i = col1.selectbox(
        "Region R and nationality N",
        list(range(len(targets))),
        index=default,
        key="rv_target",
        format_func=lambda k: f"{targets[k].region} / {targets[k].nationality} (A = {targets[k].a})",
    )
    target = targets[i]
    min_cell = col2.number_input(
        "Small-cell threshold (min_cell)", 1, 100, scenario.disclosure.min_cell, key="rv_min_cell"
    )
    epsilon = col3.select_slider("Noise: epsilon", EPSILONS, value=1.0, key="rv_epsilon")
    with st.expander("FACILITATOR ONLY — the registration the attack is after"):
        st.json(target.record)
    if st.button("Run the attack with MPC (about 7 runs)", key="rv_attack"):
        with st.spinner("Running the queries with one MPyC process per organisation..."):
            st.session_state["rv_playground"] = disclosure.run_playground(
                scenario,
                data_dir,
                target,
                min_cell=int(min_cell),
                epsilon=float(epsilon),
                noise_seed=int(st.session_state.get("seed", 1)),
                orgs=run.orgs,
            )
    played = st.session_state.get("rv_playground")
    if (
        played is not None
        and played.target.region == target.region
        and played.target.nationality == target.nationality
    ):
        st.plotly_chart(fig_attack(played.outcomes), key="rv_fig_attack")
        titles = {
            "none": "(a) No protection",
            "threshold": "(b) Small-cell threshold inside MPC",
            "approval": "(c) Query-approval rule",
            "noise": "(d) Noise before opening",
        }
        for o in played.outcomes:
            box = st.error if o.success and o.protection != "noise" else st.success
            box(f"**{titles[o.protection]}** — {o.explanation}")
    st.plotly_chart(fig_tradeoff(disclosure.tradeoff(EPSILONS, parties=run.m)), key="rv_fig_tradeoff")
    st.markdown(
        "The approval rule: *a query is refused when its set of records differs from an earlier approved "
        f"query's set by at least 1 and fewer than min_cell = {min_cell} records.* The size of that "
        "difference is itself counted inside MPC and withheld when small. Noise: each organisation adds "
        "its own share of discrete-Laplace noise inside MPC, so nobody sees the exact count."
    )
    what_it_means(
        "exact totals can still expose one of your clients when questions are combined; the approval "
        "rule and noise are the safeguards to agree on before any query is run."
    )


st.title("What is revealed, and to whom")
synthetic_banner()

try:
    scenario, run = last_run_or_offer("rv_quick_run")
    colours = org_colours(scenario, run.orgs)
    names = {o.id: o.name for o in scenario.organisations}
    show_ledger(run, colours)
    show_collusion(run, colours, names)
    data_dir = st.session_state.get("data_dir")
    if data_dir and all((Path(data_dir) / f"{o}.csv").is_file() for o in run.orgs):
        show_playground(scenario, run, data_dir)
    else:
        st.info("The disclosure playground needs the data folder of the last run (set on the Run page).")
except Exception as exc:  # never a traceback on the projector
    st.error(f"This page could not be shown: {exc}")
