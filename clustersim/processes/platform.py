"""The regional platform (docs/ODD.md, "Portfolios and the regional platform"; SF18).

Clusters of one portfolio that a regional platform links exchange two things at the end of each
month, after every cluster has run it: success stories, which enter each cluster's success signal
with the weight ``platform_story_weight`` (seeing other islands' success), and know-how, as BSO
officers close a share ``platform_peer_learning_rate`` of the gap to the best peer BSO's mean
competence (knowledge circulation via regional experts). 000 §Regional Ecosystem recommends such
a Caribbean Cluster Collaboration Platform; CCPF had none, so both weights are assumptions.

The exchange reads every cluster's month before it writes any, so its result does not depend on
the order of the clusters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..cluster_state import ClusterState
from ..queries import per_cluster


def peer_stories(stories: np.ndarray, weight: np.ndarray, intensity: float) -> np.ndarray:
    """Stories each cluster sees from the others: ``intensity * weight_k * (sum_j stories_j - stories_k)``."""
    stories = np.asarray(stories, dtype=float)
    return intensity * np.asarray(weight, dtype=float) * (stories.sum() - stories)


def best_peer(values: np.ndarray) -> np.ndarray:
    """For each cluster, the largest value among the *other* clusters (-inf for a portfolio of one)."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return np.full(values.size, -np.inf)
    order = np.argsort(-values, kind="stable")
    out = np.full(values.size, values[order[0]])
    out[order[0]] = values[order[1]]
    return out


def peer_learning(competence: np.ndarray, best_peer_mean: float, rate: float, intensity: float) -> np.ndarray:
    """Officers below the best peer BSO's mean competence close ``rate * intensity`` of the gap; none lose."""
    gap = np.maximum(best_peer_mean - competence, 0.0)
    return competence + rate * intensity * gap


def exchange(states: Sequence[ClusterState], intensity: float, order: np.ndarray | None = None) -> None:
    """One month of the platform among every cluster of ``states`` (batches of one or more clusters, all at
    the same month, after their step). The platform sees the clusters in portfolio order: ``order`` gives the
    position of each cluster of the states taken one after the other (default: that order itself), so that
    the sums and the best peer do not depend on how the clusters were batched."""
    n = sum(s.K for s in states)
    if intensity <= 0 or n < 2:
        return
    month = states[0].month - 1  # the month just run
    order = np.arange(n) if order is None else np.asarray(order)
    stories, weight, capacity = np.empty(n), np.empty(n), np.empty(n)
    stories[order] = np.concatenate([_stories_of(s, month) for s in states])
    weight[order] = np.concatenate([per_cluster(s, s.coef.platform_story_weight) for s in states])
    capacity[order] = np.concatenate([s.bso.capacity for s in states])
    seen = peer_stories(stories, weight, intensity)[order]
    best = best_peer(capacity)[order]
    start = 0
    for s in states:
        own = slice(start, start + s.K)
        start += s.K
        _receive(s, month, seen[own], best[own], intensity)


def _stories_of(s: ClusterState, month: int) -> np.ndarray:
    """Each cluster's success stories of ``month`` (none beyond the horizon its tallies cover)."""
    return s.success_stories[:, month] if month < s.success_stories.shape[1] else np.zeros(s.K)


def _receive(s: ClusterState, month: int, seen: np.ndarray, best: np.ndarray, intensity: float) -> None:
    """The stories each cluster of ``s`` sees from its peers, and its officers' learning from the best peer BSO."""
    if month >= s.peer_stories.shape[1]:  # stepping beyond the scenario's horizon
        s.peer_stories = np.concatenate(
            [s.peer_stories, np.zeros((s.K, max(s.peer_stories.shape[1], month + 1)))], axis=1
        )
    s.peer_stories[:, month] += seen
    if s.bso.competence.size:  # a cluster without BSO staff has no officers to learn
        rate = s.coef_for("officer").platform_peer_learning_rate
        s.bso.competence = peer_learning(s.bso.competence, best[s.bso.officer_cluster], rate, intensity)
