"""REQUIRE_NO_SKIPS=1 (set by .ci/run) fails a run with an unexpected skip, and only then.

Each case runs pytest in a subprocess on a tiny made-up test file with `tests/skip_policy.py` as a plugin,
the same hooks `tests/conftest.py` installs for the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.skip_policy import NETNS_SKIP

ROOT = Path(__file__).resolve().parents[1]

PASSING = "def test_ok():\n    assert True\n"
DATA_MISSING = (
    "import pytest\n\n"
    "@pytest.mark.skipif(True, reason='bundled MSE data sets not present')\n"
    "def test_needs_data():\n    pass\n"
)
NETNS = f"import pytest\n\ndef test_hosts():\n    pytest.skip({NETNS_SKIP + ': run as root'!r})\n"
MODULE_SKIP = "import pytest\n\npytest.importorskip('a_module_that_is_not_installed')\n"
XFAIL = "import pytest\n\n@pytest.mark.xfail(reason='known')\ndef test_known():\n    assert False\n"


def run_pytest(tmp_path: Path, source: str, require: str | None, *extra: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_case.py").write_text(PASSING + "\n" + source)
    env = {k: v for k, v in os.environ.items() if k not in ("REQUIRE_NO_SKIPS", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = str(ROOT)
    if require is not None:
        env["REQUIRE_NO_SKIPS"] = require
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.skip_policy", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(tmp_path), "-c", os.devnull, *extra, str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )


def test_a_skip_for_missing_data_fails_the_run(tmp_path):
    out = run_pytest(tmp_path, DATA_MISSING, "1")
    assert out.returncode == pytest.ExitCode.TESTS_FAILED, out.stdout + out.stderr
    assert "UNEXPECTED SKIP test_case.py::test_needs_data: bundled MSE data sets not present" in out.stdout


def test_a_skip_fails_the_run_with_two_workers_too(tmp_path):
    """`make test` runs the suite in two pytest-xdist workers: the skips they report reach the hooks too."""
    (tmp_path / "test_other.py").write_text(MODULE_SKIP + "\n" + PASSING)
    out = run_pytest(tmp_path, DATA_MISSING, "1", "-n", "2", "--dist", "loadgroup")
    assert out.returncode == pytest.ExitCode.TESTS_FAILED, out.stdout + out.stderr
    assert "UNEXPECTED SKIP test_case.py::test_needs_data: bundled MSE data sets not present" in out.stdout
    assert "UNEXPECTED SKIP test_other.py" in out.stdout


def test_a_module_skipped_at_import_fails_the_run(tmp_path):
    (tmp_path / "test_other.py").write_text(PASSING)
    out = run_pytest(tmp_path, MODULE_SKIP, "1")
    assert out.returncode == pytest.ExitCode.TESTS_FAILED, out.stdout + out.stderr
    assert "UNEXPECTED SKIP test_case.py" in out.stdout
    assert "a_module_that_is_not_installed" in out.stdout


def test_the_network_namespace_skip_is_allowed(tmp_path):
    out = run_pytest(tmp_path, NETNS, "1")
    assert out.returncode == pytest.ExitCode.OK, out.stdout + out.stderr
    assert "1 skipped" in out.stdout
    assert "no unexpected skips (1 allowed)" in out.stdout


def test_an_xfail_is_not_a_skip(tmp_path):
    out = run_pytest(tmp_path, XFAIL, "1")
    assert out.returncode == pytest.ExitCode.OK, out.stdout + out.stderr
    assert "no unexpected skips (0 allowed)" in out.stdout


@pytest.mark.parametrize("require", [None, "0"])
def test_without_the_variable_a_skip_does_not_fail(tmp_path, require):
    out = run_pytest(tmp_path, DATA_MISSING, require)
    assert out.returncode == pytest.ExitCode.OK, out.stdout + out.stderr
    assert "1 skipped" in out.stdout and "UNEXPECTED" not in out.stdout


def test_a_failing_test_still_fails_with_the_variable(tmp_path):
    out = run_pytest(tmp_path, "def test_bad():\n    assert 1 == 2\n", "1")
    assert out.returncode == pytest.ExitCode.TESTS_FAILED, out.stdout + out.stderr
    assert "1 failed" in out.stdout
