"""Designed queries counting distinct persons (issue 19): {"measure": {"distinct": "person"}}.

* a hand-made SYNTHETIC data set whose answer is written out by hand from the rule (a person counts once
  in a cell when one of their records -- at any organisation -- passes the filters and has the cell's
  values, both from that same record): the oracle and a real MPC run must give exactly that;
* hypothesis-generated queries on generated SYNTHETIC data: the product's oracle AND the parties' own
  preparation (keys and per-record cell bits, combined here in the clear as the protocol combines them)
  against an independent re-derivation written in this file (plain Python over the CSVs);
* every shipped scenario: one real MPC run each (one through the CLI, `--json`), equal to the oracle and
  to the re-derivation here, including what the join opens (list sizes, persons per number of lists);
* bad input: a clear error before anything is secret-shared;
* the attacker: a coalition of t parties with only its own files and transcripts tries to learn whether a
  person of an honest organisation is in a small cell. It cannot on the product (its view is the same in
  both worlds; its shares reconstruct nothing) and it can on the broken variant kept here (the same query
  without the small-cell withholding; shares of one degree too low).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.mpc import computations
from sandbox.mpc.oracle import oracle
from sandbox.mpc.query import QueryError, parse_query, reveals_text
from sandbox.mpc.runner import MPCError, run_mpc
from sandbox.mpc.transcript import read_transcript
from sandbox.scenario import load_scenario
from synthetic import vocab

NL = load_scenario("nl-baseline")
THREE = ["police", "kmar", "nla"]
DISTINCT = {"distinct": "person"}
ROOT = Path(__file__).resolve().parents[1]


def _csv(folder: Path, org: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{org}.csv", dtype=str, keep_default_na=False)


# ------------------------------------------------------------------ the independent re-derivation

def _codes(row: dict, name: str) -> set[str]:
    """The codes of one record for field `name`, written out here (no product code)."""
    raw = str(row.get(name if name not in ("minor", "dutch") else {"minor": "age", "dutch": "nationality"}[name], ""))
    if name == "form":
        return {v for v in raw.split(";") if v in vocab.FORMS}
    if name == "minor":
        return set() if not raw.strip().isdigit() else {"minor" if int(raw) < 18 else "adult"}
    if name == "dutch":
        return set() if not raw.strip() else {"dutch" if raw.strip().upper() == "NL" else "non_dutch"}
    return {raw} & set({"sex": vocab.SEXES, "region": vocab.REGIONS}[name])


def _axis(name: str, where: dict) -> list[str]:
    codes = {"form": vocab.FORMS, "sex": vocab.SEXES, "region": vocab.REGIONS, "minor": ("minor", "adult"),
             "dutch": ("dutch", "non_dutch")}[name]
    return [c for c in codes if name not in where or c in where[name]]


def recount(frames: dict[str, pd.DataFrame], query: dict) -> dict[str, int]:
    """Distinct persons per cell, from the pooled records, in plain Python."""
    where, group_by = query.get("where", {}), query["group_by"]
    axes = [_axis(g, where) for g in group_by]
    cells = list(axes[0]) if len(axes) == 1 else [f"{a} × {b}" for a in axes[0] for b in axes[1]]
    persons: dict[str, set[str]] = {c: set() for c in cells}
    for df in frames.values():
        for row in df.to_dict("records"):
            if not all(_codes(row, f) & set(allowed) for f, allowed in where.items()):
                continue
            values = [_codes(row, g) for g in group_by]
            names = values[0] if len(values) == 1 else {f"{a} × {b}" for a in values[0] for b in values[1]}
            for c in names:
                if c in persons:
                    persons[c].add(row["person_key"])
    return {c: len(p) for c, p in persons.items()}


def with_rule(counts: dict[str, int], min_cell: int) -> tuple[dict[str, int], list[str]]:
    """The small-cell rule: 1 .. min_cell - 1 withheld (named), everything else opened (0 included)."""
    small = [c for c, n in counts.items() if 0 < n < min_cell]
    return {c: n for c, n in counts.items() if c not in small}, small


def join_recount(frames: dict[str, pd.DataFrame]) -> dict:
    lists: dict[str, int] = {}
    for df in frames.values():
        for key in set(df["person_key"]):
            lists[key] = lists.get(key, 0) + 1
    per = {}
    for n in lists.values():
        per[str(n)] = per.get(str(n), 0) + 1
    return {"list_sizes": {o: len(df) for o, df in frames.items()},
            "persons_per_number_of_lists": dict(sorted(per.items()))}


def prepared_in_the_clear(frames: dict[str, pd.DataFrame], query: dict) -> dict[str, int]:
    """What the parties prepare (their own keys and cell bits, `local_inputs`), combined in the clear as the
    protocol combines it: OR per key, then the sum per cell. Checks the preparation, not the MPC."""
    params = {"query": query, "orgs": list(frames)}
    comp = computations.for_run("designed-query", params)
    cells = comp.cells(params)
    either: dict[int, list[int]] = {}
    for df in frames.values():
        inputs = comp.local_inputs(df, params)
        assert len(inputs["cell_bits"]) == len(inputs["keys"]) * len(cells) and len(inputs["keys"]) == len(df)
        for r, key in enumerate(inputs["keys"]):
            row = inputs["cell_bits"][r * len(cells):(r + 1) * len(cells)]
            either[key] = [a | b for a, b in zip(either.get(key, [0] * len(cells)), row, strict=True)]
    return {c: sum(bits[k] for bits in either.values()) for k, c in enumerate(cells)}


# ------------------------------------------------------------------ the hand-made data set

# person -> {org: (form, sex, region)}; T is the target (police only), U another police person in its cell
PEOPLE = {
    "p1": {"police": ("sexual", "F", "amsterdam"), "kmar": ("labour", "M", "amsterdam")},
    "p2": {"police": ("sexual", "F", "amsterdam"), "nla": ("sexual", "F", "rotterdam")},
    "p3": {"kmar": ("labour;criminal", "M", "amsterdam")},
    "p4": {"nla": ("sexual", "F", "rotterdam")},
    "p5": {"police": ("sexual", "F", "amsterdam")},
    "p6": {"police": ("sexual", "F", "amsterdam")},
    "p7": {"police": ("sexual", "F", "amsterdam"), "kmar": ("sexual", "F", "amsterdam")},
    "u": {"police": ("other", "X", "amsterdam")},
    "t": {"police": ("other", "X", "amsterdam")},
}
QUERY = {"group_by": ["form", "sex"], "where": {"region": ["amsterdam"]}, "measure": DISTINCT}
# Written out by hand from the rule. p1 is in sexual × F (police) and labour × M (kmar) but NOT in
# sexual × M or labour × F: both values must come from one record. p2 counts once (its nla record is in
# rotterdam); p7 once although two records match; p3 in two cells (one record, two forms); p4 nowhere.
EXPECTED = {"sexual × F": 5, "labour × M": 2, "criminal × M": 1, "other × X": 2}


def write_people(folder: Path, target_region: str = "amsterdam") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for org in THREE:
        rows = []
        for n, (person, records) in enumerate(PEOPLE.items()):
            if org in records:
                form, sex, region = records[org]
                if person == "t":
                    region = target_region
                rows.append({"record_id": f"{org}-{person}", "person_key": f"{n + 1:016x}", "org": org,
                             "registration_date": "2024-03-01", "form": form, "sex": sex, "region": region,
                             "synthetic": "SYNTHETIC"})
        pd.DataFrame(rows).to_csv(folder / f"{org}.csv", index=False)
    return folder


def _full(expected: dict[str, int]) -> dict[str, int]:
    cells = [f"{a} × {b}" for a in vocab.FORMS for b in vocab.SEXES]
    return {c: expected.get(c, 0) for c in cells}


def test_the_hand_made_answer_from_the_rule(tmp_path):
    data = write_people(tmp_path / "data")
    frames = {o: _csv(data, o) for o in THREE}
    assert recount(frames, QUERY) == _full(EXPECTED)  # the re-derivation agrees with the hand-written rule
    assert prepared_in_the_clear(frames, QUERY) == _full(EXPECTED)
    got = oracle(frames, "designed-query", {"query": QUERY, "min_cell": 0, "orgs": THREE})
    assert got["revealed"] == _full(EXPECTED) and got["suppressed"] == []
    assert got["join_opened"] == {"list_sizes": {"police": 7, "kmar": 3, "nla": 2},
                                  "persons_per_number_of_lists": {"1": 6, "2": 3}}
    got = oracle(frames, "designed-query", {"query": QUERY, "min_cell": 3, "orgs": THREE})
    assert got["suppressed"] == ["labour × M", "criminal × M", "other × X"] and got["revealed"]["sexual × F"] == 5


# ------------------------------------------------------------------ hypothesis vs the re-derivation

FIELDS = ["form", "sex", "region", "minor", "dutch"]


@st.composite
def distinct_queries(draw):
    group_by = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=2, unique=True))
    where = {}
    for f in draw(st.lists(st.sampled_from(FIELDS), max_size=2, unique=True)):
        where[f] = draw(st.lists(st.sampled_from(_axis(f, {})), min_size=1, unique=True))
    return {"group_by": group_by, "where": where, "measure": DISTINCT, "min_cell": draw(st.integers(0, 8))}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    import synthetic

    data = tmp_path_factory.mktemp("distinct-data")
    synthetic.write_dataset(synthetic.generate(NL.organisations, NL.generator, seed=5), data)
    frames = {o: _csv(data, o) for o in THREE}
    keys = [set(df["person_key"]) for df in frames.values()]
    assert any(a & b for a, b in itertools.combinations(keys, 2)), "the data should link persons across lists"
    return data, frames


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=distinct_queries())
def test_oracle_and_preparation_match_the_rederivation(generated, query):
    _, frames = generated
    counts = recount(frames, query)
    assert prepared_in_the_clear(frames, query) == counts
    revealed, small = with_rule(counts, query["min_cell"])
    got = oracle(frames, "designed-query", {"query": parse_query(query).to_json(), "min_cell": query["min_cell"],
                                            "orgs": THREE})
    assert got["revealed"] == revealed and got["suppressed"] == small and got["empty"] == []
    assert got["join_opened"] == join_recount(frames)
    # never more persons than records, nor than persons: a person with several records counts once
    records = oracle(frames, "designed-query", {"query": {**query, "measure": "count"}, "min_cell": 0,
                                                "orgs": THREE})["revealed"]
    assert all(counts[c] <= records[c] for c in counts)


# ------------------------------------------------------------------ real MPC on every shipped scenario

SCENARIO_CASES = [
    ("nl-baseline", {"group_by": ["form", "sex"], "where": {"region": ["amsterdam", "rotterdam"]}, "min_cell": 3}),
    ("horticulture-labour", {"group_by": ["dutch"], "where": {"form": ["labour"]}, "min_cell": 0}),
    ("minors-criminal", {"group_by": ["minor", "form"], "min_cell": 5}),
]


@pytest.mark.mpc
@pytest.mark.parametrize("name,query", SCENARIO_CASES, ids=[c[0] for c in SCENARIO_CASES])
def test_exact_against_the_oracle_on_every_shipped_scenario(name, query, tmp_path):
    import synthetic

    scenario = load_scenario(name)
    data = tmp_path / "data"
    synthetic.write_dataset(synthetic.generate(scenario.organisations, scenario.generator, seed=3), data)
    query = {**query, "measure": DISTINCT}
    frames = {o: _csv(data, o) for o in scenario.org_ids}
    revealed, small = with_rule(recount(frames, query), query["min_cell"])
    if name == "horticulture-labour":  # through the CLI: the JSON contract
        (tmp_path / "q.json").write_text(json.dumps(query), encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "sandbox", "run", "--scenario", name, "--data", str(data),
                               "--query", str(tmp_path / "q.json"), "--json"], capture_output=True, text=True,
                              timeout=600, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
    else:
        result = run_mpc(scenario, data, "designed-query", params={"query": query}, timeout=600).to_json()
    assert result["computation"] == "designed-query" and result["match"] is True, result
    assert result["revealed"] == revealed and result["suppressed"] == small and result["empty"] == []
    assert result["join_opened"] == result["oracle_join_opened"] == join_recount(frames)
    assert any(v > 0 for v in result["revealed"].values())


# ------------------------------------------------------------------ bad input, before anything is shared

def test_bad_distinct_queries_are_refused_with_a_clear_message(tmp_path):
    for measure, message in ((({"distinct": "case"}), "only 'person' can be counted distinct.*not 'case'"),
                             ("distinct", "measure must be one of .*\\{\"distinct\": \"person\"\\}"),
                             ({"distinct": "person", "sum": "age"}, "measure must be one of")):
        with pytest.raises(QueryError, match=message):
            parse_query({"group_by": ["form"], "measure": measure})
        with pytest.raises(MPCError, match="designed query: .*" + message):
            run_mpc(NL, write_people(tmp_path / "ok"), "designed-query", orgs=THREE,
                    params={"query": {"group_by": ["form"], "measure": measure}})
    assert parse_query({"group_by": ["form"], "measure": DISTINCT}).to_json()["measure"] == DISTINCT
    (tmp_path / "bad.json").write_text(json.dumps({"group_by": ["form"], "measure": {"distinct": "case"}}))
    done = subprocess.run([sys.executable, "-m", "sandbox", "run", "--data", str(tmp_path / "ok"), "--query",
                           str(tmp_path / "bad.json"), "--json"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == ("error: designed query: measure distinct: only 'person' can be counted distinct "
                                   "(persons, linked on person_key), not 'case'")
    text = reveals_text({"group_by": ["form"], "measure": DISTINCT, "min_cell": 3})
    assert "distinct persons" in text and "1 to 2 persons" in text and "exactly one, two" in text


def test_distinct_without_a_linkage_column_is_refused_before_any_party_starts(tmp_path, monkeypatch):
    from sandbox.mpc import runner

    data = write_people(tmp_path / "data")
    _csv(data, "kmar").drop(columns="person_key").to_csv(data / "kmar.csv", index=False)
    started = []
    monkeypatch.setattr(runner, "free_ports", lambda n: started.append(n) or [])
    with pytest.raises(MPCError, match="measure distinct links records on person_key, but the file.* of kmar have "
                                       "no person_key column"):
        run_mpc(NL, data, "designed-query", orgs=THREE, params={"query": QUERY})
    assert started == []  # no port chosen, no party started
    # a record count needs no linkage: it is not refused by this check
    runner._linkage_params("designed-query", {"query": {**QUERY, "measure": "count"}}, {})


@pytest.mark.mpc
def test_a_repeated_key_is_an_input_error_of_its_organisation(tmp_path):
    data = write_people(tmp_path / "data")
    df = _csv(data, "police")
    df.loc[1, "person_key"] = df.loc[0, "person_key"]
    df.to_csv(data / "police.csv", index=False)
    with pytest.raises(MPCError, match="police.csv row 2.*person_key.*repeats row 1") as info:
        run_mpc(NL, data, "designed-query", orgs=THREE, params={"query": QUERY})
    assert info.value.org == "police"


# ------------------------------------------------------------------ the attacker

def attacker_view(events: list[dict]) -> dict[str, list]:
    """Everything the coalition member saw opened in the clear that is not fresh randomness: the results,
    the withheld cells' flags, the list sizes and the persons per number of lists. (The pseudonyms and
    masked values are fresh random elements in every run; their structure is in the group sizes.)"""
    view = {}
    for e in events:
        if e["event"] == "opened" and (e["role"] == "result" or e["label"] == "small_cell_flags"
                                       or e["label"].startswith(("list sizes", "persons per number"))):
            view[e["label"]] = list(zip(e.get("cells") or [], e["values"], strict=True))
    return view


def presence_attack(view_present: dict, view_absent: dict, cell: str) -> int | None:
    """Is the target in `cell`? The difference of the cell's opened count between the world where the
    target's record is in it and where it is not (None: the cell is opened in neither world)."""
    def count(view):
        return next((v for label in view for c, v in view[label] if c == cell and label != "small_cell_flags"), None)

    a, b = count(view_present), count(view_absent)
    return None if a is None or b is None else a - b


