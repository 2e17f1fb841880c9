"""Party views: what one organisation's process saw during the last run, from its own transcript."""

from pathlib import Path

import pandas as pd
import streamlit as st

from sandbox.ui import T, _, dec, error_text, last_run_or_offer, local_columns, num, synthetic_banner, what_it_means
from sandbox.views.figures import fig_rounds, fig_sequence, fig_shares_histogram, org_colours
from sandbox.views.run_view import facilitator_truth, party_view
from sandbox.views.uniformity import uniformity

ROLE_TEXT = {
    "result": _("the agreed result"),
    "leak": _("revealed by design, beyond the result"),
    "masked": _("random by construction (a value plus a secret mask)"),
    "subset": _("known to a subset of organisations only (a shuffle permutation)"),
}

st.title(_("What each organisation sees"))
synthetic_banner()

try:
    scenario, run = last_run_or_offer("pv_quick_run")
    colours = org_colours(scenario, run.orgs)
    names = {o.id: T(o.name) for o in scenario.organisations}
    org = st.selectbox(
        _("Look through the eyes of"), run.orgs, key="pv_org", format_func=lambda o: names.get(o, o)
    )
    view = party_view(run, org)
    st.markdown(_(
        "Computation **{computation}**, {m} organisations, threshold t = {t}. "
        "Everything below comes from **{org}**'s own transcript of this run."
    ).format(computation=run.computation, m=run.m, t=run.threshold, org=org))

    st.subheader(_("(a) Your own records — only you see these"))
    data_dir = st.session_state.get("data_dir")
    csv = Path(data_dir) / f"{org}.csv" if data_dir else None
    if csv is not None and csv.is_file():
        records = pd.read_csv(csv, dtype=str, keep_default_na=False)
        st.dataframe(records.head(200), hide_index=True, key="pv_records")
        st.caption(_("{n} records in {file}; ONLY YOU hold this file.").format(n=num(len(records)), file=csv.name))
    st.markdown(_("What your computer prepared from them (in the clear, only you):"))
    st.dataframe(local_columns(view.own_inputs.assign(who_sees_it=_("only you"))), hide_index=True, key="pv_own_inputs")
    what_it_means(_("your records and your own counts never leave your computer; only shares of the counts do."))

    st.subheader(_("(b) Shares you received from every organisation"))
    shares = view.shares.assign(share=view.shares["share"].astype(str))
    st.dataframe(local_columns(shares), hide_index=True, key="pv_shares")
    u = uniformity(view.shares["share"].tolist(), run.modulus)
    st.plotly_chart(fig_shares_histogram(u, colour=colours[org]), key="pv_fig_hist")
    st.markdown(
        _("{n} shares spread over the field of size p = {p}. "
          "Chi-square test p-value {chi}, Kolmogorov-Smirnov p-value {ks}: ").format(
            n=num(u.n), p=run.modulus, chi=dec(u.chi_square_p, 2), ks=dec(u.ks_p, 2))
        + (
            _("consistent with random numbers.")
            if u.looks_uniform
            else _("an unusual draw (this happens by chance in about one test out of 50).")
        )
    )
    if len(view.public):
        st.markdown(_("Public constants that stand in for shares — every organisation holds the same value, "
                      "so nothing is hidden in them:"))
        st.dataframe(local_columns(view.public), hide_index=True, key="pv_public")
    with st.expander(
        _("FACILITATOR ONLY — the true values hidden behind these shares (no party ever sees this)")
    ):
        truth = facilitator_truth(run, org)
        st.dataframe(local_columns(truth.assign(share=truth["share"].astype(str))), hide_index=True, key="pv_truth")
    what_it_means(_(
        "what you receive from other organisations are random numbers: small counts and large counts "
        "look exactly the same, so you learn nothing about their data."
    ))

    st.subheader(_("(c) Your messages over time"))
    st.plotly_chart(fig_sequence(view, colours), key="pv_fig_sequence")
    st.plotly_chart(fig_rounds(view), key="pv_fig_rounds")
    sent = view.messages[view.messages["direction"] == "sent"]
    st.markdown(_(
        "{messages} messages ({sent} sent, {bytes} bytes sent) "
        "in {rounds} rounds. A round is one protocol step "
        "(one MPyC program counter), numbered in the order the steps happened."
    ).format(messages=num(len(view.messages)), sent=num(len(sent)), bytes=num(int(sent["bytes"].sum())),
             rounds=num(int(view.messages["round"].max() or 0))))
    what_it_means(_(
        "your computer talks directly to each other organisation; every message carries shares "
        "or masked numbers, never your records."
    ))

    st.subheader(_("(d) Everything opened to you, or received in the clear"))
    opened = view.opened.copy()
    opened["value"] = [
        (_("withheld (below the small-cell threshold)") if v is None else str(v)) for v in opened["value"]
    ]
    opened[_("what it is")] = opened["role"].map(ROLE_TEXT)
    st.dataframe(local_columns(opened.drop(columns=["role"])), hide_index=True, key="pv_opened")
    what_it_means(_(
        "the results are what everyone agreed to reveal. The other rows are what the protocol shows by "
        "design (for example list sizes, or pseudonyms that tell only which records belong to the same "
        "person) or values that are random by construction; the ledger on the next page lists them all."
    ))
except Exception as exc:  # never a traceback on the projector
    st.error(_("The party view could not be shown: {error}").format(error=error_text(exc)))
