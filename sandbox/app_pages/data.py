"""Data: each organisation's own SYNTHETIC records, its distributions and the overlap structure."""

import json

import pandas as pd
import plotly.express as px
import streamlit as st

from sandbox.datasets import ensure_dataset
from sandbox.ui import (
    _,
    big_layout,
    current_scenario,
    error_text,
    num,
    org_colours,
    org_names,
    synthetic_banner,
    what_it_means,
)

st.title(_("Data: who holds what"))
synthetic_banner()
scenario = current_scenario()
if scenario is None:
    st.stop()

seed = int(st.session_state.get("seed", 1))
try:
    with st.spinner(_("Generating synthetic records…")):
        folder = ensure_dataset(scenario, seed=seed, isolate=True)
except Exception as exc:  # never a traceback in front of a room
    st.error(_("Could not generate the synthetic data: {error}").format(error=error_text(exc)))
    st.stop()
st.session_state["data_dir"] = str(folder)

truth = json.loads((folder / "ground_truth.json").read_text())
frames = {o: pd.read_csv(folder / f"{o}.csv", dtype=str, keep_default_na=False) for o in scenario.org_ids}
colours, names = org_colours(scenario), org_names(scenario)

c1, c2, c3 = st.columns(3)
c1.metric(_("Records over all organisations"), num(sum(len(f) for f in frames.values())))
c2.metric(_("Distinct registered victims (ground truth)"), num(truth["registered"]))
c3.metric(_("Hidden population (ground truth)"), num(truth["population"]))
what_it_means(_("nobody in a real deployment knows the last two numbers: they are what MPC and MSE try to "
                "estimate."))

sizes = pd.DataFrame({"organisation": list(frames), "records": [len(f) for f in frames.values()]})
fig = px.bar(sizes, x="organisation", y="records", color="organisation", color_discrete_map=colours,
             title=_("Records per organisation"),
             labels={"organisation": _("organisation"), "records": _("records")})
st.plotly_chart(big_layout(fig), key="data_sizes")

patterns = pd.DataFrame(
    [{"lists": " + ".join(p["lists"]), "k": len(p["lists"]), "count": p["count"]} for p in truth["capture_patterns"]]
)
if not patterns.empty:
    multi = patterns[patterns["k"] >= 2].sort_values("count", ascending=False).head(15)
    fig = px.bar(multi, x="count", y="lists", orientation="h",
                 title=_("Victims known to more than one organisation (ground truth, top 15 combinations)"),
                 labels={"count": _("victims"), "lists": _("organisations")})
    fig.update_yaxes(autorange="reversed")
    st.plotly_chart(big_layout(fig, height=520), key="data_overlap")
    what_it_means(_("this overlap is exactly what no single organisation can see alone; the MPC capture-pattern "
                    "computation finds these counts without anyone learning who."))

st.subheader(_("Each organisation's own table"))
tabs = st.tabs([names[o] for o in frames])
for tab, (org, df) in zip(tabs, frames.items(), strict=True):
    with tab:
        st.markdown(f'<div class="only-you" style="--org-colour:{colours[org]}"><b>'
                    + _("Visible to {organisation} only").format(organisation=names[org])
                    + "</b> · " + _("SYNTHETIC · {records} records · {fields} fields").format(
                        records=num(len(df)), fields=len(df.columns)) + "</div>",
                    unsafe_allow_html=True)
        st.dataframe(df.head(200), hide_index=True, key=f"data_table_{org}")
        forms = df["form"].str.split(";").explode().value_counts().rename_axis("form").reset_index()
        fig = px.bar(forms, x="form", y="count",
                     title=_("{organisation}: records per form").format(organisation=names[org]),
                     labels={"form": _("form of exploitation"), "count": _("records")},
                     color_discrete_sequence=[colours[org]])
        st.plotly_chart(big_layout(fig, height=320), key=f"data_forms_{org}")
        st.download_button(_("Download {file} (SYNTHETIC)").format(file=f"{org}.csv"),
                           df.to_csv(index=False).encode(),
                           file_name=f"SYNTHETIC-{org}.csv", mime="text/csv", key=f"data_dl_{org}",
                           on_click="ignore")
