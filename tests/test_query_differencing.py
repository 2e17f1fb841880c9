"""The differencing protection of designed queries (issue 19), attacked and checked.

The attacker is one participant (one organisation): it holds its own CSV and knows a target's attributes
(region and nationality group). It asks two designed queries that differ by exactly the target's record
(if the target is registered at all) and subtracts the answers. On the product the second query is
refused inside MPC, and the refusal (the one opened bit) is the same whether the target is present or
absent. On the broken variant kept here (no protection: both queries are simply answered) the same attack
recovers the target's presence and forms of exploitation.

The approval bit itself is checked against an independent re-derivation: plain pandas on the pooled CSVs,
written in this file (not the product's preparation, not the product's oracle).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.mpc.computations import ComputationError, get
from sandbox.mpc.differencing import checks_needed, run_designed_query
from sandbox.mpc.oracle import oracle
from sandbox.mpc.query import QueryError, needs_differencing_check
from sandbox.mpc.runner import run_mpc
from sandbox.mpc.transcript import read_transcript
from sandbox.scenario import load_scenario
from synthetic import vocab

SCENARIO = load_scenario("nl-baseline")
THREE = ["police", "kmar", "nla"]
SEP = ";"
MIN_CELL = 3


def _csv(folder: Path, org: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{org}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    import synthetic

    folder = tmp_path_factory.mktemp("differencing-data")
    synthetic.write_dataset(synthetic.generate(SCENARIO.organisations, SCENARIO.generator, seed=11), folder)
    return folder


# ------------------------------------------------------------------ the attacker's own tools (no product code)


def _group(nationality: str) -> str:
    return vocab.nationality_group(nationality) if nationality else ""


def find_target(folder: Path) -> tuple[str, str, str, dict]:
    """A (region, nationality group) that exactly one registration of the three organisations has, in a
    region where every record has a nationality and whose per-form counts stay opened without the target;
    returns region, group, the organisation holding the record and the record."""
    pooled = pd.concat([_csv(folder, o).assign(__org=o) for o in THREE], ignore_index=True)
    pooled["__group"] = pooled["nationality"].map(_group)
    for region, part in pooled[pooled["region"] != ""].groupby("region"):
        if (part["nationality"] == "").any():
            continue
        forms = part["form"].str.split(SEP).explode().value_counts()
        if forms.min() < MIN_CELL:
            continue
        sizes = part["__group"].value_counts()
        for group, n in sizes.items():
            if n != 1:
                continue
            row = part[part["__group"] == group].iloc[0]
            if all(forms[f] > MIN_CELL for f in row["form"].split(SEP)):  # opened with and without the target
                return str(region), str(group), str(row["__org"]), row.to_dict()
    raise AssertionError("no suitable target in the generated data")


def attack_queries(region: str, group: str) -> tuple[dict, dict]:
    """Q1: every registration of the region; Q2: the same without the target's nationality group."""
    others = [g for g in vocab.NATIONALITY_GROUPS if g != group]
    q1 = {"group_by": ["form"], "where": {"region": [region]}, "min_cell": MIN_CELL}
    q2 = {"group_by": ["form"], "where": {"region": [region], "nationality_group": others}, "min_cell": MIN_CELL}
    return q1, q2


def subtract(first: dict, second: dict) -> dict[str, int]:
    """What the attacker computes from two answers: the difference per opened cell."""
    return {c: first[c] - second[c] for c in first if c in second and first[c] != second[c]}


def without_target(folder: Path, dest: Path, org: str, record_id: str) -> Path:
    """The same data with the target's record removed (the world in which the target is not registered)."""
    shutil.copytree(folder, dest)
    frame = _csv(folder, org)
    frame[frame["record_id"] != record_id].to_csv(dest / f"{org}.csv", index=False)
    return dest


@pytest.mark.mpc
def test_a_participant_cannot_learn_one_record_by_differencing_two_designed_queries(data, tmp_path):
    region, group, holder, record = find_target(data)
    target_forms = set(record["form"].split(SEP))
    absent = without_target(data, tmp_path / "absent", holder, record["record_id"])
    q1, q2 = attack_queries(region, group)

    # Broken variant (no protection: the room answers both queries): the difference shows the target.
    def unprotected(folder: Path) -> dict[str, int]:
        a = run_designed_query(SCENARIO, folder, q1, orgs=THREE, earlier=[], min_cell=MIN_CELL).run
        b = run_designed_query(SCENARIO, folder, q2, orgs=THREE, earlier=[], min_cell=MIN_CELL).run
        assert a["match"] is True and b["match"] is True
        assert not a["suppressed"] and not b["suppressed"]  # the small-cell rule of each query did not help
        return subtract(a["revealed"], b["revealed"])

    assert unprotected(data) == {f: 1 for f in target_forms}  # present, and in exactly these forms
    assert unprotected(absent) == {}  # absent: no difference at all

    # The product: Q2 is checked against the answered Q1 inside MPC and refused, with the same bit either way.
    bits, seen = {}, {}
    for name, folder in (("present", data), ("absent", absent)):
        outcome = run_designed_query(SCENARIO, folder, q2, orgs=THREE, earlier=[("Q1", q1)], min_cell=MIN_CELL,
                                     out_dir=tmp_path / f"check-{name}")
        assert outcome.run is None and len(outcome.checks) == 1  # refused: Q2 was never answered
        assert outcome.checks[0].match is True  # the MPC bit equals the plaintext check's
        bits[name] = outcome.checks[0].approved
        # everything opened to the attacker in that run, from its own transcript: the one bit, nothing else
        events = read_transcript(next((tmp_path / f"check-{name}").glob(f"transcript-*-{holder}.jsonl")))
        seen[name] = [(e["label"], e["values"]) for e in events if e["event"] == "opened"]
    assert bits == {"present": False, "absent": False}
    assert seen["present"] == seen["absent"] == [("approved", [0])]


