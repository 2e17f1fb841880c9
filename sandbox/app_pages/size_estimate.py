"""Size estimate: how many victims does no organisation see? (multiple systems estimation)

Thin page: all statistics live in ``sandbox.mse``; this file only gathers input,
calls it and shows the results.  Every widget key starts with ``mse_``.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import streamlit as st

from sandbox.mse import (
    CaptureTable,
    MSEError,
    analyse,
    available_methods,
    published,
    suppress_small_cells,
    table_from_frame,
)
from sandbox.mse.charts import estimates_figure, suppression_figure, upset_figure
from sandbox.mse.charts import method_label as english_method_label
from sandbox.ui import _, lang, num, separators, what_it_means

SOURCE_MPC, SOURCE_BUNDLED, SOURCE_UPLOAD = "Result of the MPC run", "Published example", "Upload a CSV"
DEFAULT_DATASET = "UKdat"
MIN_CELL_RANGE = range(11)


def short(value: float) -> str:
    """0.02 -> '0,02' in Dutch, '0.02' in English (as few digits as needed)."""
    return f"{value:g}".replace(".", "," if lang() == "nl" else ".")


def method_label(method: str, pthresh: float = 0.02) -> str:
    """A model's name in this language (sandbox.mse.charts names them in English)."""
    names = {"main": _("Main effects (independent lists)"), "aic": _("Best AIC"), "bic": _("Best BIC"),
             "stepwise": _("Stepwise (p < {p})").format(p=short(pthresh))}
    return names.get(method, english_method_label(method, pthresh))


def localized_figure(fig, pthresh: float = 0.02):
    """The charts of sandbox.mse.charts with their texts in this language: titles, axes, traces, model names and
    the numbers written on them (an unknown text stays as it is)."""
    texts = {
        "Who is on which lists (one bar per combination)": _("Who is on which lists (one bar per combination)"),
        "Estimated total population by model": _("Estimated total population by model"),
        "Suppressing small cells changes the estimate": _("Suppressing small cells changes the estimate"),
        "smallest cell published (min_cell)": _("smallest cell published (min_cell)"),
        "people": _("people"), "estimate": _("estimate"),
        "observed after suppression": _("observed after suppression"),
    }
    texts.update({english_method_label(m, pthresh): method_label(m, pthresh)
                  for m in ("main", "stepwise", "aic", "bic")})

    def tr(text):
        if not isinstance(text, str):
            return text
        if text in texts:
            return texts[text]
        for word, label in (("observed ", _("observed {n}")), ("true ", _("true {n}"))):
            if text.startswith(word) and text[len(word):].replace(",", "").isdigit():
                return label.format(n=num(int(text[len(word):].replace(",", ""))))
        if text.replace(",", "").isdigit():
            return num(int(text.replace(",", "")))
        return text

    fig.update_layout(title_text=tr(fig.layout.title.text), separators=separators())
    fig.for_each_xaxis(lambda ax: ax.update(title_text=tr(ax.title.text)))
    fig.for_each_yaxis(lambda ax: ax.update(title_text=tr(ax.title.text)))
    for trace in fig.data:
        if getattr(trace, "name", None):
            trace.name = tr(trace.name)
        if getattr(trace, "orientation", None) == "h" and trace.y is not None:
            trace.y = [tr(y) for y in trace.y]
        if isinstance(getattr(trace, "text", None), list | tuple):
            trace.text = [tr(t) for t in trace.text]
    for annotation in fig.layout.annotations or ():
        annotation.text = tr(annotation.text)
    return fig


@st.cache_data(show_spinner=False)
def run_method(
    lists: tuple[str, ...],
    counts: tuple[int, ...],
    method: str,
    pthresh: float,
    n_boot: int = 0,
    seed: int = 1,
):
    """Cached wrapper around :func:`sandbox.mse.analyse` (returns result or error text)."""
    table = _rebuild(lists, counts)
    try:
        return analyse(table, method=method, pthresh=pthresh, n_boot=n_boot, seed=seed), None
    except MSEError as exc:
        return None, str(exc)


