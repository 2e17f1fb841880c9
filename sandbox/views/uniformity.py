"""Are the shares a party holds spread evenly over the field [0, p)? A histogram and two tests.

A Shamir share of a degree-t polynomial (t >= 1) with uniformly random coefficients is itself a
uniformly random field element, whatever the secret. So the shares a party receives should look
like uniform noise on [0, p): the histogram of share / p should be flat, and the chi-square and
Kolmogorov-Smirnov tests should not reject uniformity (large p-values). Small counts of 0 to 20
would all pile up in the first bin if the "shares" were the plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

__all__ = ["Uniformity", "uniformity"]


@dataclass
class Uniformity:
    n: int
    modulus: int
    bin_edges: list[float]  # as fractions of p: 0, 1/bins, ..., 1
    counts: list[int]  # shares per bin
    expected: float  # n / bins: what a perfectly flat histogram would have
    chi_square: float
    chi_square_p: float
    ks_statistic: float  # largest gap between the empirical and the uniform distribution function
    ks_p: float

    @property
    def looks_uniform(self) -> bool:
        """Neither test rejects uniformity at the 1% level."""
        return self.chi_square_p > 0.01 and self.ks_p > 0.01


def uniformity(shares: Sequence[int], modulus: int, *, bins: int = 10) -> Uniformity:
    """Histogram of share / modulus over `bins` equal bins, with chi-square and KS tests against uniform."""
    values = [int(s) for s in shares]
    if not values:
        raise ValueError("no shares to test")
    if any(not 0 <= v < modulus for v in values):
        raise ValueError("every share must be a field element in [0, modulus)")
    counts = [0] * bins
    for v in values:
        counts[v * bins // modulus] += 1  # exact integer arithmetic: no float rounding at 64 bits
    n = len(values)
    expected = n / bins
    chi = stats.chisquare(counts)
    ks = stats.kstest([v / modulus for v in values], "uniform")
    return Uniformity(
        n=n,
        modulus=modulus,
        bin_edges=[i / bins for i in range(bins + 1)],
        counts=counts,
        expected=expected,
        chi_square=float(chi.statistic),
        chi_square_p=float(chi.pvalue),
        ks_statistic=float(ks.statistic),
        ks_p=float(ks.pvalue),
    )
