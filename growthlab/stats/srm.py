"""Sample-ratio mismatch: are users split between variants as planned?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from growthlab.errors import StatsError
from growthlab.stats.tails import chi2_sf

SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SrmResult:
    p_value: float
    flagged: bool
    users: list[int]
    expected_weights: list[float]
    variants: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"p_value": self.p_value, "flagged": self.flagged, "users": self.users,
                "expected_weights": self.expected_weights, "variants": self.variants}


def p_text(p_value: float) -> str:
    """A sample-ratio p-value in words: below a bound when it is too small to print."""
    return "p < 0.0001" if p_value < 1e-4 else f"p = {p_value:.2g}"


def srm_test(users: Sequence[int], weights: Sequence[float] | None = None,
             variants: Sequence[str] = ()) -> SrmResult:
    """Chi-square goodness of fit of users per variant against planned weights.

    `variants` names the entries of `users` and `weights`, in the same order. An arm with
    0 users is a (maximal) mismatch, not an error.
    """
    return srm_tests([users], [weights], [variants])[0]


def srm_tests(users: Sequence[Sequence[int]], weights: Sequence[Sequence[float] | None],
              variants: Sequence[Sequence[str]]) -> list[SrmResult]:
    """srm_test for many experiments at once."""
    statistics, dofs, parts = [], [], []
    for counts, planned in zip(users, weights, strict=True):
        counts = [float(c) for c in counts]
        shares = _shares(len(counts), planned)
        if any(c < 0 for c in counts):
            raise StatsError("users per variant cannot be negative")
        total = sum(counts)
        if total == 0:
            raise StatsError("no users in any variant: nothing to check yet")
        statistics.append(sum((c - total * w) ** 2 / (total * w)
                              for c, w in zip(counts, shares, strict=True)))
        dofs.append(len(counts) - 1)
        parts.append(([int(c) for c in counts], shares))
    p_values = [chi2_sf(k, x) for k, x in zip(dofs, statistics, strict=True)]
    return [SrmResult(p, p < SRM_THRESHOLD, counts, shares, list(names))
            for p, (counts, shares), names in zip(p_values, parts, variants, strict=True)]


def _shares(size: int, weights: Sequence[float] | None) -> list[float]:
    if size < 2:
        raise StatsError("a sample-ratio check needs at least two variants")
    if weights is None:
        return [1.0 / size] * size
    if len(weights) != size:
        raise StatsError(f"{len(weights)} weights given for {size} variants; give one per "
                         "variant")
    if any(w <= 0 for w in weights):
        raise StatsError("planned weights must all be positive")
    largest = float(max(weights))  # scaled first: weights near 1e308 add up to infinity
    total = sum(float(w) / largest for w in weights)
    return [float(w) / largest / total for w in weights]
