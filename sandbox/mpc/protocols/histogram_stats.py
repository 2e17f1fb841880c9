"""Mean, quartiles and share of minors from secret-shared age histograms.

Protocol:
1. input   — every organisation secret-shares its own histogram h[a] = registrations aged a (0..99).
2. compute — H = sum of histograms and its running sum C[a] (no communication); n = C[99].
             The lower q-quantile is the number of ages a with C[a] < q·n: one secure comparison per
             age (den·C[a] < num·n), added up. S = Σ a·H[a] and the number of minors C[17] are sums.
3. output  — first the flag n >= min_cell; only if it holds, n, the quartiles, S and C[17]. The mean
             S / n and the share of minors C[17] / n are divided after opening: n is opened anyway,
             so S and C[17] tell exactly as much as the mean and the share (S = mean · n). Dividing
             in the clear is exact; a secure fixed-point division (tried first) was off by about 1e-6
             relative, and in random directions, because its truncations are probabilistic.

Privacy/leakage: only the opened figures (and, when suppressed, that fewer than min_cell registrations
have an age). The pooled histogram, each organisation's histogram and n's components stay secret.
"""

from __future__ import annotations

from sandbox.mpc.computations import QUANTILES


async def run(mpc, ctx):
    hist = ctx.inputs["hist"]
    secint = mpc.SecInt(ctx.bit_length)
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
        age_sum = mpc.sum([a * h for a, h in enumerate(total)])
        quantiles = {label: mpc.sum([den * c < num * n for c in cum]) for label, num, den in QUANTILES}

    with ctx.phase("output"):
        ok = bool(await mpc.output(enough))
        ctx.record_opened("enough_records", int(ok))
        if not ok:
            revealed = {c: None for c in ctx.cells}
            return {"revealed": revealed, "suppressed": ["all"]}
        opened_n = int(await mpc.output(n))
        opened_q = {label: int(await mpc.output(q)) for label, q in quantiles.items()}
        opened_sum = int(await mpc.output(age_sum))
        opened_minors = int(await mpc.output(cum[17]))
        ctx.record_opened("sum_of_ages_and_minors", {"sum_of_ages": opened_sum, "minors": opened_minors})

    revealed = {"records_with_age": opened_n, "mean_age": opened_sum / opened_n, **opened_q,
                "share_minors": opened_minors / opened_n}
    ctx.record_opened("age_statistics", revealed)
    return {"revealed": revealed, "suppressed": []}
