"""Scratch check (not part of the package): do counter-based draws tighten paired comparisons?

For a lever at two values, run ``funded_programme`` on the same 24 seeds under each backend and print the mean
and standard deviation of the paired difference in mean cooperation over 72 months. Exploratory, not registered.

    .venv/bin/python docs/plans/counter_crn_check.py grant_amount 20 400
    .venv/bin/python docs/plans/counter_crn_check.py bso_facilitation_skill 0.3 0.5
"""

import sys

import numpy as np

from clustersim.model import ClusterModel

REPLICATES, MONTHS, OUTCOME = 24, 72, "mean_cooperation"


def paired_differences(lever: str, low: float, high: float, streams: str) -> np.ndarray:
    def outcome(seed, value):
        return ClusterModel("funded_programme", seed=seed, streams=streams, **{lever: value}).run(MONTHS).summary()

    return np.array([outcome(s, high)[OUTCOME] - outcome(s, low)[OUTCOME] for s in range(REPLICATES)])


if __name__ == "__main__":
    lever, low, high = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    for streams in ("legacy", "counter"):
        d = paired_differences(lever, low, high, streams)
        se = d.std(ddof=1) / np.sqrt(d.size)
        print(f"{streams:8s} mean difference {d.mean():.4f}  sd {d.std(ddof=1):.4f}  z {d.mean() / se:.1f}")
