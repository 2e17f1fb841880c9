"""Cost profiles of the workshop computations, kept as data in ``calibration.json``.

A cost profile says, for records per organisation ``N`` and parties ``m``, how many bytes each
party sends, how many communication rounds the run takes, how much local compute each party does
and how long start-up takes. Each quantity is a linear model over named terms::

    "bytes_sent": {"terms": {"1": 2000, "N*m*peers": 330}}   ->   2000 + 330 * N * m * (m - 1)

The term vocabulary is `TERMS`. Because the models are linear in their coefficients,
`fit_profile` can refit them by non-negative least squares from measured runs
(``benchmarks/bench_timeline.py``, part of ``make bench``).

Units: ``compute_seconds`` and ``startup_seconds`` are per party *with a core of its own*; when all
parties share one machine the forecast stretches them (see `NetworkProfile.host_cores`), counting
``host_extra_load``: the cores that other processes on the calibration host took while parties ran.
``rounds`` are the latency-bound rounds, measured by running the parties through delaying relays.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import nnls

from sandbox.i18n import N_
from sandbox.mpc.subsets import shuffle_subsets, shuffles_per_party

__all__ = [
    "CALIBRATION_PATH",
    "QUANTITIES",
    "TERMS",
    "CostProfile",
    "computation_names",
    "fit_profile",
    "load_calibration",
    "profile",
    "save_calibration",
    "validate_calibration",
]

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")

#: Per-computation quantities that are modelled (and refitted).
QUANTITIES = ("bytes_sent", "rounds", "compute_seconds")


#: Up to this many parties the cost terms count the covering family the protocol runs. Finding it takes time
#: that grows steeply with m (about a second at 13 parties, far more beyond), so for larger forecasts the
#: terms count every (t+1)-subset: an upper bound, since the family is never larger.
FAMILY_MAX_PARTIES = 12


def _subsets(m: int) -> float:
    """Number of shuffling subsets of the secure join, t = (m-1)//2: the covering family of (t+1)-subsets
    that the protocol runs (`sandbox.mpc.subsets.shuffle_subsets`; 6 parties: 7, not C(6, 3) = 20)."""
    t = (m - 1) // 2
    if m > FAMILY_MAX_PARTIES:
        return float(math.comb(m, t + 1))
    return float(len(shuffle_subsets(m, t))) if m >= 1 else 0.0


def _party_subsets(m: int) -> float:
    """How many of those subsets the busiest party belongs to: the shuffles it re-shares all records in
    (`shuffles_per_party`; 6 parties: 4, not C(5, 2) = 10)."""
    t = (m - 1) // 2
    if m > FAMILY_MAX_PARTIES:
        return float(math.comb(m - 1, t))
    return float(shuffles_per_party(m, t)) if m >= 1 else 0.0


#: Named regressors of the cost models, as functions of (N records per organisation, m parties).
TERMS: dict[str, Callable[[float, int], float]] = {
    "1": lambda n, m: 1.0,
    "N": lambda n, m: float(n),
    "log2N": lambda n, m: math.log2(max(n, 1)),
    "m": lambda n, m: float(m),
    "1/m": lambda n, m: 1.0 / m if m else 0.0,
    "peers": lambda n, m: float(m - 1),
    "t": lambda n, m: float((m - 1) // 2),
    "subsets": lambda n, m: _subsets(m),
    "N*m": lambda n, m: float(n) * m,
    "N*peers": lambda n, m: float(n) * (m - 1),
    "N*m*peers": lambda n, m: float(n) * m * (m - 1),
    "N*m*subsets": lambda n, m: float(n) * m * _subsets(m),
    "N*m*party_subsets": lambda n, m: float(n) * m * _party_subsets(m),
    "N*m*peers*party_subsets": lambda n, m: float(n) * m * (m - 1) * _party_subsets(m),
    "log2N*peers": lambda n, m: math.log2(max(n, 1)) * (m - 1),
}

#: Terms used by `fit_profile` when a computation has no model yet.
DEFAULT_FIT_TERMS = {
    "bytes_sent": ["1", "peers", "N*m*peers"],
    "rounds": ["1", "log2N"],
    "compute_seconds": ["1", "N", "N*m"],
}
STARTUP_FIT_TERMS = ["1", "m"]
#: Start-up terms of a computation measured on its own (`startup_per_computation`): forked parties share
#: much of their start-up (the fork server imports once for all of them), so per party it falls as the
#: parties grow: work `a` of each party's own plus shared work `b` spread over the m parties, a + b/m.
OWN_STARTUP_FIT_TERMS = ["1", "m", "1/m"]


def _evaluate(model: dict[str, Any], records: float, parties: int) -> float:
    return float(sum(coef * TERMS[name](records, parties) for name, coef in model["terms"].items()))


@dataclass(frozen=True)
class CostProfile:
    """The evaluated cost of one computation for one (records, parties) pair (all values >= 0)."""

    computation: str
    records: int
    parties: int
    bytes_sent: float
    rounds: int
    compute_seconds: float
    startup_seconds: float


def validate_calibration(calibration: dict[str, Any]) -> dict[str, Any]:
    """Check the structure of a calibration dict; raise ValueError naming the bad entry."""
    if not isinstance(calibration, dict):
        raise ValueError("calibration must be a mapping")
    comps = calibration.get("computations")
    if not isinstance(comps, dict) or not comps:
        raise ValueError("calibration needs a non-empty 'computations' mapping")

    def check_model(where: str, model: Any) -> None:
        if not isinstance(model, dict) or not isinstance(model.get("terms"), dict) or not model["terms"]:
            raise ValueError(f"calibration {where}: expected {{'terms': {{term: coefficient}}}}")
        for term, coef in model["terms"].items():
            if term not in TERMS:
                raise ValueError(f"calibration {where}: unknown term {term!r}; known: {', '.join(TERMS)}")
            if not isinstance(coef, int | float) or not math.isfinite(coef):
                raise ValueError(f"calibration {where}.{term}: coefficient must be a finite number")

    check_model("startup_seconds", calibration.get("startup_seconds"))
    extra = calibration.get("host_extra_load", 0.0)
    if not isinstance(extra, int | float) or not math.isfinite(extra) or extra < 0:
        raise ValueError(f"calibration host_extra_load must be a finite number of cores >= 0, not {extra!r}")
    for name, comp in comps.items():
        for q in QUANTITIES:
            check_model(f"{name}.{q}", comp.get(q) if isinstance(comp, dict) else None)
        if isinstance(comp, dict) and "startup_seconds" in comp:
            check_model(f"{name}.startup_seconds", comp["startup_seconds"])
    return calibration


def load_calibration(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate a calibration file (default: the packaged ``calibration.json``)."""
    p = Path(path) if path else CALIBRATION_PATH
    return validate_calibration(json.loads(p.read_text(encoding="utf-8")))


