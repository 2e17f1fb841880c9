"""Disclosure playground: a differencing attack on SYNTHETIC records, and three protections.

The attack. Query A counts the registrations in police region R; query B counts those in R whose
nationality is not N. If exactly one registration in R has nationality N, then A - B = 1: the two
harmless-looking totals reveal that this one person is registered, and the per-form differences
reveal their form of exploitation. `find_targets` picks such (R, N) pairs from the data.

The protections, each run as real MPC queries (computation `count-filtered`, secure sum):

(a) none        — both queries opened exactly: the difference exposes the person.
(b) threshold   — the small-cell rule inside MPC: a cell with 0 < count < min_cell is never opened.
                  This blocks the attack only when region R itself is small (then A and B are
                  withheld). For a large region both totals are opened and the attack still works:
                  suppressing small cells does not stop differencing of large ones.
(c) approval    — the query-approval rule: a new query is refused unless its record set differs from
                  every earlier approved query's set by at least min_cell records (|new Δ earlier| >=
                  min_cell). It is decided inside MPC (computation `query-approval`), which opens one bit
                  per check and nothing else. A refusal covers "no difference at all" as well as "a few",
                  so it does not reveal that anyone is in the difference; what the bit does say is
                  "fewer than min_cell" (refused) or "at least min_cell" (approved).
(d) noise       — discrete Laplace noise with parameter epsilon added inside MPC before opening (each
                  party draws its own share of the noise from the OS's CSPRNG in its own process; see
                  sandbox/mpc/noise.py). `tradeoff` gives the expected absolute error of a count, the
                  success probability of an attacker who compares the two totals, and the
                  differential-privacy bound for the per-person privacy loss.

The in-the-clear helpers (`count_in_clear`, `difference_size_in_clear`) compute the exact numbers from
the pooled files with the sandbox's independent oracle (`sandbox.mpc.oracle`; facilitator only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sandbox.i18n import gettext as _
from sandbox.mpc import oracle as plain_oracle
from sandbox.mpc.computations import FILTER_CELLS
from sandbox.mpc.noise import loss_per_person

__all__ = [
    "ApprovalRule",
    "AttackOutcome",
    "Playground",
    "Target",
    "attacker_success",
    "count_in_clear",
    "difference_size_in_clear",
    "expected_abs_error",
    "find_targets",
    "load_frames",
    "noisy_sum_samples",
    "run_playground",
    "tradeoff",
]

COMPUTATION = "count-filtered"
PROTECTIONS = ("none", "threshold", "approval", "noise")
Query = dict[str, Any]  # {"region": str | None, "exclude_nationality": str | None}


# --------------------------------------------------------------------------- the data and the target


def load_frames(data_dir: str | Path, orgs: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Every organisation's records, read in the clear (facilitator and oracle use only)."""
    from sandbox.mpc.inputs import read_own_records

    return {org: read_own_records(Path(data_dir) / f"{org}.csv") for org in orgs}


@dataclass
class Target:
    region: str
    nationality: str
    a: int  # registrations in the region
    b: int  # registrations in the region without that nationality (= a - 1)
    record: dict[str, Any]  # the one registration the difference exposes (facilitator only)

    @property
    def query_a(self) -> Query:
        return {"region": self.region, "exclude_nationality": None}

    @property
    def query_b(self) -> Query:
        return {"region": self.region, "exclude_nationality": self.nationality}


def find_targets(frames: dict[str, pd.DataFrame]) -> list[Target]:
    """All (region, nationality) pairs with exactly one registration, smallest region first."""
    pooled = pd.concat([df for df in frames.values() if len(df)], ignore_index=True)
    if not {"region", "nationality"} <= set(pooled.columns):
        return []
    pooled = pooled[(pooled["region"] != "") & (pooled["nationality"] != "")]
    targets = []
    for (region, nationality), group in pooled.groupby(["region", "nationality"]):
        if len(group) == 1:
            a = int((pooled["region"] == region).sum())
            record = {k: v for k, v in group.iloc[0].to_dict().items() if k != "synthetic"}
            targets.append(Target(str(region), str(nationality), a, a - 1, record))
    return sorted(targets, key=lambda tg: (tg.a, tg.region, tg.nationality))


# --------------------------------------------------------------------------- in the clear (oracle)


