"""The Sobol' study of issue 12's bar (experiments/sobol_study.toml: 12 factors, N = 1024, 5 replicates,
71,680 runs): a 1/``slices`` shard run through the local executor and extrapolated to the whole study.

A shard takes every ``slices``-th run of the design (``run_experiment(shard="0/n")``), so it spans the whole
factor space and the extrapolation does not depend on which corner of it is cheap. The process pool's start-up
is counted, as it is for a user; it is small against minutes of runs.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

STUDY = Path(__file__).resolve().parent.parent / "experiments" / "sobol_study.toml"
TARGET_S = 30 * 60  # issue 12: the whole study in at most 30 minutes on 2 cores


def bench_sobol(slices: int, workers: int) -> dict:
    """Wall time of shard 0 of ``slices`` and the study's extrapolated wall time."""
    from clustersim.experiments import load_experiment, run_experiment

    exp = load_experiment(STUDY)
    with tempfile.TemporaryDirectory(prefix="clustersim-sobol-") as tmp:
        t0 = time.perf_counter()
        table = run_experiment(
            STUDY, executor="local", workers=workers, shard=f"0/{slices}", out=Path(tmp) / "out", progress=False
        )
        secs = time.perf_counter() - t0
    runs = len(table)
    return {
        "study": str(STUDY.name),
        "study_runs": exp.n_runs,
        "slices": slices,
        "workers": workers,
        "runs": runs,
        "seconds": secs,
        "runs_per_s": runs / secs,
        "extrapolated_s": secs * exp.n_runs / runs,
        "target_s": TARGET_S,
    }
