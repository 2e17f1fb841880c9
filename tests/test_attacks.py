"""Every privacy claim, attacked: each test plays a coalition of at most t organisations.

An attacker here holds only what its members hold: their own CSV files and their own transcripts of real
MPyC runs (JSON lines). It does not call the product's views to attack; it writes its own attack. Each
attack is also run against a deliberately broken variant kept in this file -- the linear pseudonym
(k·key)·G, noise seeded from public data, an approval rule that opens the per-form difference, a sharing
of too low a degree, a coalition of t + 1, the capture-patterns small-cell rule on stratified counts -- and
must SUCCEED there, so that a pass means something.
"""

from __future__ import annotations

import itertools
import math
import random
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nacl.bindings import crypto_scalarmult_ed25519_base_noclamp, crypto_scalarmult_ed25519_noclamp

from sandbox.mpc.runner import run_mpc
from sandbox.mpc.transcript import read_transcript
from sandbox.scenario import load_scenario
from sandbox.views.collusion import attempt
from sandbox.views.run_view import load_run

ELL = 2**252 + 27742317777372353535851937790883648493  # the Ed25519 group order (public)
SCENARIO = load_scenario("nl-baseline")
THREE = ["police", "kmar", "nla"]
SEP = ";"


def _csv(folder: Path, org: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{org}.csv", dtype=str, keep_default_na=False)


def _opened(events: list[dict], label_start: str) -> list:
    found = [e for e in events if e["event"] == "opened" and e["label"].startswith(label_start)]
    assert len(found) == 1, f"expected one opened {label_start!r} event, got {len(found)}"
    return found[0]["values"]


def _mul(scalar: int, point: bytes) -> bytes:
    return crypto_scalarmult_ed25519_noclamp((scalar % ELL).to_bytes(32, "little"), point)


# ------------------------------------------------------------------------ 1. linear pseudonyms


def linear_pseudonym_attack(own_keys: list[int], opened_hex: list[str]) -> bytes | None:
    """Recover K = k·G from opened pseudonyms key·K, using two of the attacker's own keys a, b.

    The pseudonym of b is (b/a) times the pseudonym of a: find the opened Y whose (b/a)·Y is opened
    too; then K = Y / a. Returns K once it predicts the pseudonym of a third own key, else None.
    """
    opened = {bytes.fromhex(h) for h in opened_hex}
    a, b, c = own_keys[:3]
    rho = b * pow(a, -1, ELL) % ELL
    for y in opened:
        if _mul(rho, y) in opened:
            k_point = _mul(pow(a, -1, ELL), y)
            if _mul(c, k_point) in opened:
                return k_point
    return None


def lists_of_own_records(own_keys: list[int], opened_hex: list[str], k_point: bytes) -> dict[int, int]:
    """With K: on how many lists each own record's person is (pseudonym multiplicities)."""
    counts: dict[bytes, int] = {}
    for h in opened_hex:
        counts[bytes.fromhex(h)] = counts.get(bytes.fromhex(h), 0) + 1
    return {key: counts.get(_mul(key, k_point), 0) for key in own_keys}


def _broken_linear_pseudonyms(folder: Path, orgs: list[str]) -> list[str]:
    """What the old protocol opened: (k·key)·G for every record of every list, in a shuffled order."""
    k = random.SystemRandom().randrange(1, ELL)
    points = [crypto_scalarmult_ed25519_base_noclamp((k * int(key, 16) % ELL).to_bytes(32, "little")).hex()
              for org in orgs for key in _csv(folder, org)["person_key"]]
    random.shuffle(points)
    return points


@pytest.fixture(scope="module")
def overlap_run(tmp_path_factory):
    """capture-patterns with three organisations on generated SYNTHETIC data (seed 11), transcripts kept."""
    import synthetic

    data = tmp_path_factory.mktemp("attack-data")
    synthetic.write_dataset(synthetic.generate(SCENARIO.organisations, SCENARIO.generator, seed=11), data)
    result = run_mpc(SCENARIO, data, "capture-patterns", orgs=THREE, params={"min_cell": 0},
                     out_dir=tmp_path_factory.mktemp("attack-run"), timeout=300)
    assert result.match is True
    return data, result


@pytest.mark.mpc
def test_one_party_cannot_link_pseudonyms_but_could_with_the_linear_ones(overlap_run):
    data, result = overlap_run
    attacker = THREE[0]
    own_keys = [int(k, 16) for k in _csv(data, attacker)["person_key"]]
    events = read_transcript(result.transcripts[attacker])
    opened = _opened(events, "pseudonyms")
    assert len(opened) == sum(len(_csv(data, o)) for o in THREE)  # every pseudonym is in the transcript

    # Truth, from the CSVs: how many of the three lists each of the attacker's persons is on.
    on = {int(k, 16): sum(k in set(_csv(data, o)["person_key"]) for o in THREE)
          for k in _csv(data, attacker)["person_key"]}
    assert any(v > 1 for v in on.values()) and any(v == 1 for v in on.values())

    # Broken variant: the linear pseudonym gives the attacker k·G, and with it every person's lists.
    broken = _broken_linear_pseudonyms(data, THREE)
    k_point = linear_pseudonym_attack(own_keys, broken)
    assert k_point is not None
    assert lists_of_own_records(own_keys, broken, k_point) == on
    outsider = next(k for k in _csv(data, THREE[1])["person_key"] if int(k, 16) not in on)
    assert _mul(int(outsider, 16), k_point).hex() in broken  # and it can test any named person

    # The product: no pair of opened pseudonyms has the ratio of two own keys; the attack finds nothing.
    assert linear_pseudonym_attack(own_keys, opened) is None
    # Nor does the base-point version (a guessed k·G = G) predict any own pseudonym.
    assert not {_mul(key, crypto_scalarmult_ed25519_base_noclamp((1).to_bytes(32, "little"))).hex()
                for key in own_keys} & set(opened)


@pytest.mark.mpc
def test_no_foreign_key_anywhere_in_a_partys_transcript(overlap_run):
    data, result = overlap_run
    keys = {o: set(_csv(data, o)["person_key"]) for o in THREE}
    for viewer in THREE:
        text = Path(result.transcripts[viewer]).read_text(encoding="utf-8")
        foreign = set().union(*(keys[o] for o in THREE if o != viewer)) - keys[viewer]
        assert foreign
        leaked = [k for k in foreign if k in text or str(int(k, 16)) in text]
        assert not leaked, f"{viewer}'s transcript holds {len(leaked)} keys of other organisations"
        own = [e for e in read_transcript(result.transcripts[viewer]) if e["event"] == "own_input"]
        assert {f"{v:016x}" for v in own[0]["values"]} == keys[viewer]  # the check can see keys: its own are there


# ------------------------------------------------------------------------ 2. noise


def _seeded_noise(org: str, seed: int, epsilon: float, parties: int, cells: int) -> list[int]:
    """The old, BROKEN noise: seeded from the workshop's data seed and the organisation's name."""
    rng = np.random.default_rng([seed, zlib.crc32(org.encode())])
    a = float(np.exp(-epsilon))
    draws = rng.negative_binomial(1 / parties, 1 - a, cells) - rng.negative_binomial(1 / parties, 1 - a, cells)
    return draws.tolist()


def noise_recompute_attack(opened: list[int], own_noise: list[int], orgs: list[str], attacker: str, seed: int,
                           epsilon: float) -> list[int]:
    """Subtract the attacker's own noise and everybody else's noise as recomputed from public data."""
    estimate = [v - z for v, z in zip(opened, own_noise, strict=True)]
    for org in orgs:
        if org != attacker:
            estimate = [v - z for v, z in zip(estimate, _seeded_noise(org, seed, epsilon, len(orgs), len(opened)),
                                               strict=True)]
    return estimate


@pytest.mark.mpc
def test_noise_cannot_be_recomputed_from_public_data(overlap_run, tmp_path):
    data, _ = overlap_run
    epsilon, seed, attacker = 0.5, 11, THREE[0]
    params = {"min_cell": 0, "region": "amsterdam", "noise_epsilon": epsilon}
    runs = [run_mpc(SCENARIO, data, "count-filtered", orgs=THREE, params=params, out_dir=tmp_path / f"r{i}")
            for i in range(2)]
    pooled = pd.concat([_csv(data, o) for o in THREE])
    in_region = pooled[pooled["region"] == "amsterdam"]
    forms = in_region["form"].str.split(SEP).explode()
    exact = [int((forms == f).sum()) for f in ("sexual", "labour", "criminal", "other")] + [len(in_region)]
    for r in runs:
        assert r.match is True and r.noise is not None  # the facilitator check: opened = exact + all noise
        assert list(r.oracle.values()) == exact

    def attacker_view(r):
        events = read_transcript(r.transcripts[attacker])
        own = next(e for e in events if e["event"] == "own_input" and e["label"] == "noise")["values"]
        return _opened(events, "totals"), own

    # Broken variant: noise from the public seed -> the attacker recovers every exact count.
    broken = [e + sum(_seeded_noise(o, seed, epsilon, 3, 5)[i] for o in THREE) for i, e in enumerate(exact)]
    own_broken = _seeded_noise(attacker, seed, epsilon, 3, 5)
    assert noise_recompute_attack(broken, own_broken, THREE, attacker, seed, epsilon) == exact
    # The product: the same attack on the real runs' opened totals misses.
    for r in runs:
        opened, own = attacker_view(r)
        assert noise_recompute_attack(opened, own, THREE, attacker, seed, epsilon) != exact
    # Fresh noise per run: the same query twice gives different noisy totals (a seed would repeat them).
    assert [attacker_view(r)[0] for r in runs][0] != [attacker_view(r)[0] for r in runs][1]
    assert [attacker_view(r)[1] for r in runs][0] != [attacker_view(r)[1] for r in runs][1]


# ------------------------------------------------------------------------ 3. query approval


def read_forms_from_opened(events: list[dict]) -> set[str]:
    """The forms whose cell of the approval run was opened as 'small' or as a positive count."""
    forms = set()
    for e in events:
        if e["event"] != "opened" or not isinstance(e["values"], list):
            continue
        for cell, value in zip(e.get("cells") or [], e["values"], strict=False):
            if cell in ("sexual", "labour", "criminal", "other") and value not in (0, None):
                forms.add(cell)
    return forms


@pytest.mark.mpc
def test_the_approval_run_reveals_neither_presence_nor_form(overlap_run, tmp_path):
    data, _ = overlap_run
    pooled = pd.concat([_csv(data, o) for o in THREE])
    pooled = pooled[(pooled["region"] != "") & (pooled["nationality"] != "")]
    sizes = pooled.groupby(["region", "nationality"]).size()
    region, nationality = next(k for k, n in sizes.items() if n == 1 and (pooled["region"] == k[0]).sum() >= 10)
    absent = next(n for n in sorted(pooled["nationality"].unique()) if (region, n) not in sizes.index)
    target_forms = set(pooled[(pooled["region"] == region) & (pooled["nationality"] == nationality)]["form"]
                       .iloc[0].split(SEP))
    a = {"region": region, "exclude_nationality": None}

    def run(computation, excluded, name):
        params = {"region": region, "exclude_nationality": excluded, "differs_from": a, "min_cell": 5}
        r = run_mpc(SCENARIO, data, computation, orgs=THREE, params=params, out_dir=tmp_path / name)
        assert r.match is True
        return [e for e in read_transcript(r.transcripts[THREE[0]]) if e["event"] == "opened"]

    # Broken variant: the old rule counted the difference per form with the small-cell rule and opened the flags.
    old_present, old_absent = run("count-filtered", nationality, "old1"), run("count-filtered", absent, "old2")
    assert read_forms_from_opened(old_present) == target_forms  # the target's forms, read off the flags
    assert [e["values"] for e in old_present] != [e["values"] for e in old_absent]  # presence shows

    # The product: one bit, the same whether the person exists or not; no form anywhere.
    new_present, new_absent = run("query-approval", nationality, "new1"), run("query-approval", absent, "new2")
    assert [e["values"] for e in new_present] == [e["values"] for e in new_absent] == [[0]]
    assert read_forms_from_opened(new_present) == set()


# ------------------------------------------------------------------------ 4. reconstruction from shares


def interpolate_at_zero(xs: list[int], ys: list[int], p: int) -> int:
    """The attacker's own Lagrange interpolation (no product code)."""
    total = 0
    for i, (xi, yi) in enumerate(zip(xs, ys, strict=True)):
        num = den = 1
        for j, xj in enumerate(xs):
            if j != i:
                num, den = num * -xj % p, den * (xi - xj) % p
        total = (total + yi * num * pow(den, -1, p)) % p
    return total


def reconstruction_attack(transcripts: dict[str, list[dict]], coalition: list[str]) -> dict[tuple, int]:
    """Pool the coalition's shares of every outsider's vectors and interpolate at 0 (party i holds f(i+1))."""
    start = next(e for e in transcripts[coalition[0]] if e["event"] == "start")
    p, orgs = int(start["modulus"]), start["orgs"]
    xs = [orgs.index(o) + 1 for o in coalition]
    held: dict[tuple, list[list[int]]] = {}
    for member in coalition:
        for e in transcripts[member]:
            if e["event"] == "shares" and e["owner_org"] not in coalition:
                held.setdefault((e["owner_org"], e["label"]), []).append(e["values"])
    guesses = {}
    for (owner, label), columns in held.items():
        for k, ys in enumerate(zip(*columns, strict=False)):
            guesses[(owner, label, k)] = interpolate_at_zero(xs, list(ys), p)
    return guesses


def _right(guesses: dict[tuple, int], transcripts: dict[str, list[dict]]) -> tuple[int, int]:
    truth = {(o, e["label"], k): v for o, ev in transcripts.items() for e in ev if e["event"] == "own_input"
             for k, v in enumerate(e["values"])}
    return sum(truth.get(key) == g for key, g in guesses.items()), len(guesses)


@pytest.mark.mpc
@pytest.mark.parametrize("computation,orgs", [("counts-by-form", SCENARIO.org_ids), ("age-statistics", THREE[:3]),
                                              ("capture-patterns", THREE), ("capture-patterns-by", THREE)])
def test_t_shares_reconstruct_nothing_t_plus_1_everything(computation, orgs, overlap_run, tmp_path):
    data, result = overlap_run
    if computation != "capture-patterns":
        result = run_mpc(SCENARIO, data, computation, orgs=orgs, params={"min_cell": 0}, out_dir=tmp_path)
        assert result.match is True
    transcripts = {o: read_transcript(result.transcripts[o]) for o in orgs}
    t = result.threshold
    run = load_run(result)
    for size in (t, t + 1):
        for coalition in itertools.combinations(orgs, size):
            right, total = _right(reconstruction_attack(transcripts, list(coalition)), transcripts)
            assert total > 0
            assert right == (total if size > t else 0), (coalition, right, total)
            shown = attempt(run, list(coalition))  # what the Revealed page reports: the same numbers
            assert (shown.right, shown.total) == (right, total)

    # Broken variant: the same values shared with a polynomial of degree t - 1 (one too low): t shares suffice.
    if t >= 1:
        rng = random.SystemRandom()
        p = run.modulus
        broken = {o: [dict(e) for e in ev] for o, ev in transcripts.items()}
        for owner in orgs:
            for vec in (e for e in transcripts[owner] if e["event"] == "own_input"):
                polys = [[v] + [rng.randrange(p) for _ in range(t - 1)] for v in vec["values"]]
                for holder in orgs:
                    x = orgs.index(holder) + 1
                    shares = [sum(c * x**d for d, c in enumerate(poly)) % p for poly in polys]
                    for e in broken[holder]:
                        if e["event"] == "shares" and e["owner_org"] == owner and e["label"] == vec["label"]:
                            e["values"] = shares
        coalition = list(orgs[:t])
        right, total = _right(reconstruction_attack(broken, coalition), broken)
        assert right == total > 0


# ------------------------------------------------------------------------ 5. what the uniformity test counts


@pytest.mark.mpc
def test_shares_shown_are_uniform_and_public_constants_are_kept_apart(overlap_run):
    from sandbox.views.run_view import party_view
    from sandbox.views.uniformity import uniformity

    data, result = overlap_run
    run = load_run(result)
    for org in THREE:
        view = party_view(run, org)
        u = uniformity(view.shares["share"].tolist(), ELL)
        assert u.chi_square_p > 1e-4 and u.ks_p > 1e-4, org  # (1e-4: a false alarm 1 run in 5,000)
        assert u.n == sum(len(_csv(data, o)) for o in THREE)  # one share per record of every list
        # the organisation tags are public constants: listed apart, never among the shares
        assert set(view.public["value"]) == {1, 2, 4} and len(view.public) == u.n
    # Broken variant: counting the public tags as shares (the old party view) -- far from uniform.
    tags = party_view(run, THREE[0]).public["value"].tolist()
    assert uniformity(party_view(run, THREE[0]).shares["share"].tolist() + tags, ELL).ks_p < 1e-6


# ------------------------------------------------------------------------ 6. identifiers on the wire


def _encodings(key_hex: str) -> list[bytes]:
    k = int(key_hex, 16)
    minimal = k.to_bytes(max(1, (k.bit_length() + 7) // 8), "little")  # field bytes and pickled ints are LE
    return [minimal, k.to_bytes(8, "big"), key_hex.encode(), str(k).encode()]


def keys_on_the_wire(wire: Path, keys: set[str]) -> set[str]:
    """Every key of `keys` found, in any of its encodings, anywhere in the raw bytes a party sent or received."""
    from sandbox.mpc.transcript import read_wire

    blob = b"\x00".join(payload for _, _, payload in read_wire(wire))
    return {k for k in keys if any(e in blob for e in _encodings(k))}


@pytest.mark.mpc
@pytest.mark.parametrize("computation", ["capture-patterns", "mo-cooccurrence"])
def test_no_foreign_key_on_the_wire_even_raw(computation, overlap_run, tmp_path, monkeypatch):
    from sandbox.mpc import runner

    data, _ = overlap_run
    keys = {o: set(_csv(data, o)["person_key"]) for o in THREE}

    def run(folder):
        r = run_mpc(SCENARIO, data, computation, orgs=THREE, params={"min_cell": 0}, out_dir=folder, wire_log=True)
        assert r.match is True
        return {o: folder / f"wire-{i}-{o}.bin" for i, o in enumerate(THREE)}

    viewer = THREE[1]
    foreign = (keys[THREE[0]] | keys[THREE[2]]) - keys[viewer]
    wires = run(tmp_path / "product")
    assert wires[viewer].stat().st_size > 100_000  # the payloads really are there
    assert keys_on_the_wire(wires[viewer], foreign) == set()
    # Broken variant: the same protocol with threshold 0 (what two organisations without a third party get):
    # the "shares" are the values themselves, and the scan finds the other organisations' keys. (Both
    # computations share the join that carries the keys, so one broken run shows the scan can see them.)
    if computation != "capture-patterns":
        return
    monkeypatch.setattr(runner, "_validate_threshold", lambda m, t: 0)
    broken = run(tmp_path / "broken")
    assert len(keys_on_the_wire(broken[viewer], foreign)) > len(foreign) // 2


# ------------------------------------------------------------------------ 7. small counts: minors, ledger, epsilon


def _ages_dataset(folder: Path, minors: int) -> Path:
    """Three organisations, 15 adults each, and `minors` minors in the first one (SYNTHETIC)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    for j, org in enumerate(THREE):
        ages = [rng.randint(18, 60) for _ in range(15)]
        ages += [rng.randint(12, 17) for _ in range(minors)] if j == 0 else []
        rows = [{"record_id": f"{org}-{i}", "person_key": f"{rng.getrandbits(64):016x}", "org": org,
                 "registration_date": "2024-05-01", "form": "labour", "age": str(a), "synthetic": "SYNTHETIC"}
                for i, a in enumerate(ages)]
        pd.DataFrame(rows).to_csv(folder / f"{org}.csv", index=False)
    return folder


def minors_from_transcript(events: list[dict]) -> int | None:
    """The attacker reads the number of minors off what was opened: directly, or as share × records."""
    opened = {c: v for e in events if e["event"] == "opened" and isinstance(e["values"], list)
              for c, v in zip(e.get("cells") or [], e["values"], strict=False)}
    if opened.get("minors") is not None:
        return int(opened["minors"])
    if opened.get("share_minors") is not None and opened.get("records_with_age"):
        return round(opened["share_minors"] * opened["records_with_age"])
    return None


@pytest.mark.mpc
def test_a_small_number_of_minors_is_never_opened(tmp_path):
    data = _ages_dataset(tmp_path / "data", minors=3)
    product = run_mpc(SCENARIO, data, "age-statistics", orgs=THREE, params={"min_cell": 10}, out_dir=tmp_path / "a")
    assert product.match is True and product.revealed["share_minors"] is None
    assert product.suppressed == ["share_minors"] and product.revealed["records_with_age"] == 48
    assert minors_from_transcript(read_transcript(product.transcripts[THREE[1]])) is None
    # Broken variant: the same run without the small-cell rule -- the attacker reads the 3 minors off the output.
    broken = run_mpc(SCENARIO, data, "age-statistics", orgs=THREE, params={"min_cell": 0}, out_dir=tmp_path / "b")
    assert minors_from_transcript(read_transcript(broken.transcripts[THREE[1]])) == 3


@pytest.mark.mpc
def test_the_ledger_names_exactly_who_saw_each_overlap_opening(overlap_run):
    from sandbox.views.ledger import OPENED, ledger

    data, result = overlap_run
    table = ledger(load_run(result))
    perms = table[table["kind"] == "subset"]
    assert len(perms) == len(list(itertools.combinations(range(3), 2)))  # one per (t+1)-subset
    for label, seen in zip(perms["label"], perms["seen_in_clear_by"], strict=True):
        members = [THREE[int(i)] for i in label.rsplit("parties ", 1)[1].split(", ")]
        assert seen == ", ".join(members)  # read from the label, not from the ledger's own logic
    leaks = table[table["kind"] == "leak"]
    sizes = leaks[leaks["label"].str.startswith("list sizes")]
    assert dict(zip(sizes["cell"], sizes["opened_value"], strict=True)) == {o: len(_csv(data, o)) for o in THREE}
    assert set(leaks["seen_in_clear_by"]) == {OPENED}
    assert any(label.startswith("pseudonyms") for label in leaks["label"])
    inputs = table[table["kind"] == "input"]
    assert set(zip(inputs["owner"], inputs["seen_in_clear_by"], strict=True)) == {(o, o) for o in THREE}


def test_epsilon_must_be_positive_and_finite_and_the_loss_counts_every_cell(overlap_run):
    from sandbox.mpc.runner import MPCError
    from sandbox.views import disclosure

    data, _ = overlap_run
    for bad in (-1, 0, float("nan"), float("inf"), "1"):
        with pytest.raises(MPCError, match="noise epsilon must be a"):
            run_mpc(SCENARIO, data, "count-filtered", orgs=THREE, params={"min_cell": 0, "noise_epsilon": bad})
    row = disclosure.tradeoff([0.5], parties=3, cells_per_record=3).iloc[0]
    assert row["privacy_loss_per_person"] == pytest.approx(1.5)  # the total and two forms move by one each
    assert row["dp_bound"] == pytest.approx(np.exp(1.5) / (1 + np.exp(1.5)))


# ------------------------------------------------------------- 8. a person's covariate level (issue 18)


def lone_level_attack(events: list[dict], pattern: str, covariate: str) -> str | None:
    """capture-patterns-by: the `covariate` level of the persons of capture pattern `pattern` ('a + b'),
    read off the opened counts: every level combination of the pattern whose count was opened as 0 is
    ruled out; if all the others share one level, that is the answer. None when nothing singles one out.
    """
    found = [e for e in events if e["event"] == "opened" and e["label"].startswith("capture_pattern_counts_by_level")]
    assert len(found) == 1, "the attacker reads the opened counts from its transcript"
    candidates = set()
    for cell, value in zip(found[0]["cells"], found[0]["values"], strict=True):
        lists, _, levels = cell.partition(" | ")
        if lists != pattern or value == 0:
            continue
        candidates.add(dict(pair.split("=", 1) for pair in levels.split(", "))[covariate])
    return candidates.pop() if len(candidates) == 1 else None


def _capture_patterns_rule(events: list[dict], min_cell: int) -> list[dict]:
    """Broken variant: the transcript as the capture-patterns rule would have opened the same counts --
    an empty cell shown as 0, only the non-empty small cells withheld (taken from a run that opened all)."""
    out = []
    for e in events:
        if e["event"] == "opened" and e["label"].startswith("capture_pattern_counts_by_level"):
            e = {**e, "values": [None if 0 < v < min_cell else v for v in e["values"]]}
        out.append(e)
    return out


@pytest.mark.mpc
def test_a_lone_persons_level_recorded_by_another_organisation_is_not_opened(tmp_path):
    from tests.test_capture_patterns_by import PEOPLE, write_crafted

    data = write_crafted(tmp_path / "data")
    # The target: person 1, the only person on police + kmar. Police recorded sex F, kmar itself M, and the
    # police's value decides (police comes first). Each other organisation attacks with its own transcript.
    assert [p for p, r in PEOPLE.items() if set(r) == {"police", "kmar"}] == [1]
    target = PEOPLE[1]["police"][1]
    assert target == _csv(data, "police").set_index("record_id").loc["police-1", "sex"] == "F"
    params = {"covariates": ["sex", "minor"]}
    product = run_mpc(SCENARIO, data, "capture-patterns-by", orgs=THREE, params={**params, "min_cell": 3},
                      out_dir=tmp_path / "product", timeout=300)
    assert product.match is True and product.revealed  # something is opened (the 3 women known to police only)
    opened_all = run_mpc(SCENARIO, data, "capture-patterns-by", orgs=THREE, params={**params, "min_cell": 0},
                         out_dir=tmp_path / "all", timeout=300)
    assert opened_all.match is True
    for attacker in ("kmar", "nla"):
        own = read_transcript(product.transcripts[attacker])
        assert any(e["event"] == "opened" and e["label"] == "small_cell_flags" for e in own)
        assert lone_level_attack(own, "police + kmar", "sex") is None, attacker
        # Without the small-cell rule the lone person's level is in the output: the attack reads it.
        assert lone_level_attack(read_transcript(opened_all.transcripts[attacker]), "police + kmar", "sex") == target
        # Broken variant: the capture-patterns rule (0 shown, only 1..min_cell-1 withheld) names the one
        # non-empty cell of the pattern, and with it the police's record of that person.
        broken = _capture_patterns_rule(read_transcript(opened_all.transcripts[attacker]), 3)
        assert lone_level_attack(broken, "police + kmar", "sex") == target, attacker


# ------------------------------------------------ 9. the secret shuffle: a coalition of t cannot undo it


def unshuffle_attack(transcripts: dict[str, list[dict]], coalition: list[str], sizes: list[int],
                     orgs: list[str]) -> dict[tuple[str, int], frozenset[str]]:
    """Undo the secure join's shuffle with the permutations the coalition received, and link records.

    The protocol applies one permutation per shuffling subset, in the (public) order of the subsets, each as
    rows <- rows[perm]. The coalition composes the permutations its members received, in that order, skipping
    none it knows and ignoring any it never saw (it has no better guess), maps every opened pseudonym back to
    an input position (organisation block, row), and reads off, for each of its own records, which
    organisations hold the same person. Returns {(own org, row): organisations}.
    """
    perms: dict[str, list[int]] = {}
    for member in coalition:
        for e in transcripts[member]:
            if e["event"] == "opened" and e["label"].startswith("shuffle permutation of parties"):
                perms[e["label"]] = e["values"]
    order = sorted(perms, key=lambda label: tuple(int(x) for x in label.rsplit("parties ", 1)[1].split(", ")))
    pseudonyms = _opened(transcripts[coalition[0]], "pseudonyms")
    source = np.arange(len(pseudonyms))
    for label in reversed(order):  # final[i] = start[p1[p2[... pk[i]]]]
        source = np.asarray(perms[label])[source]
    block = np.repeat(np.arange(len(sizes)), sizes)  # which organisation each input position came from
    start = np.concatenate([[0], np.cumsum(sizes)])
    holders: dict[str, set[str]] = {}
    for i, point in enumerate(pseudonyms):
        holders.setdefault(point, set()).add(orgs[block[source[i]]])
    out = {}
    for i, point in enumerate(pseudonyms):
        j = int(block[source[i]])
        if orgs[j] in coalition:
            out[(orgs[j], int(source[i] - start[j]))] = frozenset(holders[point])
    return out


def _holders_from_csvs(data: Path, orgs: list[str], coalition: list[str]) -> dict[tuple[str, int], frozenset[str]]:
    """Which of the lists `orgs` each coalition record's person is on, from the organisations' own files (with
    orgs = the coalition: what the coalition knows without any MPC)."""
    keys = {o: list(_csv(data, o)["person_key"]) for o in {*orgs, *coalition}}
    held = {o: set(keys[o]) for o in orgs}
    return {(o, r): frozenset(h for h in orgs if k in held[h]) for o in coalition for r, k in enumerate(keys[o])}


@pytest.mark.mpc
@pytest.mark.parametrize("parties", [4, 6])  # the two sizes where fewer than all (t+1)-subsets shuffle
def test_t_parties_cannot_undo_the_shuffle_but_a_coalition_seeing_every_permutation_can(parties, tmp_path):
    import synthetic

    orgs = SCENARIO.org_ids[:parties]
    data = tmp_path / "data"
    synthetic.write_dataset(synthetic.generate(SCENARIO.organisations, SCENARIO.generator, seed=13), data)
    result = run_mpc(SCENARIO, data, "capture-patterns", orgs=orgs, params={"min_cell": 0}, out_dir=tmp_path / "run",
                     timeout=300)
    assert result.match is True
    transcripts = {o: read_transcript(result.transcripts[o]) for o in orgs}
    sizes = [len(_csv(data, o)) for o in orgs]
    t = result.threshold
    every_label = {e["label"] for ev in transcripts.values() for e in ev
                   if e["event"] == "opened" and e["label"].startswith("shuffle permutation")}
    assert len(every_label) < math.comb(parties, t + 1)  # a covering family, not every subset

    for coalition in itertools.combinations(orgs, t):
        truth = _holders_from_csvs(data, orgs, list(coalition))
        assert any(v != frozenset(coalition[:1]) for v in truth.values())  # there is something to learn
        guess = unshuffle_attack(transcripts, list(coalition), sizes, orgs)
        # The coalition's guess without any transcript: a person is on the coalition's lists that hold the key
        # (its members can compare their own files) and on no other list.
        prior = _holders_from_csvs(data, list(coalition), list(coalition))
        right = sum(guess[key] == truth[key] for key in truth)
        assert right <= sum(prior[key] == truth[key] for key in truth), (coalition, right, len(truth))

    # Broken variant: a coalition beyond the threshold that received every permutation undoes the shuffle and
    # links every one of its records exactly (so the attack above is a real one).
    seen = {c: {e["label"] for o in c for e in transcripts[o]
                if e["event"] == "opened" and e["label"].startswith("shuffle permutation")}
            for size in range(t + 1, parties + 1) for c in itertools.combinations(orgs, size)}
    coalition = next(c for c, labels in seen.items() if labels == every_label)
    assert len(coalition) > t
    assert unshuffle_attack(transcripts, list(coalition), sizes, orgs) == _holders_from_csvs(data, orgs,
                                                                                             list(coalition))
