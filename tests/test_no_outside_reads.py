"""Nothing that used to read the published tables from a folder beside the repository opens a path
outside the repository any more.

A Python audit hook (`sys.addaudithook`) records every file and folder a fresh interpreter opens or lists
while it runs those parts: the MSE loader on every shipped table, the Size estimate page through AppTest
(published example and an uploaded CSV) and `mpc-sandbox mse` on a shipped table. Audit hooks cannot be
removed, so each check runs in a subprocess. The control cases run the same audit on snippets that open a
file and list the folder beside the repository, and must be reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HOOK = """
import json, os, sys

ROOT, OUT = sys.argv[1], sys.argv[2]
SEEN = []


def _audit(event, args):
    if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes, os.PathLike)):
        SEEN.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)
"""
DONE = """
with open(OUT, "w") as out:
    json.dump(SEEN, out)
"""

PRODUCT = """
from sandbox.mse import published

for name in published.names():
    published.load(name)
    published.load_table(name)

from streamlit.testing.v1 import AppTest

at = AppTest.from_file(os.path.join(ROOT, "sandbox", "app_pages", "size_estimate.py"), default_timeout=120).run()
assert not at.exception and at.selectbox(key="mse_dataset").value == "UKdat", at.exception
assert any(m.label.startswith("Stepwise") for m in at.metric)
at.radio(key="mse_source").set_value("Upload a CSV").run()
at.file_uploader(key="mse_upload").upload("up.csv", b"A,B,count\\n1,0,50\\n0,1,40\\n1,1,10\\n", "text/csv")
at.run()
assert not at.exception and not at.error, (at.exception, at.error)
assert any(m.label.startswith("Main effects") for m in at.metric)

from sandbox.cli import main

assert main(["mse", "--counts", os.path.join(ROOT, "sandbox", "mse", "data", "UKdat.csv"), "--json"]) == 0
assert main(["mse", "--published", "Western", "--json"]) == 0
"""

# What the old code did: read the tables from the folder beside the repository.
OUTSIDE = """
try:
    open(os.path.join(ROOT, "..", "shared", "data", "mse", "UKdat.csv")).close()
except OSError:
    pass  # the audit event comes before the file is looked up
import glob
glob.glob(os.path.join(os.path.dirname(ROOT), "*.csv"))
"""


def _allowed(test_tmp: Path) -> list[str]:
    """The repository, the interpreter and system folders, this test's temp folder, the home caches."""
    home = Path.home()
    places = [ROOT, sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr", "/bin", "/lib", "/lib64", "/etc",
              "/proc", "/sys", "/dev", test_tmp, home / ".cache", home / ".streamlit", home / ".config"]
    return sorted({os.path.realpath(p) for p in places})


def outside_paths(body: str, tmp_path: Path) -> tuple[list[str], str]:
    """Run `body` under the audit hook; return the paths it opened or listed outside the allowed places."""
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    script, seen_file = tmp_path / "audited.py", tmp_path / "seen.json"
    script.write_text(HOOK + textwrap.dedent(body) + DONE)
    env = {**os.environ, "TMPDIR": str(private_tmp), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script), str(ROOT), str(seen_file)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    allowed = _allowed(tmp_path)  # the audited script, its output and its TMPDIR
    outside = []
    for path in json.loads(seen_file.read_text()):
        real = os.path.realpath(os.path.join(ROOT, path))
        if not any(real == a or real.startswith(a.rstrip("/") + "/") for a in allowed):
            outside.append(real)
    return sorted(set(outside)), done.stdout


def test_loader_page_and_cli_read_nothing_outside_the_repository(tmp_path):
    outside, stdout = outside_paths(PRODUCT, tmp_path)
    assert outside == []
    assert stdout.count('"observed": 2744') == 1 and stdout.count('"observed": 345') == 1  # both CLI runs


def test_the_audit_reports_a_read_beside_the_repository(tmp_path):
    outside, _ = outside_paths(OUTSIDE, tmp_path)
    parent = os.path.realpath(ROOT.parent)
    assert outside == sorted([parent, os.path.join(parent, "shared", "data", "mse", "UKdat.csv")])
