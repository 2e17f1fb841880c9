"""Dutch and English (issue 20): catalog completeness, scenario texts in both languages, numbers per language,
and every page rendered in both languages by AppTest (the real browser: tests/test_e2e_i18n.py)."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from sandbox import i18n
from sandbox.scenario import Scenario, ScenarioError, load_scenario
from synthetic.text import LocalText

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "sandbox" / "app.py")
LOCALE = ROOT / "sandbox" / "locale"
NL_PO = LOCALE / "nl" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


# ------------------------------------------------------------------------------------- catalog completeness

def extract(*sources: Path, out: Path) -> set[str]:
    """Run Babel's extraction (the same command as `make i18n-extract`) and return the msgids found."""
    pot = out / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_", "-k", "ngettext:1,2", "-k", "N_", "-k", "NC_:1c,2", "--no-location",
                    "-o", str(pot), *map(str, sources)],
                   check=True, capture_output=True, cwd=ROOT)
    with pot.open("rb") as fh:
        return {_key(m.id) for m in read_po(fh) if m.id}


def _key(msgid) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def catalog_problems(po: Path, code_ids: set[str]) -> list[str]:
    """Everything that would show English (or a broken text) on a Dutch page."""
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="nl")
    problems = []
    if catalog.fuzzy:
        problems.append("the catalog header is marked fuzzy")
    ids = set()
    for m in catalog:
        if not m.id:
            continue
        key = _key(m.id)
        ids.add(key)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if not all(s.strip() for s in strings):
            problems.append(f"untranslated: {key!r}")
        if m.fuzzy:
            problems.append(f"fuzzy: {key!r}")
        wanted = set(PLACEHOLDER.findall(" ".join(m.id if isinstance(m.id, tuple) else (m.id,))))
        for s in strings:
            if s.strip() and set(PLACEHOLDER.findall(s)) != wanted:
                problems.append(f"placeholders differ: {key!r}")
    problems += [f"in the code but not in the catalog: {k!r}" for k in sorted(code_ids - ids)]
    problems += [f"in the catalog but no longer in the code: {k!r}" for k in sorted(ids - code_ids)]
    return problems


@pytest.fixture(scope="module")
def code_ids(tmp_path_factory) -> set[str]:
    return extract(ROOT / "sandbox", ROOT / "synthetic", out=tmp_path_factory.mktemp("pot"))  # as make i18n-extract


def test_dutch_catalog_is_complete_and_matches_the_code(code_ids):
    assert len(code_ids) > 300
    assert catalog_problems(NL_PO, code_ids) == []


def test_completeness_check_fails_on_untranslated_fuzzy_wrong_placeholder_and_missing(code_ids, tmp_path):
    """The check above is able to fail: a broken copy of the catalog and a new text in the code are caught."""
    text = NL_PO.read_text(encoding="utf-8")
    broken = text.replace('msgstr "Vorige"', 'msgstr ""', 1)
    broken = broken.replace('msgid "Next"\nmsgstr "Volgende"', '#, fuzzy\nmsgid "Next"\nmsgstr "Volgende"', 1)
    broken = broken.replace('msgstr "Stap {n} van {total}: {title}"', 'msgstr "Stap {n} van {title}"', 1)
    assert broken.count("\n") == text.count("\n") + 1  # all three edits applied
    bad = tmp_path / "messages.po"
    bad.write_text(broken, encoding="utf-8")
    problems = catalog_problems(bad, code_ids)
    assert "untranslated: 'Previous'" in problems
    assert "fuzzy: 'Next'" in problems
    assert "placeholders differ: 'Step {n} of {total}: {title}'" in problems

    src = tmp_path / "src"
    src.mkdir()
    (src / "page.py").write_text('from sandbox.ui import _\n_("A sentence nobody translated yet")\n')
    new_ids = extract(src, out=tmp_path)
    assert catalog_problems(NL_PO, code_ids | new_ids)[-1:] == [
        "in the code but not in the catalog: 'A sentence nobody translated yet'"]


