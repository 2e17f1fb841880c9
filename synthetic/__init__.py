"""Calibrated multi-organisation synthetic data about (presumed) victims of human trafficking.

Everything here is SYNTHETIC. The public API:

    data = generate(scenario.organisations, scenario.generator, seed=1)
    write_dataset(data, "out/")           # out/<org>.csv + out/ground_truth.json
    df = read_records("out/police.csv")   # validated against synthetic.schema

See docs/generator.md for the model and its calibration.
"""

from synthetic.config import GeneratorParams, Organisation, check_links
from synthetic.generator import SyntheticData, generate
from synthetic.io import read_records, write_dataset
from synthetic.schema import RecordError, validate_records

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