def _rebuild(lists: tuple[str, ...], counts: tuple[int, ...]) -> CaptureTable:
    """Rebuild a table from its hashable parts (for caching)."""
    empty = CaptureTable.from_counts(lists, {})
    return empty.with_counts(np.asarray(counts, dtype=np.int64))


def _key(table: CaptureTable) -> tuple[tuple[str, ...], tuple[int, ...]]:
    return table.lists, tuple(int(c) for c in table.counts)


def choose_table() -> tuple[CaptureTable | None, int | None]:
    """Input widgets; returns the table and the true population if known."""
    mpc = st.session_state.get("capture_patterns")
    if mpc is not None and not isinstance(mpc, dict):
        st.error(_("The MPC result in this session has an unexpected format; choose another source."))
        mpc = None
    sources = ([SOURCE_MPC] if mpc else []) + [SOURCE_BUNDLED, SOURCE_UPLOAD]
    labels = {SOURCE_MPC: _("Result of the MPC run"), SOURCE_BUNDLED: _("Published example"),
              SOURCE_UPLOAD: _("Upload a CSV")}
    source = st.radio(_("Where do the counts come from?"), sources, key="mse_source", horizontal=True,
                      format_func=labels.get)
    if source == SOURCE_MPC:
        table = CaptureTable.from_patterns(mpc.get("patterns", []), mpc.get("lists", []))
        return table, mpc.get("true_population")
    if source == SOURCE_BUNDLED:
        names = published.names()
        name = st.selectbox(
            _("Published data set"),
            names,
            key="mse_dataset",
            index=names.index(DEFAULT_DATASET) if DEFAULT_DATASET in names else 0,
            format_func=lambda n: f"{n} - {published.DESCRIPTIONS.get(n, '')}",
        )
        return published.load_table(name), None
    upload = st.file_uploader(_("CSV: one 0/1 column per list, then 'count'"), type=["csv"], key="mse_upload")
    if upload is None:
        st.info(_("Upload a file to continue."))
        return None, None
    frame = pd.read_csv(io.BytesIO(upload.getvalue()), dtype=str, keep_default_na=False)
    return table_from_frame(frame, source=upload.name), None


def show_overlaps(table: CaptureTable) -> None:
    """UpSet-style chart of the capture patterns."""
    st.plotly_chart(localized_figure(upset_figure(table)), key="mse_upset_chart")
    what_it_means(_(
        "each bar is a group of people seen by exactly the organisations marked with dark dots. "
        "The few people seen by two or more organisations are what lets us estimate how many nobody saw."
    ))


def show_models(table: CaptureTable, true_population: int | None) -> None:
    """Estimates of all available models side by side, with optional bootstrap intervals."""
    pthresh = st.select_slider(
        _("Stepwise p-value threshold"),
        options=[0.001, 0.005, 0.01, 0.02, 0.05, 0.1],
        value=0.02,
        key="mse_pthresh",
        format_func=short,
    )
    with st.expander(_("Confidence intervals (bootstrap)")):
        n_boot = st.number_input(
            _("Replicates"), min_value=20, max_value=2000, value=200, step=50, key="mse_n_boot"
        )
        seed = st.number_input(_("Seed"), min_value=0, max_value=10**6, value=1234, step=1, key="mse_seed")
        if st.button(_("Compute the 95 % intervals (main effects and stepwise)"), key="mse_bootstrap_run"):
            st.session_state["mse_boot_request"] = (_key(table), int(n_boot), int(seed))
    request = st.session_state.get("mse_boot_request")
    n_boot, seed = request[1:] if request and request[0] == _key(table) else (0, 1234)
    results, messages = [], []
    for method in available_methods(table):
        boot = n_boot if method in ("main", "stepwise") else 0
        with st.spinner(_("Fitting {model}...").format(model=method_label(method, pthresh))):
            result, error = run_method(*_key(table), method, pthresh, boot, seed)
        if error:
            messages.append(f"{method_label(method, pthresh)}: {error}")
        else:
            results.append(result)
    for message in messages:
        st.error(message)
    if not results:
        return
    _metrics(results, pthresh, true_population)
    st.plotly_chart(localized_figure(estimates_figure(results, pthresh, true_population), pthresh),
                    key="mse_estimates_chart")
    what_it_means(_(
        "different, equally defensible models give different totals. Quote a range and the model, never one "
        "number; the bars with whiskers show 95 % bootstrap intervals when computed."
    ))
    if len(table.lists) > 5:
        st.info(_(
            "AIC/BIC search over all models is only offered for up to 5 lists (6 lists already means "
            "{models} models); the stepwise method is the standard choice here."
        ).format(models=num(32_768)))
    for warning in dict.fromkeys(w for r in results for w in r.warnings):
        st.warning(warning)


