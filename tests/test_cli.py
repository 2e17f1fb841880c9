"""The `mpc-sandbox` command line: generate → run → JSON contract, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.mark.mpc
@pytest.mark.parametrize("seed", [1, 4])  # benchmarks/bench_oracle.py sweeps seeds 1-10 for every computation
def test_generate_then_run_matches(tmp_path, seed):
    out = tmp_path / "data"
    gen = cli("generate", "--scenario", "nl-baseline", "--seed", str(seed), "--out", str(out))
    assert gen.returncode == 0, gen.stderr
    truth = json.loads((out / "ground_truth.json").read_text())
    assert {"population", "registered", "records_per_org", "capture_patterns"} <= truth.keys()
    assert sorted(p.name for p in out.glob("*.csv")) == sorted(f"{o}.csv" for o in truth["records_per_org"])

    run = cli("run", "--scenario", "nl-baseline", "--data", str(out), "--computation", "counts-by-form",
              "--out", str(tmp_path / "run"), "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    for key in ("computation", "revealed", "suppressed", "oracle", "match", "seconds", "bytes_sent", "messages",
                "rounds", "transcripts"):
        assert key in result, key
    assert result["match"] is True
    assert result["revealed"] == result["oracle"]
    assert set(result["bytes_sent"]) == set(truth["records_per_org"])
    assert all(Path(p).is_file() for p in result["transcripts"].values())


def test_computations_lists_the_catalogue():
    out = cli("computations", "--json")
    assert out.returncode == 0
    names = {c["name"] for c in json.loads(out.stdout)}
    assert {"counts-by-form", "crosstab-form-sector", "crosstab-region-form", "crosstab-nationality-form",
            "age-statistics"} <= names


def test_clear_errors_without_traceback(tmp_path):
    cases = [
        (("run", "--data", str(tmp_path), "--computation", "nope"), "unknown computation 'nope'"),
        (("run", "--data", str(tmp_path / "missing"), "--computation", "counts-by-form"), "not a folder"),
        (("run", "--data", str(tmp_path), "--computation", "counts-by-form"), "no data file for organisation"),
        (("generate", "--scenario", "no-such-scenario", "--out", str(tmp_path / "x")), "scenario not found"),
        (("generate", "--population", "0", "--out", str(tmp_path / "x")), "--population must be at least 1"),
    ]
    for args, message in cases:
        out = cli(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert message in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr


@pytest.mark.parametrize("value", ["-1", "-100"])
def test_run_refuses_a_negative_min_cell(small_data, value):
    out = cli("run", "--data", str(small_data), "--computation", "counts-by-form", "--orgs", "police,kmar,nla",
              "--min-cell", value, timeout=60)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stderr == f"error: min_cell must be a whole number of 0 or more, not {value}\n"
    assert out.stdout == ""


@pytest.mark.parametrize(("flags", "message"), [
    (["--network", "mars"], "unknown network profile 'mars'"),
    (["--network", "lan", "--latency-ms", "5"], "either --network or --latency-ms"),
    (["--latency-ms", "-3"], "--latency-ms must be a number of 0 or more"),
    (["--latency-ms", "nan"], "--latency-ms must be a number of 0 or more"),
    (["--latency-ms", "5", "--bandwidth-mbps", "0"], "--bandwidth-mbps must be more than 0"),
])
def test_run_refuses_a_bad_network(small_data, flags, message):
    out = cli("run", "--data", str(small_data), "--computation", "counts-by-form", *flags)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


@pytest.mark.mpc
def test_run_through_the_relay_reports_the_check(small_data):
    """`run --latency-ms`: the same opened numbers through the delaying relay, the check named in the JSON."""
    args = ["run", "--data", str(small_data), "--computation", "counts-by-form", "--orgs", "police,kmar,nla",
            "--min-cell", "0", "--json"]
    direct = json.loads(cli(*args).stdout)
    relayed = json.loads(cli(*args, "--latency-ms", "15", "--bandwidth-mbps", "100").stdout)
    assert direct["check"] == relayed["check"] == "match"
    assert direct["revealed"] == relayed["revealed"] == direct["oracle"]
