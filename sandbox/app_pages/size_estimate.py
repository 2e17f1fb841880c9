"""Size estimate: how many victims does no organisation see? (multiple systems estimation)

Thin page: all statistics live in ``sandbox.mse``; this file only gathers input,
calls it and shows the results.  Every widget key starts with ``mse_``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

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
from sandbox.mse.covariates import CovariateTable, analyse_covariates, covariate_table, table_from_patterns_by
from sandbox.mse.strata import person_frame, true_by_level, true_by_level_from_marginals
from sandbox.ui import _, error_text, lang, num, pct, separators, what_it_means

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
            messages.append(f"{method_label(method, pthresh)}: {error_text(error)}")
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
        st.warning(error_text(warning))


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


DEMO_SCENARIO, DEMO_SEED, DEMO_POPULATION = "horticulture-labour", 1, 3000
DEMO_COVARIATES = ("form",)


@st.cache_data(show_spinner=False)
def demo_people() -> tuple[pd.DataFrame, tuple[str, ...], dict[str, dict[str, int]]]:
    """The plaintext demo: one row per registered person of a generated nl-baseline population,
    and the generator's true population per level (sandbox only)."""
    import synthetic
    from sandbox.scenario import load_scenario

    scenario = load_scenario(DEMO_SCENARIO)
    data = synthetic.generate(scenario.organisations, scenario.generator, seed=DEMO_SEED, population=DEMO_POPULATION)
    lists = tuple(o.id for o in scenario.organisations)
    frame = person_frame(data.population, lists, DEMO_COVARIATES)
    return frame, lists, true_by_level(data.population, DEMO_COVARIATES)


def covariate_source() -> tuple[CovariateTable, dict[str, dict[str, int]], str, list[str]]:
    """The last capture-patterns-by Run in this session (stored by the Run page), else the plaintext demo."""
    run = st.session_state.get("capture_patterns_by")
    if isinstance(run, dict) and run.get("revealed"):
        table, notes = table_from_patterns_by(run, run.get("lists"), run.get("covariates"), source="the last Run")
        truth: dict[str, dict[str, int]] = {}
        folder = run.get("data_dir")
        path = Path(folder) / "ground_truth.json" if folder else None
        if path is not None and path.is_file():
            marginals = json.loads(path.read_text(encoding="utf-8")).get("marginals", {}).get("population", {})
            truth = true_by_level_from_marginals(marginals, table.covariates)
        return table, truth, _("the last Run of capture-patterns-by"), notes
    frame, lists, truth = demo_people()
    return (
        covariate_table(frame, lists, DEMO_COVARIATES, source="demo"),
        truth,
        _("a generated {scenario} population of {n} (seed {seed}, plaintext)").format(
            scenario=DEMO_SCENARIO, n=num(DEMO_POPULATION), seed=DEMO_SEED),
        [],
    )


@st.cache_data(show_spinner=False)
def covariate_lesson(key: str, _table: CovariateTable) -> tuple[pd.DataFrame, dict[str, object]]:
    """Per stratum: list-only stepwise fitted on the stratum alone, the covariate model (min BIC), and
    the list-only model on everyone.  ``key`` identifies the table for the cache."""
    result = analyse_covariates(_table, method="bic")
    rows = []
    for name in _table.covariates:
        for row in result.by_level[name]:
            counts = _table.pattern_counts({name: row["level"]})
            try:
                alone = analyse(CaptureTable.from_counts(_table.lists, counts), method="stepwise").estimate
            except MSEError:
                alone = None
            rows.append(
                {
                    "covariate": name,
                    "level": row["level"],
                    "observed": row["observed"],
                    "list-only (this group alone)": alone,
                    "with covariates": row["estimate"],
                }
            )
    everyone = analyse(CaptureTable.from_counts(_table.lists, _table.pattern_counts()), method="stepwise")
    return pd.DataFrame(rows), {
        "list_only": everyone.estimate,
        "covariates": result.estimate,
        "terms": result.terms,
        "observed": result.observed,
        "warnings": result.warnings,
    }


def show_covariates() -> None:
    """List-only against covariate models, per stratum, with the generator's truth beside each."""
    st.subheader(_("Groups that are seen differently: covariates"))
    run = st.session_state.get("capture_patterns_by")
    from_run = isinstance(run, dict) and bool(run.get("revealed"))
    if not st.toggle(
        _("Compare list-only and covariate models per group"), value=from_run, key="mse_covariates_on"
    ):
        st.caption(_(
            "Uses the last Run of capture-patterns-by, or a generated demo table; the model search takes "
            "a little while."
        ))
        return
    table, truth, source, notes = covariate_source()
    key = json.dumps([table.lists, table.covariates, table.cells["count"].tolist(), table.n_missing])
    with st.spinner(_("Fitting the covariate models (a stepwise search over two-way terms)...")):
        frame, totals = covariate_lesson(key, table)
    frame = frame.copy()
    if truth:
        frame["true population (sandbox)"] = [
            truth.get(c, {}).get(lev) for c, lev in zip(frame.covariate, frame.level, strict=True)
        ]
    st.caption(_("Input: {source}.").format(source=source))
    headers = {"covariate": _("covariate"), "level": _("level"), "observed": _("observed"),
               "list-only (this group alone)": _("list-only (this group alone)"),
               "with covariates": _("with covariates"), "true population (sandbox)": _("true population (sandbox)")}
    st.dataframe(frame.rename(columns=headers), hide_index=True, key="mse_covariate_table")
    columns = st.columns(3 if truth else 2)
    columns[0].metric(_("List-only stepwise, everyone"), num(totals["list_only"]))
    columns[1].metric(
        _("With covariates (min BIC)"), num(totals["covariates"]),
        help=_("Terms: {terms}").format(terms=", ".join(totals["terms"])),
    )
    if truth:
        total_true = sum(next(iter(truth.values())).values())
        columns[2].metric(_("True population (synthetic)"), num(total_true))
    verdict = ""
    if truth:
        off_list = abs(totals["list_only"] - total_true) / total_true
        off_cov = abs(totals["covariates"] - total_true) / total_true
        closer = _("the covariate model") if off_cov < off_list else _("the list-only model")
        verdict = " " + _(
            "On this table {closer} is closer to the truth (list-only off by {off_list}, covariates "
            "by {off_cov}); the benchmark in docs/mse.md shows how often each wins."
        ).format(closer=closer, off_list=pct(off_list), off_cov=pct(off_cov))
    what_it_means(_(
        "a list-only model assumes every group has the same chances of being registered. In the generator, "
        "as in the Netherlands, the chances depend on the form of exploitation, on being a minor and on "
        "nationality, and that biases a list-only estimate. A covariate model gives each group its own "
        "chances (list x covariate terms) and adds up the groups - that is why the published Dutch estimates "
        "use sex, age, nationality and form. But it has many more cells and parameters: when few people are "
        "seen on two lists, the stepwise search can pick terms the data barely support and the estimate can "
        "be far off either way. Neither model is right by construction; compare both with the truth here, "
        "and quote the model with any figure.") + verdict
    )
    for note in [*notes, *totals["warnings"]]:
        st.warning(error_text(note))


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
        show_covariates()
    except MSEError as exc:
        st.error(_("Cannot estimate: {error}").format(error=error_text(exc)))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        st.error(_("Could not read the file: {error}").format(error=error_text(exc)))


main()
