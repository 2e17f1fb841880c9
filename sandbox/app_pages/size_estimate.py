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
from sandbox.mse.charts import estimates_figure, method_label, suppression_figure, upset_figure
from sandbox.mse.covariates import CovariateTable, analyse_covariates, covariate_table, table_from_patterns_by
from sandbox.mse.strata import person_frame, true_by_level, true_by_level_from_marginals
from sandbox.ui import what_it_means

SOURCE_MPC, SOURCE_BUNDLED, SOURCE_UPLOAD = "Result of the MPC run", "Published example", "Upload a CSV"
DEFAULT_DATASET = "UKdat"
MIN_CELL_RANGE = range(11)


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
        st.error("The MPC result in this session has an unexpected format; choose another source.")
        mpc = None
    sources = ([SOURCE_MPC] if mpc else []) + [SOURCE_BUNDLED, SOURCE_UPLOAD]
    source = st.radio("Where do the counts come from?", sources, key="mse_source", horizontal=True)
    if source == SOURCE_MPC:
        table = CaptureTable.from_patterns(mpc.get("patterns", []), mpc.get("lists", []))
        return table, mpc.get("true_population")
    if source == SOURCE_BUNDLED:
        names = published.names()
        name = st.selectbox(
            "Published data set",
            names,
            key="mse_dataset",
            index=names.index(DEFAULT_DATASET) if DEFAULT_DATASET in names else 0,
            format_func=lambda n: f"{n} - {published.DESCRIPTIONS.get(n, '')}",
        )
        return published.load_table(name), None
    upload = st.file_uploader("CSV: one 0/1 column per list, then 'count'", type=["csv"], key="mse_upload")
    if upload is None:
        st.info("Upload a file to continue.")
        return None, None
    frame = pd.read_csv(io.BytesIO(upload.getvalue()), dtype=str, keep_default_na=False)
    return table_from_frame(frame, source=upload.name), None


def show_overlaps(table: CaptureTable) -> None:
    """UpSet-style chart of the capture patterns."""
    st.plotly_chart(upset_figure(table), key="mse_upset_chart")
    what_it_means(
        "each bar is a group of people seen by exactly the organisations marked with dark dots. "
        "The few people seen by two or more organisations are what lets us estimate how many nobody saw."
    )


def show_models(table: CaptureTable, true_population: int | None) -> None:
    """Estimates of all available models side by side, with optional bootstrap intervals."""
    pthresh = st.select_slider(
        "Stepwise p-value threshold",
        options=[0.001, 0.005, 0.01, 0.02, 0.05, 0.1],
        value=0.02,
        key="mse_pthresh",
    )
    with st.expander("Confidence intervals (bootstrap)"):
        n_boot = st.number_input(
            "Replicates", min_value=20, max_value=2000, value=200, step=50, key="mse_n_boot"
        )
        seed = st.number_input("Seed", min_value=0, max_value=10**6, value=1234, step=1, key="mse_seed")
        if st.button("Compute 95% intervals (main effects and stepwise)", key="mse_bootstrap_run"):
            st.session_state["mse_boot_request"] = (_key(table), int(n_boot), int(seed))
    request = st.session_state.get("mse_boot_request")
    n_boot, seed = request[1:] if request and request[0] == _key(table) else (0, 1234)
    results, messages = [], []
    for method in available_methods(table):
        boot = n_boot if method in ("main", "stepwise") else 0
        with st.spinner(f"Fitting {method_label(method, pthresh)}..."):
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
    st.plotly_chart(estimates_figure(results, pthresh, true_population), key="mse_estimates_chart")
    what_it_means(
        "different, equally defensible models give different totals. Quote a range and the model, never one "
        "number; the bars with whiskers show 95% bootstrap intervals when computed."
    )
    if len(table.lists) > 5:
        st.info(
            "AIC/BIC search over all models is only offered for up to 5 lists (6 lists already means "
            "32,768 models); the stepwise method is the standard choice here."
        )
    for warning in dict.fromkeys(w for r in results for w in r.warnings):
        st.warning(warning)


def _metrics(results, pthresh: float, true_population: int | None) -> None:
    """One metric per model (and the true population when known)."""
    columns = st.columns(len(results) + (1 if true_population else 0))
    for column, result in zip(columns, results, strict=False):
        interval = f"95%: {result.ci95[0]:,.0f}-{result.ci95[1]:,.0f}" if result.ci95 else None
        column.metric(
            method_label(result.method, pthresh),
            f"{result.estimate:,.0f}",
            delta=interval,
            delta_color="off",
            delta_arrow="off",
            help="Interactions: " + (", ".join(result.terms) or "none"),
        )
    if true_population:
        columns[-1].metric("True population (synthetic)", f"{true_population:,}")
    st.markdown(
        f"**Observed:** {results[0].observed:,} people on at least one list.  "
        + "  ".join(
            f"**{method_label(r.method, pthresh)}** uses {', '.join(r.terms) or 'no interactions'}."
            for r in results
        )
    )


