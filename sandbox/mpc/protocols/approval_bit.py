"""Query approval decided inside MPC: open one bit, "the two queries differ by at least min_cell records".

Protocol:
1. input   — every organisation secret-shares one number: how many of its own records match exactly one
             of the two queries (the new query and an earlier approved one).
2. compute — the parties add the shares (no communication) and compare the total d with the threshold:
             approved = (d >= max(min_cell, 1)), one secure comparison.
3. output  — only the bit `approved` is opened.

Privacy/leakage: exactly one bit. Not d, not which forms or organisations the differing records belong
to. A refusal covers d = 0 as well as 0 < d < min_cell, so it does not say whether anyone at all is in
the difference. The bit is still information (see the computation's `reveals` text).
"""

from __future__ import annotations


async def run(mpc, ctx):
    secint = mpc.SecInt(ctx.bit_length)
    ctx.start(secint.field.modulus)
    with ctx.phase("input"):
        shared = mpc.input([secint(v) for v in ctx.inputs["difference"]])
        await ctx.record_shares("difference", shared)
    with ctx.phase("compute"):
        total = mpc.sum([shared[j][0] for j in range(ctx.m)])
        approved = total >= max(ctx.min_cell, 1)
    with ctx.phase("output"):
        bit = int(await mpc.output(approved))
    ctx.record_opened("approved", [bit], cells=["approved"])
    return {"revealed": {"approved": bit}, "suppressed": []}
