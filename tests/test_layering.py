"""The one-way data flow of the brief, checked on the source of every module (imports inside functions included):
`synthetic/` imports nothing of `sandbox/`; the MPC engine (`sandbox/mpc/`) imports no view-level module; core
packages never import Streamlit; MPyC is imported only by the party program (and the one-value explainer, which
runs it in a subprocess of its own)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

VIEW_LEVEL = ("sandbox.results", "sandbox.ui", "sandbox.app", "sandbox.app_pages", "sandbox.views", "sandbox.jobs",
              "sandbox.workshop", "streamlit")
STREAMLIT_ALLOWED = {"sandbox/app.py", "sandbox/ui.py"}  # and every page under sandbox/app_pages/
MPYC_ALLOWED = {"sandbox/mpc/party.py", "sandbox/views/mpyc_explainer.py"}


def imported_modules(source: str) -> set[str]:
    """Every module a source file imports, anywhere in it (absolute names; `from . import x` is left out)."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def offenders(folder: str, forbidden: tuple[str, ...], allowed: set[str] = frozenset()) -> dict[str, list[str]]:
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed:
            continue
        bad = sorted(m for m in imported_modules(path.read_text(encoding="utf-8"))
                     if any(m == f or m.startswith(f + ".") for f in forbidden))
        if bad:
            found[rel] = bad
    return found


def test_the_checker_finds_an_import_inside_a_function():
    """The checks below can fail: an import hidden in a function body (as a command-line `main` might have)."""
    source = "import numpy\n\ndef main():\n    from sandbox.scenario import load_scenario\n    return load_scenario\n"
    assert "sandbox.scenario" in imported_modules(source)
    assert "sandbox" not in {m.split(".")[0] for m in imported_modules("import numpy\nfrom . import vocab\n")}


def test_synthetic_stands_alone():
    assert offenders("synthetic", ("sandbox",)) == {}


def test_the_mpc_engine_imports_no_view_level_module():
    assert offenders("sandbox/mpc", VIEW_LEVEL) == {}


def test_core_packages_never_import_streamlit():
    found = offenders("sandbox", ("streamlit",), STREAMLIT_ALLOWED)
    assert {f: m for f, m in found.items() if not f.startswith("sandbox/app_pages/")} == {}
    assert offenders("synthetic", ("streamlit",)) == {}


def test_mpyc_only_in_the_party_program():
    assert offenders("sandbox", ("mpyc",), MPYC_ALLOWED) == {}
    assert offenders("synthetic", ("mpyc",)) == {}