@pytest.mark.mpc
def test_a_query_that_differs_enough_is_approved_and_answered(data):
    pooled = pd.concat([_csv(data, o) for o in THREE], ignore_index=True)
    forms = pooled.assign(form=pooled["form"].str.split(SEP)).explode("form")
    per_region = forms.groupby(["region", "form"]).size().unstack(fill_value=0)
    big = per_region[(per_region.min(axis=1) >= MIN_CELL)].index.tolist()
    assert len(big) >= 2
    q1 = {"group_by": ["form"], "where": {"region": [big[0]]}, "min_cell": MIN_CELL}
    q2 = {"group_by": ["form"], "where": {"region": [big[0], big[1]]}, "min_cell": MIN_CELL}
    outcome = run_designed_query(SCENARIO, data, q2, orgs=THREE, earlier=[("Q1", q1)], min_cell=MIN_CELL)
    assert [c.approved for c in outcome.checks] == [True]
    expected = per_region.loc[[big[0], big[1]]].sum().to_dict()  # plain pandas on the pooled CSVs
    assert outcome.run["revealed"] == {f: int(n) for f, n in expected.items()}


# ------------------------------------------------------------------ the bit, re-derived with plain pandas


def plain_bit(frames: dict[str, pd.DataFrame], new: dict, earlier: dict, min_cell: int) -> int:
    """Approved iff the records answering exactly one query number >= m and no cell differs by 1 .. m-1."""
    m = max(min_cell, 1)

    def answer(q: dict) -> tuple[set, set]:
        records, pairs = set(), set()
        for org, df in frames.items():
            for i, row in df.iterrows():
                ok = True
                for name, allowed in (q.get("where") or {}).items():
                    ok &= bool(set(values(row, name)) & set(allowed))
                if not ok:
                    continue
                records.add((org, i))
                cells = [values(row, g) for g in q["group_by"]]
                axes = [[c for c in (q.get("where") or {}).get(g, vocab_codes(g)) if c in vs]
                        for g, vs in zip(q["group_by"], cells, strict=True)]
                combos = axes[0] if len(axes) == 1 else [f"{a} × {b}" for a in axes[0] for b in axes[1]]
                pairs |= {(org, i, c) for c in combos}
        return records, pairs

    r1, p1 = answer(new)
    r2, p2 = answer(earlier)
    per_cell = pd.Series([c for _, _, c in p1 ^ p2]).value_counts()
    return int(len(r1 ^ r2) >= m and not ((per_cell >= 1) & (per_cell < m)).any())


CODES = {"form": vocab.FORMS, "sex": vocab.SEXES, "region": vocab.REGIONS, "sector": vocab.SECTORS,
         "minor": ("minor", "adult"), "dutch": ("dutch", "non_dutch")}


def vocab_codes(name: str) -> tuple[str, ...]:
    return CODES[name]


def values(row: pd.Series, name: str) -> list[str]:
    row = {k: str(v) for k, v in row.items()}  # a column an organisation does not keep: no value
    if name == "form":
        return [v for v in row.get("form", "").split(SEP) if v in vocab.FORMS]
    if name == "minor":
        age = row.get("age", "").strip()
        return [("minor" if int(age) < 18 else "adult")] if age.isdigit() else []
    if name == "dutch":
        nat = row.get("nationality", "")
        return [("dutch" if nat == "NL" else "non_dutch")] if nat else []
    return [row[name]] if row.get(name) in CODES[name] else []


FIELDS = st.sampled_from(["form", "sex", "region", "minor", "dutch"])


@st.composite
def query_pairs(draw):
    group_by = draw(st.lists(FIELDS, min_size=1, max_size=2, unique=True))

    def where():
        chosen = draw(st.lists(FIELDS, max_size=2, unique=True))
        return {f: draw(st.lists(st.sampled_from(CODES[f]), min_size=1, unique=True)) for f in chosen}

    return {"group_by": group_by, "where": where()}, {"group_by": group_by, "where": where()}


@pytest.fixture(scope="module")
def small_frames(data) -> dict[str, pd.DataFrame]:
    return {o: _csv(data, o).head(40) for o in THREE}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=query_pairs(), min_cell=st.integers(0, 6))
