"""Scaling check of greedy nearest-neighbour matching (not a test): prints wall time for 10^4, 10^5, 10^6 patients.

Run: .venv/bin/python benchmarks/bench_matching.py [sizes...]
A synthetic cohort with 1/3 treated, logit-normal propensity scores, 1:1 matching, caliper 0.2 SD of the logit,
largest-first order; then 2:1 without caliper. Times grow about linearly (sorting is n log n).
"""
from __future__ import annotations

import sys
import time

import numpy as np

from hcc_utils.stats.matching import nearest_neighbor_match


def cohort(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    treated = rng.random(n) < 1 / 3
    logit = rng.normal(-0.8, 1.0, n) + 0.6 * treated
    return 1 / (1 + np.exp(-logit)), treated


def main(sizes: list[int]) -> None:
    print(f"{'patients':>10} {'1:1 caliper (s)':>16} {'pairs':>9} {'2:1 (s)':>9}")
    for n in sizes:
        score, treated = cohort(n)
        t0 = time.perf_counter()
        res = nearest_neighbor_match(score, treated, caliper=0.2, caliper_scale="logit", order="largest")
        t1 = time.perf_counter()
        nearest_neighbor_match(score, treated, ratio=2, caliper_scale="logit", order="largest")
        t2 = time.perf_counter()
        pairs = int((res.match_matrix[:, 0] >= 0).sum())
        print(f"{n:>10} {t1 - t0:>16.2f} {pairs:>9} {t2 - t1:>9.2f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10**4, 10**5, 10**6])