def _hidden_translations(source: str) -> list[str]:
    """Texts translated through something Babel does not extract: `gettext_for(x)("...")`, `t.gettext("...")`."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            f = node.func
            if isinstance(f, ast.Call) or (isinstance(f, ast.Attribute) and f.attr in {"gettext", "ngettext"}):
                found.append(node.args[0].value)
    return found


def test_every_translated_text_is_extracted():
    hidden = {str(p.relative_to(ROOT)): h for p in (ROOT / "sandbox").rglob("*.py")
              if (h := _hidden_translations(p.read_text(encoding="utf-8")))}
    assert hidden == {}
    assert _hidden_translations('x = gettext_for(lang)("Hidden")\ny = t.gettext("Also hidden")') == [
        "Hidden", "Also hidden"]


def test_english_catalog_keeps_the_source_text():
    en = i18n.translations("en")
    assert en.gettext("Previous") == "Previous"
    assert i18n.translations("nl").gettext("Previous") == "Vorige"
    assert i18n.translations("nl").ngettext("{n} organisation gets a meaningless number ({value}); every secret "
                                            "would be equally possible.", "{n} organisations get a meaningless "
                                            "number ({value}); every secret would be equally possible.", 2
                                            ).startswith("{n} organisaties krijgen")


def test_catalog_compiled_from_the_po_when_the_mo_is_missing(tmp_path, monkeypatch):
    folder = tmp_path / "nl" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_bytes(NL_PO.read_bytes())
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        assert i18n.translations("nl").gettext("Previous") == "Vorige"
        assert not (folder / "messages.mo").exists()
    finally:
        i18n.translations.cache_clear()


# ------------------------------------------------------------------------------------- languages, numbers

@pytest.mark.parametrize(("given", "code"), [("nl", "nl"), ("NL", "nl"), ("nl-NL", "nl"), ("en_GB", "en"),
                                             ("en", "en"), ("de", None), ("", None), (None, None), (3, None)])
def test_language_codes(given, code):
    assert i18n.normalise_language(given) == code


def test_default_language_is_dutch_unless_set(monkeypatch):
    monkeypatch.delenv("MPC_SANDBOX_LANG", raising=False)
    assert i18n.default_language() == "nl"
    monkeypatch.setenv("MPC_SANDBOX_LANG", "en")
    assert i18n.default_language() == "en"
    monkeypatch.setenv("MPC_SANDBOX_LANG", "klingon")
    assert i18n.default_language() == "nl"


def test_numbers_and_dates_per_language():
    import datetime as dt

    # Expected strings written by hand (Dutch: point for thousands, comma for decimals).
    assert i18n.format_int(1234567, "nl") == "1.234.567"
    assert i18n.format_int(1234567, "en") == "1,234,567"
    assert i18n.format_decimal(1234.5, "nl") == "1.234,5"
    assert i18n.format_decimal(1234.5, "en") == "1,234.5"
    assert i18n.format_decimal(0.04, "nl", 2) == "0,04"
    assert i18n.format_percent(0.052, "nl", 1) == "5,2%"
    assert i18n.format_percent(0.5, "en") == "50%"
    assert i18n.plotly_separators("nl") == ",."
    assert i18n.plotly_separators("en") == ".,"
    assert i18n.format_date(dt.date(2026, 12, 2), "nl") == "2 december 2026"
    assert i18n.format_date(dt.date(2026, 12, 2), "en") == "2 December 2026"


# ------------------------------------------------------------------------------------- scenario texts

def _minimal(**texts) -> dict:
    raw = yaml.safe_load((ROOT / "scenarios" / "nl-baseline.yaml").read_text(encoding="utf-8"))
    raw.pop("script"), raw.pop("governance")
    raw.update(texts)
    return raw


def test_old_single_language_scenario_still_loads(tmp_path):
    raw = _minimal(title="Only English", description="Written before issue 20.")
    for org in raw["organisations"]:
        org["name"] = org["name"]["en"]
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    s = load_scenario(path)
    assert s.title == "Only English" and i18n.localized(s.title, "nl") == "Only English"
    assert s.organisations[0].name == "National Police"
    assert i18n.localized(s.organisations[0].name, "nl") == "National Police"


def test_bilingual_scenario_texts(tmp_path):
    s = Scenario.model_validate(_minimal(title={"en": "Two languages", "nl": "Twee talen"}))
    assert s.title == "Two languages"  # the CLI and the JSON output keep the English text
    assert i18n.localized(s.title, "nl") == "Twee talen" and i18n.localized(s.title, "en") == "Two languages"
    assert i18n.localized(s.organisations[3].name, "nl") == "Regionale zorgcoördinatoren"
    only_nl = Scenario.model_validate(_minimal(title={"nl": "Alleen Nederlands"}))
    assert only_nl.title == "Alleen Nederlands" and i18n.localized(only_nl.title, "en") == "Alleen Nederlands"
    # the translations survive pickling (st.cache_data) and the JSON round trip (the generator subprocess)
    assert pickle.loads(pickle.dumps(s)).title.by_lang["nl"] == "Twee talen"
    again = Scenario.model_validate_json(s.model_dump_json())
    assert again.title.by_lang == {"en": "Two languages", "nl": "Twee talen"}


@pytest.mark.parametrize(("title", "message"), [
    ({"de": "Zwei Sprachen"}, "unknown language de"),
    ({}, "at least one language"),
    ({"en": "ok", "nl": ""}, "language nl must be a non-empty string"),
    ({"en": 3}, "language en must be a non-empty string"),
    (["en"], "a text must be a string or a mapping"),
])
def test_bad_scenario_text_is_a_clear_error(tmp_path, title, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_minimal(title=title), allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError, match=message) as err:
        load_scenario(path)
    assert "title" in str(err.value)


def test_script_step_text_too_short_in_one_language(tmp_path):
    raw = yaml.safe_load((ROOT / "scenarios" / "nl-baseline.yaml").read_text(encoding="utf-8"))
    raw["script"][0]["title"] = {"en": "Welcome", "nl": "W"}
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"script\.0\.title"):
        load_scenario(path)


@pytest.mark.parametrize("name", ["nl-baseline", "horticulture-labour", "minors-criminal"])
def test_shipped_scenarios_are_fully_in_dutch(name):
    """Titles, organisation names and the whole script (impact cards, presenter notes) in both languages."""
    s = load_scenario(name)
    texts = [s.title, s.description, *(o.name for o in s.organisations)]
    texts += [t for st in s.script for t in (st.title, st.facilitator, st.participants, st.presenter_notes,
                                              *st.impact.legal, *st.impact.technical, *st.impact.organisational)]
    if s.governance is not None:
        texts += [ph.title for ph in s.governance.phases] + [s.governance.source]
    missing = [str(t) for t in texts if not (isinstance(t, LocalText) and t.by_lang.get("nl"))]
    assert missing == []
    untranslated = [str(t) for t in texts if t.by_lang["nl"] == t.by_lang["en"] and str(t) != "FairWork"]
    assert untranslated == []
    legal = " ".join(i18n.localized(t, "nl") for st in s.script for t in st.impact.legal)
    assert "AVG" in legal and "GDPR" not in legal and "Autoriteit Persoonsgegevens" in legal


# ------------------------------------------------------------------------------------- the report

def test_report_in_dutch_and_in_english():
    from sandbox.workshop.report import collect, to_html, to_pdf

    scenario = load_scenario("nl-baseline")
    run = {"computation": "counts-by-form", "parties": ["police", "kmar", "nla"], "match": True, "seconds": 1.5,
           "revealed": {"sexual": 1234, "labour": None}, "suppressed": ["labour"]}
    timeline = {"naive_days": 120, "p50_days": 150, "p80_days": 190, "p90_days": 210}
    nl = to_html(collect(scenario, steps_done=["intro-trust"], session_run=run, timeline=timeline, lang="nl"))
    assert "<html lang='nl'>" in nl and "Workshopverslag: Nederlandse basis: wie is bij wie bekend?" in nl
    assert "Welkom, vertrouwen en wat we niet doen (<span class='done'>gedaan</span>)" in nl
    assert "<td>1.234</td>" in nl and "onderdrukt" in nl and "Run in deze sessie" in nl
    assert "de helft van de gesimuleerde projecten is klaar binnen 150" in nl
    assert "Workshop report" not in nl and "SYNTHETIC DATA" not in nl
    en = to_html(collect(scenario, steps_done=["intro-trust"], session_run=run, timeline=timeline))
    assert "Workshop report: Dutch baseline" in en and "<td>1,234</td>" in en and "Workshopverslag" not in en
    pdf = to_pdf(collect(scenario, session_run=run, lang="nl"), with_charts=False)
    assert pdf.startswith(b"%PDF")


# ------------------------------------------------------------------------------------- every page, both languages

# One Dutch word or phrase per page that no English page shows, and the English title it replaces.
PAGES = {
    "home.py": ("meervoudige partijberekening", "Multi-party computation (MPC)"),
    "script.py": ("Scenario en draaiboek", "Scenario and script"),
    "data.py": ("Data: wie heeft wat", "Data: who holds what"),
    "secret_sharing.py": ("Geheime deling: één getal", "Secret sharing: one number"),
    "run.py": ("Een gezamenlijke berekening", "Run a joint computation"),
    "party_views.py": ("Wat elke organisatie ziet", "What each organisation sees"),
    "revealed.py": ("Wat wordt bekendgemaakt", "What is revealed"),
    "size_estimate.py": ("verborgen populatie", "hidden population"),
    "timeline.py": ("Hoe lang gaat het duren?", "How long will it take?"),
    "deployment.py": ("Uitrol: één partij per organisatie", "Deployment: one party per organisation"),
    "room.py": ("Workshopruimte", "Workshop room"),
    "report.py": ("Workshopverslag", "Workshop report"),
}


def _texts(node) -> list[str]:
    """Every text an element tree shows: values, labels, options, bodies (recursively)."""
    out = []
    for attr in ("value", "label", "body", "help", "placeholder"):
        try:
            v = getattr(node, attr, None)
        except Exception:  # some elements raise for attributes they do not have
            v = None
        if isinstance(v, str):
            out.append(v)
    for attr in ("options",):
        v = getattr(node, attr, None)
        if isinstance(v, list | tuple):
            out += [str(o) for o in v]
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            out += _texts(child)
    return out


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MPC_SANDBOX_ROOMS", str(tmp_path / "rooms.sqlite"))


def _render(lang: str, page: str | None = None) -> tuple[AppTest, str]:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    if page is not None and page != "home.py":
        at.switch_page(str(ROOT / "sandbox" / "app_pages" / page)).run()
    return at, "\n".join(_texts(at._tree))


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_in_dutch_and_in_english(page):
    dutch, english = PAGES[page]
    at_nl, nl = _render("nl", page)
    assert not at_nl.exception, at_nl.exception[0].value
    assert not at_nl.error, at_nl.error[0].value
    assert dutch.lower() in nl.lower()
    assert english.lower() not in nl.lower()
    at_en, en = _render("en", page)
    assert not at_en.exception, at_en.exception[0].value
    assert english.lower() in en.lower()
    assert dutch.lower() not in en.lower()


def test_language_switch_in_the_sidebar_and_the_address_stays_per_session():
    at = AppTest.from_file(APP, default_timeout=120).run()  # no ?lang=: MPC_SANDBOX_LANG (tests: en)
    assert at.session_state["lang"] == "en"
    at.radio(key="lang_switch").set_value("nl").run()
    assert at.session_state["lang"] == "nl"
    assert at.query_params["lang"] == ["nl"] or at.query_params["lang"] == "nl"
    assert any("meervoudige partijberekening" in m.value for m in at.markdown)
    # another browser session is not affected
    other = AppTest.from_file(APP, default_timeout=120).run()
    assert other.session_state["lang"] == "en"
    assert not any("meervoudige partijberekening" in m.value for m in other.markdown)


def test_catalogue_texts_in_dutch_on_the_script_page():
    """A step with a record-linkage computation: its title and both parts of what it reveals are in Dutch."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "nl"
    at.session_state["script_current"] = "overlap-size"  # computation: capture-patterns
    at.run()
    at.switch_page(str(ROOT / "sandbox" / "app_pages" / "script.py")).run()
    text = "\n".join(m.value for m in at.markdown)
    assert "Wie is bij wie bekend: aantallen per vangstpatroon" in text
    assert "Het aantal personen per combinatie van organisaties" in text and "Technisch: de records" in text
    assert "Technically" not in text and "capture-pattern counts" not in text