def test_the_approval_bit_of_two_designed_queries_matches_plain_pandas(small_frames, pair, min_cell):
    new, earlier = pair
    params = {"query": new, "differs_from_query": earlier, "min_cell": min_cell, "orgs": THREE}
    expected = plain_bit(small_frames, new, earlier, min_cell)
    # the product's oracle and the parties' own preparation (summed as MPC would) both agree with pandas
    assert oracle(small_frames, "query-approval", params)["revealed"] == {"approved": expected}
    prepared = [get("query-approval").local_inputs(df, params) for df in small_frames.values()]
    total = sum(p["difference"][0] for p in prepared)
    cells = [sum(col) for col in zip(*(p["cell_differences"] for p in prepared), strict=True)]
    m = max(min_cell, 1)
    assert int(total >= m and not any(1 <= d < m for d in cells)) == expected


def test_the_per_cell_rule_refuses_what_a_total_only_rule_would_let_through():
    """A broken variant of the rule: 'the record sets differ by at least min_cell' alone. Ten records differ,
    but one of them is the only one in its cell; subtracting the answers would show that one record."""
    rows = [{"record_id": f"r{i}", "form": "labour", "region": "amsterdam", "sex": "M"} for i in range(9)]
    rows.append({"record_id": "target", "form": "sexual", "region": "amsterdam", "sex": "M"})
    rows += [{"record_id": f"f{i}", "form": f, "region": "amsterdam", "sex": "F"}
             for i, f in enumerate(["labour", "sexual"] * 5)]
    frames = {"a": pd.DataFrame(rows).astype(str)}
    q1 = {"group_by": ["form"], "where": {"region": ["amsterdam"]}}
    q2 = {"group_by": ["form"], "where": {"region": ["amsterdam"], "sex": ["F"]}}
    prepared = get("query-approval").local_inputs(frames["a"], {"query": q2, "differs_from_query": q1})
    assert prepared["difference"] == [10]  # a total-only rule with min_cell 5 would approve: 10 >= 5
    assert oracle(frames, "query-approval", {"query": q2, "differs_from_query": q1, "min_cell": 5,
                                             "orgs": ["a"]})["revealed"] == {"approved": 0}


def test_which_earlier_queries_are_compared():
    q = {"group_by": ["form"], "where": {"region": ["amsterdam"]}}
    same = {"group_by": ["form"], "where": {"region": ["amsterdam"]}, "min_cell": 2}
    other_filter = {"group_by": ["form"], "where": {"region": ["amsterdam", "rotterdam"]}}
    other_group = {"group_by": ["sex"], "where": {"region": ["rotterdam"]}}
    other_measure = {"group_by": ["form"], "where": {}, "measure": {"sum": "age"}}
    assert not needs_differencing_check(q, same)
    assert needs_differencing_check(q, other_filter)
    assert not needs_differencing_check(q, other_group) and not needs_differencing_check(q, other_measure)
    earlier = [("#1", other_filter), ("#2", other_group), ("#3", other_filter)]
    assert [label for label, _ in checks_needed(q, earlier)] == ["#1"]  # each distinct query once


def test_a_distinct_query_that_would_need_a_check_is_refused_not_counted_as_records():
    """The check counts registrations; a distinct-persons query is never treated as a record count: when
    it would need a check it is refused before anything runs (no run at all), with a message saying why."""
    distinct = {"group_by": ["form"], "where": {"region": ["amsterdam"]}, "measure": {"distinct": "person"}}
    earlier = [("#1", {**distinct, "where": {"region": ["amsterdam", "rotterdam"]}})]
    runs = []
    with pytest.raises(QueryError, match="compared with #1: .*not linked persons.*refused"):
        run_designed_query(SCENARIO, ".", distinct, orgs=THREE, earlier=earlier, min_cell=3,
                           run=lambda *a, **k: runs.append(a))
    assert runs == []
    with pytest.raises(ComputationError, match="query approval: .*not linked persons"):
        get("query-approval").local_inputs(pd.DataFrame({"form": ["labour"]}),
                                           {"query": distinct, "differs_from_query": earlier[0][1]})
    # Nothing to compare (same filters, or an earlier record count): it runs, once.
    run_designed_query(SCENARIO, ".", distinct, orgs=THREE, earlier=[("#2", {**distinct, "measure": "count"})],
                       min_cell=3, run=lambda *a, **k: runs.append(a) or type("R", (), {"to_json": dict})())
    assert len(runs) == 1 and runs[0][2] == "designed-query"


def test_a_bad_earlier_query_is_an_error_before_anything_runs(data, tmp_path):
    from sandbox.mpc.runner import MPCError

    with pytest.raises(MPCError, match="differs_from_query.*'gotham'"):
        run_mpc(SCENARIO, data, "query-approval", orgs=THREE, out_dir=tmp_path / "out",
                params={"query": {"group_by": ["form"]},
                        "differs_from_query": {"group_by": ["form"], "where": {"region": ["gotham"]}}})
    assert not (tmp_path / "out").exists()
