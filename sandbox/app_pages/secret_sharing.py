"""Secret sharing explained with ONE value, split and recombined by MPyC's own code.

MPyC runs in a small separate process (sandbox/views/mpyc_explainer.py), never in this app. The
page then checks MPyC's recombination with the project's own pure-Python interpolation.
"""

import pandas as pd
import streamlit as st

from sandbox.scenario import DEFAULT_SCENARIO, load_scenario
from sandbox.ui import T, _, error_text, ngettext, num, synthetic_banner, what_it_means
from sandbox.views import shamir
from sandbox.views.figures import big, fig_explainer, org_colours
from sandbox.views.mpyc_explainer import explain


@st.cache_data(show_spinner=False, max_entries=64)
def split_with_mpyc(secret: int, parties: int, threshold: int, draw: int) -> dict:
    """One MPyC split per (secret, parties, threshold, draw): reruns keep the same shares."""
    return explain(secret, parties, threshold)


st.title(_("Secret sharing: one number, many pieces"))
synthetic_banner()

try:
    scenario = load_scenario(st.session_state.get("scenario_name", DEFAULT_SCENARIO))
    orgs_all = scenario.org_ids
    names = {o.id: T(o.name) for o in scenario.organisations}

    col1, col2, col3 = st.columns(3)
    secret = col1.slider(_("The secret (e.g. one organisation's count)"), 0, 100, 7, key="ss_secret")
    parties = col2.slider(
        _("Organisations taking part"), 3, min(7, len(orgs_all)), min(5, len(orgs_all)), key="ss_parties"
    )
    max_t = (parties - 1) // 2
    threshold = col3.slider(
        _("Threshold t"),
        1,
        max(max_t, 1),
        max_t,
        key="ss_threshold",
        disabled=max_t == 1,
        help=_("A coalition of t organisations learns nothing; t + 1 can recombine."),
    )
    if st.button(_("New random split"), key="ss_new"):
        st.session_state["ss_draw"] = st.session_state.get("ss_draw", 0) + 1
    orgs = orgs_all[:parties]
    colours = org_colours(scenario, orgs)

    with st.spinner(_("MPyC is splitting the secret...")):
        data = split_with_mpyc(secret, parties, threshold, st.session_state.get("ss_draw", 0))
    p = int(data["modulus"])
    shares = [int(s) for s in data["shares"]]

    st.subheader(_("1. MPyC splits the secret into one share per organisation"))
    st.markdown(_(
        "MPyC picks a random polynomial of degree **{t}** whose value at 0 is the secret "
        "**{secret}**, and gives organisation *i* its value at *x = i*. All arithmetic is modulo the "
        "prime p = {p} (the same field as the MPC runs)."
    ).format(t=threshold, secret=secret, p=p))
    st.plotly_chart(fig_explainer(shares, p, orgs, colours), key="ss_fig_shares")
    st.dataframe(
        pd.DataFrame(
            {
                _("organisation"): [names[o] for o in orgs],
                "x": data["points"],
                _("share (what it receives)"): [str(s) for s in shares],
            }
        ),
        hide_index=True,
        key="ss_table_shares",
    )
    what_it_means(_(
        "the share your organisation receives is a random-looking number; on its own it says "
        "nothing about the secret, whatever the secret is."
    ))

    st.subheader(_("2. Which groups can put the secret back together?"))
    rows = []
    for r in data["recombined"]:
        ours = shamir.interpolate_at_zero([i + 1 for i in r["subset"]], [shares[i] for i in r["subset"]], p)
        rows.append(
            {
                "organisations": ", ".join(orgs[i] for i in r["subset"]),
                "size": len(r["subset"]),
                "MPyC recombines": r["value"] if len(r["value"]) < 8 else r["value"][:6] + "…",
                "recovers the secret": "yes" if r["equals_secret"] else "no",
                "our own interpolation agrees": "yes" if str(ours) == r["value"] else "NO",
            }
        )
    table = pd.DataFrame(rows)
    by_size = table.groupby("size")["recovers the secret"].apply(lambda s: (s == "yes").mean()).reset_index()
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=by_size["size"],
            y=by_size["recovers the secret"] * 100,
            marker_color=["#e76f51" if s <= threshold else "#2a9d8f" for s in by_size["size"]],
            text=[f"{v:.0f}%" for v in by_size["recovers the secret"] * 100],
            textposition="outside",
            textfont={"size": 18},
        )
    )
    fig.update_xaxes(title=_("number of organisations pooling their shares"), dtick=1)
    fig.update_yaxes(title=_("groups that recover the secret (%)"), range=[0, 115])
    fig.update_layout(title=_("Any {k} recover it; {t} or fewer never do").format(k=threshold + 1, t=threshold))
    st.plotly_chart(big(fig, height=400), key="ss_fig_subsets")
    agree = (table["our own interpolation agrees"] == "yes").all()
    (st.success if agree else st.error)(
        (_("Our own pure-Python interpolation agrees with MPyC's `thresha.recombine` for all {n} groups.") if agree
         else _("Our own pure-Python interpolation DISAGREES with MPyC's `thresha.recombine` for some of the {n} "
                "groups.")).format(n=num(len(table)))
    )
    chosen = st.multiselect(
        _("Pick a group of organisations"), orgs, default=orgs[: threshold + 1], key="ss_subset"
    )
    if chosen:
        row = table[table["organisations"] == ", ".join(o for o in orgs if o in chosen)].iloc[0]
        if row["recovers the secret"] == "yes":
            st.success(_("{n} organisations recombine **{secret}**: the secret.").format(n=len(chosen), secret=secret))
        else:
            st.warning(ngettext(
                "{n} organisation gets a meaningless number ({value}); every secret would be equally possible.",
                "{n} organisations get a meaningless number ({value}); every secret would be equally possible.",
                len(chosen)).format(n=len(chosen), value=row["MPyC recombines"]))
    shown = table.rename(columns={
        "organisations": _("organisations"), "size": _("size"), "MPyC recombines": _("MPyC recombines"),
        "recovers the secret": _("recovers the secret"),
        "our own interpolation agrees": _("our own interpolation agrees"),
    }).replace({"yes": _("yes"), "no": _("no"), "NO": _("NO")})
    st.dataframe(shown, hide_index=True, key="ss_table_subsets")
    what_it_means(_(
        "your organisation alone, or together with up to {others} others, cannot learn "
        "anything; it takes {k} organisations working together against the rules."
    ).format(others=threshold - 1, k=threshold + 1))
except Exception as exc:  # never a traceback on the projector
    st.error(_("The secret-sharing explainer could not run: {error}").format(error=error_text(exc)))
