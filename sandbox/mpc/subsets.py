"""Which groups of parties run the secret shuffle of the secure join (`protocols/overlap.py`, step 2).

Pure arithmetic on party numbers, no MPC: the parties compute the same family before they shuffle, and the
timeline's cost model (`sandbox/timeline/calibration.py`) counts the same family, so a forecast follows
the protocol that actually runs.
"""

from __future__ import annotations

import functools
import itertools

__all__ = ["shuffle_subsets", "shuffles_per_party"]


def shuffle_subsets(m: int, t: int) -> list[tuple[int, ...]]:
    """(t+1)-subsets of the parties such that every coalition of t parties misses one of them entirely.

    That is all the shuffle needs: a coalition that misses a subset never sees its permutation. All
    C(m, t+1) subsets would do, but fewer suffice (6 parties, t = 2: 7 instead of 20; 4 parties, t = 1:
    2 instead of 6; 3, 5 and 7 parties need them all). Chosen greedily, in a fixed order every party
    computes alike: for each t-subset not yet missed by a chosen subset, add the (t+1)-subset of the
    other parties that is missed by the most coalitions still uncovered.
    """
    return list(_shuffle_subsets(m, t))


@functools.lru_cache(maxsize=64)
def _shuffle_subsets(m: int, t: int) -> tuple[tuple[int, ...], ...]:
    # Parties as bits of an int, so "coalition c misses subset s" is `not c & s`. The timeline evaluates
    # its cost terms many times per forecast, hence the cache.
    def mask(parties: tuple[int, ...]) -> int:
        return sum(1 << p for p in parties)

    coalitions = [mask(c) for c in itertools.combinations(range(m), t)]
    chosen: list[tuple[int, ...]] = []
    uncovered = set(coalitions)
    for coalition in coalitions:
        if coalition not in uncovered:
            continue
        others = [p for p in range(m) if not coalition >> p & 1]
        candidates = [(s, mask(s)) for s in itertools.combinations(others, t + 1)]
        # the first of the best: the same family on every party
        best, best_mask = max(candidates, key=lambda sm: sum(1 for c in uncovered if not c & sm[1]))
        chosen.append(best)
        uncovered = {c for c in uncovered if c & best_mask}
    return tuple(sorted(chosen))


def shuffles_per_party(m: int, t: int) -> int:
    """How many of those subsets the busiest party belongs to: the shuffles it re-shares all records in.

    The slowest party sets the pace of a run, so this (not the average) is what the cost model counts
    (6 parties: 4, where C(5, 2) = 10 counted every subset)."""
    subsets = shuffle_subsets(m, t)
    return max((sum(p in s for s in subsets) for p in range(m)), default=0)
