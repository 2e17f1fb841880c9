"""Generate → real MPC capture patterns → MSE, through the command line."""

from __future__ import annotations

import csv
import itertools
import json

import pytest

from tests.test_cli import cli

pytestmark = pytest.mark.mpc


def test_generate_mpc_capture_patterns_then_mse(tmp_path):
    data = tmp_path / "data"
    assert cli("generate", "--scenario", "nl-baseline", "--seed", "2", "--out", str(data)).returncode == 0
    truth = json.loads((data / "ground_truth.json").read_text())
    run = cli("run", "--data", str(data), "--computation", "capture-patterns", "--min-cell", "0", "--json",
              timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["match"] is True
    # The securely computed patterns are exactly the generator's ground truth (same linkage keys).
    as_dict = lambda ps: {tuple(p["lists"]): p["count"] for p in ps}  # noqa: E731
    assert as_dict(result["revealed"]) == as_dict(truth["capture_patterns"])

    lists = result["parties"]
    counts = {tuple(sorted(p["lists"])): p["count"] for p in result["revealed"]}
    path = tmp_path / "patterns.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*lists, "count"])
        for r in range(1, len(lists) + 1):
            for combo in itertools.combinations(lists, r):
                n = counts.get(tuple(sorted(combo)), 0)
                if n:
                    w.writerow([int(o in combo) for o in lists] + [n])
    mse = cli("mse", "--counts", str(path), "--method", "main", "--json")
    assert mse.returncode == 0, mse.stderr
    est = json.loads(mse.stdout)
    assert est["observed"] == truth["registered"]
    assert est["estimate"] > est["observed"]
    assert {"observed", "estimate", "ci95", "terms", "method"} <= est.keys()
