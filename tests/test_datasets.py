"""The app's datasets: generated once per (scenario, seed, population), in the web server or in a process of its own."""

from __future__ import annotations

import filecmp

import pytest

from sandbox.datasets import ensure_dataset


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_separate_process_writes_the_same_records(scenario, tmp_path, monkeypatch):
    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path / "here"))
    here = ensure_dataset(scenario, seed=7, population=400)
    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path / "apart"))
    apart = ensure_dataset(scenario, seed=7, population=400, isolate=True)
    assert here != apart and _files(here) == _files(apart) and "ground_truth.json" in _files(apart)
    match, mismatch, errors = filecmp.cmpfiles(here, apart, _files(here), shallow=False)
    assert not mismatch and not errors, (mismatch, errors)
    assert ensure_dataset(scenario, seed=7, population=400, isolate=True) == apart  # made once, then reused


def test_a_failing_generator_process_gives_a_clear_error_and_leaves_nothing(scenario, tmp_path, monkeypatch):
    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path))
    monkeypatch.setattr("sandbox.datasets.sys.executable", "/bin/false")
    with pytest.raises(RuntimeError, match="generating the synthetic records failed"):
        ensure_dataset(scenario, seed=3, population=300, isolate=True)
    assert list(tmp_path.iterdir()) == []
