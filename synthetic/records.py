"""One organisation's records: its own columns, its own missingness and realistic identity noise.

Each registered victim gives exactly one record per organisation. The record shows the fields the
organisation holds (`Organisation.fields`), blanks a share of them (`Organisation.missing`), and writes
names and birth dates the way a busy caseworker does: now and then a spelling variant or a birth date
with day and month swapped. The `person_key` is computed from the TRUE identity, so this noise does not
break linkage – unless the scenario's `key_noise` corrupts the key as well.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic import vocab
from synthetic.capture import Captures
from synthetic.config import GeneratorParams, Organisation
from synthetic.keys import person_keys
from synthetic.names import corrupt_name, spelling_variant, swap_day_month
from synthetic.population import Population, age_on
from synthetic.schema import COLUMN_ORDER, REQUIRED_COLUMNS, SYNTHETIC_MARK

__all__ = ["OrgRecords", "build_records", "date_strings"]


@dataclass
class OrgRecords:
    """The records of one organisation plus what the generator knows about them.

    `columns` holds the file's columns in order, each an object array of Python str ('' = unknown);
    `synthetic.frames.records_frame` turns them into a pandas DataFrame, `synthetic.io` writes them.
    """

    columns: dict[str, np.ndarray]
    victim_index: np.ndarray  # row -> victim (0-based index into the population)
    key_corrupted: np.ndarray  # bool per row: person_key does not match the true key

    def __len__(self) -> int:
        return len(self.victim_index)


def date_strings(dates: np.ndarray) -> np.ndarray:
    """datetime64[D] -> 'YYYY-MM-DD' (object array), '' for NaT."""
    codes, table = _date_codes(dates)
    return table[codes]


def _date_codes(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, table) with table[codes] == date_strings(dates).

    Dates of one run span a few decades at most, so each distinct day is formatted once (a table over
    the range of days, cached) and looked up; very wide ranges fall back to formatting every element.
    """
    dates = np.asarray(dates, dtype="datetime64[D]")
    nat = np.isnat(dates)
    days = dates.view(np.int64)
    valid = days[~nat]
    if len(valid) == 0:
        return np.zeros(len(dates), dtype=np.int64), np.array([""], dtype=object)
    lo, hi = int(valid.min()), int(valid.max())
    if hi - lo > max(4 * len(dates), 40_000):
        text = np.datetime_as_string(dates, unit="D").astype(object)
        text[nat] = ""
        return np.arange(len(dates)), text
    return np.where(nat, hi - lo + 1, days - lo), _day_table(lo, hi)


_DAYS: list = [0, np.empty(0, dtype=object)]  # cache: first day (int) and 'YYYY-MM-DD' of each day after it


def _day_table(lo: int, hi: int) -> np.ndarray:
    """'YYYY-MM-DD' for the days lo..hi (days since 1970), followed by '' (for NaT); cached per process."""
    first, text = _DAYS
    if not (first <= lo and hi < first + len(text)):
        if len(text):
            lo_all, hi_all = min(lo, first), max(hi, first + len(text) - 1)
        else:
            lo_all, hi_all = lo, hi
        text = np.datetime_as_string(np.arange(lo_all, hi_all + 1).astype("datetime64[D]"), unit="D").astype(object)
        _DAYS[:] = [lo_all, text]
        first = lo_all
    table = np.empty(hi - lo + 2, dtype=object)
    table[:-1] = text[lo - first:hi - first + 1]
    table[-1] = ""
    return table


def _record_ids(prefix: str, m: int) -> np.ndarray:
    """prefix + 1-based row number with at least six digits ('police-2024-000001')."""
    out = np.empty(m, dtype=object)
    out[:] = [f"{prefix}{i:06d}" for i in range(1, m + 1)]
    return out


def _number_strings(values: np.ndarray):
    """Non-negative small ints -> (codes, decimal strings) for a lookup; other ints -> object array."""
    values = np.asarray(values, dtype=np.int64)
    if len(values) == 0:
        return np.empty(0, dtype=object)
    lo, hi = int(values.min()), int(values.max())
    if lo < 0 or hi > 100_000:
        return values.astype(str).astype(object)
    return values, np.array([str(i) for i in range(hi + 1)], dtype=object)


def _names_with_noise(given: np.ndarray, family: np.ndarray, rate: float, rng: np.random.Generator):
    """Copy the names; a share `rate` of records gets a spelling variant in one of the two names."""
    given, family = given.copy(), family.copy()
    u = rng.random((3, len(given)))
    for i in np.flatnonzero(u[0] < rate):
        if u[1, i] < 0.5:
            given[i] = spelling_variant(given[i], u[2, i])
        else:
            family[i] = spelling_variant(family[i], u[2, i])
    return given, family


