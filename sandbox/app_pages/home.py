"""Home: what the sandbox is, the chosen scenario and the user's role."""

import streamlit as st

from sandbox.ui import T, _, current_scenario, synthetic_banner, what_it_means

KINDS = {
    "law_enforcement": _("law enforcement"),
    "victim_care": _("victim care"),
    "ngo": _("NGO"),
    "municipality": _("municipality"),
    "national_centre": _("national centre"),
}

st.title("MPC Trust Sandbox")
synthetic_banner()
st.markdown(_(
    "Organisations that register victims of human trafficking each see only their own slice. "
    "**Multi-party computation (MPC)** lets them compute joint figures — how many victims, which forms "
    "of exploitation, who is known to more than one organisation — **without showing each other a single "
    "record**. This sandbox runs the real protocol (MPyC, one process per organisation) on synthetic data, "
    "so you can see step by step what each organisation sends, receives and learns."
))
scenario = current_scenario()
if scenario is not None:
    st.subheader(T(scenario.title))
    st.write(T(scenario.description))
    cols = st.columns(min(len(scenario.organisations), 4))
    for i, org in enumerate(scenario.organisations):
        with cols[i % len(cols)]:
            st.markdown(
                f'<div class="only-you" style="--org-colour:{org.colour}"><b>{T(org.name)}</b><br>'
                f'<small>{KINDS.get(org.kind, org.kind.replace("_", " "))}</small></div>',
                unsafe_allow_html=True,
            )
    # The role's value stays the same in every language ("Facilitator" or the English organisation name).
    roles = ["Facilitator"] + [o.name for o in scenario.organisations]
    st.radio(_("Your role in this session"), roles, key="role", horizontal=True,
             format_func=lambda r: _("Facilitator") if r == "Facilitator" else T(r))
    what_it_means(_(
        "in a real deployment your records never leave your organisation; only random-looking shares do, and "
        "only the result everyone approved is opened."
    ))
st.markdown(_(
    "**Steps:** 1. look at the *Data* each organisation holds · 2. learn *Secret sharing* · 3. *Run* a joint "
    "computation · 4. see the *Party views* · 5. check what was *Revealed* · 6. estimate the hidden *Size* · "
    "7. plan the *Timeline*."
))
