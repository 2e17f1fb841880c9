"""Load, CI-sized: 3 browser users start MPC runs at once (the full run: benchmarks/bench_load.py, 20 users).

All three results match the plaintext check, at most 2 jobs run at a time, and another user's clicks are
still answered while the jobs run (latency is reported, not asserted tightly: the CI machine is shared).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.conftest import _need_chromium

pytestmark = [pytest.mark.e2e, pytest.mark.mpc]

_spec = importlib.util.spec_from_file_location(
    "bench_load", Path(__file__).resolve().parents[1] / "benchmarks" / "bench_load.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_three_users_run_at_once_all_match_and_jobs_queue_under_the_cap():
    _need_chromium()
    res = bench.run(3)
    print({k: v for k, v in res.items() if k not in ("per_user",)})
    assert not res["errors"], res["errors"]
    assert res["all_match"], res["per_user"]
    assert 1 <= res["max_running_jobs"] <= bench.JOB_CAP, res["max_running_jobs"]
    busy = res["busy_click_ms"]
    # Reported, not asserted tightly (shared CI machine); one click in a few is not observed within 30 s by
    # the harness (see docs/reliability.md), so only require that clicks are answered at all.
    assert busy["n"] >= 1 and busy["median"] < 30_000, f"no click was answered while jobs ran: {busy}"
