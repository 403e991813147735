"""Sample-ratio mismatch: are users split between variants as planned?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from growthlab.errors import StatsError

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


def srm_test(users: Sequence[int], weights: Sequence[float] | None = None,
             variants: Sequence[str] = ()) -> SrmResult:
    """Chi-square goodness of fit of users per variant against planned weights.

    `variants` names the entries of `users` and `weights`, in the same order. An arm with
    0 users is a (maximal) mismatch, not an error.
    """
    counts = np.asarray(users, dtype=float)
    if counts.size < 2:
        raise StatsError("a sample-ratio check needs at least two variants")
    if (counts < 0).any():
        raise StatsError("users per variant cannot be negative")
    w = np.full(counts.size, 1.0 / counts.size) if weights is None else np.asarray(weights, float)
    if w.size != counts.size:
        raise StatsError(f"{w.size} weights given for {counts.size} variants; give one per variant")
    if (w <= 0).any():
        raise StatsError("planned weights must all be positive")
    w = w / w.sum()
    total = counts.sum()
    if total == 0:
        raise StatsError("no users in any variant: nothing to check yet")
    expected = total * w
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    p = float(sps.chi2.sf(chi2, counts.size - 1))
    return SrmResult(p, p < SRM_THRESHOLD, [int(c) for c in counts], [float(x) for x in w],
                     list(variants))
