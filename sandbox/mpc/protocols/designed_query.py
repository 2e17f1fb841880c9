"""A designed query (sandbox/mpc/query.py): a measure per cell, with small-cell suppression inside MPC.

Protocol:
1. input   — every organisation secret-shares its own vector `counts` (records per cell; for sum and
             mean: records with an age per cell) and, for sum and mean, `age_sums` (sum of ages per cell).
2. compute — the parties add the shares (no communication) and compare each cell's count n with the
             threshold: small = (1 <= n < min_cell), one secure comparison per cell.
3. output  — first the flags `small` (role "leak"); then ONLY the cells that are not small: their count
             (count and mean) and their sum of ages (sum and mean). A small cell's count or sum is never
             opened, not even masked. A mean is the opened sum divided by the opened count, in the clear
             (exact; the count is revealed anyway); a cell with count 0 has no mean ("empty").

Privacy/leakage: the opened values of the cells that are not small, and which cells are small. Each
organisation's own vectors stay hidden from any coalition of at most t parties.
"""

from __future__ import annotations


async def run(mpc, ctx):
    secint = mpc.SecInt(ctx.bit_length)
    ctx.start(secint.field.modulus)
    query = ctx.params["query"]
    measure = query["measure"] if isinstance(query["measure"], str) else next(iter(query["measure"]))
    labels = ["counts"] if measure == "count" else ["counts", "age_sums"]
    cells = ctx.cells
    n_cells = len(cells)

    with ctx.phase("input"):
        shared = {}
        for label in labels:
            shared[label] = mpc.input([secint(v) for v in ctx.inputs[label]])
            await ctx.record_shares(label, shared[label])

    with ctx.phase("compute"):
        totals = {label: [mpc.sum([shared[label][j][c] for j in range(ctx.m)]) for c in range(n_cells)]
                  for label in labels}
        counts = totals["counts"]
        if ctx.min_cell > 1:
            small = [(n >= 1) * (n < ctx.min_cell) for n in counts]
        else:
            small = [secint(0) for _ in counts]

    with ctx.phase("output"):
        flags = [int(f) for f in await mpc.output(small)]
        ctx.record_opened("small_cell_flags", flags, role="leak", cells=list(cells))
        open_at = [k for k in range(n_cells) if not flags[k]]
        names = [cells[k] for k in open_at]
        opened: dict[str, list[int]] = {}
        wanted = {"count": ["counts"], "sum": ["age_sums"], "mean": ["counts", "age_sums"]}[measure]
        for label in wanted:
            values = await mpc.output([totals[label][k] for k in open_at]) if open_at else []
            opened[label] = [int(v) for v in values]
            ctx.record_opened(label, opened[label], role="result", cells=names)

    suppressed = [c for c, f in zip(cells, flags, strict=True) if f]
    if measure == "count":
        revealed = dict(zip(names, opened["counts"], strict=True))
        return {"revealed": revealed, "suppressed": suppressed, "empty": []}
    if measure == "sum":
        revealed = dict(zip(names, opened["age_sums"], strict=True))
        return {"revealed": revealed, "suppressed": suppressed, "empty": []}
    revealed, empty = {}, []
    for name, n, s in zip(names, opened["counts"], opened["age_sums"], strict=True):
        if n == 0:
            empty.append(name)
        else:
            revealed[name] = s / n
    return {"revealed": revealed, "suppressed": suppressed, "empty": empty}
