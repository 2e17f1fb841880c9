"""Calibration check: run the generator for several seeds and average the headline figures.

Used by the tests, by docs/generator.md and by anyone tuning a scenario (the command lives in `sandbox`,
which reads scenario files; `synthetic` imports nothing of it):

    python -m sandbox.generator_calibration nl-baseline
"""

from __future__ import annotations

import numpy as np

from synthetic.config import GeneratorParams, Organisation
from synthetic.generator import generate

__all__ = ["NL_TARGETS", "calibration_summary"]

# Published Dutch figures the nl-baseline scenario must reproduce (docs/generator.md lists the sources).
NL_TARGETS = {
    "registered": (850, 1050),
    "multi_list_share": (0.05, 0.10),
    "records_per_registered": (1.10, 1.20),
    "share": {"police": 0.31, "care_coordination": 0.28, "fairwork": 0.24, "nla": 0.07, "kmar": 0.06},
    "share_tolerance": 0.03,
}


def calibration_summary(organisations: list[Organisation], params: GeneratorParams, *,
                        seeds: range | list[int] = range(10)) -> dict:
    """Means over `seeds` of: registered victims, share on >= 2 lists, records per registered victim,
    each organisation's share of all records, and the registered victims' form/sex/minor/Dutch shares."""
    rows = []
    for seed in seeds:
        truth = generate(organisations, params, seed=seed).ground_truth
        total = truth["records_total"]
        reg = truth["marginals"]["registered"]
        n_reg = max(truth["registered"], 1)
        rows.append({
            "registered": truth["registered"],
            "multi_list_share": truth["multi_list_share"],
            "records_per_registered": truth["records_per_registered"],
            "share": {o: n / total if total else 0.0 for o, n in truth["records_per_org"].items()},
            "registered_shares": {
                **{f"form_{k}": v / n_reg for k, v in reg["primary_form"].items()},
                "female": reg["sex"].get("F", 0) / n_reg,
                "minor_at_exploitation": reg["minor_at_exploitation"].get("1", 0) / n_reg,
                "dutch": reg["nationality_group"].get("dutch", 0) / n_reg,
                "under_23": (reg["age_band"].get("0-17", 0) + reg["age_band"].get("18-22", 0)) / n_reg,
            },
        })

    def mean(get) -> float:
        return float(np.mean([get(r) for r in rows]))

    orgs = [o.id for o in organisations]
    return {
        "seeds": len(rows),
        "registered": mean(lambda r: r["registered"]),
        "multi_list_share": mean(lambda r: r["multi_list_share"]),
        "records_per_registered": mean(lambda r: r["records_per_registered"]),
        "share": {o: mean(lambda r, o=o: r["share"][o]) for o in orgs},
        "registered_shares": {k: mean(lambda r, k=k: r["registered_shares"].get(k, 0.0))
                              for k in rows[0]["registered_shares"]},
    }
