"""Designed queries (issue 19): validation, hand-computed answers, generated queries, real MPC runs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import cli
from sandbox.mpc import computations
from sandbox.mpc.oracle import oracle
from sandbox.mpc.query import MAX_CELLS, QueryError, compile_query, reveals_text
from sandbox.mpc.runner import MPCError, run_mpc
from sandbox.mpc.transcript import read_transcript
from synthetic import vocab

X = " × "

# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("query, words", [
    ({"group_by": ["colour"]}, ["unknown field 'colour'", "form", "means_of_control"]),
    ({"group_by": ["form"], "where": {"regio": ["amsterdam"]}}, ["where", "unknown field 'regio'"]),
    ({"group_by": ["form"], "where": {"region": ["amsterdam", "gotham"]}},
     ["'gotham'", "region", "allowed:", "noord-nederland", "limburg"]),
    ({"group_by": ["form", "sex", "region"]}, ["3 fields", "at most 2"]),
    ({"group_by": ["sector", "means_of_control"]}, [f"{22 * 14} cells", f"at most {MAX_CELLS}"]),
    ({"group_by": ["form"], "measure": {"mean": "form"}}, ["'form' is not numeric", "age"]),
    ({"group_by": ["form"], "measure": {"sum": "sector"}}, ["'sector' is not numeric"]),
    ({"group_by": ["form"], "measure": {"median": "age"}}, ["unknown measure 'median'"]),
    ({"group_by": ["form"], "measure": "average"}, ["measure must be"]),
    ({"group_by": ["age"]}, ["unknown field 'age'", "numeric"]),
    ({"group_by": []}, ["group_by must be a list of 1 to 2 fields"]),
    ({"group_by": ["form", "form"]}, ["names a field twice"]),
    ({"group_by": ["form"], "min_cell": -1}, ["min_cell must be a whole number"]),
    ({"group_by": ["form"], "having": 3}, ["unknown query key(s): 'having'"]),
    (["form"], ["a query is a JSON object"]),
])
def test_invalid_queries_are_refused_with_a_message_naming_the_problem(query, words):
    with pytest.raises(QueryError) as err:
        compile_query(query)
    for w in words:
        assert w in str(err.value)


def test_the_runner_refuses_a_bad_query_before_anything_starts(scenario, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(MPCError, match="'gotham' is not in the code list of region"):
        run_mpc(scenario, tmp_path, "designed-query", out_dir=out,
                params={"query": {"group_by": ["form"], "where": {"region": ["gotham"]}}})
    assert not out.exists()  # no transcript folder, no party: nothing was secret-shared


@pytest.mark.parametrize("content, words", [
    ("{bad json", ["not valid JSON", "line 1"]),
    ('{"group_by": ["form", "sex", "minor"]}', ["3 fields", "at most 2"]),
    ('{"group_by": ["form"], "measure": {"mean": "region"}}', ["'region' is not numeric"]),
    (None, ["file not found"]),
])
def test_cli_bad_query_file_is_one_error_line_and_exit_2(tmp_path, capsys, content, words):
    data = tmp_path / "data"
    data.mkdir()
    path = tmp_path / "q.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code = cli.main(["run", "--data", str(data), "--query", str(path), "--json"])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for w in words:
        assert w in lines[0]


def test_cli_query_and_computation_are_mutually_exclusive(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--data", str(tmp_path), "--query", "q.json", "--computation", "counts-by-form"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_catalogue_lists_designed_query_with_its_generic_reveals_text(capsys):
    assert cli.main(["computations", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["designed-query"]["protocol"] == "designed_query"
    assert "small-cell threshold" in rows["designed-query"]["reveals"]
    assert "never opened" in rows["designed-query"]["reveals"]


def test_reveals_text_is_generated_from_the_query():
    q = {"group_by": ["form", "minor"], "where": {"region": ["amsterdam", "rotterdam"]},
         "measure": {"mean": "age"}, "min_cell": 5}
    text = reveals_text(q)
    for w in ["8 cells", "form", "minor", "mean age", "region is amsterdam or rotterdam", "1 to 4",
              "sum of age", "divided afterwards", "empty", "honest majority"]:
        assert w in text, w
    plain = reveals_text({"group_by": ["sector"], "min_cell": 0})
    assert "22 cells" in plain and "No small-cell threshold" in plain and "region" not in plain
    assert "1 to 9" in reveals_text({"group_by": ["sex"]}, min_cell=10)  # the scenario's threshold


def test_cell_names_follow_the_code_lists_first_field_outer():
    assert compile_query({"group_by": ["sex"]}).cells == ["F", "M", "X"]
    assert compile_query({"group_by": ["minor", "sex"]}).cells == [
        "minor × F", "minor × M", "minor × X", "adult × F", "adult × M", "adult × X"]
    # a filtered group-by field has only its allowed values as cells, still in code-list order
    q = {"group_by": ["region", "dutch"], "where": {"region": ["rotterdam", "amsterdam"]}}
    assert compile_query(q).cells == ["amsterdam × dutch", "amsterdam × non_dutch",
                                      "rotterdam × dutch", "rotterdam × non_dutch"]


def test_the_party_names_its_input_vectors():
    params = {"query": {"group_by": ["sex"], "measure": {"mean": "age"}}}
    assert computations.input_cells("designed-query", "age_sums", 3, params) == [
        "sum of ages: F", "sum of ages: M", "sum of ages: X"]
    assert computations.input_cells("designed-query", "counts", 3, params)[0] == "records with age: F"
    assert computations.get("designed-query").cells(params) == ["F", "M", "X"]
    with pytest.raises(computations.ComputationError, match="designed query: .*unknown field 'sexe'"):
        computations.get("designed-query").cells({"query": {"group_by": ["sexe"]}})


# --------------------------------------------------------------------------- hand-made frames

COLUMNS = ("form", "sex", "age", "nationality", "region", "means_of_control")


def _frame(rows):
    return pd.DataFrame([dict(zip(COLUMNS, r, strict=True)) for r in rows], columns=list(COLUMNS)).astype(str)


# r1..r3 at organisation a, r4..r5 at organisation b
TINY = {
    "a": _frame([("sexual", "F", "16", "NL", "amsterdam", "threats"),
                 ("sexual;labour", "F", "25", "PL", "amsterdam", "threats;debt_bondage"),
                 ("labour", "M", "", "RO", "rotterdam", "")]),
    "b": _frame([("sexual", "F", "30", "NL", "amsterdam", ""),
                 ("criminal", "M", "17", "", "amsterdam", "debt_bondage")]),
}


def _ask(query, min_cell=0):
    return oracle(TINY, "designed-query", {"query": query, "min_cell": min_cell, "orgs": ["a", "b"]})


def test_hand_made_count_per_form_with_and_without_suppression():
    q = {"group_by": ["form"]}
    assert _ask(q) == {"revealed": {"sexual": 3, "labour": 2, "criminal": 1, "other": 0},
                       "suppressed": [], "empty": []}
    assert _ask(q, min_cell=2) == {"revealed": {"sexual": 3, "labour": 2, "other": 0},
                                   "suppressed": ["criminal"], "empty": []}
    assert _ask(q, min_cell=3) == {"revealed": {"sexual": 3, "other": 0},
                                   "suppressed": ["labour", "criminal"], "empty": []}
    # what each organisation prepares (the party side), written by hand
    c = compile_query(q)
    assert c.local_inputs(TINY["a"]) == {"counts": [2, 2, 0, 0]}
    assert c.local_inputs(TINY["b"]) == {"counts": [1, 0, 1, 0]}


def test_hand_made_two_fields_with_a_filter():
    q = {"group_by": ["form", "sex"], "where": {"region": ["amsterdam"]}}
    expected = {f"{f}{X}{s}": 0 for f in ("sexual", "labour", "criminal", "other") for s in ("F", "M", "X")}
    expected.update({f"sexual{X}F": 3, f"labour{X}F": 1, f"criminal{X}M": 1})  # r3 is in rotterdam
    assert _ask(q) == {"revealed": expected, "suppressed": [], "empty": []}
    assert compile_query(q).local_inputs(TINY["a"])["counts"][:6] == [2, 0, 0, 1, 0, 0]
    # a multi-valued filter: a record passes when one of its values is allowed
    q = {"group_by": ["dutch"], "where": {"means_of_control": ["debt_bondage"]}}
    assert _ask(q)["revealed"] == {"dutch": 0, "non_dutch": 1}  # r2 (PL); r5 has no nationality


def test_hand_made_mean_and_sum_of_age_count_only_records_with_an_age():
    q = {"group_by": ["form"], "measure": {"mean": "age"}}
    # sexual: 16, 25, 30; labour: 25 (r3 has no age); criminal: 17; other: nobody
    assert _ask(q) == {"revealed": {"sexual": 71 / 3, "labour": 25.0, "criminal": 17.0},
                       "suppressed": [], "empty": ["other"]}
    assert _ask(q, min_cell=2) == {"revealed": {"sexual": 71 / 3}, "suppressed": ["labour", "criminal"],
                                   "empty": ["other"]}
    assert compile_query(q).local_inputs(TINY["a"]) == {"counts": [2, 1, 0, 0], "age_sums": [41, 25, 0, 0]}
    q = {"group_by": ["minor"], "measure": {"sum": "age"}}
    assert _ask(q, min_cell=2) == {"revealed": {"minor": 33, "adult": 55}, "suppressed": [], "empty": []}
    assert _ask(q, min_cell=3) == {"revealed": {}, "suppressed": ["minor", "adult"], "empty": []}


def test_hand_made_minor_and_nationality_group_derivations():
    assert _ask({"group_by": ["minor", "nationality_group"], "where": {"sex": ["F"]}})["revealed"] == {
        f"{m}{X}{g}": {("minor", "dutch"): 1, ("adult", "dutch"): 1, ("adult", "eu_central_eastern"): 1}.get((m, g), 0)
        for m in ("minor", "adult")
        for g in ("dutch", "eu_central_eastern", "eu_other", "ukraine", "africa", "latin_america", "asia", "other")}


# --------------------------------------------------------------------------- generated queries
# The brute force below is written for this test: plain loops over records, with its own reading of
# the derived fields. Both the oracle (pandas) and the parties' preparation (sandbox.mpc.query) must agree.

CODES = {
    "form": ("sexual", "labour", "criminal", "other"),
    "sex": ("F", "M", "X"),
    "minor": ("minor", "adult"),
    "dutch": ("dutch", "non_dutch"),
    "region": ("noord-nederland", "oost-nederland", "midden-nederland", "noord-holland", "amsterdam"),
    "means_of_control": ("debt_bondage", "takes_earnings", "threats"),
}
AXES = {**CODES, "region": vocab.REGIONS, "means_of_control": vocab.MEANS_OF_CONTROL,
        "nationality_group": vocab.NATIONALITY_GROUPS}  # the cells: whole code lists (data use a few values)
GROUPS = {"NL": "dutch", "PL": "eu_central_eastern", "NG": "africa", "US": "other"}


def _brute_values(record: dict[str, str], field: str, groups: dict[str, str]) -> set[str]:
    age, nationality = record.get("age", ""), record.get("nationality", "")
    if field == "minor":
        return {"minor" if int(age) < 18 else "adult"} if age else set()
    if field == "dutch":
        return {"dutch" if nationality == "NL" else "non_dutch"} if nationality else set()
    if field == "nationality_group":
        return {groups[nationality]} if nationality else set()
    return {v for v in record.get(field, "").split(";") if v}


def _brute(frames, query, min_cell, groups=GROUPS):
    where = query.get("where", {})
    fields = query["group_by"]
    measure = query.get("measure", "count")
    kind = measure if isinstance(measure, str) else next(iter(measure))
    axes = []
    for f in fields:
        axes.append([c for c in AXES[f] if f not in where or c in where[f]])
    cells = axes[0] if len(axes) == 1 else [f"{a}{X}{b}" for a in axes[0] for b in axes[1]]
    n = dict.fromkeys(cells, 0)
    s = dict.fromkeys(cells, 0)
    for df in frames.values():
        for record in df.to_dict("records"):
            if any(not (_brute_values(record, f, groups) & set(ok)) for f, ok in where.items()):
                continue
            if kind != "count" and not record.get("age"):
                continue
            names = _brute_values(record, fields[0], groups)
            if len(fields) == 2:
                names = {f"{a}{X}{b}" for a in names for b in _brute_values(record, fields[1], groups)}
            for name in names:
                if name in n:
                    n[name] += 1
                    s[name] += int(record["age"]) if record.get("age") else 0
    revealed, suppressed, empty = {}, [], []
    for c in cells:
        if 0 < n[c] < min_cell:
            suppressed.append(c)
        elif kind == "count":
            revealed[c] = n[c]
        elif kind == "sum":
            revealed[c] = s[c]
        elif n[c] == 0:
            empty.append(c)
        else:
            revealed[c] = s[c] / n[c]
    return {"revealed": revealed, "suppressed": suppressed, "empty": empty}, n, s, cells


def _multi(codes):
    return st.lists(st.sampled_from(codes), max_size=3).map(lambda vs: ";".join(sorted(set(vs))))


_record = st.fixed_dictionaries({
    "form": _multi(CODES["form"]).filter(bool),
    "sex": st.sampled_from(("", *CODES["sex"])),
    "age": st.one_of(st.just(""), st.integers(0, 40).map(str)),
    "nationality": st.sampled_from(("", *GROUPS)),
    "region": st.sampled_from(("", *CODES["region"])),
    "means_of_control": _multi(CODES["means_of_control"]),
})
_frames = st.lists(st.lists(_record, max_size=8), min_size=1, max_size=3).map(
    lambda orgs: {f"org{k}": pd.DataFrame(rows, columns=list(COLUMNS)).astype(str) for k, rows in enumerate(orgs)})

FIELD_NAMES = (*CODES, "nationality_group")


@st.composite
def _queries(draw):
    group_by = draw(st.lists(st.sampled_from(FIELD_NAMES), min_size=1, max_size=2, unique=True))
    where = {}
    for f in draw(st.lists(st.sampled_from([f for f in FIELD_NAMES if f != "nationality_group"]),
                           max_size=2, unique=True)):
        where[f] = draw(st.lists(st.sampled_from(CODES[f]), min_size=1, max_size=3, unique=True))
    measure = draw(st.sampled_from(["count", {"sum": "age"}, {"mean": "age"}]))
    return {"group_by": group_by, "where": where, "measure": measure}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=_frames, query=_queries(), min_cell=st.integers(0, 4))
def test_generated_queries_oracle_and_party_preparation_agree_with_a_brute_force(frames, query, min_cell):
    expected, n, s, cells = _brute(frames, query, min_cell)
    got = oracle(frames, "designed-query", {"query": query, "min_cell": min_cell, "orgs": list(frames)})
    assert got["suppressed"] == expected["suppressed"]
    assert got["empty"] == expected["empty"]
    assert got["revealed"].keys() == expected["revealed"].keys()
    for c, v in expected["revealed"].items():
        assert got["revealed"][c] == pytest.approx(v)
    compiled = compile_query(query)
    assert compiled.cells == cells
    totals = {}
    for df in frames.values():
        for label, vec in compiled.local_inputs(df).items():
            totals[label] = [a + b for a, b in zip(totals.get(label, [0] * len(vec)), vec, strict=True)]
    assert totals["counts"] == [n[c] for c in cells]
    if query.get("measure", "count") != "count":
        assert totals["age_sums"] == [s[c] for c in cells]


# --------------------------------------------------------------------------- real MPC

SMALL_QUERY = {"group_by": ["form", "sex"], "where": {"region": ["amsterdam"]}, "measure": "count"}


def _pooled_frames(data: Path, orgs):
    return {o: pd.read_csv(data / f"{o}.csv", dtype=str, keep_default_na=False) for o in orgs}


def _opened_small_counts(transcript: str, true_counts: dict[str, int], min_cell: int) -> list[tuple[str, int]]:
    """Every (cell, value) a party saw opened as a result where the cell is small and the value is its count."""
    small = {c for c, v in true_counts.items() if 0 < v < min_cell}
    hits = []
    for e in read_transcript(transcript):
        if e["event"] == "opened" and e["role"] == "result" and isinstance(e["values"], list):
            hits += [(c, v) for c, v in zip(e["cells"], e["values"], strict=True)
                     if c in small and v == true_counts[c]]
    return hits


@pytest.mark.mpc
def test_mpc_cli_two_fields_with_a_filter_and_small_cells_never_opened(generated, scenario, tmp_path, capsys):
    orgs = scenario.org_ids[:3]
    path = tmp_path / "q.json"
    path.write_text(json.dumps({**SMALL_QUERY, "min_cell": 5}), encoding="utf-8")
    out = tmp_path / "run"
    code = cli.main(["run", "--data", str(generated), "--orgs", ",".join(orgs), "--query", str(path),
                     "--out", str(out), "--min-cell", "0", "--json"])  # the file's min_cell wins
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["match"] is True and result["computation"] == "designed-query"
    _, true_counts, _, cells = _brute(_pooled_frames(generated, orgs), SMALL_QUERY, 0)
    small = [c for c in cells if 0 < true_counts[c] < 5]
    assert small, "the query must have small cells for this test to mean anything"
    assert result["suppressed"] == small
    assert not set(small) & set(result["revealed"])  # suppressed cells are absent from revealed
    assert set(result["revealed"]) == set(cells) - set(small)
    assert all(X in c for c in result["revealed"])
    assert result["revealed"] == {c: true_counts[c] for c in cells if c not in small}
    # attacker's view: one party's transcript opens no small cell's count (only its small-cell flag)
    transcript = result["transcripts"][orgs[1]]
    assert _opened_small_counts(transcript, true_counts, 5) == []
    flags = [e for e in read_transcript(transcript) if e["event"] == "opened" and e["role"] == "leak"]
    assert [c for c, f in zip(flags[0]["cells"], flags[0]["values"], strict=True) if f] == small
    own = [e for e in read_transcript(transcript) if e["event"] == "own_input"]
    assert [e["label"] for e in own] == ["counts"] and own[0]["cells"] == cells


@pytest.mark.mpc
def test_mpc_the_small_cell_check_fails_on_the_broken_variant(generated, scenario, tmp_path):
    orgs = scenario.org_ids[:3]
    result = run_mpc(scenario, generated, "designed-query", orgs=orgs, out_dir=tmp_path / "run",
                     params={"query": SMALL_QUERY, "min_cell": 0})  # the rule switched off
    assert result.match is True and result.suppressed == []
    _, true_counts, _, _ = _brute(_pooled_frames(generated, orgs), SMALL_QUERY, 0)
    assert _opened_small_counts(result.transcripts[orgs[1]], true_counts, 5) != []


@pytest.mark.mpc
def test_mpc_mean_of_age_per_field(generated, scenario, tmp_path):
    orgs = scenario.org_ids[:3]
    query = {"group_by": ["nationality_group"], "measure": {"mean": "age"}, "min_cell": 5}
    result = run_mpc(scenario, generated, "designed-query", orgs=orgs, params={"query": query},
                     out_dir=tmp_path / "run")
    assert result.match is True
    expected, n, _, cells = _brute_generated(generated, orgs, query)
    assert result.suppressed == expected["suppressed"] and result.empty == expected["empty"]
    assert result.revealed == pytest.approx(expected["revealed"])
    assert result.revealed and all(isinstance(v, float) for v in result.revealed.values())
    own = {e["label"]: e for e in read_transcript(result.transcripts[orgs[0]]) if e["event"] == "own_input"}
    assert set(own) == {"counts", "age_sums"}
    assert own["age_sums"]["cells"] == [f"sum of ages: {c}" for c in cells]


def _brute_generated(data: Path, orgs, query):
    """The brute force on generated files (their nationality codes are mapped to the groups first)."""
    frames = _pooled_frames(data, orgs)
    groups = {c: vocab.nationality_group(c) for df in frames.values() if "nationality" in df
              for c in df["nationality"] if c}
    return _brute(frames, query, int(query.get("min_cell", 0)), groups)


@pytest.mark.parametrize("query", [
    {"group_by": ["form", "minor"], "where": {"region": ["amsterdam"]}, "min_cell": 5},
    {"group_by": ["dutch", "sex"], "where": {"form": ["labour", "criminal"]}, "measure": {"sum": "age"}, "min_cell": 3},
    {"group_by": ["nationality_group"], "measure": {"mean": "age"}, "min_cell": 10},
])
def test_oracle_on_generated_data_equals_the_brute_force(generated, scenario, query):
    orgs = scenario.org_ids
    got = oracle(_pooled_frames(generated, orgs), "designed-query",
                 {"query": query, "min_cell": query["min_cell"], "orgs": orgs})
    expected = _brute_generated(generated, orgs, query)[0]
    assert got["suppressed"] == expected["suppressed"] and got["empty"] == expected["empty"]
    assert got["revealed"] == pytest.approx(expected["revealed"]) and got["revealed"]
