"""The acquaintance network on which trust lives.

Structure comes from networkx's generators (the small world and the ring rewritten here as edge lists,
the same edges from the same seed), seeded from the model's ``rng`` so that a run is reproducible
(Mesa's own network examples build graphs unseeded).
The model never loops over ties in Python: the graph is flattened once into
edge arrays (``u < v``) plus a CSR index of incident ties per firm, and every
monthly update works on those arrays.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import networkx as nx
import numpy as np


@dataclass
class TieArrays:
    """Undirected ties as arrays. Index ``e`` is one tie between ``u[e] < v[e]``."""

    u: np.ndarray  # int64
    v: np.ndarray  # int64
    active: np.ndarray  # bool: latent ties become active when a facilitator brokers them
    incident_ptr: np.ndarray  # CSR pointer: ties of firm i are incident_idx[ptr[i]:ptr[i+1]]
    incident_idx: np.ndarray  # tie index
    incident_other: np.ndarray  # the firm at the other end

    def __post_init__(self) -> None:
        # the tie ends never change (a tie is switched on or off through ``active``); read-only, so that what
        # was recorded under them (``batch_metrics.MonthlyRecorder``) cannot be rewritten in place
        for ends in (self.u, self.v):
            if isinstance(ends, np.ndarray):
                ends.flags.writeable = False

    @property
    def n_ties(self) -> int:
        return int(self.u.size)


@dataclass
class TrustNetwork:
    """Owner of the trust network's arrays: the ties, the trust on each, its floor and this month's contact.

    ``trust[e]`` is the trust on tie ``e`` (0 on latent ties); ``floor[e]`` is the level idle trust decays
    towards (the partners' propensity, or the prior cooperative's trust); ``contact[e]`` marks ties
    whose partners met this month (a meeting, a joint action, informal contact or mentoring), which
    protects them from decay. Every array is updated in place, so views of it stay valid.
    """

    ties: TieArrays
    trust: np.ndarray
    floor: np.ndarray
    contact: np.ndarray

    def activate(self, mask: np.ndarray) -> None:
        """Turn latent ties on; a new tie starts at its floor (the partners' propensity)."""
        self.ties.active |= mask
        self.trust[mask] = self.floor[mask]

    def mean_trust_of(self, mask: np.ndarray, n: int, default: np.ndarray) -> np.ndarray:
        """Each firm's mean trust over its ties in ``mask``; ``default`` for firms with none."""
        selected, u, v, c = self.incidence(mask, n)
        w = self.trust[selected]
        s = np.bincount(u, weights=w, minlength=n) + np.bincount(v, weights=w, minlength=n)
        return np.where(c > 0, s / np.maximum(c, 1), default)

    def incidence(self, mask: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The ties in ``mask`` (a boolean mask, or tie indices) with their ends, and each firm's count of them,
        as read-only arrays. For the active ties (``reputation``, three times a month) it is kept while they
        stay the same: trust changes every month, the set of active ties a few times a run, so most calls skip
        two gathers and two counts. Kept under the tie arrays themselves and a copy of the mask, so other ties
        or a changed mask are computed afresh. Integers only: a result does not depend on whether it was kept."""
        t = self.ties
        active = mask is t.active
        cached = getattr(self, "_active_incidence", None) if active else None
        if cached is not None:
            (kept_n, kept_u, kept_v), kept_mask, kept = cached
            if kept_n == n and kept_u is t.u and kept_v is t.v and np.array_equal(kept_mask, mask):
                return kept
        mask = np.asarray(mask)
        selected = np.flatnonzero(mask) if mask.dtype == bool else mask.astype(np.intp, copy=False)
        u, v = t.u[selected], t.v[selected]
        incidence = (selected, u, v, np.bincount(u, minlength=n) + np.bincount(v, minlength=n))
        for array in incidence:
            array.flags.writeable = False  # shared by every later call: never changed in place
        if active:
            self._active_incidence = ((n, t.u, t.v), mask.copy(), incidence)
        return incidence


def acquaintance_graph(kind: str, n: int, mean_degree: int, rewiring_prob: float, rng: np.random.Generator) -> nx.Graph:
    """Build the structural network with networkx, seeded from ``rng``.

    Nodes are ordered by location, so ring neighbours are spatially and
    sectorally close (004, "What are clusters": spatial proximity).
    """
    seed = int(rng.integers(2**31 - 1))
    k = max(2, int(mean_degree))
    if kind == "complete":
        return nx.complete_graph(n)
    if kind == "scale_free":
        return nx.barabasi_albert_graph(n, max(1, k // 2), seed=seed)
    if kind == "ring":
        return nx.watts_strogatz_graph(n, k, 0.0, seed=seed)
    return nx.watts_strogatz_graph(n, k, rewiring_prob, seed=seed)


def acquaintance_edges(
    kind: str, n: int, mean_degree: int, rewiring_prob: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The edges ``(u, v)`` of ``acquaintance_graph(kind, n, mean_degree, rewiring_prob, rng)``, without
    building the networkx graph: the same edge set from the same draws (``rng`` gives up the same seed).

    A networkx graph costs about 1.2 ms at 60 firms, the edge list 0.25 ms: start-up is paid once per cluster,
    and a sweep starts tens of thousands. The ring and the complete graph are written down, and the small
    world is ``small_world_edges``.
    The scale-free graph still comes from networkx.
    """
    seed = int(rng.integers(2**31 - 1))
    k = max(2, int(mean_degree))
    if kind == "complete":
        return _complete_edges(n)
    if kind == "scale_free":
        graph = nx.barabasi_albert_graph(n, max(1, k // 2), seed=seed)
        edges = np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2)
        return edges[:, 0], edges[:, 1]
    return small_world_edges(n, k, 0.0 if kind == "ring" else rewiring_prob, seed)


def small_world_edges(n: int, k: int, p: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The edge set of ``networkx.watts_strogatz_graph(n, k, p, seed=seed)`` (Watts & Strogatz 1998), as
    ``(u, v)`` arrays with ``u < v``: networkx's algorithm step for step, with the same ``random.Random(seed)``
    calls in the same order, on plain neighbour sets instead of a graph object (tests/test_processes.py
    compares the two over many sizes, degrees and probabilities).

    A ring where each node links to its ``k // 2`` nearest neighbours on each side; then, neighbour distance
    by distance and node by node, each ring edge ``(u, u + j)`` is rewired with probability ``p`` to
    ``(u, w)`` for a uniformly drawn ``w`` that is neither ``u`` nor already a neighbour (given up once
    ``u`` is tied to everyone).
    """
    if k > n:
        raise nx.NetworkXError("k>n, choose smaller k or larger n")
    if k == n:  # networkx returns the complete graph
        return _complete_edges(n)
    draw = random.Random(seed)
    nodes = list(range(n))
    neighbours = [set() for _ in nodes]
    for j in range(1, k // 2 + 1):
        for u in nodes:
            v = (u + j) % n
            neighbours[u].add(v)
            neighbours[v].add(u)
    if p > 0:  # networkx draws one number per ring edge even at p = 0; nothing can be rewired then
        for j in range(1, k // 2 + 1):
            for u in nodes:
                if draw.random() < p:
                    w = draw.choice(nodes)
                    while w == u or w in neighbours[u]:
                        w = draw.choice(nodes)
                        if len(neighbours[u]) >= n - 1:
                            break  # u is tied to everyone: skip this rewiring
                    else:
                        v = (u + j) % n
                        neighbours[u].remove(v)  # remove, not discard: networkx's remove_edge raises too
                        neighbours[v].remove(u)
                        neighbours[u].add(w)
                        neighbours[w].add(u)
    pairs = [(u, w) for u in nodes for w in neighbours[u] if u < w]
    edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return edges[:, 0], edges[:, 1]


def _complete_edges(n: int) -> tuple[np.ndarray, np.ndarray]:
    u, v = np.triu_indices(n, 1)
    return u.astype(np.int64), v.astype(np.int64)


def _dedupe(u: np.ndarray, v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    keep = lo != hi
    key = np.unique(lo[keep] * n + hi[keep])
    return key // n, key % n


def build_ties(
    graph: nx.Graph | tuple[np.ndarray, np.ndarray],
    n: int,
    rng: np.random.Generator,
    latent_share: float,
    extra_pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> TieArrays:
    """Flatten ``graph`` into tie arrays and add latent (brokerable) ties.

    ``extra_pairs`` are additional active ties (e.g. among former cooperative
    members). Latent ties are random pairs not yet tied; a cluster manager can
    activate them (004, "Cluster Development Agents": linkages). ``graph`` may also be its edges ``(u, v)``
    (``acquaintance_edges``): only the edge set matters, as the ties are sorted here.
    """
    if isinstance(graph, tuple):
        u, v = (np.asarray(ends, dtype=np.int64) for ends in graph)
    else:
        edges = np.fromiter((x for e in graph.edges() for x in e), dtype=np.int64).reshape(-1, 2)
        u, v = edges[:, 0], edges[:, 1]
    if extra_pairs is not None and extra_pairs[0].size:
        u = np.concatenate([u, extra_pairs[0]])
        v = np.concatenate([v, extra_pairs[1]])
    u, v = _dedupe(u, v, n)
    n_active = u.size
    n_latent = int(round(latent_share * n_active))
    if n_latent and n > 2:
        lu = rng.integers(0, n, size=2 * n_latent)
        lv = rng.integers(0, n, size=2 * n_latent)
        lu, lv = _dedupe(lu, lv, n)
        existing = np.isin(lu * n + lv, u * n + v)
        lu, lv = lu[~existing][:n_latent], lv[~existing][:n_latent]
    else:
        lu = lv = np.zeros(0, dtype=np.int64)
    all_u = np.concatenate([u, lu])
    all_v = np.concatenate([v, lv])
    active = np.zeros(all_u.size, dtype=bool)
    active[:n_active] = True
    # CSR of incident ties (each tie appears once per endpoint)
    ends = np.concatenate([all_u, all_v])
    others = np.concatenate([all_v, all_u])
    tie_ids = np.concatenate([np.arange(all_u.size), np.arange(all_u.size)])
    order = np.argsort(ends, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=ptr[1:])
    return TieArrays(all_u, all_v, active, ptr, tie_ids[order], others[order])


def cooperative_pairs(members: np.ndarray, degree: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Extra ties among members of a prior cooperative (each links to ``degree`` others)."""
    if members.size < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    k = min(degree, members.size - 1)
    u = np.repeat(members, k)
    v = members[rng.integers(0, members.size, size=u.size)]
    return u.astype(np.int64), v.astype(np.int64)


def random_incident_partner(
    ties: TieArrays, firms: np.ndarray, uniform: np.ndarray, active_only: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each firm, one tie drawn uniformly among its incident ties, from one uniform per firm.

    Returns ``(tie_index, partner)``; firms without ties get ``-1``. Latent
    ties are included; callers mask them with ``ties.active`` if needed.
    """
    start = ties.incident_ptr[firms]
    deg = ties.incident_ptr[firms + 1] - start
    pick = start + np.floor(uniform * np.maximum(deg, 1)).astype(np.int64)
    has = deg > 0
    pick = np.where(has, pick, 0)
    tie = np.where(has, ties.incident_idx[pick] if ties.incident_idx.size else -1, -1)
    partner = np.where(has, ties.incident_other[pick] if ties.incident_other.size else -1, -1)
    return tie, partner


def to_networkx(ties: TieArrays, trust: np.ndarray, n: int, active_only: bool = True) -> nx.Graph:
    """A networkx view of the current trust network, for inspection and drawing."""
    g = nx.Graph()
    g.add_nodes_from(range(n))
    mask = ties.active if active_only else np.ones(ties.n_ties, dtype=bool)
    g.add_weighted_edges_from(
        zip(ties.u[mask].tolist(), ties.v[mask].tolist(), trust[mask].tolist(), strict=False), weight="trust"
    )
    return g
