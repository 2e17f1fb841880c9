"""A designed query counting distinct persons (sandbox/mpc/query.py, measure {"distinct": "person"}).

Per cell: the number of distinct persons (records linked on person_key across organisations) with at
least one record that passes the query's filters and has the cell's value(s) -- both values of a
two-field cell from that same record.

Protocol (the secure join is in `overlap.py`):
1-4. Each organisation secret-shares, per record of its WHOLE file, its linkage key and one 0/1 bit per
     cell (prepared locally from its own records: 1 when the record passes every filter and has the
     cell's value; `CompiledQuery.cell_bits`). Records that pass no filter are shared too (all bits 0),
     so the list sizes say nothing about the filters. The rows are shuffled together, pseudonyms are
     opened and the shuffled records are grouped: one group is one person (keys are unique per list).
5.   Per person, per cell: the OR of the bits of the person's records (`mo_cooccurrence.or_per_group`
     with min_size=1: a person on one list is its record's own bits, a person on s >= 2 lists takes
     s - 1 rounds of secure multiplications of whole rows).
6.   Per cell: the sum of the ORs over all persons (local: no communication).
7.   Cells with 0 < count < min_cell are withheld inside MPC (`overlap.open_counts`); the others,
     empty ones included, are opened.

What everyone learns: the opened cells, which cells were withheld (so that they hold 1 to min_cell - 1
persons), the list sizes and the number of persons on exactly s lists for each s (group sizes, over all
records whatever the filters). No per-record, per-person or per-organisation value is opened: which
persons are in a cell, which records passed the filters and which organisation's record put a person
in a cell stay hidden from any coalition of at most t parties. A withheld cell can sometimes be worked
out by subtraction from totals opened elsewhere (another query's cells, the group sizes).
Assumptions: semi-honest, honest majority (t < m/2), q-DDHI in Ed25519, keys unique within each list.
"""

from __future__ import annotations

import numpy as np

from sandbox.mpc.protocols import overlap
from sandbox.mpc.protocols.mo_cooccurrence import or_per_group
from sandbox.mpc.protocols.overlap import ELL


async def run(mpc, ctx):
    secfld = mpc.SecFld(ELL)
    ctx.start(ELL)
    keys = ctx.inputs["keys"]
    width = len(ctx.cells)
    bits = np.array(ctx.inputs["cell_bits"], dtype=object).reshape(len(keys), width)
    own = np.concatenate([np.array(keys, dtype=object).reshape(-1, 1), bits], axis=1)
    shuffled, groups, sizes = await overlap.join(mpc, ctx, secfld, own, tag=False,
                                                 columns=[("keys", slice(0, 1)), ("cell_bits", slice(1, None))])
    with ctx.phase("count"):
        per_person = await or_per_group(mpc, secfld, shuffled, groups, min_size=1)
        counts = [int(v) for v in (per_person.sum(axis=0) % ELL)] if len(per_person) else [0] * width
    with ctx.phase("output"):
        values, flags = await overlap.open_counts(mpc, ctx, secfld, counts, bound=len(per_person) + 1)
    ctx.record_opened("small_cell_flags", flags, role="leak", cells=ctx.cells)
    names = [c for c, f in zip(ctx.cells, flags, strict=True) if not f]
    ctx.record_opened("distinct_person_counts", [v for v, f in zip(values, flags, strict=True) if not f],
                      cells=names)
    return {
        "revealed": {c: v for c, v, f in zip(ctx.cells, values, flags, strict=True) if not f},
        "suppressed": [c for c, f in zip(ctx.cells, flags, strict=True) if f],
        "empty": [],
        "join_opened": {"list_sizes": dict(zip(ctx.orgs, sizes, strict=True)),
                        "persons_per_number_of_lists": overlap.pseudonym_summary(groups)},
    }
