"""`generate()`: hidden population -> captures and referrals -> per-organisation records + truth.

One seeded numpy Generator is created here and passed down to every step, so the same scenario and
seed always give the same data (byte-identical files, see `write_dataset`).

Everything here works on numpy arrays; pandas is imported only when a caller reads
`SyntheticData.records` or `SyntheticData.population` (the DataFrames are built then, once).
"""

from __future__ import annotations

import numpy as np

from synthetic.capture import draw_captures
from synthetic.config import GeneratorParams, Organisation, check_links
from synthetic.keys import person_keys
from synthetic.population import Population, draw_population
from synthetic.records import OrgRecords, build_records, date_strings
from synthetic.truth import ground_truth

__all__ = ["SyntheticData", "generate"]


class SyntheticData:
    """A generated dataset.

    Attributes:
        records: org id -> that organisation's records as a pandas DataFrame (all columns strings,
            '' = unknown), in scenario order; built on first access.
        population: the hidden truth as a pandas DataFrame, one row per victim, with `person_key` (true
            key, '' if never registered) and `lists` (';'-joined org ids in scenario order, '' if on no
            list); built on first access.
        ground_truth: JSON-serialisable facts (see `synthetic.truth.ground_truth`).
        columns: org id -> that organisation's columns (name -> object array of str), what
            `write_dataset` writes.
    """

    def __init__(self, columns: dict[str, dict[str, np.ndarray]], pop: Population, true_keys: np.ndarray,
                 lists: tuple[np.ndarray, np.ndarray], ground_truth: dict):
        self.columns = columns
        self.ground_truth = ground_truth
        self._pop, self._true_keys, self._lists = pop, true_keys, lists
        self._records = None
        self._population = None

    @property
    def records(self):
        if self._records is None:
            from synthetic.frames import records_frame

            self._records = {org: records_frame(cols) for org, cols in self.columns.items()}
        return self._records

    @property
    def population(self):
        if self._population is None:
            from synthetic.frames import coded_string_column, string_column

            frame = self._pop.frame()
            pattern, patterns = self._lists
            # (an empty population keeps pandas' object columns, as before)
            frame["person_key"] = string_column(self._true_keys) if len(frame) else self._true_keys
            frame["lists"] = coded_string_column(pattern, patterns) if len(frame) else np.empty(0, dtype=object)
            self._population = frame
        return self._population


def _unique_true_keys(pop: Population, registered: np.ndarray, secret: str) -> np.ndarray:
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
        seen: set[str] = set()
        add = seen.add
        dup = np.array([k in seen or add(k) or False for k in keys[idx].tolist()], dtype=bool)
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

    columns = {}
    counts = {}
    corrupted = {}
    for j, org in enumerate(organisations):
        built: OrgRecords = build_records(org, j, org_ids, pop, cap, true_keys, params, rng)
        columns[org.id] = built.columns
        counts[org.id] = len(built)
        corrupted[org.id] = int(built.key_corrupted.sum())

    truth = ground_truth(pop, cap.on, org_ids, counts,
                         corrupted, seed=seed, year=the_year)
    return SyntheticData(columns, pop, true_keys, _list_labels(cap.on, org_ids), truth)
