"""Exact capture-pattern counts over all organisations' lists, without anyone seeing who is on which.

For every non-empty set P of organisations: how many distinct persons (person_key values) are on
exactly the lists in P. This is the input of Multiple Systems Estimation.

Protocol (the secure join is in `overlap.py`):
1-4. Share the keys, shuffle them together with each record's organisation tag 2^j, open keyed
     pseudonyms, group the shuffled records by pseudonym: one group = one person.
5.   Per group, the sum of its records' secret tags is the bitmask of its capture pattern (keys are
     unique within a list, so the s records of a group of size s come from s different lists).
     The group size s is public, so the bitmask is one of the C(m, s) masks with s bits set. The
     indicator [code == P] is the Lagrange polynomial through those values, so
         count_P = sum over groups of size s of L_P(code) = sum_e a_(P,e) * (sum over groups of code^e).
     The parties compute only the power sums of the codes (C(m, s) - 2 secure multiplications per
     group of size s, built by doubling in about log2 C(m, s) rounds, all size classes together) and a
     public linear combination. Classes with a
     single possible mask (s = m) need none. Singletons need none either: the persons on list j only
     are list j's records minus its records of persons on two or more lists (a linear combination
     with the public list size). No per-group value is ever opened.
6.   Disclosure control in MPC: every count c with 0 < c < min_cell is withheld (`overlap.open_counts`);
     the others are opened.

What everyone learns: the opened counts, which counts were withheld, the list sizes, and the number of
persons on exactly s lists for each s (the group sizes: visible because the pseudonyms are opened).
Without suppression the group sizes follow from the counts. With suppression they do NOT: a size class
(e.g. "on exactly 2 lists") with one withheld count gives that count away by subtraction, and the
"on all m lists" count is always visible. See docs/overlap.md.
Assumptions: semi-honest, honest majority (t < m/2), q-DDHI in Ed25519, keys unique within each list.
"""

from __future__ import annotations

import itertools

import numpy as np

from sandbox.mpc.protocols import overlap
from sandbox.mpc.protocols.overlap import ELL


def masks_with_bits(m: int, s: int) -> list[int]:
    """All bitmasks over m lists with exactly s bits set, ascending."""
    return sorted(sum(1 << j for j in c) for c in itertools.combinations(range(m), s))


def lagrange_basis(values: list[int], target: int, p: int = ELL) -> list[int]:
    """Coefficients a_0..a_d (mod p) of the polynomial that is 1 at `target` and 0 at the other values."""
    coefficients = [1]
    denominator = 1
    for v in values:
        if v == target:
            continue
        # multiply the polynomial by (x - v)
        shifted = [0] + coefficients
        scaled = [(-v) * c for c in coefficients] + [0]
        coefficients = [(a + b) % p for a, b in zip(shifted, scaled, strict=True)]
        denominator = denominator * (target - v) % p
    inverse = pow(denominator, -1, p)
    return [c * inverse % p for c in coefficients]


async def count_patterns(mpc, secfld, sizes: list[int], tags: np.ndarray,
                         groups: dict[int, np.ndarray]) -> dict[int, int]:
    """My shares of the number of persons per capture pattern (bitmask), from shuffled tag shares.

    `sizes` are the (public) list sizes; `groups` the shuffled record indices per group size.
    """
    m = len(sizes)
    counts = {mask: 0 for mask in range(1, 1 << m)}
    # Power sums per size class s = 2..m. Class s has C(m, s) possible codes, so it needs the powers
    # code^1 .. code^(C(m,s)-1). They are built by doubling: round r computes every power e in
    # (2^(r-1), 2^r] as code^(2^(r-1)) * code^(e - 2^(r-1)), all classes and exponents in one batched
    # multiplication -- about log2(C(m,s)) rounds instead of C(m,s) - 2 (6 parties: 5 instead of 18).
    classes = []  # (possible codes, {e: my shares of code^e})
    for s, members in groups.items():
        if s < 2:
            continue  # singletons: by subtraction, below
        codes = tags[members].sum(axis=1) % ELL  # my shares of each group's bitmask (no messages)
        classes.append((masks_with_bits(m, s), {1: codes}))
    top = max((len(c[0]) - 1 for c in classes), default=0)
    half = 1
    while half < top:
        wanted = [(powers, e) for possible, powers in classes
                  for e in range(half + 1, min(2 * half, len(possible) - 1) + 1)]
        left = np.concatenate([powers[half] for powers, _ in wanted])
        right = np.concatenate([powers[e - half] for powers, e in wanted])
        product = await overlap.multiply(mpc, secfld, left, right)
        start = 0
        for powers, e in wanted:
            n = len(powers[1])
            powers[e] = product[start: start + n]
            start += n
        half *= 2
    for possible, powers in classes:
        sums = [len(powers[1])] + [int(powers[e].sum() % ELL) for e in range(1, len(possible))]
        for mask in possible:
            a = lagrange_basis(possible, mask)
            counts[mask] = sum(ae * se for ae, se in zip(a, sums[:len(a)], strict=True)) % ELL
    # Persons on list j only = records of list j minus list j's records of persons on 2+ lists
    # (each such person has exactly one record on list j). Linear: no multiplications, no messages.
    for j in range(m):
        on_j_and_more = sum(counts[mask] for mask in counts if mask >> j & 1 and mask != 1 << j)
        counts[1 << j] = (sizes[j] - on_j_and_more) % ELL
    return counts


async def run(mpc, ctx):
    secfld = mpc.SecFld(ELL)
    ctx.start(ELL)
    keys = np.array(ctx.inputs["keys"], dtype=object).reshape(-1, 1)
    tags, groups, sizes = await overlap.join(mpc, ctx, secfld, keys, columns=[("keys", slice(0, 1))], tag=True)
    m = ctx.m
    with ctx.phase("count"):
        counts = await count_patterns(mpc, secfld, sizes, tags[:, 0] if len(tags) else tags, groups)
    with ctx.phase("output"):
        masks = list(range(1, 1 << m))
        values, flags = await overlap.open_counts(mpc, ctx, secfld, [counts[b] for b in masks],
                                                  bound=len(tags) + 1)
    ctx.record_opened("small_cell_flags", flags, role="leak", cells=ctx.cells)
    shown = [None if f else v for f, v in zip(flags, values, strict=True)]
    ctx.record_opened("capture_pattern_counts", shown, cells=ctx.cells)

    def lists(mask: int) -> list[str]:
        return [org for j, org in enumerate(ctx.orgs) if mask >> j & 1]

    return {
        "revealed": [{"lists": lists(b), "count": v}
                     for b, v, f in zip(masks, values, flags, strict=True) if not f and v > 0],
        "suppressed": [lists(b) for b, f in zip(masks, flags, strict=True) if f],
    }
