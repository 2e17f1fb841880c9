"""Calibrated multi-organisation synthetic data about (presumed) victims of human trafficking.

Everything here is SYNTHETIC. The public API:

    data = generate(scenario.organisations, scenario.generator, seed=1)
    write_dataset(data, "out/")           # out/<org>.csv + out/ground_truth.json
    df = read_records("out/police.csv")   # validated against synthetic.schema

See docs/generator.md for the model and its calibration.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# The public names are loaded on first use, so that `from synthetic import vocab` (what an MPC party
# needs) does not import the generator, Faker and pydantic: about 0.25 s less start-up per party.
_HOME = {
    "GeneratorParams": "config", "Organisation": "config", "check_links": "config",
    "SyntheticData": "generator", "generate": "generator",
    "read_records": "io", "write_dataset": "io",
    "RecordError": "schema", "validate_records": "schema",
}

if TYPE_CHECKING:  # pragma: no cover
    from synthetic.config import GeneratorParams, Organisation, check_links
    from synthetic.generator import SyntheticData, generate
    from synthetic.io import read_records, write_dataset
    from synthetic.schema import RecordError, validate_records


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"synthetic.{_HOME[name]}"), name)
    raise AttributeError(f"module 'synthetic' has no attribute {name!r}")


__all__ = [
    "GeneratorParams",
    "Organisation",
    "RecordError",
    "SyntheticData",
    "check_links",
    "generate",
    "read_records",
    "validate_records",
    "write_dataset",
]
