"""Deployment: from the workshop to a pilot -- who runs which host, what crosses the network, mapping, bundles."""

import json
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from sandbox.datasets import ensure_dataset
from sandbox.mpc import computations
from sandbox.ui import _, current_scenario, error_text, num, synthetic_banner, what_it_means

st.title(_("Deployment: one party per organisation, on its own host"))
synthetic_banner()
scenario = current_scenario()
if scenario is None:
    st.stop()
orgs = scenario.org_ids
m = len(orgs)

# ----------------------------------------------------------------------------------- hosts
st.subheader(_("1. Who runs which host"))
st.write(_("In the workshop every party runs on this machine. In a pilot each organisation runs its own party "
           "on its own server; the parties talk directly to each other over TLS."))
default_hosts = pd.DataFrame({"organisation": orgs, "host": [f"mpc.{o.replace('_', '-')}.example" for o in orgs],
                              "port": [7000 + i for i in range(m)]})
edited = st.data_editor(default_hosts, key="dep_hosts", disabled=["organisation"], hide_index=True,
                        width="stretch", column_config={"organisation": _("organisation"), "host": _("host"),
                                                        "port": _("port")})
rows = []
addresses = []
for i, row in edited.reset_index(drop=True).iterrows():
    host, port = str(row["host"]).strip(), row["port"]
    address = f"{host}:{int(port)}" if host and pd.notna(port) else ""
    addresses.append(address)
    rows.append({
        _("party"): i, _("organisation"): row["organisation"], _("address"): address or _("(missing)"),
        _("accepts TLS connections from"): ", ".join(orgs[:i]) or _("nobody (only connects out)"),
        _("connects to"): ", ".join(orgs[i + 1:]) or _("nobody (only accepts)"),
    })
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="dep_hosts_table")
what_it_means(_("your IT staff open ONE inbound TCP port, and only to the organisations listed before yours."))

# ----------------------------------------------------------------------------------- what crosses
st.subheader(_("2. What crosses the network, and what stays"))
WHAT, CROSSES, WHERE = _("what"), _("crosses the network?"), _("where")
flows = pd.DataFrame([
    {WHAT: _("Your records (the CSV file)"), CROSSES: _("no"), WHERE: _("stays on your host")},
    {WHAT: _("Your own counts prepared from them"), CROSSES: _("no, only as secret shares"),
     WHERE: _("stays on your host")},
    {WHAT: _("Secret shares of your counts"), CROSSES: _("yes, encrypted with TLS"),
     WHERE: _("one share to each other party; a share alone looks random")},
    {WHAT: _("Shares of intermediate values"), CROSSES: _("yes, encrypted with TLS"),
     WHERE: _("between the parties during the protocol")},
    {WHAT: _("Opened outputs (totals, suppressed small cells)"), CROSSES: _("yes, encrypted with TLS"),
     WHERE: _("every party sees the same opened totals")},
    {WHAT: _("Your private TLS key, your mapping, your transcript"), CROSSES: _("no"),
     WHERE: _("stays on your host")},
])
st.dataframe(flows, hide_index=True, width="stretch", key="dep_flows")
dot = ["digraph G { rankdir=LR; node [shape=box, style=rounded];"]
for i, org in enumerate(orgs):
    dot.append(f'"{org}" [label="{org}\\n' + _("party {i}").format(i=i) + "\\n" + _("records stay here") + '"];')
for i in range(m):
    for j in range(i + 1, m):
        dot.append(f'"{orgs[i]}" -> "{orgs[j]}" [dir=both, label="' + _("TLS: shares, outputs") + '", fontsize=9];')
dot.append("}")
st.graphviz_chart("\n".join(dot))

# ----------------------------------------------------------------------------------- mapping
st.subheader(_("3. Map an organisation's own export (pilot)"))
st.write(_("Only the **header row** and the **code lists** are needed -- no records. The mapping is checked "
           "against the sandbox schema and goes into that organisation's bundle; its party applies it locally."))
example = {"columns": {"Dossiernr": "record_id", "Pseudoniem": "person_key", "Datum": "registration_date",
                       "Vorm": "form", "Notities": None},
           "codes": {"form": {"SEX": "sexual", "ARB": "labour", "CRIM": "criminal", "OV": "other"}},
           "date_formats": {"registration_date": "%d-%m-%Y"}}
c1, c2 = st.columns([1, 2])
map_org = c1.selectbox(_("Organisation"), orgs, key="dep_map_org")
header = c2.text_input(_("Header row of the export"), "Dossiernr;Pseudoniem;Datum;Vorm;Notities", key="dep_header")
codes_text = st.text_area(_("Columns and code lists (JSON)"), json.dumps(example, indent=2), height=220,
                          key="dep_codes")
