"""Holm and Benjamini-Hochberg for many experiments: one vectorised pass vs statsmodels'
multipletests called once per experiment (each call costs a garbage collection).

Run: python benchmarks/corrections.py [EXPERIMENTS]. Prints both timings, the ratio and the
largest difference between the adjusted p-values (must be below 1e-12).
"""

import sys
import time

import numpy as np
from statsmodels.stats.multitest import multipletests

from growthlab.stats.analysis import adjust


def main(experiments: int = 1_000) -> None:
    rng = np.random.default_rng(1)
    family = np.repeat(np.arange(experiments), rng.integers(1, 9, experiments))
    p = rng.uniform(0, 1, family.size) ** 2
    for correction, method in (("holm", "holm"), ("bh", "fdr_bh")):
        start = time.perf_counter()
        ours = adjust(p, family, correction)
        vectorised = time.perf_counter() - start
        start = time.perf_counter()
        loop = np.empty_like(p)
        for f in range(experiments):
            mask = family == f
            loop[mask] = multipletests(p[mask], method=method)[1]
        per_family = time.perf_counter() - start
        diff = float(np.max(np.abs(ours - loop)))
        print(f"{correction}: {experiments:,} experiments, {p.size:,} comparisons: vectorised "
              f"{vectorised:.3f} s, multipletests per experiment {per_family:.2f} s "
              f"({per_family / vectorised:,.0f}x); largest difference {diff:.1e}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000)
