"""The views tell the truth about real MPC runs: shares, reconstruction, ledger, disclosure."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys

import pandas as pd
import pytest

from sandbox.mpc.runner import run_mpc
from sandbox.scenario import load_scenario
from sandbox.views import disclosure, shamir
from sandbox.views.collusion import collusion
from sandbox.views.demo_data import make_dataset
from sandbox.views.ledger import INTERMEDIATE, OPENED, SUPPRESSED, ledger, ledger_csv
from sandbox.views.mpyc_explainer import explain
from sandbox.views.run_view import load_run, party_view
from sandbox.views.uniformity import uniformity

SCENARIO = load_scenario("nl-baseline")
THREE = ["police", "kmar", "nla"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("data"), SCENARIO.org_ids, seed=5, records_per_org=30)


@pytest.fixture(scope="module")
def run(data_dir, tmp_path_factory):
    """A real 6-party run with 40 cells, some of them below the small-cell threshold."""
    result = run_mpc(SCENARIO, data_dir, "crosstab-region-form", out_dir=tmp_path_factory.mktemp("run"))
    assert result.match is True
    assert result.suppressed, "the test data should produce some small cells"
    return load_run(result)


# --------------------------------------------------------------------------- pure Shamir


def test_shamir_split_and_interpolate_round_trip():
    p = 2**61 - 1
    rng = random.Random(3)
    for t, m in ((1, 3), (2, 5), (3, 7)):
        shares = shamir.split(1234, m, t, p, rng)
        for subset in itertools.combinations(range(m), t + 1):
            points = [shamir.party_point(i) for i in subset]
            assert shamir.interpolate_at_zero(points, [shares[i] for i in subset], p) == 1234
        coefficients = shamir.polynomial_through(list(range(1, t + 2)), shares[: t + 1], p)
        assert coefficients[0] == 1234
        assert [shamir.evaluate(coefficients, x, p) for x in range(1, m + 1)] == shares


def test_views_never_import_mpyc_or_streamlit():
    code = (
        "import sys, sandbox.views.run_view, sandbox.views.ledger, sandbox.views.collusion, "
        "sandbox.views.disclosure, sandbox.views.figures, sandbox.views.quick_run, "
        "sandbox.views.mpyc_explainer, sandbox.views.uniformity; "
        "bad = [m for m in ('mpyc', 'streamlit') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- real run: shares and collusion


@pytest.mark.mpc
def test_any_t_plus_1_parties_reconstruct_every_input(run):
    t, p = run.threshold, run.modulus
    label = run.share_labels()[0]
    for subset in itertools.combinations(run.orgs, t + 1):
        points = [shamir.party_point(run.index(o)) for o in subset]
        for owner in run.orgs:
            columns = [run.shares_of(h, owner, label) for h in subset]
            rebuilt = [
                shamir.interpolate_at_zero(points, [c[k] for c in columns], p) for k in range(len(columns[0]))
            ]
            assert rebuilt == run.own_inputs(owner)[label], (subset, owner)
        result = collusion(run, list(subset))
        assert result.can_reconstruct
        assert set(result.reconstructed) == set(run.orgs) - set(subset)
        assert all(result.agrees_with_owners.values())


@pytest.mark.mpc
def test_shares_look_uniform_but_plain_values_do_not(run):
    for org in run.orgs:
        shares = party_view(run, org).shares["share"].tolist()
        u = uniformity(shares, run.modulus)
        assert u.n == len(run.orgs) * 40
        assert u.chi_square_p > 1e-4 and u.ks_p > 1e-4, (org, u)
    plain = [v for org in run.orgs for v in run.own_inputs(org)["counts"]]
    assert uniformity(plain, run.modulus).ks_p < 1e-6  # the test can tell: small counts pile up near 0


def _recount(data_dir, org):
    """Region × form counts recomputed from the organisation's own CSV with pandas (no product code)."""
    df = pd.read_csv(data_dir / f"{org}.csv", dtype=str, keep_default_na=False)
    df = df.assign(form=df["form"].str.split(";")).explode("form")
    df = df[(df["region"] != "") & (df["form"] != "")].drop_duplicates(["record_id", "form"])
    return {f"{r} × {f}": int(n) for (r, f), n in df.groupby(["region", "form"]).size().items()}


@pytest.mark.mpc
def test_party_view_labels_every_value_right(run, data_dir):
    pooled: dict[str, int] = {}
    for org in run.orgs:
        view = party_view(run, org)
        end = run.of_kind(org, "end")[0]
        sent = view.messages[view.messages["direction"] == "sent"].groupby("peer")["bytes"].sum()
        assert {str(k): int(v) for k, v in sent.items()} == {str(k): v for k, v in end["bytes_sent"].items()}
        rounds = view.messages.drop_duplicates("pc")["round"].tolist()
        assert rounds == list(range(1, len(rounds) + 1))
        # Own inputs under their own names, against a recount of the organisation's CSV.
        own = dict(zip(view.own_inputs["cell"], view.own_inputs["value"], strict=True))
        expected = _recount(data_dir, org)
        assert {c: v for c, v in own.items() if v} == expected
        for cell, n in expected.items():
            pooled[cell] = pooled.get(cell, 0) + n
    # Opened totals under their own names, against the pooled recount (withheld cells are the small ones).
    opened = view.opened[view.opened["label"] == "totals"]
    for cell, value in zip(opened["cell"], opened["value"], strict=True):
        true = pooled.get(cell, 0)
        assert value == (None if 0 < true < 10 else true), cell


