"""Capture-pattern counts per covariate level, without anyone seeing who is on which list or any record's level.

For every non-empty set P of organisations and every combination of levels (one per covariate, e.g.
sex=F, minor=adult): how many distinct persons are on exactly the lists in P and have those levels. A
person's level of a covariate is the one recorded by the FIRST organisation, in the run's order, whose
record of that person has a value; 'missing' when none has. That choice is made inside MPC.

Protocol (the secure join is in `overlap.py`):
0.   Each organisation announces which covariate columns its file has (schema, not data); a covariate no
     file has stops the run before anything is secret-shared.
1-4. Each organisation secret-shares, per record, its linkage key and one 0/1 one-hot row per covariate
     over the covariate's known levels (all zero when the record has no value). Each record also gets
     the organisation indicator e (m columns; e_j = 1 for organisation j's records) -- public before the
     shuffle, secret after it. The rows are shuffled together, pseudonyms opened, records grouped: one
     group is one person; a group of size s is a person on s lists (keys are unique within a list).
5.   Per person on one list (s = 1) the chosen levels are its record's own one-hot rows, 'missing' is
     1 - (sum of the row), and its capture pattern is e. Nothing to multiply.
     Per person on s >= 2 lists:
     a. S[j, l] = sum over its records of e_r[j] * v_r[l]: organisation j's one-hot levels for this
        person (0 if j has no record of it): one batched multiplication.
     b. H[j] = sum_l S[j, l] per covariate: "organisation j recorded a level". The prefix products
        P_0 = 1, P_j = P_(j-1) * (1 - H[j-1]) say "no earlier organisation recorded one" (m - 1 rounds,
        every person and covariate in one vector); P_m is the 'missing' indicator.
     c. chosen[l] = sum_j P_j * S[j, l]: one batched multiplication.
     d. The pattern indicator [pattern = Q] for each Q with s members is the product of the bits
        E_j = sum_r e_r[j] over j in Q (exactly s bits are set): built subset by subset, s - 1 rounds.
6.   The table per size class is (pattern (x) levels of some covariates)^T x (levels of the other
     covariates): outer products by secure multiplication, then one secure matrix product (one degree
     reduction for the whole class); the split is chosen to need the fewest multiplications.
7.   Disclosure control in MPC: with min_cell > 1 every count c < min_cell is withheld, EMPTY CELLS
     INCLUDED (`overlap.open_counts(hide_empty=True)`), and the others are opened. Unlike
     capture-patterns, an empty cell is not shown as 0: the table is sparse, and naming the non-empty
     small cells would single out a lone person's levels (a pattern with one person has exactly one
     non-empty cell; tests/test_attacks.py shows that attack). No per-record and no per-person value
     is ever opened.

What everyone learns: the opened counts, which counts were withheld, the list sizes, the number of
persons on exactly s lists for each s (group sizes: the pseudonyms are opened), and which covariate
columns each organisation's file has. Summing a pattern's cells over the levels gives the capture-pattern
count, so this reveals at least what `capture_patterns` reveals (see docs/overlap.md).
Assumptions: semi-honest, honest majority (t < m/2), q-DDHI in Ed25519, keys unique within each list.
"""

from __future__ import annotations

import numpy as np

from sandbox.mpc.overlap_catalogue import COVARIATES, covariate_levels, covariates_of
from sandbox.mpc.protocols import overlap
from sandbox.mpc.protocols.capture_patterns import masks_with_bits
from sandbox.mpc.protocols.overlap import ELL