if st.button(_("Check mapping"), key="dep_map_check"):
    from sandbox.deploy.mapping import build_mapping, parse_header

    try:
        spec = json.loads(codes_text)
        st.session_state["dep_mapping"] = build_mapping(parse_header(header), spec, org=map_org)
        st.session_state.pop("dep_mapping_error", None)
    except json.JSONDecodeError as exc:
        st.session_state["dep_mapping_error"] = _("The code lists are not valid JSON: {error}").format(
            error=error_text(exc))
        st.session_state.pop("dep_mapping", None)
    except Exception as exc:  # MappingError and anything unexpected: a message, never a traceback
        st.session_state["dep_mapping_error"] = error_text(exc)
        st.session_state.pop("dep_mapping", None)
if st.session_state.get("dep_mapping_error"):
    st.error(st.session_state["dep_mapping_error"])
mapping = st.session_state.get("dep_mapping")
if mapping:
    st.success(_("Mapping for {org} is valid.").format(org=mapping["org"]))
    st.dataframe(pd.DataFrame([{_("their column"): c, _("schema field"): t or _("(dropped, never used)"),
                                _("codes"): len(mapping["codes"].get(t, {})) if t else 0}
                               for c, t in mapping["columns"].items()]), hide_index=True, key="dep_mapping_table")
    st.download_button(_("Download {file}").format(file="mapping.json"),
                       json.dumps(mapping, indent=2, ensure_ascii=False),
                       file_name=f"mapping-{mapping['org']}.json", mime="application/json", on_click="ignore",
                       key="dep_map_download")

# ----------------------------------------------------------------------------------- export
st.subheader(_("4. Build the party bundles"))
chosen = st.multiselect(_("Computations"), [n for n in computations.names() if not computations.get(n).needs_params],
                        default=["counts-by-form"], key="dep_computations")
MODES = {"this": _("this workshop's synthetic data"),
         "none": _("none: each organisation adds its own export (pilot)")}
mode = st.radio(_("Records in the bundles"), list(MODES), format_func=MODES.get, key="dep_data_mode")
days = st.number_input(_("Certificate validity (days)"), 1, 90, 14, key="dep_days")
include_mapping = bool(mapping) and mode.startswith("none") and st.checkbox(
    _("Include the checked mapping in {org}'s bundle").format(org=mapping["org"]), value=True,
    key="dep_include_mapping")
if st.button(_("Build bundles"), type="primary", key="dep_export"):
    from sandbox.deploy.bundle import export_zip

    try:
        if not chosen:
            raise ValueError(_("choose at least one computation"))
        if "" in addresses:
            raise ValueError(_("every organisation needs a host and a port"))
        data_dir = None
        if mode.startswith("this"):
            data_dir = st.session_state.get("data_dir")
            if not data_dir or not Path(data_dir).is_dir():
                data_dir = ensure_dataset(scenario, seed=int(st.session_state.get("seed", 1)), isolate=True)
        with tempfile.TemporaryDirectory(prefix="dep-mapping-") as tmp:
            mappings = {}
            if include_mapping:
                path = Path(tmp) / "mapping.json"
                path.write_text(json.dumps(mapping), encoding="utf-8")
                mappings[mapping["org"]] = path
            blob, summary = export_zip(scenario, data_dir, addresses, computation_names=chosen,
                                       mappings=mappings, days=int(days))
        st.session_state["dep_zip"] = blob
        st.session_state["dep_summary"] = summary.to_json()
        st.session_state.pop("dep_export_error", None)
    except Exception as exc:  # never a traceback in front of a room
        st.session_state["dep_export_error"] = str(exc)
        st.session_state.pop("dep_zip", None)
if st.session_state.get("dep_export_error"):
    st.error(_("Could not build the bundles: {error}").format(error=error_text(st.session_state["dep_export_error"])))
if st.session_state.get("dep_zip"):
    summary = st.session_state["dep_summary"]
    st.success(_("{n} bundles built. CA fingerprint (SHA-256): `{fingerprint}` -- valid until {until}.").format(
        n=num(len(summary["bundles"])), fingerprint=summary["ca_fingerprint_sha256"], until=summary["valid_until"]))
    st.warning(_("The zip holds every organisation's private key. Hand each organisation ONLY its own folder, and "
                 "read the fingerprint to its IT staff over another channel (phone), never in the same e-mail."))
    st.download_button(_("Download bundles (zip)"), st.session_state["dep_zip"],
                       file_name=f"mpc-bundles-{scenario.name}-{summary['workshop_id']}.zip",
                       mime="application/zip", on_click="ignore", key="dep_download")
    st.code(f"mpc-sandbox party --bundle bundles/{orgs[0]}", language="bash")
what_it_means(_("each organisation runs `mpc-sandbox party --bundle <its folder>` on its own server; the README "
                "in the folder tells its IT staff which port to open, what crosses the network and how to check "
                "the CA fingerprint."))
