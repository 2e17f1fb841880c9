"""Pytest hooks: with REQUIRE_NO_SKIPS=1, a skipped test fails the session unless its reason is allowed.

`tests/conftest.py` imports the hooks (so they run for the suite); `tests/test_skip_policy.py` loads this
module as a plugin (`-p tests.skip_policy`) into a pytest run of small made-up test files to show that it
can fail. The only allowed skips are the multi-host tests that need root for network namespaces: they skip
with a reason that starts with NETNS_SKIP.
"""

from __future__ import annotations

import os

import pytest

NETNS_SKIP = "needs root for network namespaces"
ALLOWED_SKIP_PREFIXES = (NETNS_SKIP,)
ENV = "REQUIRE_NO_SKIPS"

_skipped: list[tuple[str, str]] = []  # (test id, reason) of every skip in this session
_unexpected: list[tuple[str, str]] = []


def _reason(report) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


def _record(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):  # an xfail is reported as skipped too
        _skipped.append((report.nodeid, _reason(report)))


def pytest_runtest_logreport(report) -> None:
    _record(report)


def pytest_collectreport(report) -> None:  # a whole module skipped at import (pytest.importorskip, ...)
    _record(report)


def unexpected(skipped: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The skips whose reason does not start with an allowed prefix."""
    return [(node, reason) for node, reason in skipped if not reason.startswith(ALLOWED_SKIP_PREFIXES)]


def pytest_sessionfinish(session, exitstatus) -> None:
    if os.environ.get(ENV) != "1":
        return
    _unexpected[:] = unexpected(_skipped)
    if _unexpected and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if os.environ.get(ENV) != "1":
        return
    allowed = len(_skipped) - len(_unexpected)
    if _unexpected:
        terminalreporter.section(f"{ENV}=1: {len(_unexpected)} unexpected skip(s) fail this run", sep="!", red=True)
        for node, reason in _unexpected:
            terminalreporter.line(f"UNEXPECTED SKIP {node}: {reason}", red=True)
        terminalreporter.line(f"(allowed: reasons starting with {' / '.join(ALLOWED_SKIP_PREFIXES)!r})")
    else:
        terminalreporter.line(f"{ENV}=1: no unexpected skips ({allowed} allowed)")
