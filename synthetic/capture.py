"""Which organisations register which victims: a first contact, then referral edges.

Step 1 – first contact: each victim comes to notice through at most ONE organisation on its own.
Organisation j would register victim i with probability
    p_ij = base_j × form_j(forms_i) × minor_j^[minor_i] × group_j(nationality group_i)
and the first contact is drawn from these (scaled down if they add up to more than 1), so a victim is
registered somewhere with probability sum_j p_ij. Without referrals the lists would never overlap.
Step 2 – referrals: a victim newly registered by organisation a is also registered by b with the
edge's probability times its form and minor factors (police -> care coordination, FairWork -> labour
inspectorate, ...). Referrals are followed in rounds, so chains (police -> care coordination ->
shelter) happen; every victim-edge pair is tried at most once. Overlaps between lists therefore come
from referrals only, which makes the lists positively dependent – and leaves pairs without an edge
(almost) empty, as in the real Dutch six-list table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic import vocab
from synthetic.config import Organisation
from synthetic.population import Population

__all__ = ["Captures", "draw_captures"]


@dataclass
class Captures:
    """Registrations, victims × organisations (columns in scenario order)."""

    on: np.ndarray  # bool (n, k): victim registered by organisation
    referred_by: np.ndarray  # int8 (n, k): index of the referring organisation, -1 = own capture / none
    registration_date: np.ndarray  # datetime64[D] (n, k), NaT where not registered

    @property
    def registered(self) -> np.ndarray:
        """Victims on at least one list."""
        return self.on.any(axis=1)


def _form_factor(factors: dict[str, float], pop: Population) -> np.ndarray:
    """Per victim the largest factor over its forms (missing forms count 1).

    One lookup per victim in a table over all (primary, second) form pairs (`Population.form_codes`).
    """
    table = np.array([factors.get(f, 1.0) for f in vocab.FORMS])
    pairs = np.empty((len(vocab.FORMS), len(vocab.FORMS) + 1))
    pairs[:, 0] = table
    pairs[:, 1:] = np.maximum(table[:, None], table[None, :])
    return pairs.ravel()[pop.form_codes[0]]


def capture_probabilities(pop: Population, organisations: list[Organisation]) -> np.ndarray:
    """The (n, k) matrix of own-capture probabilities (column-major: each column is contiguous)."""
    groups = vocab.NATIONALITY_GROUPS
    if "nationality" in pop.label_codes:
        nat_codes, nat_labels = pop.label_codes["nationality"]
    else:
        nat_labels, nat_codes = np.unique(pop.nationality.astype(str), return_inverse=True)
    group_of_victim = np.array([groups.index(vocab.nationality_group(str(c))) for c in nat_labels],
                               dtype=np.int64)[nat_codes] if len(pop) else np.zeros(0, dtype=np.int64)
    probs = np.empty((len(pop), len(organisations)), order="F")
    for j, org in enumerate(organisations):
        cap = org.capture
        group_factor = np.array([cap.by_nationality_group.get(g, 1.0) for g in groups])[group_of_victim]
        probs[:, j] = (cap.base * _form_factor(cap.by_form, pop) * np.where(pop.minor, cap.minor, 1.0)
                       * group_factor)
    return np.minimum(probs, 1.0, out=probs)


def _first_contact(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform per victim picks the first-contact organisation (or none) from the (n, k) probs.

    Works column by column (sequential sums, as numpy does for k < 8) on contiguous columns.
    """
    n, k = probs.shape
    u = rng.random(n)
    on = np.zeros((n, k), dtype=bool)
    if k == 0:
        return on
    total = probs[:, 0].copy()
    for j in range(1, k):
        total += probs[:, j]
    over = np.flatnonzero(total > 1.0)  # scaled down so the chances add up to 1
    cum = np.zeros(n)
    entry = np.zeros(n, dtype=np.int64)
    for j in range(k):
        col = probs[:, j]
        if len(over):
            col = col.copy()
            col[over] /= np.maximum(total[over], 1e-12)
        cum += col
        entry += u >= cum
    hit = np.flatnonzero(entry < k)  # k = no contact
    on[hit, entry[hit]] = True
    return on


def draw_captures(pop: Population, organisations: list[Organisation], rng: np.random.Generator) -> Captures:
    """Own captures, then referral rounds; registration dates follow the same path."""
    n, k = len(pop), len(organisations)
    on = _first_contact(capture_probabilities(pop, organisations), rng)
    referred_by = np.full((n, k), -1, dtype=np.int8)
    year_end = np.datetime64(f"{pop.year}-12-31")
    jitter = rng.integers(0, 21, (n, k)).astype("timedelta64[D]")
    reg = np.full((n, k), np.datetime64("NaT"), dtype="datetime64[D]")
    reg[on] = np.minimum(np.broadcast_to(pop.reference_date[:, None], (n, k))[on] + jitter[on], year_end)

    index = {o.id: j for j, o in enumerate(organisations)}
    edges = [
        (a, index[e.to], np.minimum(e.probability * _form_factor(e.by_form, pop)
                                    * np.where(pop.minor, e.minor, 1.0), 1.0), e.delay_days)
        for a, org in enumerate(organisations) for e in org.referrals
    ]
    new = on.copy()
    for _ in range(k):  # a referral chain can visit each organisation at most once
        if not edges or not new.any():
            break
        added = np.zeros_like(on)
        for a, b, prob, delay in edges:
            take = new[:, a] & ~on[:, b] & (rng.random(n) < prob)
            idx = np.flatnonzero(take)
            days = (1 + rng.exponential(delay, n)[idx].astype(np.int64) if delay
                    else np.ones(len(idx), dtype=np.int64))
            on[idx, b] = True
            added[idx, b] = True
            referred_by[idx, b] = a
            reg[idx, b] = np.minimum(reg[idx, a] + days.astype("timedelta64[D]"), year_end)
        new = added
    return Captures(on=on, referred_by=referred_by, registration_date=reg)