@pytest.mark.mpc
def test_ledger_agrees_with_transcripts(run):
    table = ledger(run)
    inputs = table[table["kind"] == "input"]
    for owner in run.orgs:
        owner_i = run.index(owner)
        for holder in run.orgs:
            n = sum(e["n"] for e in run.of_kind(holder, "shares") if e["owner"] == owner_i)
            assert (inputs["owner"] == owner).sum() == n
    assert (inputs["seen_in_clear_by"] == inputs["owner"]).all()  # only the owner's transcript holds them
    assert set(inputs["share_holders"]) == {", ".join(run.orgs)}
    opened_labels = {e["label"] for org in run.orgs for e in run.of_kind(org, "opened")}
    assert set(table[table["kind"].isin(["output", "leak"])]["label"]) == opened_labels
    assert set(table[table["kind"] == "leak"]["label"]) == {"small_cell_flags"}
    totals = table[table["label"] == "totals"]
    suppressed = totals[totals["seen_in_clear_by"] == SUPPRESSED]
    assert sorted(suppressed["cell"]) == sorted(run.result["suppressed"])
    assert (totals["seen_in_clear_by"] == OPENED).sum() == len(totals) - len(suppressed)
    assert (table["seen_in_clear_by"] == INTERMEDIATE).sum() > 0  # the secure comparisons' steps
    assert ledger_csv(table).splitlines()[0].startswith("kind,owner,label")


@pytest.mark.mpc
def test_pure_shamir_agrees_with_mpyc_thresha(run):
    data = explain(9, 5, 2, modulus=run.modulus)
    assert int(data["modulus"]) == run.modulus
    shares = [int(s) for s in data["shares"]]
    assert len(data["recombined"]) == 2**5 - 1
    for r in data["recombined"]:
        ours = shamir.interpolate_at_zero(
            [i + 1 for i in r["subset"]], [shares[i] for i in r["subset"]], run.modulus
        )
        assert ours == int(r["value"])
        assert r["equals_secret"] == (len(r["subset"]) >= 3)
    default = explain(5, 3, 1)  # without --modulus: the field MPyC uses for SecInt(32), as in the runs
    assert int(default["modulus"]) == run.modulus


# --------------------------------------------------------------------------- disclosure


def test_noise_error_falls_and_attack_success_rises_with_epsilon():
    epsilons = [0.1, 0.3, 1.0, 3.0]
    table = disclosure.tradeoff(epsilons, parties=6, colluders=2)
    errors = table["expected_abs_error"].tolist()
    assert errors == sorted(errors, reverse=True)
    success = table["attacker_success"].tolist()
    assert success == sorted(success) and all(0.5 <= s <= 1 for s in success)
    assert (table["attacker_success"] <= table["dp_bound"] + 1e-12).all()
    assert (table["attacker_success_with_colluders"] >= table["attacker_success"]).all()
    simulated = [abs(disclosure.noisy_sum_samples(e, 6, 20_000, seed=1)).mean() for e in epsilons]
    assert simulated == sorted(simulated, reverse=True)
    for sim, exact in zip(
        simulated, errors, strict=True
    ):  # the MPC's per-party noise adds up to discrete Laplace
        assert sim == pytest.approx(exact, rel=0.1)


def test_approval_rule_in_the_clear(data_dir):
    frames = disclosure.load_frames(data_dir, SCENARIO.org_ids)
    target = disclosure.find_targets(frames)[-1]
    assert (
        disclosure.count_in_clear(frames, target.query_a)["all"]
        - disclosure.count_in_clear(frames, target.query_b)["all"]
        == 1
    )

    def check(q, earlier):
        return disclosure.difference_size_in_clear(frames, q, earlier) >= 10

    rule = disclosure.ApprovalRule(10, check)
    assert rule.submit(target.query_a).approved
    assert not rule.submit(target.query_b).approved
    assert not rule.submit(target.query_a).approved  # the same set again: refused, its answer is known
    other = {"region": "amsterdam" if target.region != "amsterdam" else "rotterdam", "exclude_nationality": None}
    assert rule.submit(other).approved == check(other, target.query_a)


@pytest.mark.mpc
def test_differencing_attack_with_real_mpc(data_dir, tmp_path):
    orgs = THREE
    frames = disclosure.load_frames(data_dir, orgs)
    min_cell = 6
    targets = disclosure.find_targets(frames)
    small = next(tg for tg in targets if 2 <= tg.a < min_cell)
    large = next(tg for tg in reversed(targets) if tg.a >= min_cell)

    played = disclosure.run_playground(
        SCENARIO,
        data_dir,
        small,
        min_cell=min_cell,
        orgs=orgs,
        out_root=tmp_path / "small",
        protections=("threshold",),
    )
    assert not played.outcome("threshold").success  # region too small: the totals are withheld
    assert played.outcome("threshold").a["all"] is None

    played = disclosure.run_playground(
        SCENARIO,
        data_dir,
        large,
        min_cell=min_cell,
        epsilon=0.5,
        orgs=orgs,
        out_root=tmp_path / "large",
    )
    none = played.outcome("none")
    assert none.success and none.a["all"] - none.b["all"] == 1
    assert set(none.revealed_forms) == set(large.record["form"].split(";"))  # the attributes leak too
    assert played.outcome("threshold").success  # honest: large totals are opened, the threshold alone fails
    approval = played.outcome("approval")
    assert not approval.success and approval.b is None  # query B refused
    noisy = played.outcome("noise")  # each run checked: opened = exact + the noise in the transcripts
    assert all(r["match"] for r in noisy.runs) and len(noisy.runs) == 2


@pytest.mark.mpc
def test_load_run_from_folder_and_dict(run):
    again = load_run(run.out_dir)
    assert again.orgs == run.orgs and again.modulus == run.modulus and again.result["revealed"]
    assert load_run(run.result).computation == "crosstab-region-form"
