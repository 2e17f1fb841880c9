"""Party views: what one organisation's process saw during the last run, from its own transcript."""

from pathlib import Path

import pandas as pd
import streamlit as st

from sandbox.ui import last_run_or_offer, synthetic_banner, what_it_means
from sandbox.views.figures import fig_rounds, fig_sequence, fig_shares_histogram, org_colours
from sandbox.views.run_view import facilitator_truth, party_view
from sandbox.views.uniformity import uniformity

ROLE_TEXT = {
    "result": "the agreed result",
    "leak": "revealed by design, beyond the result",
    "masked": "random by construction (a value plus a secret mask)",
    "subset": "known to a subset of organisations only (a shuffle permutation)",
}

st.title("What each organisation sees")
synthetic_banner()

try:
    scenario, run = last_run_or_offer("pv_quick_run")
    colours = org_colours(scenario, run.orgs)
    names = {o.id: o.name for o in scenario.organisations}
    org = st.selectbox(
        "Look through the eyes of", run.orgs, key="pv_org", format_func=lambda o: names.get(o, o)
    )
    view = party_view(run, org)
    st.markdown(
        f"Computation **{run.computation}**, {run.m} organisations, threshold t = {run.threshold}. "
        f"Everything below comes from **{org}**'s own transcript of this run."
    )

    st.subheader("(a) Your own records — only you see these")
    data_dir = st.session_state.get("data_dir")
    csv = Path(data_dir) / f"{org}.csv" if data_dir else None
    if csv is not None and csv.is_file():
        records = pd.read_csv(csv, dtype=str, keep_default_na=False)
        st.dataframe(records.head(200), hide_index=True, key="pv_records")
        st.caption(f"{len(records)} records in {csv.name}; ONLY YOU hold this file.")
    st.markdown("What your computer prepared from them (in the clear, only you):")
    st.dataframe(view.own_inputs.assign(who_sees_it="only you"), hide_index=True, key="pv_own_inputs")
    what_it_means("your records and your own counts never leave your computer; only shares of the counts do.")

    st.subheader("(b) Shares you received from every organisation")
    shares = view.shares.assign(share=view.shares["share"].astype(str))
    st.dataframe(shares, hide_index=True, key="pv_shares")
    u = uniformity(view.shares["share"].tolist(), run.modulus)
    st.plotly_chart(fig_shares_histogram(u, colour=colours[org]), key="pv_fig_hist")
    st.markdown(
        f"{u.n} shares spread over the field of size p = {run.modulus}. "
        f"Chi-square test p-value {u.chi_square_p:.2f}, Kolmogorov-Smirnov p-value {u.ks_p:.2f}: "
        + (
            "consistent with random numbers."
            if u.looks_uniform
            else "an unusual draw (this happens by chance about 2% of the time)."
        )
    )
    if len(view.public):
        st.markdown("Public constants that stand in for shares — every organisation holds the same value, "
                    "so nothing is hidden in them:")
        st.dataframe(view.public, hide_index=True, key="pv_public")
    with st.expander(
        "FACILITATOR ONLY — the true values hidden behind these shares (no party ever sees this)"
    ):
        truth = facilitator_truth(run, org)
        st.dataframe(truth.assign(share=truth["share"].astype(str)), hide_index=True, key="pv_truth")
    what_it_means(
        "what you receive from other organisations are random numbers: small counts and large counts "
        "look exactly the same, so you learn nothing about their data."
    )

    st.subheader("(c) Your messages over time")
    st.plotly_chart(fig_sequence(view, colours), key="pv_fig_sequence")
    st.plotly_chart(fig_rounds(view), key="pv_fig_rounds")
    sent = view.messages[view.messages["direction"] == "sent"]
    st.markdown(
        f"{len(view.messages)} messages ({len(sent)} sent, {int(sent['bytes'].sum()):,} bytes sent) "
        f"in {int(view.messages['round'].max() or 0)} rounds. A round is one protocol step "
        "(one MPyC program counter), numbered in the order the steps happened."
    )
    what_it_means(
        "your computer talks directly to each other organisation; every message carries shares "
        "or masked numbers, never your records."
    )

    st.subheader("(d) Everything opened to you, or received in the clear")
    opened = view.opened.copy()
    opened["value"] = [
        ("withheld (below the small-cell threshold)" if v is None else str(v)) for v in opened["value"]
    ]
    opened["what it is"] = opened["role"].map(ROLE_TEXT)
    st.dataframe(opened.drop(columns=["role"]), hide_index=True, key="pv_opened")
    what_it_means(
        "the results are what everyone agreed to reveal. The other rows are what the protocol shows by "
        "design (for example list sizes, or pseudonyms that tell only which records belong to the same "
        "person) or values that are random by construction; the ledger on the next page lists them all."
    )
except Exception as exc:  # never a traceback on the projector
    st.error(f"The party view could not be shown: {exc}")