@pytest.mark.mpc
def test_a_coalition_cannot_tell_whether_a_person_is_in_a_withheld_cell(tmp_path):
    from tests.test_attacks import _right, reconstruction_attack

    present = write_people(tmp_path / "present")  # the target's police record: other, X, amsterdam
    absent = write_people(tmp_path / "absent", target_region="rotterdam")  # ... passes no filter

    def run(data, min_cell, name):
        r = run_mpc(NL, data, "designed-query", orgs=THREE, params={"query": {**QUERY, "min_cell": min_cell}},
                    out_dir=tmp_path / name)
        assert r.match is True
        return r

    product = {w: run(d, 3, f"product-{w}") for w, d in (("present", present), ("absent", absent))}
    assert product["present"].suppressed == product["absent"].suppressed == ["labour × M", "criminal × M", "other × X"]
    for attacker in ("kmar", "nla"):  # t = 1: each honest-but-curious organisation alone
        views = {w: attacker_view(read_transcript(r.transcripts[attacker])) for w, r in product.items()}
        assert {"small_cell_flags", "distinct_person_counts"} <= set(views["present"])
        assert any(label.startswith("persons per number") for label in views["present"])
        assert views["present"] == views["absent"]  # the same view in both worlds
        assert presence_attack(views["present"], views["absent"], "other × X") is None

    # Broken variant: the same query without the small-cell withholding opens the target's cell.
    broken = {w: run(d, 0, f"broken-{w}") for w, d in (("present", present), ("absent", absent))}
    assert broken["present"].revealed == _full(EXPECTED)  # and MPC gives the hand-written answer exactly
    for attacker in ("kmar", "nla"):
        views = {w: attacker_view(read_transcript(r.transcripts[attacker])) for w, r in broken.items()}
        assert presence_attack(views["present"], views["absent"], "other × X") == 1

    # The per-record cell bits: t shares reconstruct nothing, t + 1 everything (the attacker's own code).
    transcripts = {o: read_transcript(product["present"].transcripts[o]) for o in THREE}
    for size in (1, 2):
        for coalition in itertools.combinations(THREE, size):
            right, total = _right(reconstruction_attack(transcripts, list(coalition)), transcripts)
            assert total > 0 and right == (total if size > 1 else 0), (coalition, right, total)

    # The Party views page shows police its own keys and cell bits as "only you", each under its own name;
    # the bits recomputed here from police's CSV (the rule above, plain Python).
    from tests.app_pages import open_page

    at = open_page("party_views.py", last_run=product["present"].to_json(), data_dir=str(present))
    at.selectbox(key="pv_org").set_value("police").run()
    assert not at.exception
    own = next(d.value for d in at.dataframe if {"label", "cell", "value", "who_sees_it"} <= set(d.value.columns))
    bits = own[own["label"] == "cell_bits"]
    assert set(bits["who_sees_it"]) == {"only you"}
    expected = {}
    for k, row in enumerate(_csv(present, "police").to_dict("records")):
        passes = row["region"] == "amsterdam"
        for cell in _full({}):
            form, sex = cell.split(" × ")
            expected[f"record {k + 1}: {cell}"] = int(passes and form in _codes(row, "form") and sex == row["sex"])
    assert dict(zip(bits["cell"], bits["value"].astype(int), strict=True)) == expected
