"""One secret, split and recombined by MPyC's own Shamir code; run as a separate process.

    python -m sandbox.views.mpyc_explainer --secret 42 --parties 5 --threshold 2

Prints JSON: the field modulus, the shares `mpyc.thresha.random_split` made (party i holds the
value at x = i + 1) and, for every subset of parties (or the ones given with --subset 0,2,4), what
`mpyc.thresha.recombine` returns from that subset's shares.

This is the only module under sandbox/views that imports MPyC, and it must only ever run as its own
process (`explain()` below starts it): importing MPyC rewrites sys.argv and configures logging, which
must not happen inside the Streamlit app. It imports `mpyc.finfields` and `mpyc.thresha` only, never
`mpyc.runtime`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
from typing import Any

__all__ = ["DEFAULT_BIT_LENGTH", "explain"]

DEFAULT_BIT_LENGTH = 32  # the runs use SecInt(32); MPyC then picks a prime of 32 + 30 + 2 = 64 bits


def explain(
    secret: int,
    parties: int,
    threshold: int,
    *,
    modulus: int | None = None,
    subsets: list[list[int]] | None = None,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Run this module in a subprocess and return its JSON answer (raises RuntimeError on failure)."""
    cmd = [
        sys.executable,
        "-m",
        "sandbox.views.mpyc_explainer",
        "--secret",
        str(secret),
        "--parties",
        str(parties),
        "--threshold",
        str(threshold),
    ]
    if modulus is not None:
        cmd += ["--modulus", str(modulus)]
    for subset in subsets or []:
        cmd += ["--subset", ",".join(str(i) for i in subset)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        raise RuntimeError(f"the MPyC explainer failed: {lines[-1] if lines else f'exit {done.returncode}'}")
    return json.loads(done.stdout)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", type=int, required=True)
    parser.add_argument("--parties", type=int, required=True)
    parser.add_argument("--threshold", type=int, required=True)
    parser.add_argument("--modulus", type=int, default=None, help="a prime; default: the field of SecInt(32)")
    parser.add_argument("--subset", action="append", default=[], help="comma-separated party indices")
    args = parser.parse_args(argv)

    m, t = args.parties, args.threshold
    if not 2 <= m <= 12 or not 0 <= t < m:
        parser.error(f"need 2 <= parties <= 12 and 0 <= threshold < parties (got {m}, {t})")
    sys.argv = sys.argv[:1]  # nothing of ours for MPyC to parse

    from mpyc import finfields, thresha

    if args.modulus is None:
        # The same choice MPyC makes for SecInt(32) with the default security parameter 30.
        modulus = int(finfields.find_prime_root(DEFAULT_BIT_LENGTH + 30 + 2, n=2)[0])
    else:
        modulus = args.modulus
    field = finfields.GF(modulus)
    if not 0 <= args.secret < modulus:
        parser.error(f"the secret must lie in [0, {modulus})")

    shares = [int(row[0]) for row in thresha.random_split(field, [field(args.secret)], t, m)]
    if args.subset:
        subsets = [sorted({int(i) for i in s.split(",")}) for s in args.subset]
    else:
        subsets = [list(c) for k in range(1, m + 1) for c in itertools.combinations(range(m), k)]
    recombined = []
    for subset in subsets:
        points = [(i + 1, [field(shares[i])]) for i in subset]
        value = int(thresha.recombine(field, points)[0].value)
        recombined.append({"subset": subset, "value": value, "equals_secret": value == args.secret})
    print(
        json.dumps(
            {
                "modulus": str(modulus),
                "secret": args.secret,
                "parties": m,
                "threshold": t,
                "points": [i + 1 for i in range(m)],
                "shares": [str(s) for s in shares],
                "recombined": [{**r, "value": str(r["value"])} for r in recombined],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(_main())
