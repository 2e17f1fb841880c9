"""Timeline estimation: how long one MPC run takes, and how long the whole project takes.

* `forecast` / `scaling`: a SimPy model of one MPC run over a network (`NETWORKS`), driven by cost
  profiles kept as data in ``calibration.json`` (refit with `fit_profile` / `save_calibration`).
* `simulate_project`: a SimPy Monte Carlo of the governance phases of the project
  (`GovernancePlan`, from a scenario's ``governance:`` block or `default_plan`).
* ``relay.start_relays``: a delaying TCP relay on loopback to check the forecast with real parties.

Pure: no Streamlit and no MPyC imports in this package.
"""

from .calibration import computation_names, fit_profile, load_calibration, save_calibration
from .governance import GovernancePlan, default_plan
from .network import NETWORKS, NetworkProfile, get_network
from .project import ProjectResult, naive_plan, simulate_project
from .protocol import Forecast, forecast, scaling

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
