"""Modus-operandi co-occurrence among persons known to two or more organisations.

For every pair (a, b) of means-of-control indicators, including a = b: the number of persons on at
least two lists for whom BOTH a and b were recorded by ANY of their organisations.

Protocol (the secure join is in `overlap.py`):
1-4. Each organisation secret-shares, per record, its linkage key and its 14 indicator bits. The rows
     are shuffled together, pseudonyms are opened and the shuffled records are grouped: one group is
     one person; a group of size s >= 2 is a person on s lists (keys are unique within a list).
5.   Per multi-list group, per indicator: OR over its records, computed as 1 - prod(1 - bit)
     (s - 1 secure multiplications of 14-wide rows per group of size s). This gives a secret 0/1
     matrix O with one row per multi-list person.
6.   The co-occurrence table is O^T O (one secure matrix product: 14 x 14 results, one degree
     reduction); its upper triangle holds the cells, the diagonal the single-indicator counts.
7.   Cells with 0 < count < min_cell are withheld inside MPC (`overlap.open_counts`).

What everyone learns: the opened cells, which cells were withheld, the list sizes and the number of
persons on exactly s lists for each s (group sizes). Which persons, which records and which
organisation recorded what stay hidden.
Assumptions: semi-honest, honest majority (t < m/2), q-DDHI in Ed25519, keys unique within each list.
"""

from __future__ import annotations

import numpy as np

from sandbox.mpc.protocols import overlap
from sandbox.mpc.protocols.overlap import ELL


async def or_per_group(mpc, secfld, bits: np.ndarray, groups: dict[int, np.ndarray], *,
                       min_size: int = 2) -> np.ndarray:
    """My shares of the OR of each indicator over each group of at least `min_size` records:
    (persons on min_size or more lists) x width, group size class after class. A group of one record
    (min_size=1) is its record's own bits: no multiplication."""
    rows = []
    for s, members in groups.items():
        if s < min_size:
            continue
        none = (1 - bits[members[:, 0]]) % ELL  # "no record of this group has the indicator" so far
        for c in range(1, s):
            none = await overlap.multiply(mpc, secfld, none, (1 - bits[members[:, c]]) % ELL)
        rows.append((1 - none) % ELL)
    if not rows:
        return np.zeros((0, bits.shape[1]), dtype=object)
    return np.concatenate(rows, axis=0)


async def run(mpc, ctx):
    secfld = mpc.SecFld(ELL)
    ctx.start(ELL)
    keys = ctx.inputs["keys"]
    bits = np.array(ctx.inputs["indicators"], dtype=object).reshape(len(keys), -1)
    own = np.concatenate([np.array(keys, dtype=object).reshape(-1, 1), bits], axis=1)
    indicators, groups, _ = await overlap.join(mpc, ctx, secfld, own, tag=False,
                                               columns=[("keys", slice(0, 1)), ("indicators", slice(1, None))])
    k = own.shape[1] - 1
    with ctx.phase("count"):
        either = await or_per_group(mpc, secfld, indicators, groups)
        if len(either):
            o = overlap.as_secure(secfld, either)
            table = await overlap.my_shares(mpc, mpc.np_matmul(mpc.np_transpose(o), o))
        else:
            table = np.zeros((k, k), dtype=object)
        cells = [table[a, b] for a in range(k) for b in range(a, k)]
    with ctx.phase("output"):
        values, flags = await overlap.open_counts(mpc, ctx, secfld, cells, bound=len(either) + 1)
    ctx.record_opened("small_cell_flags", flags, role="leak", cells=ctx.cells)
    ctx.record_opened("cooccurrence_counts", [None if f else v for f, v in zip(flags, values, strict=True)],
                      cells=ctx.cells)
    return {
        "revealed": {c: (None if f else v) for c, v, f in zip(ctx.cells, values, flags, strict=True)},
        "suppressed": [c for c, f in zip(ctx.cells, flags, strict=True) if f],
    }
