"""Shared fixtures: small hand-made record files, generated datasets, a Streamlit server for browser tests."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tests.skip_policy import (  # noqa: F401  (hooks: REQUIRE_NO_SKIPS=1 fails a run with an unexpected skip)
    pytest_collectreport,
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

# The app's default language is Dutch; the existing tests read the English texts, so they run in English unless a
# test asks for Dutch (?lang=nl, st.session_state["lang"], or MPC_SANDBOX_LANG itself: tests/test_i18n.py).
os.environ.setdefault("MPC_SANDBOX_LANG", "en")

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "sandbox" / "app.py"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ORGS6 = ["police", "kmar", "nla", "care_coordination", "shelters", "fairwork"]
FORMS = ["sexual", "labour", "criminal", "other"]


def write_small_dataset(folder: Path, *, seed: int, orgs=ORGS6, low=5, high=60) -> Path:
    """Hand-made minimal record files (required columns only) with known content."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for org in orgs:
        n = rng.randint(low, high)
        rows = [{"record_id": f"{org}-{i}", "person_key": f"{rng.getrandbits(64):016x}", "org": org,
                 "registration_date": "2024-03-01",
                 "form": ";".join(sorted(set(rng.choices(FORMS, k=rng.choice([1, 1, 2]))))),
                 "synthetic": "SYNTHETIC"} for i in range(n)]
        pd.DataFrame(rows).to_csv(folder / f"{org}.csv", index=False)
    return folder


@pytest.fixture
def small_data(tmp_path: Path) -> Path:
    return write_small_dataset(tmp_path / "data", seed=7)


@pytest.fixture(scope="session")
def scenario():
    from sandbox.scenario import load_scenario

    return load_scenario("nl-baseline")


@pytest.fixture(scope="session")
def generated(tmp_path_factory, scenario) -> Path:
    """The nl-baseline scenario generated with seed 1 (shared by the session's tests)."""
    import synthetic

    out = tmp_path_factory.mktemp("generated")
    data = synthetic.generate(scenario.organisations, scenario.generator, seed=1)
    synthetic.write_dataset(data, out)
    return out


# ----------------------------------------------------------------------------- browser tests

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _need_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_E2E") == "1":
            pytest.fail(f"{CHROMIUM} is missing but REQUIRE_E2E=1 (install Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-liberation libatomic1)")


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory):
    port = _free_port()
    data_root = tmp_path_factory.mktemp("app-data")
    log_path = tmp_path_factory.mktemp("logs") / "streamlit.log"
    env = {**os.environ, "MPC_SANDBOX_DATA": str(data_root),
           "MPC_SANDBOX_ROOMS": str(tmp_path_factory.mktemp("rooms") / "rooms.sqlite")}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited early:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("streamlit did not become healthy within 60 s")
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    _need_chromium()
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1500}}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def copy_screenshot(src: Path, name: str) -> None:
    """Keep README screenshots current: docs/img/<name>."""
    dest = ROOT / "docs" / "img"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest / name)


def plotly_array(value) -> list:
    """Plotly 7 stores numeric arrays as {'dtype', 'bdata'} (base64); return a plain list either way."""
    if isinstance(value, dict) and "bdata" in value:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


# ----------------------------------------------------------------------------- two workers (`make test`)

def pytest_collection_modifyitems(config, items):
    """`make test` runs the suite in two pytest-xdist workers with `--dist loadgroup`: each test module stays on
    one worker (its module-scoped fixtures are made once), and every real-browser test is in one group, so two
    browsers with their Streamlit servers never compete for this machine's two cores."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        browser = item.get_closest_marker("e2e") is not None or "page" in getattr(item, "fixturenames", ())
        item.add_marker(pytest.mark.xdist_group("browser" if browser else item.module.__name__))
