"""Plain-language warnings about a capture table, for the workshop lesson."""

from __future__ import annotations

from sandbox.i18n import N_

from .table import CaptureTable

#: Cells with this many people or fewer count as "sparse".
SPARSE_CELL_MAX = 3
#: A list with fewer people than this is flagged as very small.
SMALL_LIST = 10
#: Warn when fewer than this share of people are on two or more lists.
LOW_OVERLAP_SHARE = 0.10
#: Warn when the estimate is more than this many times the observed total.
LARGE_RATIO = 5.0


def table_warnings(table: CaptureTable) -> list[str]:
    """All data warnings for ``table`` (empty lists should be dropped first)."""
    checks = (_two_lists, _non_overlapping_pairs, _isolated_lists, _small_lists, _sparse_cells, _low_overlap)
    return [message for check in checks for message in check(table)]


def estimate_warnings(observed: int, estimate: float, method: str) -> list[str]:
    """Warnings about a single estimate (e.g. a very large dark figure)."""
    if observed and estimate > LARGE_RATIO * observed:
        return [N_(
            "{method}: the estimate is {ratio} times the number observed; "
            "most of it is extrapolation from a few overlaps - treat it as very uncertain"
        ).format(method=method, ratio=f"{estimate / observed:.1f}")]
    return []


def _two_lists(table: CaptureTable) -> list[str]:
    if table.k != 2:
        return []
    return [N_(
        "Only two lists: only the main-effects model (the Lincoln-Petersen estimate "
        "n1*n2/overlap) is possible. It assumes the two lists pick people independently, "
        "which cannot be checked with two lists; every method gives this same estimate."
    )]


def _non_overlapping_pairs(table: CaptureTable) -> list[str]:
    pairs = [f"{table.lists[i]}-{table.lists[j]}" for (i, j), n in table.pair_overlaps().items() if n == 0]
    if not pairs:
        return []
    return [N_(
        "{n} pair(s) of lists share nobody ({pairs}). A model that includes "
        "such a pair fits it as 'never overlapping' (no expected people on both lists), which can "
        "change the estimate a lot; the data cannot tell that apart from chance."
    ).format(n=len(pairs), pairs=", ".join(pairs))]


def _isolated_lists(table: CaptureTable) -> list[str]:
    messages = []
    for i, name in enumerate(table.lists):
        shared = sum(table.pair_overlap(min(i, j), max(i, j)) for j in range(table.k) if j != i)
        if shared == 0 and table.list_totals()[name] > 0:
            messages.append(N_(
                "List {name} shares nobody with any other list: the model can only treat it "
                "as independent of the others, which the data cannot confirm."
            ).format(name=name))
    return messages


def _small_lists(table: CaptureTable) -> list[str]:
    small = [f"{name} ({n})" for name, n in table.list_totals().items() if 0 < n < SMALL_LIST]
    if not small:
        return []
    return [N_(
        "Very small list(s): {lists} people. Estimates involving them are unstable; "
        "consider merging them with a similar list."
    ).format(lists=", ".join(small))]


def _sparse_cells(table: CaptureTable) -> list[str]:
    positive = table.counts[table.counts > 0]
    sparse = int(((positive >= 1) & (positive <= SPARSE_CELL_MAX)).sum())
    if sparse == 0 or sparse < max(3, 0.25 * len(positive)):
        return []
    return [N_(
        "Sparse table: {sparse} of {n} observed patterns hold only 1-{max} "
        "people. Small cells make interaction estimates unstable (intervals are wide) and are "
        "also the cells most at risk of identifying a person."
    ).format(sparse=sparse, n=len(positive), max=SPARSE_CELL_MAX)]


def _low_overlap(table: CaptureTable) -> list[str]:
    multiple = int(table.counts[table.patterns.sum(axis=1) >= 2].sum())
    share = multiple / table.observed if table.observed else 0.0
    if share >= LOW_OVERLAP_SHARE:
        return []
    return [N_(
        "Only {multiple} of {n} people ({share}) are on two or more lists; "
        "the estimate rests on these few overlaps and is sensitive to the model chosen."
    ).format(multiple=multiple, n=table.observed, share=f"{share:.1%}")]
