"""Where generated SYNTHETIC datasets live on disk, so that party processes can read them.

Generation is deterministic (scenario + seed + population), so one folder per combination is shared
by every session of the app. Override the location with MPC_SANDBOX_DATA.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from sandbox.scenario import Scenario

__all__ = ["data_root", "ensure_dataset"]

_lock = threading.Lock()


def data_root() -> Path:
    env = os.environ.get("MPC_SANDBOX_DATA")
    return Path(env) if env else Path(tempfile.gettempdir()) / "mpc-sandbox-data"


def ensure_dataset(scenario: Scenario, *, seed: int, population: int | None = None) -> Path:
    """Generate the scenario's records once (atomically) and return the folder holding them."""
    import synthetic

    pop = population or scenario.generator.population
    folder = data_root() / f"{scenario.name}-seed{seed}-pop{pop}"
    if (folder / "ground_truth.json").is_file():
        return folder
    with _lock:
        if (folder / "ground_truth.json").is_file():
            return folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
        data = synthetic.generate(scenario.organisations, scenario.generator, seed=seed, population=pop)
        synthetic.write_dataset(data, tmp)
        try:
            tmp.rename(folder)
        except OSError:  # another process won the race: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
    return folder
