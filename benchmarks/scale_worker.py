"""One scale measurement in a fresh interpreter, so that peak memory belongs to one cluster size only.

Run by ``benchmarks/run.py`` as ``python benchmarks/scale_worker.py N_FIRMS REPS``; prints one JSON
line. Each repetition builds a ``funded_programme`` cluster of ``N_FIRMS`` firms (the preset's mean
degree, so the same network density per firm) and runs it for 120 months. Construction and the
monthly loop are timed separately, as in Mesa's own benchmarks (init time, run time).
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time

SCENARIO = "funded_programme"
MONTHS = 120
FIRST_SEED = 1  # fixed seeds 1..REPS, as in Mesa's benchmark runner


def rss_mib() -> float:
    """Current resident set size in MiB (Linux /proc; falls back to the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return peak_rss_mib()


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def measure(n_firms: int, reps: int) -> dict:
    """Time ``reps`` runs of ``n_firms`` firms after a small warm-up; report times and peak memory."""
    import clustersim

    # warm-up on a small cluster: imports, numpy/scipy first-call costs, preset parsing
    clustersim.ClusterModel(SCENARIO, seed=0, n_firms=min(n_firms, 1000)).run(12)
    gc.collect()
    rss_before = rss_mib()
    init, run, ties_start, ties_end = [], [], 0, 0
    for r in range(reps):
        t0 = time.perf_counter()
        model = clustersim.ClusterModel(SCENARIO, seed=FIRST_SEED + r, n_firms=n_firms)
        t1 = time.perf_counter()
        ties_start = int(model.ties.active.sum())  # outside the timed spans
        t1b = time.perf_counter()
        model.run(MONTHS)
        t2 = time.perf_counter()
        init.append(t1 - t0)
        run.append(t2 - t1b)
        ties_end = int(model.ties.active.sum())
        del model
        gc.collect()
    return {
        "n_firms": n_firms,
        "months": MONTHS,
        "reps": reps,
        "init_s": init,
        "run_s": run,
        "total_s": [a + b for a, b in zip(init, run, strict=True)],
        "active_ties_at_start": ties_start,
        "mean_degree_at_start": 2 * ties_start / n_firms,
        "active_ties_at_end": ties_end,
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak_rss_mib(),
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]))))
