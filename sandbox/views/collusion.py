"""What a coalition of organisations could learn by pooling the shares they actually hold.

With threshold t, each value is hidden in a random polynomial f of degree t with f(0) = value, and
party i holds f(i + 1).

`attempt` is the attack itself, on the shares in the coalition's own transcripts: interpolate through
the points the coalition holds and read off f(0). With more than t members that IS the secret; with at
most t it is a random field element, and the sandbox (not the coalition) checks each guess against the
owner's own input. The Revealed page shows the attempt next to the same attempt by a coalition one
larger, so participants see it fail and succeed on the same run.

* More than t colluding parties hold at least t + 1 points of every f: Lagrange interpolation gives
  f(0), so they reconstruct every other organisation's inputs exactly. `collusion` does exactly that
  with the shares from their transcripts, and reports which organisations are exposed.
* At most t colluding parties hold at most t points. For every candidate secret s, the points plus
  (0, s) lie on a polynomial of degree <= t (exactly one of degree <= t when the coalition has t
  members; p^(t - k) of them when it has k < t). So every candidate is equally consistent with what
  they hold, and the shares tell them nothing. `collusion` shows this for one chosen value: for each
  candidate it returns the implied polynomial and the shares the other parties would then hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.i18n import gettext as _
from sandbox.views import shamir
from sandbox.views.run_view import RunView, ViewError

__all__ = ["Attempt", "Candidate", "CollusionResult", "attempt", "collusion"]


@dataclass
class Attempt:
    """The coalition's reconstruction of every secret-shared input it does not own, and how it went."""

    coalition: list[str]
    threshold: int
    rows: list[dict[str, Any]]  # owner, label, cell, guess, true_value (facilitator only), right
    right: int  # guesses equal to the owner's own input (checked by the sandbox, not the coalition)
    total: int

    @property
    def learned_everything(self) -> bool:
        return self.total > 0 and self.right == self.total


def attempt(run: RunView, coalition: list[str]) -> Attempt:
    """Interpolate at 0 through the coalition's own shares of every other organisation's inputs.

    Uses only what the coalition's transcripts hold (their `shares` events); the true values come from
    the owners' own transcripts and serve only to mark each guess right or wrong.
    """
    coalition = [org for org in run.orgs if org in set(coalition)]
    if not coalition:
        raise ViewError("choose at least one organisation for the coalition")
    points = _coalition_points(run, coalition)
    rows = []
    for owner in (o for o in run.orgs if o not in coalition):
        truth = run.own_inputs(owner)
        for label in run.share_labels():
            columns = [run.shares_of(h, owner, label) for h in coalition]
            n = min(len(c) for c in columns)
            cells = run.share_cells(owner, label)
            for k in range(n):
                guess = shamir.interpolate_at_zero(points, [c[k] for c in columns], run.modulus)
                true = truth.get(label, [])[k] if k < len(truth.get(label, [])) else None
                rows.append({"owner": owner, "label": label, "cell": cells[k] if k < len(cells) else str(k),
                             "guess": guess, "true_value": true, "right": true is not None and guess == true})
    return Attempt(coalition, run.threshold, rows, sum(r["right"] for r in rows), len(rows))


@dataclass
class Candidate:
    secret: int
    coefficients: list[int]  # c0 = secret, c1, ..., lowest degree first
    implied_shares: dict[str, int]  # the share each organisation OUTSIDE the coalition would hold
    consistent: bool  # passes through every share the coalition holds, degree <= t


@dataclass
class CollusionResult:
    coalition: list[str]
    threshold: int
    can_reconstruct: bool
    explanation: str
    # |coalition| > t: organisation -> label -> reconstructed input vector
    reconstructed: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    # sandbox check only (a real coalition has no such oracle): does it equal each owner's own input?
    agrees_with_owners: dict[str, bool] = field(default_factory=dict)
    # |coalition| <= t: the value examined and the equally consistent candidates
    target: dict[str, Any] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)
    polynomials_per_candidate: str = ""


def _coalition_points(run: RunView, coalition: list[str]) -> list[int]:
    return [shamir.party_point(run.index(org)) for org in coalition]


