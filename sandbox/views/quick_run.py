"""A small run for pages that have none yet: SYNTHETIC data, counts-by-form, real MPyC parties.

Used by the pages' "run it here" button and by the tests. It prefers the project's generator
(`synthetic.generate`) and falls back to the small stand-in in `demo_data` while that is unfinished.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sandbox.views.demo_data import make_dataset

__all__ = ["make_small_dataset", "quick_demo_run"]


def make_small_dataset(scenario: Any, out_dir: str | Path, *, seed: int = 1) -> Path:
    """SYNTHETIC records for every organisation of the scenario, written to out_dir."""
    out = Path(out_dir)
    try:
        import synthetic

        data = synthetic.generate(scenario.organisations, scenario.generator, seed=seed, population=400)
        synthetic.write_dataset(data, out)
        if all((out / f"{org}.csv").is_file() for org in scenario.org_ids):
            return out
    except Exception:  # the generator is missing or unfinished: use the stand-in
        pass
    return make_dataset(out, scenario.org_ids, seed=seed)


def quick_demo_run(
    scenario: Any, *, seed: int = 1, computation: str = "counts-by-form", root: str | Path | None = None
) -> tuple[Any, Path]:
    """Make a small dataset and run `computation` on it; returns (RunResult, data folder)."""
    from sandbox.mpc.runner import run_mpc

    base = Path(root) if root else Path(tempfile.mkdtemp(prefix="mpc-sandbox-views-"))
    data_dir = make_small_dataset(scenario, base / "data", seed=seed)
    result = run_mpc(scenario, data_dir, computation, out_dir=base / "run")
    return result, data_dir