def _birth_with_noise(birth: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """A share `rate` of records has day and month swapped (only possible when the day is 1-12)."""
    out = birth.copy()
    swap = rng.random(len(birth)) < rate
    for i in np.flatnonzero(swap):
        day, month = out[i][8:10], out[i][5:7]
        if day <= "12" and day != month:
            out[i] = swap_day_month(out[i])
    return out


def _corrupt_keys(keys: np.ndarray, given: np.ndarray, family: np.ndarray, birth: np.ndarray,
                  nationality: np.ndarray, rate: float, secret: str, rng: np.random.Generator):
    """Replace a share `rate` of keys by the key of a slightly wrong identity (a transposed letter)."""
    corrupt = rng.random(len(keys)) < rate
    idx = np.flatnonzero(corrupt)
    if len(idx) == 0:
        return keys, corrupt
    u = rng.random(len(idx))
    wrong_family = np.array([corrupt_name(family[i], u[n]) for n, i in enumerate(idx)], dtype=object)
    new = person_keys(given[idx], wrong_family, birth[idx], nationality[idx], secret)
    keys = keys.copy()
    keys[idx] = new
    taken = set(keys[~corrupt])
    for n, i in enumerate(idx):  # a clash with another victim's key is astronomically rare; keep keys unique
        salt = 0
        while keys[i] in taken:
            salt += 1
            keys[i] = person_keys(given[i:i + 1], wrong_family[n:n + 1] + str(salt), birth[i:i + 1],
                                  nationality[i:i + 1], secret)[0]
        taken.add(keys[i])
    return keys, corrupt


def build_records(org: Organisation, j: int, org_ids: list[str], pop: Population, cap: Captures,
                  true_keys: np.ndarray, params: GeneratorParams, rng: np.random.Generator) -> OrgRecords:
    """The records of organisation `org` (column j of the captures), sorted by registration date.

    Args:
        org_ids: ids of all organisations in scenario order (to name the referrer).
        true_keys: person_key of every victim ('' for unregistered ones).
    """
    idx = np.flatnonzero(cap.on[:, j])
    reg = cap.registration_date[idx, j]
    order = np.lexsort((rng.random(len(idx)), reg))
    idx, reg = idx[order], reg[order]
    m = len(idx)
    year = pop.year

    birth_true = date_strings(pop.birth_date[idx])
    given, family = _names_with_noise(pop.given_name[idx], pop.family_name[idx],
                                      params.identity_noise.spelling_variant, rng)
    birth = _birth_with_noise(birth_true, params.identity_noise.swap_day_month, rng)
    keys, corrupted = _corrupt_keys(true_keys[idx], pop.given_name[idx], pop.family_name[idx], birth_true,
                                    pop.nationality[idx], params.key_noise, params.linkage_secret, rng)

    referrer = cap.referred_by[idx, j]
    referrer_ids = np.array([""] + list(org_ids), dtype=object)

    def labels(table, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return codes, np.asarray(table, dtype=object)

    def known(name: str, values: np.ndarray):
        """Codes and labels of a population column if the population has them, else the values."""
        if name in pop.label_codes:
            codes, table = pop.label_codes[name]
            return codes[idx], table
        return values[idx]

    def flag(values: np.ndarray, no: str, yes: str):
        return values[idx].astype(np.int64), np.array([no, yes], dtype=object)

    def constant(text: str):
        return np.zeros(m, dtype=np.int64), np.array([text], dtype=object)

    # Only the columns this organisation writes are computed (each on demand). A column is either an
    # object array of str or (codes, labels); the latter becomes a string column by one pyarrow take.
    makers = {
        "record_id": lambda: _record_ids(f"{org.id}-{year}-", m),
        "person_key": lambda: keys,
        "org": lambda: constant(org.id),
        "registration_date": lambda: _date_codes(reg),
        "form": lambda: labels(pop.form_codes[1], pop.form_codes[0][idx]),
        "given_name": lambda: given,
        "family_name": lambda: family,
        "birth_date": lambda: birth,
        "sex": lambda: flag(pop.female, "M", "F"),
        "age": lambda: _number_strings(age_on(pop.birth_date[idx], reg)),
        "minor_at_exploitation": lambda: flag(pop.minor, "0", "1"),
        "nationality": lambda: known("nationality", pop.nationality),
        "residence_status": lambda: labels(vocab.RESIDENCE_STATUSES, pop.residence[idx]),
        "sector": lambda: labels(vocab.SECTORS, pop.sector[idx]),
        "recruitment": lambda: labels(vocab.RECRUITMENT_METHODS, pop.recruitment[idx]),
        "means_of_control": lambda: known("means_of_control", pop.means_of_control),
        "ilo_indicators": lambda: known("ilo_indicators", pop.ilo_indicators),
        "region": lambda: labels(vocab.REGIONS, pop.region[idx]),
        "municipality": lambda: known("municipality", pop.municipality),
        "exploitation_start": lambda: _date_codes(pop.exploitation_start[idx]),
        "exploitation_end": lambda: _date_codes(pop.exploitation_end[idx]),
        "trafficker_count": lambda: _number_strings(pop.trafficker_count[idx]),
        "trafficker_nationality": lambda: known("trafficker_nationality", pop.trafficker_nationality),
        "trafficker_relation": lambda: labels(vocab.TRAFFICKER_RELATIONS, pop.trafficker_relation[idx]),
        "referral_from": lambda: labels(referrer_ids, referrer.astype(np.int64) + 1),
        "synthetic": lambda: constant(SYNTHETIC_MARK),
    }
    held = set(org.fields)
    columns = [c for c in COLUMN_ORDER if c in held or c in REQUIRED_COLUMNS]
    out = {}
    for name in columns:  # blank the unknown values, field by field in column order
        col = makers[name]()
        if isinstance(col, tuple):  # (codes, labels): one lookup
            codes, table = col
            col = np.asarray(table, dtype=object)[codes]
        elif not (isinstance(col, np.ndarray) and col.dtype == object):
            col = np.asarray(col, dtype=object)
        rate = org.missing.get(name, 0.0)
        if rate > 0:
            col = col.copy()
            col[rng.random(m) < rate] = ""
        out[name] = col
    return OrgRecords(columns=out, victim_index=idx, key_corrupted=corrupted)
