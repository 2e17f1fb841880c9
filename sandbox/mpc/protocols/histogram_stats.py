"""Mean, quartiles and share of minors from secret-shared age histograms.

Protocol:
1. input   — every organisation secret-shares its own histogram h[a] = registrations aged a (0..99).
2. compute — H = sum of histograms and its running sum C[a] (no communication); n = C[99].
             The lower q-quantile is the number of ages a with C[a] < q·n: one secure comparison per
             age (den·C[a] < num·n), added up. S = Σ a·H[a] and the number of minors C[17] are sums.
3. output  — first the flag n >= min_cell; only if it holds, n, the quartiles, S, and the flag "the
             minors and the adults are each 0 or at least min_cell" (the small-cell rule for the
             share of minors); only if that holds too, C[17]. The mean
             S / n and the share of minors C[17] / n are divided after opening: n is opened anyway,
             so S and C[17] tell exactly as much as the mean and the share (S = mean · n). Dividing
             in the clear is exact; a secure fixed-point division (tried first) was off by about 1e-6
             relative, and in random directions, because its truncations are probabilistic.

Privacy/leakage: only the opened figures (and, when suppressed, that fewer than min_cell registrations
have an age, or that the minors or the adults are fewer than min_cell but not 0). The pooled histogram,
each organisation's histogram and n's components stay secret.
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
        minors, adults = cum[17], n - cum[17]
        if ctx.min_cell > 1:
            small = [(c >= 1) * (c < ctx.min_cell) for c in (minors, adults)]
            minors_ok = (1 - small[0]) * (1 - small[1])
        else:
            minors_ok = secint(1)
        quantiles = {label: mpc.sum([den * c < num * n for c in cum]) for label, num, den in QUANTILES}

    with ctx.phase("output"):
        ok = bool(await mpc.output(enough))
        ctx.record_opened("enough_records", [int(ok)], role="leak", cells=["records_with_age >= min_cell"])
        if not ok:
            revealed = {c: None for c in ctx.cells}
            return {"revealed": revealed, "suppressed": ["all"]}
        opened_n = int(await mpc.output(n))
        opened_q = {label: int(await mpc.output(q)) for label, q in quantiles.items()}
        opened_sum = int(await mpc.output(age_sum))
        ctx.record_opened("records_with_age", [opened_n], cells=["records_with_age"])
        ctx.record_opened("quartiles", list(opened_q.values()), cells=list(opened_q))
        ctx.record_opened("sum_of_ages", [opened_sum], cells=["sum_of_ages"])
        ok_minors = bool(await mpc.output(minors_ok))
        ctx.record_opened("minors and adults each 0 or at least min_cell", [int(ok_minors)],
                          role="leak", cells=["minors_allowed"])
        opened_minors = int(await mpc.output(minors)) if ok_minors else None
        ctx.record_opened("minors", [opened_minors], cells=["minors"])

    revealed = {"records_with_age": opened_n, "mean_age": opened_sum / opened_n, **opened_q,
                "share_minors": None if opened_minors is None else opened_minors / opened_n}
    ctx.record_opened("age_statistics", list(revealed.values()), cells=list(revealed))
    return {"revealed": revealed, "suppressed": [] if ok_minors else ["share_minors"]}
