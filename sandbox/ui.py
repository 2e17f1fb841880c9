"""Streamlit helpers shared by the pages (the only non-page module besides app.py that imports streamlit)."""

from __future__ import annotations

import logging

import streamlit as st

from sandbox import i18n
from sandbox.i18n import N_
from sandbox.jobs import JOB_LOG_FORMAT, JobManager
from sandbox.scenario import DEFAULT_SCENARIO, Scenario, ScenarioError, load_scenario

PROJECTOR_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 18px; }
[data-testid="stMetricValue"] { font-size: 2.2rem; }
.synthetic-banner { background: #fff3cd; border: 2px solid #e0a800; border-radius: 6px; padding: 4px 12px;
  font-weight: 700; letter-spacing: .04em; color: #6b4e00; display: inline-block; margin-bottom: .5rem; }
.only-you { border-left: 8px solid var(--org-colour, #888); padding-left: 10px; }
</style>
"""


# ---- language of this browser session (st.session_state["lang"]; set by app.py from ?lang= or the switch)


def lang() -> str:
    """'nl' or 'en': this browser session's language; it is also made the language of sandbox.i18n's helpers
    called from this script run (sandbox/views, the report)."""
    code = i18n.normalise_language(st.session_state.get("lang"))
    if code is None:
        code = i18n.normalise_language(st.query_params.get("lang")) or i18n.default_language()
        st.session_state["lang"] = code
    i18n.use_language(code)
    return code


def _(message: str) -> str:
    """gettext bound to this session's language."""
    return i18n.translations(lang()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(lang()).ngettext(singular, plural, n)


def error_text(error) -> str:
    """An error or warning of the core packages (an exception or its English text) in this session's language
    (sandbox.i18n.translate_message); a text with no template in the catalog is shown as it is."""
    return i18n.translate_message(error, lang())


def T(text) -> str:  # noqa: N802  (short on purpose: it wraps every scenario text on the pages)
    """A scenario text (title, organisation name, script step...) in this session's language."""
    return i18n.localized(text, lang())


def comp_title(comp) -> str:
    """A catalogue computation's title in this language (the catalogue marks its texts with N_)."""
    return _(comp.title)


def comp_summary(comp) -> str:
    return _(comp.summary)


def comp_reveals(comp) -> str:
    """What a computation reveals, in this language; the record-linkage entries end in a shared technical part."""
    from sandbox.mpc.overlap_catalogue import _JOIN_REVEALS as join

    text = comp.reveals
    if text.endswith(join) and text != join:
        return _(text[: -len(join)]) + _(join)
    return _(text)


def local_columns(df):
    """A table for the page: its known column names in this language (the data keeps its English names)."""
    names = {
        "label": _("label"), "index": _("index"), "cell": _("cell"), "value": _("value"), "share": _("share"),
        "owner_org": _("owner"), "owner": _("owner"), "who_sees_it": _("who_sees_it"), "kind": _("kind"),
        "seen_in_clear_by": _("seen_in_clear_by"), "share_holders": _("share_holders"),
        "opened_value": _("opened_value"), "true_value": _("true_value"), "revealed": _("revealed"),
        "oracle": _("oracle"), "organisation": _("organisation"), "count": _("count"), "status": _("status"),
    }
    if "kind" in df.columns:  # the disclosure ledger (sandbox.views.ledger)
        kinds = {"input": _("input"), "output": _("output"), "public": _("public"), "intermediate": _("intermediate"),
                 "leak": _("leak"), "masked": _("masked"), "subset": _("subset")}
        df = df.assign(kind=[kinds.get(v, v) for v in df["kind"]])
    if "owner" in df.columns:
        df = df.assign(owner=[_("joint") if v == "joint" else v for v in df["owner"]])
    if "cell" in df.columns:  # cells made of codes ("labour × F"): their labels in this language
        df = df.assign(cell=[cell_text(v) for v in df["cell"]])
    if "status" in df.columns:  # a designed query's cells (sandbox.results.designed_table)
        statuses = {"opened": _("opened"), "suppressed (below min_cell)": _("suppressed (below min_cell)"),
                    "empty (no records)": _("empty (no records)")}
        df = df.assign(status=[statuses.get(v, v) for v in df["status"]])
    return df.rename(columns={c: names[c] for c in df.columns if c in names})


def field_text(name: str) -> str:
    """A field of the record schema ('form') as a page shows it: its label in this language."""
    from sandbox.views.labels import field_label

    return field_label(name, lang())


def code_text(code: str) -> str:
    """A code-list value ('sexual') as a page shows it; the data and the JSON keep the code."""
    from sandbox.views.labels import code_label

    return code_label(code, lang())


def cell_text(cell) -> str:
    """A result cell made of codes ('labour × F') in this language; other parts (organisation ids) stay."""
    from sandbox.views.labels import cell_label

    return cell_label(cell, lang()) if isinstance(cell, str) else cell


def num(value: float) -> str:
    """A whole number for this language: 1.234 (nl) / 1,234 (en)."""
    return i18n.format_int(value, lang())


def dec(value: float, digits: int = 1) -> str:
    return i18n.format_decimal(value, lang(), digits)


def pct(fraction: float, digits: int = 0) -> str:
    return i18n.format_percent(fraction, lang(), digits)


def separators() -> str:
    """For plotly's layout: the decimal and thousands marks of this language (',.' in Dutch)."""
    return i18n.plotly_separators(lang())


@st.cache_resource
def job_manager() -> JobManager:
    """One job queue per server, shared by all browser sessions; its log lines go to the server's stderr."""
    logger = logging.getLogger("sandbox.jobs")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(JOB_LOG_FORMAT))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return JobManager(max_concurrent=2)


@st.cache_resource(show_spinner=False)
def _load(name: str) -> Scenario:
    # One shared object, which pages only read. st.cache_data would unpickle a fresh copy on every call:
    # py-spy put 21 % of the web server's GIL time there during a 20-user load test (docs/reliability.md).
    return load_scenario(name)


def current_scenario() -> Scenario | None:
    name = st.session_state.get("scenario_name", DEFAULT_SCENARIO)
    try:
        return _load(name)
    except ScenarioError as exc:
        st.error(error_text(exc))
        return None


def org_colours(scenario: Scenario) -> dict[str, str]:
    return {o.id: o.colour for o in scenario.organisations}


def org_names(scenario: Scenario) -> dict[str, str]:
    return {o.id: T(o.name) for o in scenario.organisations}


def synthetic_banner() -> None:
    st.markdown('<span class="synthetic-banner">' + _("SYNTHETIC DATA — no real person appears here") + "</span>",
                unsafe_allow_html=True)


def what_it_means(text: str) -> None:
    st.caption(_("**What this means for your organisation:** {text}").format(text=text))


def big_layout(fig, *, height: int = 420):
    """Projector-friendly plotly layout: large fonts, no clutter."""
    fig.update_layout(font={"size": 17}, height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      legend={"font": {"size": 15}}, separators=separators())
    return fig


def offer_quick_run(scenario: Scenario, key: str) -> None:
    """When no run exists yet: say so, and offer a small real run right here."""
    st.info(_(
        "There is no MPC run to look at yet. Run a computation on the **Run** page first, "
        "or start a small one here (counts per form on a small SYNTHETIC dataset, about 5 seconds)."
    ))
    if st.button(_("Run counts-by-form on a small synthetic dataset"), key=key):
        from sandbox.views.quick_run import quick_demo_run

        with st.spinner(_("Starting one MPyC process per organisation...")):
            result, data_dir = quick_demo_run(scenario, seed=int(st.session_state.get("seed", 1)))
        st.session_state["last_run"] = result.to_json()
        st.session_state["data_dir"] = str(data_dir)
        st.rerun()


@st.cache_data(show_spinner=False, max_entries=8)
def _load_run_view(run_json: str):
    """Transcripts are written once per run: read them once, not on every rerun of a page."""
    import json

    from sandbox.views.run_view import load_run

    return load_run(json.loads(run_json))


def last_run_or_offer(key: str):
    """(scenario, RunView) of this session's last run; without one, offer a small run and stop the page."""
    import json

    scenario = current_scenario()
    if scenario is None:
        st.stop()
    last = st.session_state.get("last_run")
    if not last:
        offer_quick_run(scenario, key)
        st.stop()
    return scenario, _load_run_view(json.dumps(last, default=str))  # key order kept: it is the cell order


# ------------------------------------------------------------------ the query designer (issue 19)
# All of the designer's user-facing text, in one place (the Run page and the Room use it).
DQ_TEXT = {  # English, marked with N_; shown with _() (the radio's values stay these English texts)
    "mode": N_("What to run"),
    "modes": (N_("A computation from the catalogue"), N_("A query you design")),
    "intro": N_("Design your own question: up to two fields to group by, filters, a measure and a small-cell "
                "threshold. It runs with real MPC like the catalogue's computations."),
    "group_by": N_("Group by (one or two fields)"),
    "filters": N_("Filter on"),
    "where": N_("Keep only registrations where {field} is"),
    "measure": N_("Measure"),
    "measures": {"count": N_("count of registrations"), "sum": N_("sum of age"), "mean": N_("mean of age"),
                 "distinct": N_("distinct persons")},
    "min_cell": N_("Small-cell threshold of this query (cells with 1 to min_cell - 1 records are never opened)"),
    "reveals": N_("**What answering it reveals:** {text}"),
    "file": N_("The same query as a file for `mpc-sandbox run --query FILE.json`"),
}
DQ_MEASURES = {"count": "count", "sum": {"sum": "age"}, "mean": {"mean": "age"}, "distinct": {"distinct": "person"}}


def join_opened_caption(run: dict) -> None:
    """A distinct-persons query: what the secure join opened to everyone (list sizes, persons per number of
    lists), as a caption; nothing for other runs. The numbers are part of the run's plaintext check."""
    opened = run.get("join_opened")
    if not opened:
        return
    sizes = ", ".join(f"{org} {n}" for org, n in opened["list_sizes"].items())
    lists = ", ".join(_("{n} on {s}").format(n=n, s=s) for s, n in opened["persons_per_number_of_lists"].items())
    st.caption(_("Also opened by linking the records (to everyone, by design): records per organisation: "
                 "{sizes}; persons per number of lists: {lists}.").format(sizes=sizes, lists=lists or "-"))


def designed_query_form(default_min_cell: int, *, key: str) -> tuple[dict | None, str | None]:
    """The query designer's widgets (keys start with `key`): returns (query as JSON data, None), or
    (None, the QueryError's message), which is also shown as an error; never a traceback."""
    import json

    from sandbox.mpc.query import FIELDS, QueryError, parse_query, reveals_text

    st.write(_(DQ_TEXT["intro"]))
    group_by = st.multiselect(_(DQ_TEXT["group_by"]), list(FIELDS), default=["form"], max_selections=2,
                              key=f"{key}_group_by", format_func=field_text)
    filtered = st.multiselect(_(DQ_TEXT["filters"]), list(FIELDS), key=f"{key}_filter_fields",
                              format_func=field_text)
    where = {}
    for name in filtered:
        where[name] = st.multiselect(_(DQ_TEXT["where"]).format(field=field_text(name)), list(FIELDS[name].codes),
                                     key=f"{key}_where_{name}", format_func=code_text)
    c1, c2 = st.columns(2)
    measure = c1.selectbox(_(DQ_TEXT["measure"]), list(DQ_MEASURES), key=f"{key}_measure",
                           format_func=lambda m: _(DQ_TEXT["measures"][m]))
    min_cell_q = c2.number_input(_(DQ_TEXT["min_cell"]), 0, 1000, value=int(default_min_cell), key=f"{key}_min_cell")
    query = {"group_by": group_by, "where": where, "measure": DQ_MEASURES[measure], "min_cell": int(min_cell_q)}
    try:
        parse_query(query)
    except QueryError as exc:
        st.error(error_text(exc))
        return None, str(exc)
    st.info(_(DQ_TEXT["reveals"]).format(text=reveals_text(query, translate=_)))
    with st.expander(_(DQ_TEXT["file"])):
        st.code(json.dumps(query, indent=2, ensure_ascii=False), language="json")
    return query, None