def _params(query: Query, **extra: Any) -> dict[str, Any]:
    return {"region": query.get("region"), "exclude_nationality": query.get("exclude_nationality"), **extra}


def count_in_clear(
    frames: dict[str, pd.DataFrame],
    query: Query,
    *,
    min_cell: int = 0,
) -> dict[str, int | None]:
    """The exact cells `count-filtered` opens for this query (no noise), computed from the pooled files."""
    params = _params(query, min_cell=min_cell, orgs=list(frames))
    return dict(plain_oracle.oracle(frames, COMPUTATION, params)["revealed"])


def difference_size_in_clear(frames: dict[str, pd.DataFrame], query: Query, earlier: Query) -> int:
    """|records matching exactly one of the two queries|, from the pooled files."""
    params = _params(query, min_cell=0, orgs=list(frames), differs_from=earlier)
    return int(plain_oracle.oracle(frames, COMPUTATION, params)["revealed"]["all"])


# --------------------------------------------------------------------------- the approval rule


@dataclass
class Decision:
    approved: bool
    reason: str


@dataclass
class ApprovalRule:
    """Approve a query only if its set differs from every earlier approved query's by >= min_cell records.

    `check` is a function (query, earlier) -> the one opened bit "they differ by at least min_cell
    records"; the playground decides it with MPC (`query-approval`), which opens nothing else.
    """

    min_cell: int
    check: Callable[[Query, Query], bool]
    approved: list[Query] = field(default_factory=list)

    def submit(self, query: Query) -> Decision:
        for earlier in self.approved:
            if not self.check(query, earlier):
                return Decision(
                    False,
                    _("refused: its records differ from an approved query ({query}) by fewer "
                      "than {min_cell} registrations (perhaps by none)").format(query=describe(earlier),
                                                                                min_cell=self.min_cell),
                )
        self.approved.append(query)
        if len(self.approved) == 1:
            return Decision(True, _("approved: the first query"))
        return Decision(True, _("approved: it differs from every approved query by at least {min_cell}").format(
            min_cell=self.min_cell))


def describe(query: Query) -> str:
    text = f"region {query.get('region') or 'any'}"
    if query.get("exclude_nationality"):
        text += f", excluding nationality {query['exclude_nationality']}"
    return text


# --------------------------------------------------------------------------- noise: accuracy and privacy


def _residual_pmf(epsilon: float, shape: float) -> tuple[np.ndarray, np.ndarray]:
    """P(N1 - N2 = k) for independent negative binomials NB(shape, 1 - e^-eps); returns (k, pmf)."""
    a = math.exp(-epsilon)
    top = int(stats.nbinom.ppf(1 - 1e-13, shape, 1 - a)) + 1
    pmf = stats.nbinom.pmf(np.arange(top + 1), shape, 1 - a)
    diff = np.convolve(pmf, pmf[::-1])  # index j corresponds to k = j - top
    return np.arange(-top, top + 1), diff


def expected_abs_error(epsilon: float) -> float:
    """E|noise| of one opened count: for discrete Laplace with a = e^-eps this is 2a / (1 - a^2)."""
    a = math.exp(-epsilon)
    return 2 * a / (1 - a * a)


def attacker_success(epsilon: float, *, parties: int = 1, colluders: int = 0) -> float:
    """Probability that the differencing attacker guesses presence right (prior 1/2, best decision rule).

    The attacker sees D = (A - B) + Z with Z = noise_A - noise_B and decides "present" when D >= 1;
    that is right with probability (1 + P(Z = 0)) / 2. Without colluders each query's noise is discrete
    Laplace; with `colluders` of the `parties` subtracting their own noise shares, what is left of each
    query's noise is NB(r) - NB(r) with r = (parties - colluders) / parties, so Z = NB(2r) - NB(2r).
    """
    r = 1.0 if colluders == 0 else (parties - colluders) / parties
    if r <= 0:
        return 1.0
    ks, pmf = _residual_pmf(epsilon, 2 * r)
    return float((1 + pmf[ks == 0][0]) / 2)


