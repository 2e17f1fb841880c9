"""Multiple systems estimation (MSE) of a hidden population.

Pure Python (statsmodels, scipy, numpy, pandas); no Streamlit or MPyC here.
See ``docs/mse.md`` for the method and the reproduction of SparseMSE figures.
"""

from . import published
from .analysis import MSEResult, analyse, available_methods, point_estimate, prepare_table
from .bootstrap import BootstrapResult, bca_bootstrap
from .models import (
    ALL_METHODS,
    METHODS,
    ModelFit,
    auto_fit,
    best_subset_fit,
    fit_main_effects,
    fit_model,
    select_model,
    stepwise_fit,
)
from .table import CaptureTable, MSEError, load_counts_csv, suppress_small_cells, table_from_frame

__all__ = [
    "ALL_METHODS",
    "BootstrapResult",
    "CaptureTable",
    "METHODS",
    "MSEError",
    "MSEResult",
    "ModelFit",
    "analyse",
    "auto_fit",
    "available_methods",
    "bca_bootstrap",
    "best_subset_fit",
    "fit_main_effects",
    "fit_model",
    "load_counts_csv",
    "point_estimate",
    "prepare_table",
    "published",
    "select_model",
    "stepwise_fit",
    "suppress_small_cells",
    "table_from_frame",
]
