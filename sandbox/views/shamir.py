"""Shamir secret sharing over a prime field, in plain Python integers (no MPyC, no numpy).

The views use this to check and explain what MPyC did: they take the field modulus from a run's
transcript and the shares each party logged, and interpolate. MPyC evaluates the sharing polynomial
of party i (0-based) at the point x = i + 1; the functions here use the same convention when given
party indices, but also accept explicit points.

A degree-t polynomial f with f(0) = secret is fixed by any t + 1 of its values; t values leave every
secret possible (for each candidate there is exactly one degree-t polynomial through them).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = [
    "evaluate",
    "interpolate",
    "interpolate_at_zero",
    "lagrange_coefficients",
    "party_point",
    "polynomial_through",
    "split",
]


def party_point(party_index: int) -> int:
    """The evaluation point of a party's share in MPyC: party i holds f(i + 1)."""
    return party_index + 1


def evaluate(coefficients: Sequence[int], x: int, modulus: int) -> int:
    """f(x) mod p for f(x) = c0 + c1 x + c2 x^2 + ... (Horner's rule)."""
    result = 0
    for c in reversed(coefficients):
        result = (result * x + c) % modulus
    return result


def split(
    secret: int, parties: int, threshold: int, modulus: int, rng: random.Random | None = None
) -> list[int]:
    """Shares f(1), ..., f(parties) of a random degree-`threshold` polynomial with f(0) = secret."""
    if not 0 <= threshold < parties:
        raise ValueError(f"threshold must be between 0 and parties - 1, not {threshold}")
    rng = rng or random.SystemRandom()
    coefficients = [secret % modulus] + [rng.randrange(modulus) for _ in range(threshold)]
    return [evaluate(coefficients, party_point(i), modulus) for i in range(parties)]


def lagrange_coefficients(points: Sequence[int], x: int, modulus: int) -> list[int]:
    """Weights w_j with f(x) = sum_j w_j f(points[j]) for every polynomial of degree < len(points)."""
    if len(set(points)) != len(points):
        raise ValueError("interpolation points must be distinct")
    weights = []
    for j, xj in enumerate(points):
        numerator, denominator = 1, 1
        for k, xk in enumerate(points):
            if k != j:
                numerator = numerator * (x - xk) % modulus
                denominator = denominator * (xj - xk) % modulus
        weights.append(numerator * pow(denominator, -1, modulus) % modulus)
    return weights


def interpolate(points: Sequence[int], values: Sequence[int], x: int, modulus: int) -> int:
    """The value at x of the unique polynomial of degree < len(points) through (points, values)."""
    weights = lagrange_coefficients(points, x, modulus)
    return sum(w * v for w, v in zip(weights, values, strict=True)) % modulus


def interpolate_at_zero(points: Sequence[int], values: Sequence[int], modulus: int) -> int:
    """Recombine a secret f(0) from shares f(points)."""
    return interpolate(points, values, 0, modulus)


def polynomial_through(points: Sequence[int], values: Sequence[int], modulus: int) -> list[int]:
    """Coefficients [c0, c1, ...] of the unique polynomial of degree < len(points) through the values.

    Built as sum_j v_j * L_j(x), multiplying out each Lagrange basis polynomial.
    """
    n = len(points)
    coefficients = [0] * n
    for j, (xj, vj) in enumerate(zip(points, values, strict=True)):
        basis = [1]  # coefficients of prod_{k != j} (x - x_k), lowest degree first
        denominator = 1
        for k, xk in enumerate(points):
            if k == j:
                continue
            shifted = [0] + basis  # x * basis
            scaled = [-xk * c for c in basis] + [0]  # -x_k * basis
            basis = [(a + b) % modulus for a, b in zip(shifted, scaled, strict=True)]
            denominator = denominator * (xj - xk) % modulus
        factor = vj * pow(denominator, -1, modulus) % modulus
        for d in range(n):
            coefficients[d] = (coefficients[d] + factor * basis[d]) % modulus
    return coefficients