def tradeoff(epsilons: Sequence[float], *, parties: int, colluders: int = 0,
             cells_per_record: int = 1 + len(FILTER_CELLS) - 1) -> pd.DataFrame:
    """Accuracy versus privacy for a plot: one row per epsilon.

    attacker_success is for the attacker of the playground, who compares the two "all" totals.
    privacy_loss_per_person is the differential-privacy epsilon per person of ONE query: a registration
    changes the "all" cell and the cell of each of its forms, `cells_per_record` cells in all (default:
    the worst case, a record with every form), each with noise of parameter epsilon. dp_bound is what
    that guarantees for ANY attacker who sees the two answers (the person is in query A only):
    success <= e^L / (1 + e^L) with L = privacy_loss_per_person.
    """
    rows = []
    for eps in epsilons:
        loss = loss_per_person(eps, cells_per_record)
        rows.append(
            {
                "epsilon": float(eps),
                "expected_abs_error": expected_abs_error(eps),
                "attacker_success": attacker_success(eps, parties=parties),
                "attacker_success_with_colluders": attacker_success(eps, parties=parties, colluders=colluders)
                if colluders
                else None,
                "privacy_loss_per_person": loss,
                "dp_bound": 1 / (1 + math.exp(-loss)),
            }
        )
    return pd.DataFrame(rows)


def noisy_sum_samples(epsilon: float, parties: int, size: int, seed: int) -> np.ndarray:
    """Draws of the total noise exactly as the MPC adds it: the sum of every party's NB(1/m) - NB(1/m)."""
    rng = np.random.default_rng(seed)
    a = math.exp(-epsilon)
    total = np.zeros(size, dtype=np.int64)
    for _party in range(parties):
        total += rng.negative_binomial(1 / parties, 1 - a, size) - rng.negative_binomial(
            1 / parties, 1 - a, size
        )
    return total


# --------------------------------------------------------------------------- the playground with MPC


@dataclass
class AttackOutcome:
    protection: str
    a: dict[str, int | None] | None  # opened cells of query A (None: the query was refused)
    b: dict[str, int | None] | None
    success: bool  # did the attacker learn the person's presence?
    explanation: str
    revealed_forms: list[str] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)  # summaries of the MPC runs used


@dataclass
class Playground:
    target: Target
    min_cell: int
    epsilon: float | None
    outcomes: list[AttackOutcome]

    def outcome(self, protection: str) -> AttackOutcome:
        return next(o for o in self.outcomes if o.protection == protection)


def _difference(a: dict[str, int | None], b: dict[str, int | None]) -> dict[str, int | None]:
    return {c: None if a[c] is None or b[c] is None else a[c] - b[c] for c in FILTER_CELLS}


def _judge(protection: str, target: Target, a, b, *, noisy: bool = False) -> AttackOutcome:
    diff = _difference(a, b)
    if diff["all"] is None:
        return AttackOutcome(
            protection,
            a,
            b,
            False,
            _("Blocked: a total was below the small-cell threshold and was never opened, "
              "so there is no difference to take."),
        )
    guess_present = diff["all"] >= 1  # the best rule for an attacker who sees one difference
    forms = [c for c in vocab_forms() if diff[c] is not None and diff[c] >= 1]
    true_forms = sorted(str(target.record.get("form", "")).split(";"))
    success = bool(guess_present)
    if noisy:
        text = (_(
            "With noise the difference is {diff} instead of 1. The attacker guesses that one person of "
            "nationality {nationality} is registered in {region}; with this noise such a guess is right "
            "only with the probability shown in the trade-off plot.") if guess_present else _(
            "With noise the difference is {diff} instead of 1. The attacker does NOT conclude that one person "
            "of nationality {nationality} is registered in {region}; with this noise such a guess is right "
            "only with the probability shown in the trade-off plot.")).format(
                diff=diff["all"], nationality=target.nationality, region=target.region)
    elif guess_present:
        text = _(
            "Exposed: A - B = {diff}, so exactly one registration in {region} has nationality "
            "{nationality}; the per-form differences reveal the form(s): {forms} (true: {true})."
        ).format(diff=diff["all"], region=target.region, nationality=target.nationality,
                 forms=", ".join(forms) or "-", true=", ".join(true_forms))
    else:
        text = _("The difference is 0: nothing is exposed.")
    return AttackOutcome(protection, a, b, success, text, forms)


def vocab_forms() -> list[str]:
    return [c for c in FILTER_CELLS if c != "all"]


def _summary(result: Any) -> dict[str, Any]:
    return {
        "revealed": result.revealed,
        "match": result.match,
        "seconds": result.seconds,
        "out_dir": result.out_dir,
        "transcripts": result.transcripts,
    }