def _metrics(results, pthresh: float, true_population: int | None) -> None:
    """One metric per model (and the true population when known)."""
    columns = st.columns(len(results) + (1 if true_population else 0))
    for column, result in zip(columns, results, strict=False):
        interval = f"95%: {num(result.ci95[0])}-{num(result.ci95[1])}" if result.ci95 else None
        column.metric(
            method_label(result.method, pthresh),
            num(result.estimate),
            delta=interval,
            delta_color="off",
            delta_arrow="off",
            help=_("Interactions: {terms}").format(terms=", ".join(result.terms) or _("none")),
        )
    if true_population:
        columns[-1].metric(_("True population (synthetic)"), num(true_population))
    st.markdown(
        _("**Observed:** {n} people on at least one list.").format(n=num(results[0].observed)) + "  "
        + "  ".join(
            _("**{model}** uses {terms}.").format(model=method_label(r.method, pthresh),
                                                  terms=", ".join(r.terms) or _("no interactions"))
            for r in results
        )
    )


def show_disclosure(table: CaptureTable) -> None:
    """Disclosure control vs estimate: suppress small cells and refit (stepwise)."""
    st.subheader(_("Disclosure control vs estimate"))
    min_cell = st.slider(
        _("Publish only cells with at least this many people (smaller cells set to 0)"),
        min_value=MIN_CELL_RANGE.start,
        max_value=MIN_CELL_RANGE.stop - 1,
        value=5,
        key="mse_min_cell",
    )
    points, observed = [], []
    for cut in MIN_CELL_RANGE:
        suppressed = suppress_small_cells(table, cut)
        result, _error = run_method(*_key(suppressed), "stepwise", 0.02)
        points.append((cut, result.estimate if result else None))
        observed.append(suppressed.observed)
    chosen = dict(points)[min_cell]
    left, right = st.columns(2)
    left.metric(_("Stepwise estimate, all cells"), num(points[0][1]) if points[0][1] else _("n/a"))
    right.metric(
        _("Stepwise estimate, cells < {min_cell} suppressed").format(min_cell=min_cell),
        num(chosen) if chosen else _("does not exist"),
    )
    st.plotly_chart(localized_figure(suppression_figure(points, observed, min_cell)), key="mse_suppression_chart")
    what_it_means(_(
        "hiding small cells protects individuals, but those small cells are often the overlaps the estimate "
        "depends on. Agree on disclosure rules before the computation, and check what they cost."
    ))


def main() -> None:
    """Render the page."""
    st.title(_("Size estimate: how many victims does nobody see?"))
    st.markdown(_(
        "**Multiple systems estimation (MSE)** compares how often the same people appear on several "
        "organisations' lists. If lists overlap little, many people are probably missed by all of them. "
        "The MPC run can produce exactly the input MSE needs - the number of people per combination of "
        "lists - without any organisation revealing who is on its list. The estimate is the size of the "
        "hidden population: registered and unregistered victims together."
    ))
    try:
        table, true_population = choose_table()
        if table is None:
            return
        show_overlaps(table)
        show_models(table, true_population)
        show_disclosure(table)
    except MSEError as exc:
        st.error(_("Cannot estimate: {error}").format(error=exc))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        st.error(_("Could not read the file: {error}").format(error=exc))


main()
