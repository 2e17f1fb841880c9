"""Query approval decided inside MPC: open one bit, "the two queries differ by at least min_cell records".

Protocol:
1. input   — every organisation secret-shares one number: how many of its own records match exactly one
             of the two queries (the new query and an earlier approved one). For two designed queries
             (sandbox/mpc/query.py) also a vector `cell_differences`: per cell, its records counted in that
             cell by exactly one of the two queries.
2. compute — the parties add the shares (no communication) and compare the total d with the threshold:
             approved = (d >= max(min_cell, 1)), one secure comparison. For designed queries also, per
             cell, ok_c = (d_c == 0) or (d_c >= max(min_cell, 1)), and approved = (d >= m) AND every ok_c
             (two comparisons per cell; the AND is a product of secret bits, never opened in between).
3. output  — only the bit `approved` is opened.

Privacy/leakage: exactly one bit. Not d, not which forms or organisations the differing records belong
to. A refusal covers d = 0 as well as 0 < d < min_cell, so it does not say whether anyone at all is in
the difference. The bit is still information (see the computation's `reveals` text).
"""

from __future__ import annotations


async def run(mpc, ctx):
    secint = mpc.SecInt(ctx.bit_length)
    ctx.start(secint.field.modulus)
    threshold = max(ctx.min_cell, 1)
    per_cell = "cell_differences" in ctx.inputs
    with ctx.phase("input"):
        shared = mpc.input([secint(v) for v in ctx.inputs["difference"]])
        await ctx.record_shares("difference", shared)
        if per_cell:
            cells = mpc.input([secint(v) for v in ctx.inputs["cell_differences"]])
            await ctx.record_shares("cell_differences", cells)
    with ctx.phase("compute"):
        total = mpc.sum([shared[j][0] for j in range(ctx.m)])
        approved = total >= threshold
        if per_cell:
            ok = []
            for c in range(len(ctx.inputs["cell_differences"])):
                d = mpc.sum([cells[j][c] for j in range(ctx.m)])
                ok.append(1 - (d >= 1) * (d < threshold))  # 0 exactly when d is 1 .. threshold - 1
            approved = approved * mpc.prod(ok)  # a tree of products: log depth, nothing opened
    with ctx.phase("output"):
        bit = int(await mpc.output(approved))
    ctx.record_opened("approved", [bit], cells=["approved"])
    return {"revealed": {"approved": bit}, "suppressed": []}
