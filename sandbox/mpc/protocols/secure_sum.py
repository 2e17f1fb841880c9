"""Secure sum of one count vector per organisation, with small-cell suppression inside MPC.

Protocol:
1. input   — every organisation secret-shares its own count vector (Shamir, threshold t).
2. compute — the parties add the shares (no communication), then compare each total with the
             small-cell threshold using MPyC's secure comparison: small = (1 <= total < min_cell).
3. output  — they open, per cell, the flag `small` and the masked total `total * (1 - small)`.

Privacy/leakage: the opened totals of cells that are not small, and which cells are small. A small
cell's value is never reconstructed by anyone. Individual organisations' counts stay hidden from any
coalition of at most t parties.
"""

from __future__ import annotations


async def run(mpc, ctx):
    counts = ctx.inputs["counts"]
    secint = mpc.SecInt(ctx.bit_length)
    ctx.start(secint.field.modulus)

    with ctx.phase("input"):
        shared = mpc.input([secint(v) for v in counts])  # one list per party (sender)
        await ctx.record_shares("counts", shared)

    with ctx.phase("compute"):
        totals = [mpc.sum([shared[j][c] for j in range(ctx.m)]) for c in range(len(counts))]
        if ctx.min_cell > 1:
            small = [(t >= 1) * (t < ctx.min_cell) for t in totals]
        else:
            small = [secint(0) for _ in totals]
        masked = [t * (1 - s) for t, s in zip(totals, small, strict=True)]
        await mpc.gather(masked + small)

    with ctx.phase("output"):
        flags = await mpc.output(small)
        values = await mpc.output(masked)
    flags = [int(f) for f in flags]
    values = [int(v) for v in values]
    ctx.record_opened("small_cell_flags", flags)
    ctx.record_opened("totals", [None if f else v for f, v in zip(flags, values, strict=True)])

    cells = ctx.cells
    return {
        "revealed": {c: (None if f else v) for c, f, v in zip(cells, flags, values, strict=True)},
        "suppressed": [c for c, f in zip(cells, flags, strict=True) if f],
    }