def test_size_estimate_charts_in_dutch():
    import json

    at, _ = _render("nl", "size_estimate.py")
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [s["layout"]["title"]["text"] for s in specs]
    assert "Geschatte totale populatie per model" in titles
    assert "Wie staat op welke lijsten (één staaf per combinatie)" in titles
    estimates = next(s for s in specs if s["layout"]["title"]["text"] == "Geschatte totale populatie per model")
    assert estimates["layout"]["separators"] == ",."
    assert "Stapsgewijs (p < 0,02)" in estimates["data"][0]["y"]
    assert any(a["text"].startswith("waargenomen ") for a in estimates["layout"]["annotations"])
    assert all("." in t or len(t) <= 3 for t in estimates["data"][0]["text"])  # 12.345, not 12,345
    assert any(m.label == "Stapsgewijs (p < 0,02)" for m in at.metric)


def test_the_role_keeps_its_value_in_dutch():
    at, _ = _render("nl")
    radio = at.radio(key="role")
    assert radio.value == "Facilitator"
    assert "Nationale Politie" in radio.options
    assert "National Police" not in radio.options
    assert at.session_state["role"] == "Facilitator"  # the value other pages compare is not translated


def test_numbers_on_a_dutch_page_use_dutch_separators():
    at, _ = _render("nl", "data.py")
    records = next(m for m in at.metric if m.label == "Records over alle organisaties").value
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*", records), records
    import pandas as pd

    folder = Path(at.session_state["data_dir"])  # recounted from the organisations' CSV files
    recount = sum(len(pd.read_csv(f, dtype=str)) for f in folder.glob("*.csv"))
    assert recount > 999 and records == f"{recount:,}".replace(",", ".")
    at_en, _ = _render("en", "data.py")
    assert next(m for m in at_en.metric if m.label == "Records over all organisations").value == f"{recount:,}"


@pytest.mark.parametrize("query", [
    {"group_by": ["form", "minor"], "where": {"region": ["amsterdam", "rotterdam"]}, "measure": {"mean": "age"},
     "min_cell": 5},
    {"group_by": ["sector"], "measure": {"sum": "age"}, "min_cell": 0},
    {"group_by": ["dutch"], "measure": "count"},
])
def test_what_a_designed_query_reveals_is_said_in_dutch(query):
    """The generated "what is revealed" text: every sentence in Dutch, the numbers the same as in English."""
    import re

    from sandbox.mpc.query import reveals_text

    en = reveals_text(query, min_cell=10)
    nl = reveals_text(query, min_cell=10, translate=i18n.gettext_for("nl"))
    assert en == reveals_text(query, min_cell=10, translate=i18n.gettext_for("en"))
    for english in ("For each of", "registrations", "Small-cell rule", "No organisation", "opened", "counted"):
        assert english not in nl
    assert "geheim gedeeld" in nl and "eerlijke meerderheid" in nl
    assert re.findall(r"\d+", nl) == re.findall(r"\d+", en)  # the same cell count and thresholds