def run_playground(
    scenario: Any,
    data_dir: str | Path,
    target: Target,
    *,
    min_cell: int,
    epsilon: float | None = None,
    orgs: list[str] | None = None,
    out_root: str | Path | None = None,
    run: Callable[..., Any] | None = None,
    protections: Sequence[str] = PROTECTIONS,
) -> Playground:
    """Run the attack with real MPC queries under each chosen protection (up to 7 MPC runs).

    `run` defaults to sandbox.mpc.runner.run_mpc; every run is checked against the plaintext oracle.
    "noise" runs only when epsilon is given.
    """
    if run is None:
        from sandbox.mpc.runner import run_mpc as run
    orgs = list(orgs or scenario.org_ids)
    counter = iter(range(1, 100))

    def query(q: Query, computation: str = COMPUTATION, **params: Any) -> tuple[dict[str, int | None], dict[str, Any]]:
        out = None if out_root is None else Path(out_root) / f"query-{next(counter)}"
        result = run(scenario, data_dir, computation, orgs=orgs, params=_params(q, **params), out_dir=out)
        if result.match is False:
            raise RuntimeError("an MPC query disagreed with the plaintext oracle")
        return dict(result.revealed), _summary(result)

    outcomes = []
    # (a) no protection
    if "none" in protections:
        a, ra = query(target.query_a, min_cell=0)
        b, rb = query(target.query_b, min_cell=0)
        outcome = _judge("none", target, a, b)
        outcome.runs = [ra, rb]
        outcomes.append(outcome)

    # (b) small-cell threshold inside MPC (its answers are also what (c) opens when it approves)
    if "threshold" in protections or "approval" in protections:
        a, ra = query(target.query_a, min_cell=min_cell)
        b, rb = query(target.query_b, min_cell=min_cell)
    if "threshold" in protections:
        outcome = _judge("threshold", target, a, b)
        if outcome.success:
            outcome.explanation = _(
                "NOT blocked: region {region} has {a} registrations, at least "
                "min_cell = {min_cell}, so both totals were opened."
            ).format(region=target.region, a=target.a, min_cell=min_cell) + " " + outcome.explanation
        outcome.runs = [ra, rb]
        outcomes.append(outcome)
    if "approval" in protections:
        outcomes.append(_approval(target, min_cell, query, a, b, ra))

    # (d) noise added inside MPC before opening (the small-cell rule is replaced by the noise)
    if epsilon is not None and "noise" in protections:
        a_noisy, ra = query(target.query_a, min_cell=0, noise_epsilon=epsilon)
        b_noisy, rb = query(target.query_b, min_cell=0, noise_epsilon=epsilon)
        outcome = _judge("noise", target, a_noisy, b_noisy, noisy=True)
        outcome.runs = [ra, rb]
        outcomes.append(outcome)
    return Playground(target, min_cell, epsilon, outcomes)


def _approval(target: Target, min_cell: int, query: Callable, a: dict, b: dict, ra: dict) -> AttackOutcome:
    """(c) query approval: one bit per check, decided inside MPC (`query-approval`)."""
    runs: list[dict[str, Any]] = []

    def check(q: Query, earlier: Query) -> bool:
        opened, summary = query(q, "query-approval", min_cell=min_cell, differs_from=earlier)
        runs.append(summary)
        return bool(opened["approved"])

    rule = ApprovalRule(min_cell, check)
    rule.submit(target.query_a)
    second = rule.submit(target.query_b)
    if second.approved:  # the rule let it through: the threshold-protected answers are what is opened
        outcome = _judge("approval", target, a, b)
        outcome.explanation = _("Query B {reason}.").format(reason=second.reason) + " " + outcome.explanation
    else:
        outcome = AttackOutcome(
            "approval",
            a,
            None,
            False,
            _("Query B was {reason}, so only A was answered and there is no difference to take. "
              "What the refusal itself tells everyone: fewer than {min_cell} registrations in {region} "
              "have nationality {nationality} -- possibly none (the same bit as when nobody has it), "
              "and nothing about their form.").format(reason=second.reason, min_cell=min_cell,
                                                      region=target.region, nationality=target.nationality),
        )
    outcome.runs = [ra, *runs]
    return outcome
