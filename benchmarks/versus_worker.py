"""Time clustersim from a given source tree, in a fresh interpreter (used by run.py --against).

Usage: versus_worker.py TREE N_FIRMS REPS  -> prints one JSON line with per-run wall times.
"""

from __future__ import annotations

import gc
import json
import sys
import time

tree, n_firms, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, tree)
import clustersim  # noqa: E402

assert clustersim.__file__.startswith(tree), f"imported {clustersim.__file__}, not from {tree}"
SCENARIO, MONTHS = "funded_programme", 120
clustersim.ClusterModel(SCENARIO, seed=1000, n_firms=min(n_firms, 1000)).run(MONTHS)  # warm-up
totals = []
for seed in range(1, reps + 1):
    gc.collect()
    t0 = time.perf_counter()
    clustersim.ClusterModel(SCENARIO, seed=seed, n_firms=n_firms).run(MONTHS)
    totals.append(time.perf_counter() - t0)
print(json.dumps({"tree": tree, "n_firms": n_firms, "total_s": totals}))
