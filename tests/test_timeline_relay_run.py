"""A real 3-party MPyC run routed through the delaying relays (`run_mpc(..., link=...)`)."""

from __future__ import annotations

import os

import pytest

from sandbox.mpc.forkserver import find_parties
from sandbox.mpc.runner import run_mpc

pytestmark = pytest.mark.mpc

LATENCY_MS = 100.0  # large against scheduling noise on a shared 2-core machine
ORGS = ["police", "kmar", "nla"]


def _protocol_seconds(result) -> float:
    """Wall time of the protocol phases of the slowest party (excludes process start-up noise)."""
    return max(sum(p["wall"] for p in phases.values()) for phases in result.timings.values())


def _party_processes() -> set[int]:
    """This test's party processes (its runs' runner is this process; other test runs on the machine don't count)."""
    return {pid for pid, info in find_parties().items() if info["runner"] == os.getpid()}


def test_counts_by_form_through_relays_matches_oracle_and_is_slower(scenario, small_data, tmp_path):
    before = _party_processes()
    plain = run_mpc(scenario, small_data, "counts-by-form", orgs=ORGS, params={"min_cell": 0}, timeout=60)
    link = {"latency_ms": LATENCY_MS, "bandwidth_mbps": 100, "jitter_ms": 0, "seed": 1}
    relayed = run_mpc(scenario, small_data, "counts-by-form", orgs=ORGS, params={"min_cell": 0},
                      timeout=60, link=link)

    assert plain.match is True and relayed.match is True
    assert relayed.revealed == plain.revealed == relayed.oracle
    assert relayed.bytes_sent.keys() == plain.bytes_sent.keys()

    # MPyC pipelines its messages (about 90 per peer here) into far fewer rounds that wait for the
    # network, so "messages x 2 x latency" is no lower bound. What must hold: the input sharing and
    # the opening of the result (the timed phases; the shutdown barrier is not timed) each wait at
    # least one one-way delay.
    extra = _protocol_seconds(relayed) - _protocol_seconds(plain)
    assert extra >= 1.5 * LATENCY_MS / 1000, f"relayed run only {extra:.3f} s slower in its protocol phases"
    assert relayed.seconds > plain.seconds - 0.5  # total wall: start-up noise on a shared machine

    # the relays are stopped and no party process is left behind
    assert _party_processes() <= before
