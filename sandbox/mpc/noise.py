"""Each party's secret share of discrete-Laplace noise, drawn from the operating system's CSPRNG.

Pure Python (no MPyC): the party program calls `noise_share` inside its own process and logs the result
only in its own transcript. Nobody else can recompute it: there is no seed, every draw comes from
`random.SystemRandom` (os.urandom).

Why the shares add up to discrete Laplace noise. A discrete Laplace (two-sided geometric) variable with
P(k) ∝ a^|k|, a = exp(-epsilon), is G1 - G2 for two independent geometric variables with success
probability 1 - a, and a geometric variable is the sum of m independent negative-binomial (Pólya)
variables NB(1/m, 1 - a). So each of the m parties inputs NB(1/m) - NB(1/m) per cell and the m inputs
add up to exactly discrete-Laplace noise. A Pólya variable NB(r, p) is Poisson(λ) with
λ ~ Gamma(r, scale (1 - p) / p).

Privacy: each cell gets independent noise with parameter epsilon, so a cell is epsilon-differentially
private. One registration is counted in several cells of a query (in count-filtered: the "all" cell and
each of its forms), so the privacy loss per person per query is epsilon times the number of cells one
record can change (see `loss_per_person`). Caveats (semi-honest): a coalition knows its own noise shares
and can subtract them, leaving only the other parties' part of the noise; nobody can check that a party
really added its share.
"""

from __future__ import annotations

import math
import random

__all__ = ["NoiseError", "check_epsilon", "loss_per_person", "noise_share"]

_RNG = random.SystemRandom()  # the OS's CSPRNG; never seeded


class NoiseError(ValueError):
    """An unusable noise parameter; the message says which and why."""


def check_epsilon(epsilon: object) -> float:
    """epsilon as a float, or NoiseError when it is not a positive, finite number."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float):
        raise NoiseError(f"noise epsilon must be a number, not {epsilon!r}")
    value = float(epsilon)
    if not math.isfinite(value) or value <= 0:
        raise NoiseError(f"noise epsilon must be a positive, finite number, not {epsilon!r}")
    return value


def loss_per_person(epsilon: float, cells_per_record: int) -> float:
    """The privacy loss (differential-privacy epsilon) per person of one noisy query.

    Adding or removing one registration changes `cells_per_record` cells by 1 each; with independent
    discrete-Laplace noise of parameter epsilon on every cell the losses add up.
    """
    return check_epsilon(epsilon) * int(cells_per_record)


def _poisson(lam: float) -> int:
    """A Poisson(lam) draw from the CSPRNG (inversion by products of uniforms, in chunks of at most 30)."""
    total = 0
    while lam > 0:
        chunk = min(lam, 30.0)
        lam -= chunk
        limit, k, product = math.exp(-chunk), 0, _RNG.random()
        while product > limit:
            k += 1
            product *= _RNG.random()
        total += k
    return total


def _polya(shape: float, a: float) -> int:
    """NB(shape, 1 - a): Poisson with a Gamma(shape, a / (1 - a)) distributed mean."""
    return _poisson(_RNG.gammavariate(shape, a / (1 - a)))


def noise_share(epsilon: float, parties: int, cells: int) -> list[int]:
    """This party's share of the noise for `cells` cells: NB(1/m, 1 - a) - NB(1/m, 1 - a) per cell."""
    a = math.exp(-check_epsilon(epsilon))
    shape = 1.0 / parties
    return [_polya(shape, a) - _polya(shape, a) for _ in range(cells)]
