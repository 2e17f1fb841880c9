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
import pandas as pd

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
    """The records of one organisation plus what the generator knows about them."""

    frame: pd.DataFrame  # all columns strings, '' = unknown
    victim_index: np.ndarray  # row -> victim (0-based index into the population)
    key_corrupted: np.ndarray  # bool per row: person_key does not match the true key


def date_strings(dates: np.ndarray) -> np.ndarray:
    """datetime64[D] -> 'YYYY-MM-DD' (object array), '' for NaT."""
    text = np.datetime_as_string(dates, unit="D").astype(object)
    text[np.isnat(dates)] = ""
    return text


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
    values: dict[str, np.ndarray] = {
        "record_id": np.array([f"{org.id}-{year}-{i:06d}" for i in range(1, m + 1)], dtype=object),
        "person_key": keys,
        "org": np.full(m, org.id, dtype=object),
        "registration_date": date_strings(reg),
        "form": pop.forms[idx],
        "given_name": given,
        "family_name": family,
        "birth_date": birth,
        "sex": np.where(pop.female[idx], "F", "M").astype(object),
        "age": age_on(pop.birth_date[idx], reg).astype(str).astype(object),
        "minor_at_exploitation": np.where(pop.minor[idx], "1", "0").astype(object),
        "nationality": pop.nationality[idx],
        "residence_status": np.array(vocab.RESIDENCE_STATUSES, dtype=object)[pop.residence[idx]],
        "sector": np.array(vocab.SECTORS, dtype=object)[pop.sector[idx]],
        "recruitment": np.array(vocab.RECRUITMENT_METHODS, dtype=object)[pop.recruitment[idx]],
        "means_of_control": pop.means_of_control[idx],
        "ilo_indicators": pop.ilo_indicators[idx],
        "region": np.array(vocab.REGIONS, dtype=object)[pop.region[idx]],
        "municipality": pop.municipality[idx],
        "exploitation_start": date_strings(pop.exploitation_start[idx]),
        "exploitation_end": date_strings(pop.exploitation_end[idx]),
        "trafficker_count": pop.trafficker_count[idx].astype(str).astype(object),
        "trafficker_nationality": pop.trafficker_nationality[idx],
        "trafficker_relation": np.array(vocab.TRAFFICKER_RELATIONS, dtype=object)[pop.trafficker_relation[idx]],
        "referral_from": referrer_ids[referrer + 1],
        "synthetic": np.full(m, SYNTHETIC_MARK, dtype=object),
    }
    held = set(org.fields)
    columns = [c for c in COLUMN_ORDER if c in held or c in REQUIRED_COLUMNS]
    for name in columns:  # blank the unknown values, field by field in column order
        rate = org.missing.get(name, 0.0)
        if rate > 0:
            col = values[name].copy()
            col[rng.random(m) < rate] = ""
            values[name] = col
    frame = pd.DataFrame({c: values[c] for c in columns})
    return OrgRecords(frame=frame, victim_index=idx, key_corrupted=corrupted)