def save_calibration(calibration: dict[str, Any], path: str | Path | None = None) -> Path:
    """Validate and write a calibration dict as JSON (default: the packaged ``calibration.json``)."""
    validate_calibration(calibration)
    p = Path(path) if path else CALIBRATION_PATH
    p.write_text(json.dumps(calibration, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return p


def computation_names(calibration: dict[str, Any] | None = None) -> list[str]:
    cal = calibration if calibration is not None else load_calibration()
    return list(cal["computations"])


def profile(
    computation: str, records: int, parties: int, calibration: dict[str, Any] | None = None
) -> CostProfile:
    """Evaluate the cost models of `computation`; ValueError listing known computations if unknown."""
    cal = calibration if calibration is not None else load_calibration()
    comps = cal["computations"]
    if computation not in comps:
        from sandbox.mpc import computations as catalogue

        if computation in catalogue.names():  # a computation the sandbox runs, but not timed for the forecast
            raise ValueError(N_(
                "{name} has no timeline calibration yet (its cost depends on its parameters: covariates, a "
                "designed query); calibrated: {known}. Time one run of it with `mpc-sandbox run` instead"
            ).format(name=computation, known=", ".join(comps)))
        raise ValueError(N_("unknown computation {name!r}; known: {known}").format(
            name=computation, known=", ".join(comps)))
    if records < 0:
        raise ValueError(N_("records must be >= 0, got {value}").format(value=records))
    if parties < 1:
        raise ValueError(N_("parties must be >= 1, got {value}").format(value=parties))
    comp = comps[computation]
    startup_model = comp.get("startup_seconds", cal["startup_seconds"])
    return CostProfile(
        computation=computation,
        records=int(records),
        parties=int(parties),
        bytes_sent=max(0.0, _evaluate(comp["bytes_sent"], records, parties)) if parties > 1 else 0.0,
        rounds=max(1, math.ceil(_evaluate(comp["rounds"], records, parties) - 1e-9)),
        compute_seconds=max(0.0, _evaluate(comp["compute_seconds"], records, parties)),
        startup_seconds=max(0.0, _evaluate(startup_model, records, parties)),
    )


def _lstsq(rows: list[tuple[float, int, float]], terms: list[str], what: str) -> dict[str, float]:
    if len(rows) < len(terms):
        raise ValueError(f"{what}: {len(rows)} measurement(s) cannot determine {len(terms)} terms {terms}")
    x = np.array([[TERMS[t](n, m) for t in terms] for n, m, _ in rows])
    y = np.array([v for _, _, v in rows])
    if np.linalg.matrix_rank(x) < len(terms):
        raise ValueError(f"{what}: measurements do not vary enough in records/parties to fit terms {terms}")
    # Non-negative least squares: every term is a cost that grows with size, so a negative coefficient
    # (which noisy timings on a shared machine produce with plain least squares) would make the
    # forecast shrink as the data grow.
    coef, _residual = nnls(x, y)
    return {t: float(c) for t, c in zip(terms, coef, strict=True)}


def fit_profile(
    measurements: Iterable[dict[str, Any]],
    *,
    base: dict[str, Any] | None = None,
    terms: dict[str, dict[str, list[str]]] | None = None,
    measured_on: str | None = None,
    startup_per_computation: bool = False,
) -> dict[str, Any]:
    """Refit the cost models by least squares from measured runs; return a new calibration dict.

    Args:
        measurements: records ``{computation, records, parties, bytes_sent, rounds,
            compute_seconds, wall_seconds}`` (records per organisation; bytes and compute per
            party; rounds = messages per peer). Runs should be on loopback, so that
            ``wall_seconds - compute_seconds`` is start-up (or give ``startup_seconds`` directly).
        base: calibration to start from (default: the packaged one). Computations without
            measurements keep their old models; the term lists of the base are reused.
        terms: optional override ``{computation: {quantity: [term, ...]}}``.
        measured_on: note stored in the result (default: "fitted <date> from N measurements").

    Start-up is fitted once across all computations on the terms ``1`` and ``m``; with
    ``startup_per_computation`` (a refit of some computations only, measured on another day than the rest)
    each measured computation gets its own start-up model, on ``1``, ``m`` and ``1/m``
    (`OWN_STARTUP_FIT_TERMS`), and the shared one is left as it was.
    """
    rows = list(measurements)
    if not rows:
        raise ValueError("fit_profile needs at least one measurement")
    cal = json.loads(json.dumps(base if base is not None else load_calibration()))  # deep copy
    by_comp: dict[str, list[dict[str, Any]]] = {}
    for i, r in enumerate(rows):
        missing = [k for k in ("computation", "records", "parties", *QUANTITIES) if k not in r]
        if missing:
            raise ValueError(f"measurement {i} lacks {', '.join(missing)}")
        by_comp.setdefault(r["computation"], []).append(r)

    for name, runs in by_comp.items():
        comp = cal["computations"].setdefault(name, {})
        for q in QUANTITIES:
            chosen = (terms or {}).get(name, {}).get(q)
            if chosen is None:
                chosen = list(comp[q]["terms"]) if q in comp else DEFAULT_FIT_TERMS[q]
            data = [(float(r["records"]), int(r["parties"]), float(r[q])) for r in runs]
            comp[q] = {"terms": _lstsq(data, list(chosen), f"{name}.{q}")}
        comp["fitted_from"] = len(runs)

    def startup_rows(runs: list[dict[str, Any]]) -> list[tuple[float, int, float]]:
        out = []
        for r in runs:
            if "startup_seconds" in r:
                out.append((0.0, int(r["parties"]), float(r["startup_seconds"])))
            elif "wall_seconds" in r:
                out.append((0.0, int(r["parties"]), max(0.0, float(r["wall_seconds"]) - float(r["compute_seconds"]))))
        return out

    groups = by_comp.items() if startup_per_computation else [(None, rows)]
    for name, runs in groups:
        startup = startup_rows(runs)
        terms_ = STARTUP_FIT_TERMS if name is None else OWN_STARTUP_FIT_TERMS
        if len({m for _, m, _ in startup}) >= len(terms_):
            model = {"terms": _lstsq(startup, terms_, f"{name or 'all'} startup_seconds")}
            if name is None:
                cal["startup_seconds"] = model
            else:
                cal["computations"][name]["startup_seconds"] = model

    cal["status"] = "fitted"
    cal["measured_on"] = measured_on or f"fitted {date.today().isoformat()} from {len(rows)} measurements"
    return validate_calibration(cal)