async def multiply_all(mpc, secfld, pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """Element-wise products of several pairs of equal-shaped share arrays, in ONE batched multiplication."""
    if not pairs:
        return []
    flat_a = [np.asarray(a, dtype=object).reshape(-1) for a, _ in pairs]
    flat_b = [np.asarray(b, dtype=object).reshape(-1) for _, b in pairs]
    total = sum(len(a) for a in flat_a)
    if total == 0:
        return [np.zeros(np.shape(a), dtype=object) for a, _ in pairs]
    product = await overlap.multiply(mpc, secfld, np.concatenate(flat_a), np.concatenate(flat_b))
    out, start = [], 0
    for (a, _), fa in zip(pairs, flat_a, strict=True):
        out.append(product[start: start + len(fa)].reshape(np.shape(a)))
        start += len(fa)
    return out


def _outer_pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Operands whose element-wise product is the per-row outer product x (x) y (row-major, x outer)."""
    return np.repeat(x, y.shape[1], axis=1), np.tile(y, (1, x.shape[1]))


async def outer_chains(mpc, secfld, chains: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Per chain of (G x w_i) factors, the per-row outer product of all of them; all chains in step."""
    acc = [chain[0] for chain in chains]
    step = 1
    while any(len(chain) > step for chain in chains):
        live = [i for i, chain in enumerate(chains) if len(chain) > step]
        products = await multiply_all(mpc, secfld, [_outer_pair(acc[i], chains[i][step]) for i in live])
        for i, p in zip(live, products, strict=True):
            acc[i] = p
        step += 1
    return acc


def _split(pattern_width: int, widths: list[int]) -> int:
    """How many covariates go with the pattern on the left of the matrix product (fewest multiplications)."""
    def cost(a: int) -> int:
        left, total = pattern_width, 0
        for w in widths[:a]:
            left *= w
            total += left
        right = widths[a]
        for w in widths[a + 1:]:
            right *= w
            total += right
        return total

    return min(range(len(widths)), key=cost)


async def chosen_levels(mpc, secfld, v: np.ndarray, e: np.ndarray, classes: list[np.ndarray],
                        widths: list[int]) -> list[np.ndarray]:
    """Per covariate, my shares of each multi-list person's chosen one-hot level row, 'missing' last.

    `classes` holds the record indices of the groups of each size s >= 2 (arrays G_s x s); the persons
    come out in that order, class after class. Steps 5a-5c of the module docstring.
    """
    m, width, k = e.shape[1], v.shape[1], len(widths)
    offsets = np.cumsum([0, *widths]).tolist()
    pairs = []
    for members in classes:
        g, s = members.shape
        pairs.append((np.broadcast_to(e[members][:, :, :, None], (g, s, m, width)),
                      np.broadcast_to(v[members][:, :, None, :], (g, s, m, width))))
    products = await multiply_all(mpc, secfld, pairs)
    big_s = np.concatenate([p.sum(axis=1) % ELL for p in products], axis=0)  # (persons, m, width)
    h = np.stack([big_s[:, :, offsets[c]:offsets[c + 1]].sum(axis=2) % ELL for c in range(k)], axis=2)
    prefix = [np.ones((len(big_s), k), dtype=object), (1 - h[:, 0, :]) % ELL]
    for j in range(2, m + 1):
        prefix.append((await multiply_all(mpc, secfld, [(prefix[-1], (1 - h[:, j - 1, :]) % ELL)]))[0])
    spread = np.stack([np.concatenate([np.repeat(prefix[j][:, c:c + 1], widths[c], axis=1) for c in range(k)], axis=1)
                       for j in range(m)], axis=1)  # (persons, m, width): P_j of the level's covariate
    weighted = (await multiply_all(mpc, secfld, [(spread, big_s)]))[0]
    chosen = weighted.sum(axis=1) % ELL  # (persons, width)
    return [np.concatenate([chosen[:, offsets[c]:offsets[c + 1]], prefix[m][:, c:c + 1]], axis=1) for c in range(k)]


async def pattern_indicators(mpc, secfld, e: np.ndarray, classes: list[np.ndarray]) -> list[np.ndarray]:
    """Per class (groups of size s >= 2), my shares of the one-hot pattern over the masks with s bits (5d)."""
    m = e.shape[1]
    bits = [e[members].sum(axis=1) % ELL for members in classes]  # E_j per person: the pattern's bits
    sizes = [members.shape[1] for members in classes]
    ind = [{1 << j: b[:, j] for j in range(m)} for b in bits]
    for level in range(2, max(sizes, default=1) + 1):
        wanted = [(i, mask) for i, s in enumerate(sizes) if s >= level and s < m
                  for mask in masks_with_bits(m, level)]
        products = await multiply_all(mpc, secfld, [
            (ind[i][mask & ~(1 << (mask.bit_length() - 1))], bits[i][:, mask.bit_length() - 1]) for i, mask in wanted])
        for (i, mask), p in zip(wanted, products, strict=True):
            ind[i][mask] = p
    out = []
    for i, s in enumerate(sizes):
        if s == m:  # one possible pattern: everybody's indicator is 1
            out.append(np.ones((len(bits[i]), 1), dtype=object))
        else:
            out.append(np.stack([ind[i][mask] for mask in masks_with_bits(m, s)], axis=1))
    return out


async def count_table(mpc, secfld, v: np.ndarray, e: np.ndarray, groups: dict[int, np.ndarray],
                      widths: list[int]) -> np.ndarray:
    """My shares of the table (2^m - 1 patterns by bitmask) x (level combinations, first covariate outer)."""
    m, k = e.shape[1], len(widths)
    levels = [w + 1 for w in widths]  # with 'missing'
    combos = int(np.prod(levels))
    table = np.zeros(((1 << m) - 1, combos), dtype=object)
    offsets = np.cumsum([0, *widths]).tolist()
    blocks = []  # (pattern masks, pattern one-hot, chosen level rows per covariate)
    if 1 in groups:
        r = groups[1][:, 0]
        own = [np.concatenate([v[r, offsets[c]:offsets[c + 1]],
                               (1 - v[r, offsets[c]:offsets[c + 1]].sum(axis=1, keepdims=True)) % ELL], axis=1)
               for c in range(k)]
        blocks.append(([1 << j for j in range(m)], e[r], own))
    classes = [members for s, members in sorted(groups.items()) if s >= 2]
    if classes:
        chosen = await chosen_levels(mpc, secfld, v, e, classes, widths)
        patterns = await pattern_indicators(mpc, secfld, e, classes)
        start = 0
        for members, pat in zip(classes, patterns, strict=True):
            s, n = members.shape[1], len(members)
            masks = masks_with_bits(m, s)
            blocks.append((masks, pat, [c[start:start + n] for c in chosen]))
            start += n
    chains, splits = [], []
    for masks, pat, rows in blocks:
        a = _split(len(masks), levels)
        splits.append(a)
        chains.append([pat, *rows[:a]])
        chains.append(rows[a:])
    factors = await outer_chains(mpc, secfld, chains)
    products = [mpc.np_matmul(mpc.np_transpose(overlap.as_secure(secfld, factors[2 * b])),
                              overlap.as_secure(secfld, factors[2 * b + 1])) for b in range(len(blocks))]
    for (masks, _, _), product in zip(blocks, products, strict=True):
        part = (await overlap.my_shares(mpc, product)).reshape(len(masks), combos)
        for q, mask in enumerate(masks):
            table[mask - 1] = (table[mask - 1] + part[q]) % ELL
    return table


async def run(mpc, ctx):
    secfld = mpc.SecFld(ELL)
    ctx.start(ELL)
    covariates = covariates_of(ctx.params)  # the runner stored them checked; a deployment plan may omit them
    widths = [len(covariate_levels(c)) - 1 for c in covariates]
    m = ctx.m
    with ctx.phase("input"):
        held = [list(h) for h in await mpc.transfer(list(ctx.inputs["held"]))]
        ctx.record_opened("covariate columns each organisation's file has (schema, not data)",
                          [b for h in held for b in h], role="leak",
                          cells=[f"{org}: {COVARIATES[c]}" for org in ctx.orgs for c in covariates])
        nobody = [c for i, c in enumerate(covariates) if not any(h[i] for h in held)]
        if nobody:
            raise RuntimeError(f"covariate(s) {', '.join(nobody)}: no organisation's file has the column "
                               f"{', '.join(COVARIATES[c] for c in nobody)}; nothing was shared")
    keys = ctx.inputs["keys"]
    v_own = np.array(ctx.inputs["levels"], dtype=object).reshape(len(keys), sum(widths))
    own = np.concatenate([np.array(keys, dtype=object).reshape(-1, 1), v_own], axis=1)
    rows, groups, _ = await overlap.join(mpc, ctx, secfld, own, tag=False, onehot=True,
                                         columns=[("keys", slice(0, 1)), ("levels", slice(1, None))])
    width = sum(widths)
    with ctx.phase("count"):
        if len(rows):
            table = await count_table(mpc, secfld, rows[:, :width], rows[:, width:], groups, widths)
        else:
            table = np.zeros(((1 << m) - 1, int(np.prod([w + 1 for w in widths]))), dtype=object)
        persons = sum(len(g) for g in groups.values())
    with ctx.phase("output"):
        values, flags = await overlap.open_counts(mpc, ctx, secfld, table.reshape(-1).tolist(), bound=persons + 1,
                                                  hide_empty=True)
    ctx.record_opened("small_cell_flags", flags, role="leak", cells=ctx.cells)
    ctx.record_opened("capture_pattern_counts_by_level", [None if f else v for f, v in zip(flags, values, strict=True)],
                      cells=ctx.cells)

    import itertools

    combos = list(itertools.product(*(covariate_levels(c) for c in covariates)))
    revealed, suppressed = [], []
    q = 0
    for mask in range(1, 1 << m):
        lists = [org for j, org in enumerate(ctx.orgs) if mask >> j & 1]
        for combo in combos:
            levels = dict(zip(covariates, combo, strict=True))
            if flags[q]:
                suppressed.append({"lists": lists, "levels": levels})
            elif values[q] > 0:
                revealed.append({"lists": lists, "levels": levels, "count": values[q]})
            q += 1
    return {"revealed": revealed, "suppressed": suppressed}
