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


def exchange(states: Sequence[ClusterState], intensity: float) -> None:
    """One month of the platform among ``states`` (single clusters, K = 1 each), all at the same month,
    after their step."""
    if intensity <= 0 or len(states) < 2:
        return
    month = states[0].month - 1  # the month just run
    stories = np.array([s.success_stories[0, month] if month < s.success_stories.shape[1] else 0.0 for s in states])
    weight = np.array([s.coef.platform_story_weight for s in states])
    seen = peer_stories(stories, weight, intensity)
    best = best_peer(np.array([s.bso.capacity[0] for s in states]))
    for s, extra, best_mean in zip(states, seen, best, strict=True):
        if month >= s.peer_stories.shape[1]:  # stepping beyond the scenario's horizon
            s.peer_stories = np.concatenate(
                [s.peer_stories, np.zeros((s.K, max(s.peer_stories.shape[1], month + 1)))], axis=1
            )
        s.peer_stories[0, month] += extra
        if s.bso.staff[0]:
            s.bso.competence = peer_learning(s.bso.competence, best_mean, s.coef.platform_peer_learning_rate, intensity)
