"""One bare MPyC party: start, one secure sum of a 4-vector, stop. `bench_live.py` starts m of these as the
floor a live run is compared with (no files, no checks, no transcript: MPyC alone).

    python benchmarks/bare_mpyc_sum.py -M m -I i -P 127.0.0.1:p0 ... -P 127.0.0.1:pm-1 --no-log
"""

from mpyc.runtime import mpc


async def main() -> None:
    await mpc.start()
    secint = mpc.SecInt(32)
    mine = [secint(mpc.pid + k) for k in range(4)]
    shared = mpc.input(mine)  # one list per party
    totals = [mpc.sum([party[k] for party in shared]) for k in range(4)]
    await mpc.output(totals)
    await mpc.shutdown()


mpc.run(main())
