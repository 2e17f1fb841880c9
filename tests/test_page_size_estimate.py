"""AppTest checks for the Size estimate page (sandbox/app_pages/size_estimate.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "sandbox" / "app_pages" / "size_estimate.py"


def number(text: str) -> float:
    """Parse a metric value such as ``"11,418"``."""
    return float(text.replace(",", ""))


def metric(at: AppTest, label_start: str):
    return next(m for m in at.metric if m.label.startswith(label_start))


def test_bundled_uk_dataset_shows_stepwise_estimate():
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    assert not at.exception
    assert at.radio(key="mse_source").options == ["Published example", "Upload a CSV"]
    assert at.selectbox(key="mse_dataset").value == "UKdat"  # the default: the README's reproduction
    assert "UKdat - UK 2013, six lists, 2,744 people observed" in at.selectbox(key="mse_dataset").options
    at.radio(key="mse_source").set_value("Published example")
    at.selectbox(key="mse_dataset").set_value("UKdat").run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) >= 2
    figure = json.loads(charts[0].proto.spec)
    assert figure["data"][0]["type"] == "bar"
    assert number(metric(at, "Stepwise (p < 0.02)").value) == pytest.approx(11_418, rel=0.005)
    assert number(metric(at, "Main effects").value) == pytest.approx(12_214, rel=0.005)
    assert any("share nobody" in w.value for w in at.warning)
    assert not at.error


def test_mpc_capture_patterns_with_true_population():
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["capture_patterns"] = {
        "lists": ["Police", "Shelter", "Inspectorate"],
        "patterns": [
            {"lists": ["Police"], "count": 120},
            {"lists": ["Shelter"], "count": 80},
            {"lists": ["Inspectorate"], "count": 40},
            {"lists": ["Police", "Shelter"], "count": 20},
            {"lists": ["Police", "Inspectorate"], "count": 9},
            {"lists": ["Shelter", "Inspectorate"], "count": 5},
            {"lists": ["Police", "Shelter", "Inspectorate"], "count": 2},
        ],
        "true_population": 900,
    }
    at.run()
    assert not at.exception
    assert at.radio(key="mse_source").value == "Result of the MPC run"
    assert metric(at, "True population").value == "900"
    assert metric(at, "Best BIC")  # three lists: AIC/BIC offered
    assert len(at.get("plotly_chart")) >= 3


def test_estimate_that_does_not_exist_shows_error_not_traceback():
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["capture_patterns"] = {
        "lists": ["A", "B"],
        "patterns": [{"lists": ["A"], "count": 10}, {"lists": ["B"], "count": 4}],
        "true_population": None,
    }
    at.run()
    assert not at.exception
    assert any("does not exist" in e.value for e in at.error)


def test_bootstrap_button_adds_intervals():
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    at.selectbox(key="mse_dataset").set_value("Western").run()
    assert metric(at, "Best AIC")  # five lists: AIC/BIC offered
    at.number_input(key="mse_n_boot").set_value(30)
    at.button(key="mse_bootstrap_run").click().run()
    assert not at.exception
    assert "95%" in metric(at, "Stepwise").proto.delta
    assert "95%" in metric(at, "Main effects").proto.delta


@pytest.mark.parametrize("name", ["Ned", "NewOrl", "simdat"])
def test_other_published_examples_give_estimates(name):
    at = AppTest.from_file(str(PAGE), default_timeout=120).run()
    at.selectbox(key="mse_dataset").set_value(name).run()
    assert not at.exception and not at.error
    observed = {"Ned": 8_234, "NewOrl": 185, "simdat": 1_043}[name]
    assert f"**Observed:** {observed:,} people" in " ".join(m.value for m in at.markdown)
    assert number(metric(at, "Stepwise").value) > observed
    assert len(at.get("plotly_chart")) >= 3


def test_uploaded_csv_gives_estimates():
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    at.radio(key="mse_source").set_value("Upload a CSV").run()
    assert any("Upload a file" in i.value for i in at.info)
    text = "A,B,C,count\n1,0,0,120\n0,1,0,80\n0,0,1,40\n1,1,0,20\n1,0,1,9\n0,1,1,5\n1,1,1,2\n"
    at.file_uploader(key="mse_upload").upload("three.csv", text.encode(), "text/csv")
    at.run()
    assert not at.exception and not at.error
    assert number(metric(at, "Main effects").value) > 276  # 276 people observed
    assert len(at.get("plotly_chart")) >= 3


def test_uploaded_csv_with_a_bad_cell_names_file_line_and_column():
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    at.radio(key="mse_source").set_value("Upload a CSV").run()
    at.file_uploader(key="mse_upload").upload("bad.csv", b"A,B,count\n1,0,5\n1,2,3\n", "text/csv")
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Cannot estimate: bad.csv, line 3, column 'B': expected 0 or 1, got '2'"]


def test_covariate_lesson_numbers_are_rederived_independently():
    """The covariate lesson on the plaintext demo table: every column re-derived here without the page's
    code path - observed and true counts straight from the generator's population with pandas, the
    list-only column with sandbox.mse's stepwise fit (checked against SparseMSE), the covariate column by
    refitting the page's chosen terms with statsmodels' formula interface."""
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    import synthetic
    from sandbox.mse import CaptureTable, MSEError, analyse
    from sandbox.scenario import load_scenario

    at = AppTest.from_file(str(PAGE), default_timeout=900).run()
    at.toggle(key="mse_covariates_on").set_value(True).run()
    assert not at.exception and not at.error
    shown = next(d.value for d in at.dataframe if "with covariates" in d.value.columns)

    scenario = load_scenario("horticulture-labour")
    data = synthetic.generate(scenario.organisations, scenario.generator, seed=1, population=3000)
    pop = data.population
    lists = [o.id for o in scenario.organisations]
    seen = pop[pop["lists"] != ""]
    truth = dict(zip(shown.level, shown["true population (sandbox)"], strict=True))
    assert truth == pop.primary_form.value_counts().to_dict()
    assert dict(zip(shown.level, shown.observed, strict=True)) == seen.primary_form.value_counts().to_dict()

    on = pd.DataFrame({name: seen["lists"].str.split(";").map(lambda m, n=name: int(n in m)) for name in lists})
    on["form"] = seen["primary_form"].to_numpy()
    for _, row in shown.iterrows():
        part = on[on.form == row.level].groupby(lists).size()
        table = CaptureTable.from_counts(lists, {tuple(int(v) for v in k): int(n) for k, n in part.items()})
        try:
            expected = analyse(table, method="stepwise").estimate
        except MSEError:  # the page shows an empty cell: no estimate for this group alone
            assert pd.isna(row["list-only (this group alone)"])
            continue
        assert row["list-only (this group alone)"] == pytest.approx(expected, rel=1e-9)

    terms = metric(at, "With covariates").help.removeprefix("Terms: ").split(", ")
    grid = pd.MultiIndex.from_product([[0, 1]] * len(lists) + [sorted(on.form.unique())], names=[*lists, "form"])
    cells = on.groupby([*lists, "form"]).size().reindex(grid, fill_value=0).rename("n").reset_index()
    observed = cells[cells[lists].sum(axis=1) > 0]
    formula = "n ~ " + " + ".join([*lists, "C(form)", *(t.replace("form", "C(form)") for t in terms if t)])
    fit = smf.glm(formula, observed, family=sm.families.Poisson()).fit()
    fitted = np.asarray(fit.predict(cells))
    zero = cells[lists].sum(axis=1).to_numpy() == 0
    # cells the search fitted on the boundary (extended MLE) carry ~0 in the plain fit as well
    for level in shown.level:
        mask = (cells.form == level).to_numpy()
        expected = fitted[mask].sum()
        assert shown.loc[shown.level == level, "with covariates"].iloc[0] == pytest.approx(expected, rel=1e-3, abs=0.06)
    assert number(metric(at, "With covariates").value) == pytest.approx(fitted.sum(), rel=1e-3)
    assert zero.any()


def test_covariate_lesson_reads_the_last_capture_patterns_by_run():
    """The Run page stores a capture-patterns-by result; the lesson uses it (toggle on by default)."""
    people = [(("A",), "F", 30), (("B",), "F", 20), (("A", "B"), "M", 5), (("C",), "M", 25), (("A", "C"), "F", 4),
              (("B", "C"), "M", 6), (("A",), "M", 10), (("B",), "missing", 3)]
    revealed = [{"lists": list(on), "levels": {"sex": sex}, "count": n} for on, sex, n in people]
    at = AppTest.from_file(str(PAGE), default_timeout=300)
    at.session_state["capture_patterns_by"] = {"lists": ["A", "B", "C"], "covariates": ["sex"],
                                               "revealed": revealed, "suppressed": [], "data_dir": None}
    at.run()
    assert not at.exception and not at.error
    assert at.toggle(key="mse_covariates_on").value is True
    shown = next(d.value for d in at.dataframe if "with covariates" in d.value.columns)
    assert "true population (sandbox)" not in shown.columns
    # observed per level: the known ones exactly, the 3 with a missing value shared out by EM
    assert shown.observed.sum() == pytest.approx(sum(n for *_, n in people), abs=0.05)
    assert shown.set_index("level").observed["F"] >= 54 and shown.set_index("level").observed["M"] >= 46
    assert any("imputed by EM" in w.value for w in at.warning)