def show_disclosure(table: CaptureTable) -> None:
    """Disclosure control vs estimate: suppress small cells and refit (stepwise)."""
    st.subheader("Disclosure control vs estimate")
    min_cell = st.slider(
        "Publish only cells with at least this many people (smaller cells set to 0)",
        min_value=MIN_CELL_RANGE.start,
        max_value=MIN_CELL_RANGE.stop - 1,
        value=5,
        key="mse_min_cell",
    )
    points, observed = [], []
    for cut in MIN_CELL_RANGE:
        suppressed = suppress_small_cells(table, cut)
        result, _ = run_method(*_key(suppressed), "stepwise", 0.02)
        points.append((cut, result.estimate if result else None))
        observed.append(suppressed.observed)
    chosen = dict(points)[min_cell]
    left, right = st.columns(2)
    left.metric("Stepwise estimate, all cells", f"{points[0][1]:,.0f}" if points[0][1] else "n/a")
    right.metric(
        f"Stepwise estimate, cells < {min_cell} suppressed", f"{chosen:,.0f}" if chosen else "does not exist"
    )
    st.plotly_chart(suppression_figure(points, observed, min_cell), key="mse_suppression_chart")
    what_it_means(
        "hiding small cells protects individuals, but those small cells are often the overlaps the estimate "
        "depends on. Agree on disclosure rules before the computation, and check what they cost."
    )


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
        return table, truth, "the last Run of capture-patterns-by", notes
    frame, lists, truth = demo_people()
    return (
        covariate_table(frame, lists, DEMO_COVARIATES, source="demo"),
        truth,
        f"a generated {DEMO_SCENARIO} population of {DEMO_POPULATION:,} (seed {DEMO_SEED}, plaintext)",
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
    st.subheader("Groups that are seen differently: covariates")
    run = st.session_state.get("capture_patterns_by")
    from_run = isinstance(run, dict) and bool(run.get("revealed"))
    if not st.toggle(
        "Compare list-only and covariate models per group", value=from_run, key="mse_covariates_on"
    ):
        st.caption(
            "Uses the last Run of capture-patterns-by, or a generated demo table; the model search takes "
            "a little while."
        )
        return
    table, truth, source, notes = covariate_source()
    key = json.dumps([table.lists, table.covariates, table.cells["count"].tolist(), table.n_missing])
    with st.spinner("Fitting the covariate models (a stepwise search over two-way terms)..."):
        frame, totals = covariate_lesson(key, table)
    frame = frame.copy()
    if truth:
        frame["true population (sandbox)"] = [
            truth.get(c, {}).get(lev) for c, lev in zip(frame.covariate, frame.level, strict=True)
        ]
    st.caption(f"Input: {source}.")
    st.dataframe(frame, hide_index=True, key="mse_covariate_table")
    columns = st.columns(3 if truth else 2)
    columns[0].metric("List-only stepwise, everyone", f"{totals['list_only']:,.0f}")
    columns[1].metric(
        "With covariates (min BIC)", f"{totals['covariates']:,.0f}", help="Terms: " + ", ".join(totals["terms"])
    )
    if truth:
        total_true = sum(next(iter(truth.values())).values())
        columns[2].metric("True population (synthetic)", f"{total_true:,}")
    verdict = ""
    if truth:
        off_list = abs(totals["list_only"] - total_true) / total_true
        off_cov = abs(totals["covariates"] - total_true) / total_true
        closer = "the covariate model" if off_cov < off_list else "the list-only model"
        verdict = (
            f" On this table {closer} is closer to the truth (list-only off by {off_list:.0%}, covariates "
            f"by {off_cov:.0%}); the benchmark in docs/mse.md shows how often each wins."
        )
    what_it_means(
        "a list-only model assumes every group has the same chances of being registered. In the generator, "
        "as in the Netherlands, the chances depend on the form of exploitation, on being a minor and on "
        "nationality, and that biases a list-only estimate. A covariate model gives each group its own "
        "chances (list x covariate terms) and adds up the groups - that is why the published Dutch estimates "
        "use sex, age, nationality and form. But it has many more cells and parameters: when few people are "
        "seen on two lists, the stepwise search can pick terms the data barely support and the estimate can "
        "be far off either way. Neither model is right by construction; compare both with the truth here, "
        "and quote the model with any figure." + verdict
    )
    for note in [*notes, *totals["warnings"]]:
        st.warning(note)


def main() -> None:
    """Render the page."""
    st.title("Size estimate: how many victims does nobody see?")
    st.markdown(
        "**Multiple systems estimation (MSE)** compares how often the same people appear on several "
        "organisations' lists. If lists overlap little, many people are probably missed by all of them. "
        "The MPC run can produce exactly the input MSE needs - the number of people per combination of "
        "lists - without any organisation revealing who is on its list."
    )
    try:
        table, true_population = choose_table()
        if table is None:
            return
        show_overlaps(table)
        show_models(table, true_population)
        show_disclosure(table)
        show_covariates()
    except MSEError as exc:
        st.error(f"Cannot estimate: {exc}")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        st.error(f"Could not read the file: {exc}")


main()
