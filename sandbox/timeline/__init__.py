"""Timeline estimation: how long one MPC run takes, and how long the whole project takes.

* `forecast` / `scaling`: a SimPy model of one MPC run over a network (`NETWORKS`), driven by cost
  profiles kept as data in ``calibration.json`` (refit with `fit_profile` / `save_calibration`).
* `simulate_project`: a SimPy Monte Carlo of the governance phases of the project
  (`GovernancePlan`, from a scenario's ``governance:`` block or `default_plan`).
* ``relay.start_relays``: a delaying TCP relay on loopback to check the forecast with real parties.

Pure: no Streamlit and no MPyC imports in this package.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Loaded on first use: loading a scenario needs only `governance` (pydantic), not SciPy and pandas, which
# `calibration` and `project` import (about a second of every command's start-up).
_HOME = {
    "computation_names": "calibration", "fit_profile": "calibration", "load_calibration": "calibration",
    "save_calibration": "calibration", "GovernancePlan": "governance", "default_plan": "governance",
    "NETWORKS": "network", "NetworkProfile": "network", "get_network": "network",
    "ProjectResult": "project", "naive_plan": "project", "simulate_project": "project",
    "Forecast": "protocol", "forecast": "protocol", "scaling": "protocol",
}

if TYPE_CHECKING:  # pragma: no cover
    from .calibration import computation_names, fit_profile, load_calibration, save_calibration
    from .governance import GovernancePlan, default_plan
    from .network import NETWORKS, NetworkProfile, get_network
    from .project import ProjectResult, naive_plan, simulate_project
    from .protocol import Forecast, forecast, scaling


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"sandbox.timeline.{_HOME[name]}"), name)
    raise AttributeError(f"module 'sandbox.timeline' has no attribute {name!r}")


__all__ = [
    "NETWORKS",
    "Forecast",
    "GovernancePlan",
    "NetworkProfile",
    "ProjectResult",
    "computation_names",
    "default_plan",
    "fit_profile",
    "forecast",
    "get_network",
    "load_calibration",
    "naive_plan",
    "save_calibration",
    "scaling",
    "simulate_project",
]
