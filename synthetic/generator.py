"""`generate()`: hidden population -> captures and referrals -> per-organisation records + truth.

One seeded numpy Generator is created here and passed down to every step, so the same scenario and
seed always give the same data (byte-identical files, see `write_dataset`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthetic.capture import draw_captures
from synthetic.config import GeneratorParams, Organisation, check_links
from synthetic.keys import person_keys
from synthetic.population import draw_population
from synthetic.records import build_records, coded_string_column, date_strings, string_column
from synthetic.truth import ground_truth

__all__ = ["SyntheticData", "generate"]


@dataclass
class SyntheticData:
    """A generated dataset.

    Attributes:
        records: org id -> that organisation's records (all columns strings, '' = unknown), in
            scenario order.
        population: the hidden truth, one row per victim, with `person_key` (true key, '' if never
            registered) and `lists` (';'-joined org ids in scenario order, '' if on no list).
        ground_truth: JSON-serialisable facts (see `synthetic.truth.ground_truth`).
    """

    records: dict[str, pd.DataFrame]
    population: pd.DataFrame
    ground_truth: dict = field(default_factory=dict)


def _unique_true_keys(pop, registered: np.ndarray, secret: str) -> np.ndarray:
    """True person_key of each registered victim ('' otherwise).

    Two victims with the same name, birth date and nationality would share a key; the generator
    moves the later one's birth date by a day until all keys are distinct (this changes the
    population itself, before any record is written).
    """
    keys = np.full(len(pop), "", dtype=object)
    idx = np.flatnonzero(registered)
    todo = idx
    for _ in range(100):
        keys[todo] = person_keys(pop.given_name[todo], pop.family_name[todo], date_strings(pop.birth_date[todo]),
                                 pop.nationality[todo], secret)
        dup = pd.Series(keys[idx], dtype=object).duplicated().to_numpy()
        if not dup.any():
            return keys
        todo = idx[dup]
        pop.birth_date[todo] -= np.timedelta64(1, "D")
    raise RuntimeError("could not make person keys unique")  # pragma: no cover


def _list_labels(on: np.ndarray, org_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per victim the ';'-joined ids of the lists it is on, in scenario order ('' if none).

    Returned as (codes, table) with table[codes] == the labels; codes are the capture patterns.
    """
    k = len(org_ids)
    pattern = np.zeros(len(on), dtype=np.int64)
    for j in range(k):
        pattern |= on[:, j].astype(np.int64) << j
    present = np.flatnonzero(np.bincount(pattern, minlength=1 << k))
    table = np.empty(1 << k, dtype=object)
    table[present] = [";".join(org_ids[j] for j in range(k) if code >> j & 1) for code in present]
    return pattern, table


def generate(organisations: list[Organisation], params: GeneratorParams, *, seed: int,
             population: int | None = None, year: int | None = None) -> SyntheticData:
    """Generate one synthetic year of victims and every organisation's records.

    Args:
        organisations: the scenario's organisations (their order is the list order everywhere).
        params: the scenario's generator section.
        seed: seed of the numpy Generator; same inputs + seed -> identical output.
        population: override `params.population` (true number of victims).
        year: override `params.year`.

    Raises:
        ValueError: a referral edge names an organisation that is not in `organisations`.
    """
    check_links(organisations, params)
    n = params.population if population is None else int(population)
    if n < 0:
        raise ValueError(f"population must be >= 0, got {n}")
    the_year = params.year if year is None else int(year)
    rng = np.random.default_rng(seed)
    org_ids = [o.id for o in organisations]

    pop = draw_population(params, n=n, year=the_year, rng=rng)
    cap = draw_captures(pop, organisations, rng)
    true_keys = _unique_true_keys(pop, cap.registered, params.linkage_secret)

    records = {}
    corrupted = {}
    for j, org in enumerate(organisations):
        built = build_records(org, j, org_ids, pop, cap, true_keys, params, rng)
        records[org.id] = built.frame
        corrupted[org.id] = int(built.key_corrupted.sum())

    frame = pop.frame()
    pattern, patterns = _list_labels(cap.on, org_ids)
    # (an empty population keeps pandas' object columns, as before)
    frame["person_key"] = string_column(true_keys) if n else true_keys
    frame["lists"] = coded_string_column(pattern, patterns) if n else np.empty(0, dtype=object)
    truth = ground_truth(frame, cap.on, org_ids, {o: len(records[o]) for o in org_ids}, corrupted,
                         seed=seed, year=the_year)
    return SyntheticData(records=records, population=frame, ground_truth=truth)
