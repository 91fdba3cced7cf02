"""Seed scheme: every run's seed derives from one root ``numpy.random.SeedSequence``.

The seed of a run is a pure function of the root seed and the run's key
(design point, replicate), never of the order in which runs are executed, so
serial, parallel, sharded and resumed sweeps give identical results.
"""

from __future__ import annotations

import numpy as np


def run_seed(root: int, *key: int) -> int:
    """The integer seed of the run identified by ``key`` under ``root``.

    Equivalent to ``SeedSequence(root).spawn(...)`` children addressed by
    ``spawn_key=key``, reduced to a 63-bit integer so it can be recorded.
    """
    ss = np.random.SeedSequence(root, spawn_key=tuple(int(k) for k in key))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def replicate_seeds(root: int, replicates: int) -> list[int]:
    """Seeds of replicates ``0..replicates-1`` of a single scenario run."""
    return [run_seed(root, r) for r in range(replicates)]
