"""The fuzz benchmark counts the examples hypothesis ran, from hypothesis' own statistics."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_fuzz  # noqa: E402

# as printed by hypothesis 6.170 with --hypothesis-show-statistics (shortened)
STATISTICS = """\
============================ Hypothesis Statistics =============================
tests/test_fuzz.py::test_garbage_scenario_bytes_give_scenario_error:

  - during reuse phase (0.00 seconds):
    - Typical runtimes: ~ 1ms, of which < 1ms in data generation
    - 2 passing, 0 failing, and 0 invalid test cases

  - during generate phase (0.01 seconds):
    - Typical runtimes: ~ 0-1 ms, of which < 1ms in data generation
    - 998 passing, 0 failing, and 13 invalid test cases

  - Stopped because settings.max_examples=1000


tests/test_fuzz.py::test_run_page_with_a_broken_data_folder_shows_a_clear_error[garbage]:

  - during generate phase (0.02 seconds):
    - 5 passing examples, 1 failing examples, 0 invalid examples

2 passed, 23 deselected in 0.73s
"""


def test_examples_are_summed_over_phases_per_test():
    per_test = bench_fuzz.parse_statistics(STATISTICS)
    assert per_test == {
        "test_garbage_scenario_bytes_give_scenario_error": {"passing": 1000, "failing": 0, "invalid": 13},
        "test_run_page_with_a_broken_data_folder_shows_a_clear_error[garbage]":
            {"passing": 5, "failing": 1, "invalid": 0},
    }


def test_the_pytest_summary_line_is_found():
    assert [ln for ln in STATISTICS.splitlines() if bench_fuzz.SUMMARY.search(ln)] == \
        ["2 passed, 23 deselected in 0.73s"]
