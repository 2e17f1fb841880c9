"""Mean, quartiles and share of minors from secret-shared age histograms.

Protocol:
1. input   — every organisation secret-shares its own histogram h[a] = registrations aged a (0..99).
2. compute — H = sum of histograms and its running sum C[a] (no communication); n = C[99].
             The lower q-quantile is the number of ages a with C[a] < q·n: one secure comparison per
             age (den·C[a] < num·n), added up. Mean = (Σ a·H[a]) / n and share of minors = C[17] / n are
             divided in secure fixed point (SecFxp, 48 fractional bits): exact to about 1e-9 relative.
3. output  — first the flag n >= min_cell; only if it holds, the figures.

Privacy/leakage: only the opened figures (and, when suppressed, that fewer than min_cell registrations
have an age). The pooled histogram, each organisation's histogram and n's components stay secret.
"""

from __future__ import annotations

from sandbox.mpc.computations import QUANTILES


async def run(mpc, ctx):
    hist = ctx.inputs["hist"]
    secint = mpc.SecInt(ctx.bit_length)
    secfxp = mpc.SecFxp(96, 48)  # 48 fractional bits: the reciprocal of n is exact to ~4e-15
    ctx.start(secint.field.modulus)

    with ctx.phase("input"):
        shared = mpc.input([secint(v) for v in hist])
        await ctx.record_shares("hist", shared)

    with ctx.phase("compute"):
        total = [mpc.sum([shared[j][a] for j in range(ctx.m)]) for a in range(len(hist))]
        cum, running = [], secint(0)
        for h in total:
            running = running + h
            cum.append(running)
        n = cum[-1]
        enough = n >= max(ctx.min_cell, 1)
        weighted = mpc.sum([a * h for a, h in enumerate(total)])
        quantiles = {label: mpc.sum([den * c < num * n for c in cum]) for label, num, den in QUANTILES}
        n_fx = mpc.convert(n, secfxp)
        mean = mpc.convert(weighted, secfxp) / n_fx
        minors = mpc.convert(cum[17], secfxp) / n_fx

    with ctx.phase("output"):
        ok = bool(await mpc.output(enough))
        ctx.record_opened("enough_records", int(ok))
        if not ok:
            revealed = {c: None for c in ctx.cells}
            return {"revealed": revealed, "suppressed": ["all"]}
        opened_n = int(await mpc.output(n))
        opened_q = {label: int(await mpc.output(q)) for label, q in quantiles.items()}
        opened_mean = float(await mpc.output(mean))
        opened_minors = float(await mpc.output(minors))

    revealed = {"records_with_age": opened_n, "mean_age": opened_mean, **opened_q, "share_minors": opened_minors}
    ctx.record_opened("age_statistics", revealed)
    return {"revealed": revealed, "suppressed": []}
