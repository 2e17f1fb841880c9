"""Secure sum of one count vector per organisation, with small-cell suppression inside MPC.

Protocol:
1. input   — every organisation secret-shares its own count vector (Shamir, threshold t).
2. compute — the parties add the shares (no communication), then compare each total with the
             small-cell threshold using MPyC's secure comparison: small = (1 <= total < min_cell).
3. output  — they open, per cell, the flag `small` and the masked total `total * (1 - small)`.

With `noise_epsilon` (count-filtered), every party also secret-shares its own share of
discrete-Laplace noise, drawn here, in its own process, from the OS's CSPRNG (`sandbox.mpc.noise`); the
totals then include the sum of all noise shares. Each party logs its noise share in its own transcript
only (the sandbox's facilitator check adds them up; no party can).

Privacy/leakage: the opened totals of cells that are not small, and which cells are small. A small
cell's value is never reconstructed by anyone. Individual organisations' counts (and noise shares)
stay hidden from any coalition of at most t parties.
"""

from __future__ import annotations

from sandbox.mpc.noise import noise_share


async def run(mpc, ctx):
    counts = ctx.inputs["counts"]
    secint = mpc.SecInt(ctx.bit_length)
    ctx.start(secint.field.modulus)

    epsilon = ctx.params.get("noise_epsilon")

    with ctx.phase("input"):
        shared = mpc.input([secint(v) for v in counts])  # one list per party (sender)
        await ctx.record_shares("counts", shared)
        if epsilon is not None:
            noise = noise_share(float(epsilon), ctx.m, len(counts))  # secret: from os.urandom, never seeded
            ctx.recorder.values("own_input", "noise", noise, cells=ctx.input_cells("noise", len(noise)))
            noise_shared = mpc.input([secint(v) for v in noise])
            await ctx.record_shares("noise", noise_shared)
            shared = [[a + b for a, b in zip(c, z, strict=True)] for c, z in zip(shared, noise_shared, strict=True)]

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
    ctx.record_opened("small_cell_flags", flags, role="leak", cells=ctx.cells)
    ctx.record_opened("totals", [None if f else v for f, v in zip(flags, values, strict=True)], cells=ctx.cells)

    cells = ctx.cells
    return {
        "revealed": {c: (None if f else v) for c, f, v in zip(cells, flags, values, strict=True)},
        "suppressed": [c for c, f in zip(cells, flags, strict=True) if f],
    }
