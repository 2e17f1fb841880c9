"""Data: each organisation's own SYNTHETIC records, its distributions and the overlap structure."""

import json

import pandas as pd
import plotly.express as px
import streamlit as st

from sandbox.datasets import ensure_dataset
from sandbox.ui import big_layout, current_scenario, org_colours, org_names, synthetic_banner, what_it_means

st.title("Data: who holds what")
synthetic_banner()
scenario = current_scenario()
if scenario is None:
    st.stop()

seed = int(st.session_state.get("seed", 1))
try:
    with st.spinner("Generating synthetic records…"):
        folder = ensure_dataset(scenario, seed=seed, isolate=True)
except Exception as exc:  # never a traceback in front of a room
    st.error(f"Could not generate the synthetic data: {exc}")
    st.stop()
st.session_state["data_dir"] = str(folder)

truth = json.loads((folder / "ground_truth.json").read_text())
frames = {o: pd.read_csv(folder / f"{o}.csv", dtype=str, keep_default_na=False) for o in scenario.org_ids}
colours, names = org_colours(scenario), org_names(scenario)

c1, c2, c3 = st.columns(3)
c1.metric("Records over all organisations", f"{sum(len(f) for f in frames.values()):,}")
c2.metric("Distinct registered victims (ground truth)", f"{truth['registered']:,}")
c3.metric("Hidden population (ground truth)", f"{truth['population']:,}")
what_it_means("nobody in a real deployment knows the last two numbers: they are what MPC and MSE try to estimate.")

sizes = pd.DataFrame({"organisation": list(frames), "records": [len(f) for f in frames.values()]})
fig = px.bar(sizes, x="organisation", y="records", color="organisation", color_discrete_map=colours,
             title="Records per organisation")
st.plotly_chart(big_layout(fig), key="data_sizes")

patterns = pd.DataFrame(
    [{"lists": " + ".join(p["lists"]), "k": len(p["lists"]), "count": p["count"]} for p in truth["capture_patterns"]]
)
if not patterns.empty:
    multi = patterns[patterns["k"] >= 2].sort_values("count", ascending=False).head(15)
    fig = px.bar(multi, x="count", y="lists", orientation="h",
                 title="Victims known to more than one organisation (ground truth, top 15 combinations)")
    fig.update_yaxes(autorange="reversed")
    st.plotly_chart(big_layout(fig, height=520), key="data_overlap")
    what_it_means("this overlap is exactly what no single organisation can see alone; the MPC capture-pattern "
                  "computation finds these counts without anyone learning who.")

st.subheader("Each organisation's own table")
tabs = st.tabs([names[o] for o in frames])
for tab, (org, df) in zip(tabs, frames.items(), strict=True):
    with tab:
        st.markdown(f'<div class="only-you" style="--org-colour:{colours[org]}"><b>Visible to {names[org]} only'
                    f'</b> · SYNTHETIC · {len(df):,} records · {len(df.columns)} fields</div>',
                    unsafe_allow_html=True)
        st.dataframe(df.head(200), hide_index=True, key=f"data_table_{org}")
        forms = df["form"].str.split(";").explode().value_counts().rename_axis("form").reset_index()
        fig = px.bar(forms, x="form", y="count", title=f"{names[org]}: records per form",
                     color_discrete_sequence=[colours[org]])
        st.plotly_chart(big_layout(fig, height=320), key=f"data_forms_{org}")
        st.download_button(f"Download {org}.csv (SYNTHETIC)", df.to_csv(index=False).encode(),
                           file_name=f"SYNTHETIC-{org}.csv", mime="text/csv", key=f"data_dl_{org}",
                           on_click="ignore")
