"""Normal and chi-square tails from the standard library's erf, erfc and lgamma.

scipy.special gives the same figures (to 1e-12, tails included) but its import takes ~0.3 s
of array-API machinery, most of a sequential or Bayesian `analyze`; only the t tails of the
frequentist test still come from it.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

SQRT1_2 = math.sqrt(0.5)


def ndtr(x) -> np.ndarray:
    """Standard normal CDF, as scipy.special.ndtr: erf near 0, erfc in the tails, where
    1 - CDF would lose the digits."""
    a = np.asarray(x, dtype=float) * SQRT1_2
    flat = np.abs(a).ravel()
    tail = 0.5 * np.fromiter(map(math.erfc, flat.tolist()), dtype=float, count=flat.size)
    out = np.where(a.ravel() > 0, 1.0 - tail, tail)
    near = np.flatnonzero(flat < SQRT1_2)
    out[near] = 0.5 + 0.5 * np.fromiter(map(math.erf, a.ravel()[near].tolist()), dtype=float,
                                        count=near.size)
    return out.reshape(a.shape)


def ndtri(p: float) -> float:
    """The standard normal quantile of p (Wichura's AS 241, as scipy.special.ndtri): -inf at
    0, inf at 1, NaN outside."""
    if 0 < p < 1:
        return NormalDist().inv_cdf(p)
    return {0: -math.inf, 1: math.inf}.get(p, math.nan)


def chi2_sf(dof: int, x: float) -> float:
    """P(X > x) for X chi-square with a whole number of degrees of freedom (as
    scipy.special.chdtrc), from its closed form: erfc for the odd part plus terms
    e^-h h^a / Gamma(a + 1), h = x / 2, each taken in logs so none overflows."""
    h = x / 2
    if h <= 0:  # x below the smallest number that halves to more than 0
        return 1.0
    if h == math.inf:
        return 0.0
    a, total = (0.5, math.erfc(math.sqrt(h))) if dof % 2 else (0.0, 0.0)
    log_h = math.log(h)
    while a < dof / 2:
        total += math.exp(a * log_h - h - math.lgamma(a + 1))
        a += 1
    return min(total, 1.0)
