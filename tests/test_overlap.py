"""Secure record linkage: capture-pattern counts and MO co-occurrence (issue 4).

The MPC tests start real MPyC party processes on SYNTHETIC lists written with a fixed seed, with
persons overlapping across organisations, and compare with the plaintext oracle and the known truth.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox.mpc import computations
from sandbox.mpc.runner import free_ports, run_mpc, run_plain
from sandbox.mpc.transcript import read_transcript
from sandbox.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_overlap import write_lists  # noqa: E402

SCENARIO = load_scenario("nl-baseline")
ORGS = {3: ["police", "kmar", "nla"], 5: SCENARIO.org_ids[:5], 6: SCENARIO.org_ids}


@pytest.fixture(scope="module")
def lists(tmp_path_factory):
    """Six lists of 120 records from 360 persons (seed 7): many overlaps, many small patterns."""
    folder = tmp_path_factory.mktemp("overlap-data")
    truth = write_lists(folder, SCENARIO.org_ids, 120, seed=7)
    return folder, truth


def _truth_for(truth: dict[int, int], orgs: list[str]) -> dict[tuple[str, ...], int]:
    """Known capture patterns restricted to a subset of the organisations."""
    index = [SCENARIO.org_ids.index(o) for o in orgs]
    out: dict[tuple[str, ...], int] = {}
    for mask, n in truth.items():
        on = tuple(o for o, j in zip(orgs, index, strict=True) if mask >> j & 1)
        if on:
            out[on] = out.get(on, 0) + n
    return out


# ------------------------------------------------------------------------------- plaintext half


def test_oracle_matches_known_truth(lists):
    folder, truth = lists
    for m, orgs in ORGS.items():
        oracle = run_plain(SCENARIO, folder, "capture-patterns", orgs=orgs, params={"min_cell": 0})
        got = {tuple(p["lists"]): p["count"] for p in oracle["revealed"]}
        assert got == _truth_for(truth, orgs), m
        assert oracle["suppressed"] == []


def test_cells_and_inputs(lists):
    folder, _ = lists
    comp = computations.get("capture-patterns")
    assert comp.input_bits == 64
    cells = comp.cells({"orgs": ["a", "b", "c"]})
    assert cells == ["a", "b", "a + b", "c", "a + c", "b + c", "a + b + c"]
    mo = computations.get("mo-cooccurrence").cells({})
    assert mo[0] == "debt_bondage" and mo[1] == "debt_bondage + takes_earnings" and len(mo) == 14 * 15 // 2


# ------------------------------------------------------------------------------------ MPC half


def _run(folder, computation, m, min_cell, out_dir=None):
    result = run_mpc(SCENARIO, folder, computation, orgs=ORGS[m], params={"min_cell": min_cell},
                     out_dir=out_dir, timeout=120)
    assert result.match, (result.revealed, result.oracle, result.suppressed, result.oracle_suppressed)
    return result


@pytest.mark.mpc
def test_capture_patterns_three_orgs_exact_and_no_key_leaks(lists, tmp_path):
    folder, truth = lists
    result = _run(folder, "capture-patterns", 3, 0, out_dir=tmp_path)
    assert {tuple(p["lists"]): p["count"] for p in result.revealed} == _truth_for(truth, ORGS[3])
    assert result.suppressed == []

    # No party's transcript contains another party's plaintext linkage keys (as numbers or as text).
    keys = {org: computations.get("capture-patterns").local_inputs(
        __import__("pandas").read_csv(folder / f"{org}.csv", dtype=str, keep_default_na=False), {})["keys"]
        for org in ORGS[3]}
    for org, path in result.transcripts.items():
        text = Path(path).read_text(encoding="utf-8")
        numbers = set()
        for event in read_transcript(path):
            for value in event.get("values", []) if isinstance(event.get("values"), list) else []:
                if isinstance(value, int):
                    numbers.add(value)
        own = [e for e in read_transcript(path) if e["event"] == "own_input"]
        assert own and set(own[0]["values"]) == set(keys[org])  # sanity: own keys ARE logged
        assert [e for e in read_transcript(path) if e["event"] == "shares" and e["label"] == "keys"]
        for other, their_keys in keys.items():
            if other == org:
                continue
            other_keys = set(their_keys) - set(keys[org])  # persons on both lists are known to both
            assert other_keys
            assert not numbers & other_keys, f"{org}'s transcript holds plaintext keys of {other}"
            assert not any(f"{k:016x}" in text for k in other_keys)
            assert not any(str(k) in text for k in other_keys)
        opened = [e for e in read_transcript(path) if e["event"] == "opened" and e["label"].startswith("pseudonyms")]
        assert opened and len(opened[0]["values"]) == sum(len(v) for v in keys.values())  # every pseudonym, in full


@pytest.mark.mpc
def test_capture_patterns_five_orgs_suppression_matches_oracle(lists):
    folder, truth = lists
    result = _run(folder, "capture-patterns", 5, 10)
    exact = _truth_for(truth, ORGS[5])
    small = sorted((list(p) for p, n in exact.items() if 0 < n < 10), key=str)
    assert small, "the test data should have small cells"
    assert sorted(result.suppressed, key=str) == small
    for p in result.revealed:  # every opened cell is exact and not small
        assert p["count"] == exact[tuple(p["lists"])] and p["count"] >= 10


@pytest.mark.mpc
def test_capture_patterns_six_orgs(lists):
    folder, truth = lists
    result = _run(folder, "capture-patterns", 6, 3)
    exact = _truth_for(truth, ORGS[6])
    assert len(result.revealed) + len(result.suppressed) == len(exact)


@pytest.mark.mpc
@pytest.mark.parametrize("m,min_cell", [(3, 0), (5, 10), (6, 0)])
def test_mo_cooccurrence_matches_oracle(lists, m, min_cell):
    folder, _ = lists
    result = _run(folder, "mo-cooccurrence", m, min_cell)
    values = [v for v in result.revealed.values() if v is not None]
    assert any(v > 0 for v in values)
    if min_cell:
        assert all(v == 0 or v >= min_cell for v in values)


# ------------------------------------------------------------------------- the shuffle on its own

_SHUFFLE_PARTY = textwrap.dedent("""
    import json, sys
    import numpy as np
    from mpyc.runtime import mpc
    from sandbox.mpc.protocols import overlap

    async def main():
        await mpc.start()
        secfld = mpc.SecFld(overlap.ELL)
        n = 60
        rows = np.array([[v, 1000 + v] for v in range(n)], dtype=object)  # two columns travel together
        x = mpc.input(secfld.array(rows if mpc.pid == 0 else np.zeros((n, 2), dtype=object)), senders=0)
        before = await overlap.my_shares(mpc, x)
        after = await overlap.secret_shuffle(mpc, before)
        opened = await mpc.output(overlap.as_secure(secfld, after))
        await mpc.shutdown()
        with open(sys.argv[1], "w") as fh:
            json.dump({"opened": [[int(a) for a in row] for row in opened.value.tolist()],
                       "before": [int(a) for a in before.reshape(-1).tolist()],
                       "after": [int(a) for a in after.reshape(-1).tolist()]}, fh)

    mpc.run(main())