def collusion(
    run: RunView,
    coalition: list[str],
    *,
    target_owner: str | None = None,
    target_label: str | None = None,
    target_index: int = 0,
    candidates: range | list[int] | None = None,
) -> CollusionResult:
    """Pool the coalition's transcript shares; reconstruct (> t) or show all candidates fit (<= t)."""
    coalition = [org for org in run.orgs if org in set(coalition)]  # party order, no repeats
    if not coalition:
        raise ViewError("choose at least one organisation for the coalition")
    t, p = run.threshold, run.modulus
    points = _coalition_points(run, coalition)
    outsiders = [org for org in run.orgs if org not in coalition]
    names = ", ".join(coalition)

    if len(coalition) > t:
        result = CollusionResult(coalition, t, True, "")
        for owner in outsiders:
            result.reconstructed[owner] = {}
            for label in run.share_labels():
                columns = [run.shares_of(h, owner, label) for h in coalition]
                n = min(len(c) for c in columns)
                result.reconstructed[owner][label] = [
                    shamir.interpolate_at_zero(points, [c[k] for c in columns], p) for k in range(n)
                ]
            own = run.own_inputs(owner)
            result.agrees_with_owners[owner] = all(
                own.get(label, [])[: len(v)] == v for label, v in result.reconstructed[owner].items()
            )
        exposed = ", ".join(outsiders) or _("nobody (the coalition is everyone)")
        result.explanation = _(
            "{n} organisations ({names}) are more than the threshold t = {t}: "
            "together they hold {n} points of every degree-{t} polynomial, enough to "
            "interpolate it. They can reconstruct every input of: {exposed}."
        ).format(n=len(coalition), names=names, t=t, exposed=exposed)
        return result

    # At most t: examine one value of one organisation outside the coalition.
    if not outsiders:  # pragma: no cover - impossible, since t < m
        raise ViewError("the coalition holds every party")
    owner = target_owner if target_owner in outsiders else outsiders[0]
    labels = run.share_labels()
    label = target_label if target_label in labels else labels[0]
    held = [run.shares_of(h, owner, label) for h in coalition]
    if any(target_index >= len(c) for c in held):
        raise ViewError(f"{owner}'s {label!r} has no value number {target_index}")
    held_values = [c[target_index] for c in held]
    if candidates is None:
        candidates = range(21)
    free = t - len(coalition)
    result = CollusionResult(
        coalition,
        t,
        False,
        "",
        target={
            "owner": owner,
            "label": label,
            "index": target_index,
            "cell": (run.share_cells(owner, label) or [str(target_index)] * (target_index + 1))[target_index],
            "modulus": p,
            "true_value_facilitator_only": run.own_inputs(owner).get(label, [None] * (target_index + 1))[
                target_index
            ],
            "coalition_shares": dict(zip(coalition, held_values, strict=True)),
        },
        polynomials_per_candidate=_("exactly 1") if free == 0 else f"p^{free} (p = {p})",
    )
    for s in candidates:
        coefficients = shamir.polynomial_through([0, *points], [s, *held_values], p)
        fits = all(shamir.evaluate(coefficients, x, p) == v for x, v in zip(points, held_values, strict=True))
        result.candidates.append(
            Candidate(
                secret=s,
                coefficients=coefficients,
                implied_shares={
                    o: shamir.evaluate(coefficients, shamir.party_point(run.index(o)), p) for o in outsiders
                },
                consistent=fits and len(coefficients) <= t + 1 and coefficients[0] == s % p,
            )
        )
    how_many = (_("exactly one polynomial") if free == 0
                else _("the same number (p^{free}) of polynomials").format(free=free))
    result.explanation = _(
        "{n} organisation(s) ({names}): at most the threshold t = {t}. "
        "For every candidate value of {owner}'s '{cell}' there is {how_many} "
        "of degree {t} through their shares: every candidate is equally consistent, so pooling "
        "their shares tells them nothing about it."
    ).format(n=len(coalition), names=names, t=t, owner=owner, cell=result.target["cell"], how_many=how_many)
    return result
