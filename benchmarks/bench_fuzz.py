"""Fuzzing at benchmark size: every hypothesis test in tests/test_fuzz.py with 1,000 examples (CI runs fewer).

    python benchmarks/bench_fuzz.py [--quick] [--examples N]

Runs `pytest tests/test_fuzz.py` with FUZZ_EXAMPLES=N (default 1000, --quick 100) and hypothesis statistics,
counts the examples each test ran, and writes benchmarks/results/fuzz.json. Exit code 1 when any test fails:
a failing example is a bug to fix (hypothesis prints the reproduction blob).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "results" / "fuzz.json"

# hypothesis' statistics: a test's name line, then per phase "- N passing, M failing, and K invalid test cases"
# (older versions: "- N passing examples, M failing examples, K invalid examples")
TEST_LINE = re.compile(r"^tests/test_fuzz\.py::(\S+):\s*$")
COUNTS = re.compile(r"- (\d+) passing(?: examples?)?, (\d+) failing(?: examples?)?, (?:and )?(\d+) invalid")
SUMMARY = re.compile(r"\d+ (?:passed|failed|errors?)\b.* in [0-9.]+s")


def parse_statistics(text: str) -> dict[str, dict[str, int]]:
    """Examples per test (summed over hypothesis' phases) from `--hypothesis-show-statistics` output."""
    per_test: dict[str, dict[str, int]] = {}
    current = None
    for line in text.splitlines():
        if m := TEST_LINE.match(line.strip()):
            current = m.group(1)
            per_test[current] = {"passing": 0, "failing": 0, "invalid": 0}
        elif current and (m := COUNTS.search(line)):
            for key, value in zip(("passing", "failing", "invalid"), m.groups(), strict=True):
                per_test[current][key] += int(value)
    return per_test


def run(examples: int) -> dict:
    env = {**os.environ, "FUZZ_EXAMPLES": str(examples)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/test_fuzz.py", "-q", "-p", "no:cacheprovider",
                           "--hypothesis-show-statistics", "--timeout", "3600"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    per_test = parse_statistics(proc.stdout)
    summary = next((ln for ln in reversed(proc.stdout.splitlines()) if SUMMARY.search(ln)), "")
    return {
        "examples_per_test": examples, "seconds": round(seconds, 1), "pytest_exit_code": proc.returncode,
        "summary": summary.strip("= "), "tests": per_test,
        "passing_examples": sum(t["passing"] for t in per_test.values()),
        "failing_examples": sum(t["failing"] for t in per_test.values()),
        "output_tail": proc.stdout[-3000:] if proc.returncode else "",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 examples per test instead of 1000")
    ap.add_argument("--examples", type=int, default=None, help="examples per hypothesis test")
    a = ap.parse_args()
    n = a.examples or (100 if a.quick else 1000)
    if n < 1:
        ap.error("--examples must be at least 1")
    res = run(n)
    res.update(measured=time.strftime("%Y-%m-%d %H:%M"), machine="2 cores, shared with other work (noisy)")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(res, indent=2))
    print("\n| fuzz test | passing examples | failing | invalid (filtered out) |")
    print("|---|---|---|---|")
    for name, t in res["tests"].items():
        print(f"| {name} | {t['passing']} | {t['failing']} | {t['invalid']} |")
    print(f"\n{res['passing_examples']} passing examples in {res['seconds']} s; pytest: {res['summary']}")
    if res["pytest_exit_code"]:
        print(res["output_tail"], file=sys.stderr)
    return 1 if res["pytest_exit_code"] else 0


if __name__ == "__main__":
    sys.exit(main())
