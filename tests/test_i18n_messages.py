"""Errors and warnings of the core packages on Dutch pages (issue 20): the core builds its English text from an
N_ template, `sandbox.i18n.translate_message` shows it in the session's language.

The expected Dutch texts are taken from the .po file with Babel's reader and filled in by hand here (plain
`str.replace` of the placeholders), never with the function under test; the English session must show the
exact English text of the exception, which the CLI prints too."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from sandbox import i18n

ROOT = Path(__file__).resolve().parents[1]
NL_PO = ROOT / "sandbox" / "locale" / "nl" / "LC_MESSAGES" / "messages.po"
PAGES = ROOT / "sandbox" / "app_pages"


def msgstr(msgid: str) -> str:
    """The Dutch translation of `msgid`, read from the .po with Babel (not through sandbox.i18n)."""
    with NL_PO.open("rb") as fh:
        catalog = read_po(fh, locale="nl")
    message = catalog.get(msgid)
    assert message is not None and message.string, f"not in the Dutch catalog: {msgid!r}"
    return message.string


def fill(template: str, **values: str) -> str:
    """'{path}: no rows' with path='a.csv' -> 'a.csv: no rows' (placeholders as written, `!r` included)."""
    for name, value in values.items():
        template = re.sub(r"\{" + name + r"(![rs])?\}", lambda _m, v=value: v, template)
    assert "{" not in template.replace("{{", "").replace("}}", ""), template
    return template


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MPC_SANDBOX_ROOMS", str(tmp_path / "rooms.sqlite"))


# ------------------------------------------------------------------------------------- real errors, both languages

def _error(fn, *args, **kwargs) -> Exception:
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the test wants the exception itself
        return exc
    raise AssertionError("no error raised")


def test_a_bad_designed_query_in_dutch_and_in_english():
    from sandbox.mpc.query import QueryError, parse_query

    exc = _error(parse_query, {"group_by": ["form"], "where": {"form": ["sexual", "space"]}})
    assert isinstance(exc, QueryError)
    english = ("where 'form': 'space' is not in the code list of form; "
               "allowed: sexual, labour, criminal, other")
    assert str(exc) == english  # the CLI's text, unchanged
    assert i18n.translate_message(exc, "en") == english
    dutch = fill(msgstr("where {name!r}: {value!r} is not in the code list of {name}; allowed: {codes}"),
                 name="'form'", value="'space'", codes="sexual, labour, criminal, other")
    dutch = dutch.replace("codelijst van 'form'", "codelijst van form")  # {name} without !r: the bare code
    assert i18n.translate_message(exc, "nl") == dutch
    assert "staat niet in de codelijst van form" in dutch


def test_a_missing_column_inside_a_party_failure_is_translated_at_both_levels(tmp_path):
    """The party process writes its InputError to stderr and the runner wraps that text: only text crosses the
    process boundary, and both the runner's and the party's sentence come out in Dutch."""
    from sandbox.mpc.inputs import InputError, read_own_records

    path = tmp_path / "kmar.csv"
    pd.DataFrame({"person_key": ["a"], "org": ["kmar"]}).to_csv(path, index=False)
    exc = _error(read_own_records, path)
    assert isinstance(exc, InputError)
    assert str(exc).startswith("kmar.csv: missing required column(s): ")
    columns = str(exc).split(": ", 2)[2]
    failed = f"party 1 (kmar) failed: {exc}"  # as sandbox.mpc.runner._watch words it
    inner = fill(msgstr("{path}: missing required column(s): {columns}"), path="kmar.csv", columns=columns)
    outer = fill(msgstr("party {i} ({org}) failed: {reason}"), i="1", org="kmar", reason=inner)
    assert i18n.translate_message(failed, "nl") == outer
    assert i18n.translate_message(failed, "en") == failed
    assert outer.startswith("partij 1 (kmar) is mislukt: kmar.csv: verplichte kolom")
    # the other reading exists too (the whole party sentence as the file template's {path}) and would leave the
    # runner's sentence in English: the check above tells the two apart
    other = "{path}: missing required column(s): {columns}".format(path="party 1 (kmar) failed: kmar.csv",
                                                                   columns=columns)
    assert other == failed
    assert fill(msgstr("{path}: missing required column(s): {columns}"), path="party 1 (kmar) failed: kmar.csv",
                columns=columns) != outer


def test_mse_table_whose_lists_share_nobody():
    from sandbox.mse.analysis import analyse
    from sandbox.mse.table import CaptureTable, MSEError

    table = CaptureTable.from_patterns([{"lists": ["A"], "count": 10}, {"lists": ["B"], "count": 4},
                                        {"lists": ["C"], "count": 7}], ["A", "B", "C"])
    exc = _error(analyse, table, method="main")
    assert isinstance(exc, MSEError)
    english = ("the estimate does not exist: no person appears on more than one list, so the lists give no "
               "information about how many people were missed")
    assert str(exc) == english
    assert i18n.translate_message(exc, "nl") == msgstr(english)
    assert i18n.translate_message(exc, "en") == english


def test_a_scenario_with_unknown_keys_is_translated_line_by_line(tmp_path):
    import yaml

    from sandbox.scenario import ScenarioError, load_scenario

    raw = yaml.safe_load((ROOT / "scenarios" / "nl-baseline.yaml").read_text(encoding="utf-8"))
    raw["colour"] = "red"
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    exc = _error(load_scenario, path)
    assert isinstance(exc, ScenarioError)
    assert str(exc) == f"{path}: invalid scenario (1 problem(s))\n  - colour: unknown key"
    dutch = (fill(msgstr("{path}: invalid scenario ({n} problem(s))"), path=str(path), n="1") + "\n"
             + fill(msgstr("  - {where}: {reason}"), where="colour", reason=msgstr("unknown key")))
    assert i18n.translate_message(exc, "nl") == dutch


def test_refusal_tells_and_an_unmarked_text():
    from sandbox.mpc.differencing import REFUSAL_TELLS

    assert i18n.translate_message(REFUSAL_TELLS, "nl") == msgstr(REFUSAL_TELLS) != REFUSAL_TELLS
    room = f"its answer would differ from #2's by too few records. {REFUSAL_TELLS}"  # sandbox.workshop.room
    assert i18n.translate_message(room, "nl") == fill(
        msgstr("its answer would differ from {label}'s by too few records. {detail}"),
        label="#2", detail=msgstr(REFUSAL_TELLS))
    # a text no template produces (e.g. a library's own message) is shown as it is, never half-translated
    # ... also when a short page label ("{n} on {s}", "{name} is {values}", "{days} days") would fit it
    for text in ("[Errno 28] No space left on device", "Size is too large", "a few days", "true positive rate"):
        assert i18n.translate_message(text, "nl") == text
    # (while such a label still translates a text made from it, with one word per field)
    assert i18n.translate_message("3 on 5", "nl") == fill(msgstr("{n} on {s}"), n="3", s="5") != "3 on 5"


def test_the_check_fails_when_the_catalog_lacks_the_translation(tmp_path, monkeypatch):
    """The tests above can fail: with the translation taken out of a copy of the catalog, the English text is
    what a Dutch page would show."""
    english = "the run was cancelled; all parties were stopped"
    folder = tmp_path / "nl" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    text = NL_PO.read_text(encoding="utf-8")
    broken = text.replace(f'msgid "{english}"\nmsgstr "{msgstr(english)}"', f'msgid "{english}"\nmsgstr ""')
    assert broken != text
    (folder / "messages.po").write_text(broken, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n._catalog.cache_clear()
    try:
        assert i18n.translate_message(english, "nl") == english
    finally:
        monkeypatch.undo()
        i18n._catalog.cache_clear()
    assert i18n.translate_message(english, "nl") == msgstr(english)


def _templates() -> list[tuple[str, str]]:
    with NL_PO.open("rb") as fh:
        catalog = read_po(fh, locale="nl")
    out = []
    for m in catalog:
        if not m.id or not isinstance(m.id, str) or m.context:
            continue
        fields = [f for _lit, f, _spec, _conv in string.Formatter().parse(m.id) if f]
        literal = "".join(lit for lit, *_ in string.Formatter().parse(m.id))
        if fields and literal.strip() and all(f.isidentifier() for f in fields):
            out.append((m.id, m.string))
    return out


def test_every_catalog_template_comes_back_in_dutch():
    """Every text with placeholders, filled with values that are no message, is recognised as itself (no other
    template takes it over) and shown with the Dutch template filled with the same values."""
    wrong = []
    templates = _templates()
    assert len(templates) > 150
    for english, dutch in templates:
        names = {f for _lit, f, _spec, _conv in string.Formatter().parse(english) if f}
        values = {name: f"Q{i}x" for i, name in enumerate(sorted(names))}
        try:
            text = english.format(**values)
        except (ValueError, KeyError):  # a format spec such as {:.1f} needs a number: not a core message
            continue
        if i18n.translate_message(text, "nl") != dutch.format(**values):
            wrong.append(english)
    assert wrong == []


# ------------------------------------------------------------------------------------- on the pages (AppTest)

def _page(name: str, lang: str, **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=120)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_uploaded_csv_with_a_bad_cell_on_the_size_estimate_page(lang):
    at = _page("size_estimate.py", lang)
    at.radio(key="mse_source").set_value("Upload a CSV").run()  # the value (the label is translated)
    at.file_uploader(key="mse_upload").upload("bad.csv", b"A,B,count\n1,0,5\n1,2,3\n", "text/csv")
    at.run()
    assert not at.exception
    english = "bad.csv, line 3, column 'B': expected 0 or 1, got '2'"
    if lang == "en":
        assert [e.value for e in at.error] == [f"Cannot estimate: {english}"]
        return
    place = fill(msgstr("{source}, line {line}, column {column!r}"), source="bad.csv", line="3", column="'B'")
    reason = fill(msgstr("{place}: expected 0 or 1, got {text!r}"), place=place, text="'2'")
    assert [e.value for e in at.error] == [fill(msgstr("Cannot estimate: {error}"), error=reason)]
    assert "regel 3, kolom 'B'" in at.error[0].value


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_lists_that_share_nobody_on_the_size_estimate_page(lang):
    patterns = {"lists": ["A", "B"], "patterns": [{"lists": ["A"], "count": 10}, {"lists": ["B"], "count": 4}],
                "true_population": None}
    at = _page("size_estimate.py", lang, capture_patterns=patterns)
    assert not at.exception
    english = ("the estimate does not exist: no person appears on more than one list, so the lists give no "
               "information about how many people were missed")
    errors = [e.value for e in at.error]
    assert errors and all(e.endswith(english if lang == "en" else msgstr(english)) for e in errors)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_bad_designed_query_on_the_run_page(lang):
    # the designer's widgets set through the session (AppTest formats a selectbox's value outside the page, in
    # English, so it cannot click through a Dutch page)
    at = AppTest.from_file(str(ROOT / "sandbox" / "app.py"), default_timeout=120)
    at.query_params["lang"] = lang
    state = {"run_mode": "A query you design", "dq_group_by": ["form"], "dq_filter_fields": ["region"],
             "dq_where_region": []}  # a filter without any allowed value
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(str(PAGES / "run.py")).run()
    assert not at.exception
    from synthetic import vocab

    codes = ", ".join(vocab.REGIONS)
    shown = [e.value for e in at.error]
    english = [e for e in shown if e.startswith("where 'region': give a non-empty list of allowed values")]
    if lang == "en":
        assert english == [f"where 'region': give a non-empty list of allowed values; allowed: {codes}"]
        return
    assert english == []
    expected = fill(msgstr("where {name!r}: give a non-empty list of allowed values; allowed: {codes}"),
                    name="'region'", codes=codes)
    assert expected in shown


# ------------------------------------------------------------------------------------- codes shown on the pages

def _labels(context: str) -> dict[str, str]:
    with NL_PO.open("rb") as fh:
        catalog = read_po(fh, locale="nl")
    return {m.id: m.string for m in catalog if m.context == context}


def test_every_field_and_code_of_the_schema_has_a_dutch_label():
    """The code lists themselves (synthetic/vocab.py, via the query fields) against the catalog: a code added
    to a list without a label fails here."""
    from sandbox.mpc.query import FIELDS
    from sandbox.views.labels import cell_label, code_label, field_label

    fields, codes = _labels("field"), _labels("code")
    assert set(FIELDS) <= set(fields)
    every_code = {c for f in FIELDS.values() for c in f.codes}
    assert every_code <= set(codes) and len(every_code) > 80
    assert all(fields[name] for name in FIELDS) and all(codes[c] for c in every_code)
    assert field_label("form", "nl") == fields["form"] and field_label("form", "en") == "form"
    assert code_label("minor", "nl") == codes["minor"] and field_label("minor", "nl") == fields["minor"]
    assert cell_label("labour × F", "nl") == f"{codes['labour']} × {codes['F']}"
    assert cell_label("labour × F", "en") == "labour × F"
    assert cell_label("police+kmar", "nl") == "police+kmar"  # organisation ids are no codes
    assert codes["sexual"] == "seksuele uitbuiting" and codes["labour"] == "arbeidsuitbuiting"


def test_the_query_designer_offers_dutch_field_and_code_labels():
    at = AppTest.from_file(str(ROOT / "sandbox" / "app.py"), default_timeout=120)
    at.query_params["lang"] = "nl"
    for key, value in {"run_mode": "A query you design", "dq_filter_fields": ["form"]}.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(str(PAGES / "run.py")).run()
    assert not at.exception
    fields, codes = _labels("field"), _labels("code")
    assert fields["region"] in at.multiselect(key="dq_group_by").options
    assert "region" not in at.multiselect(key="dq_group_by").options
    assert at.multiselect(key="dq_where_form").options == [codes[c] for c in ("sexual", "labour", "criminal", "other")]
    assert at.session_state["dq_group_by"] == ["form"]  # the value stays the code


def test_every_mpc_phase_has_a_dutch_label():
    """The phases the protocols name (read from their source) against the catalog."""
    from sandbox.views.labels import phase_label

    used = {m for p in (ROOT / "sandbox" / "mpc" / "protocols").glob("*.py")
            for m in re.findall(r'\.phase\("([^"]+)"\)', p.read_text(encoding="utf-8"))}
    assert {"input", "output"} <= used
    phases = _labels("phase")
    assert used | {"set-up", "wrap-up"} <= set(phases)
    assert all(phase_label(p, "nl") == phases[p] != p for p in used)
    assert phase_label("input", "en") == "input"
