"""Typed joint actions (SF10): the book of every joint action started in a run.

Every running joint action is a repeated public goods game among its participants
(``clustersim.processes.play``); formation and completion are processes too. The per-type table
(multiplier, cost, duration, ...) is in the registry (``clustersim.coefficients``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .coefficients import ACTION_TYPES

__all__ = ["ACTION_TYPES", "ActionBook", "EXPORT"]

# Sources: 000 §Benefits of the Cluster Approach (knowledge sharing; common activities in
# production: testing, standards, joint import; joint marketing; joint internationalization;
# lobbying); 004 §Collective efficiency. Each type's numbers are registry entries
# (clustersim.coefficients.ACTION_TYPE_TABLE), overridable per scenario.
KNOWLEDGE, PRODUCTION, MARKETING, EXPORT, LOBBYING = range(len(ACTION_TYPES))


@dataclass
class ActionBook:
    """Arrays describing every joint action started in a run or an ensemble of runs (grown by doubling).

    ``cluster`` is the cluster each action belongs to and ``local`` its number within that cluster
    (0, 1, 2, ... in the order the cluster started them): draws address an action by its cluster and
    local number, never by its position in the book, which depends on the other clusters of a batch.
    """

    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray
    size: np.ndarray
    contributions: np.ndarray
    facilitated: np.ndarray  # facilitation level in [0, 1] (0 = self-organised)
    running: np.ndarray
    succeeded: np.ndarray
    cluster: np.ndarray
    local: np.ndarray
    count: int = 0

    DTYPES = {
        "kind": np.int64,
        "start": np.int64,
        "end": np.int64,
        "size": np.int64,
        "contributions": float,
        "facilitated": float,
        "running": bool,
        "succeeded": bool,
        "cluster": np.int64,
        "local": np.int64,
    }

    @classmethod
    def empty(cls, capacity: int = 64) -> ActionBook:
        return cls(**{name: np.zeros(capacity, dtype=dt) for name, dt in cls.DTYPES.items()})

    def add(self, kind, start, end, size, facilitated, cluster=None) -> np.ndarray:
        k = kind.size
        cluster = np.zeros(k, dtype=np.int64) if cluster is None else np.asarray(cluster, dtype=np.int64)
        need = self.count + k
        if need > self.kind.size:
            cap = max(need, 2 * self.kind.size)
            for name in self.DTYPES:
                old = getattr(self, name)
                new = np.zeros(cap, dtype=old.dtype)
                new[: old.size] = old
                setattr(self, name, new)
        ids = np.arange(self.count, need)
        self.kind[ids], self.start[ids], self.end[ids] = kind, start, end
        self.size[ids], self.facilitated[ids] = size, facilitated
        self.contributions[ids] = 0.0
        self.running[ids] = True
        self.local[ids] = self._next_local(cluster)
        self.cluster[ids] = cluster
        self.count = need
        return ids

    def _next_local(self, cluster: np.ndarray) -> np.ndarray:
        """Local numbers for new actions of ``cluster``: after the cluster's earlier ones, in the given order."""
        if cluster.size == 0:
            return cluster
        width = int(max(cluster.max(), self.cluster[: self.count].max(initial=0))) + 1
        earlier = np.bincount(self.cluster[: self.count], minlength=width)
        order = np.argsort(cluster, kind="stable")
        sorted_cl = cluster[order]
        first = np.searchsorted(sorted_cl, sorted_cl)  # where each cluster's run of new actions begins
        rank = np.empty_like(cluster)
        rank[order] = np.arange(cluster.size) - first
        return earlier[cluster] + rank