""")


@pytest.mark.mpc
def test_secret_shuffle_permutes_rows(tmp_path):
    script = tmp_path / "shuffle_party.py"
    script.write_text(_SHUFFLE_PARTY, encoding="utf-8")
    ports = free_ports(3)
    addresses = [a for p in ports for a in ("-P", f"127.0.0.1:{p}")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / f"out{i}.json"), "-M", "3", "-I",
                               str(i), *addresses, "--no-log"], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for i in range(3)]
    try:
        for p in procs:
            assert p.wait(timeout=60) == 0, p.stderr.read().decode()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    outs = [json.loads((tmp_path / f"out{i}.json").read_text()) for i in range(3)]
    opened = outs[0]["opened"]
    assert all(o["opened"] == opened for o in outs)
    assert sorted(opened) == [[v, 1000 + v] for v in range(60)]  # same rows, kept together ...
    assert [r[0] for r in opened] != list(range(60))  # ... in another order (identity: 1/60!)
    for o in outs:  # every party's shares were refreshed: none is left in place
        assert not set(o["before"]) & set(o["after"])


def _coalitions_seeing_every_permutation(family: list[tuple[int, ...]], m: int, t: int) -> list[tuple[int, ...]]:
    """The coalitions of t parties that meet every shuffling subset: they hold every permutation, so they know
    the composed shuffle (the attack on real transcripts is in tests/test_attacks.py, section 9)."""
    return [c for c in itertools.combinations(range(m), t) if all(set(c) & set(s) for s in family)]


@pytest.mark.parametrize("m", range(2, 10))
def test_every_coalition_of_t_misses_a_shuffling_subset(m):
    from sandbox.mpc.subsets import shuffle_subsets, shuffles_per_party

    t = (m - 1) // 2
    family = shuffle_subsets(m, t)
    assert all(len(s) == t + 1 and len(set(s)) == t + 1 and set(s) <= set(range(m)) for s in family)
    assert _coalitions_seeing_every_permutation(family, m, t) == []
    assert len(family) <= math.comb(m, t + 1)
    assert shuffles_per_party(m, t) == max(sum(p in s for s in family) for p in range(m))
    # Broken variant: every subset through party 0 -- then the coalition {0, ...} of t parties sees them all.
    if t >= 1:
        broken = [s for s in itertools.combinations(range(m), t + 1) if 0 in s]
        assert _coalitions_seeing_every_permutation(broken, m, t) != []
