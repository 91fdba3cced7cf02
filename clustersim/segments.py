"""Per-cluster reductions and selections over concatenated arrays (the ensemble engine's segments).

The ensemble engine holds K clusters in one set of arrays: the elements (firms, ties, officers, actions)
of cluster k form a contiguous slice, and an int array ``cl`` (values 0..K-1) gives each element's cluster.
Every function here answers a per-cluster question in whole-array numpy steps, and each answer for
cluster k depends only on cluster k's elements, in their own order: the same bits whichever other
clusters share the batch, and wherever cluster k sits in it.

Why ``np.bincount`` and stable orderings (docs/plans/ensemble-engine.md, D2, R2 and R3): ``ndarray.sum()``
adds pairwise with SIMD unrolling, so its grouping of terms (hence the last bit) depends on the length of
what it sums. ``np.bincount`` adds each bin's weights one by one in index order, so a
cluster's sum is the plain left-to-right sum of its own elements wherever it lies (and an empty cluster
sums to 0, where ``np.add.reduceat`` would return a neighbour's element). Sums therefore stay in the
clusters' standalone element order (never sort the global arrays), and every sort breaks ties by the
element's index *within its cluster*, so that equal keys cannot be ordered by their neighbours in a batch.

A large cluster's sum is added in lanes instead (``LANE_MIN``, ``lane_sums``): at 300,000 ties one dependent
add per element costs ten times the lanes' row additions, and the lanes are still a function of the cluster's
own elements in their own order, so the invariant holds.

These functions give the counter-mode (batch) reductions only. They are not bit-identical to
``ndarray.sum()``/``.mean()``, so the legacy K = 1 path keeps its own reductions (D2).
"""

from __future__ import annotations

import numpy as np


def _check_cluster_count(per_cluster: np.ndarray, K: int) -> np.ndarray:
    """``np.bincount`` silently grows past ``minlength`` for a cluster id >= K: refuse that instead."""
    if per_cluster.size != K:
        raise ValueError(f"cluster ids must lie in 0..{K - 1}, found {per_cluster.size - 1}")
    return per_cluster


def _descending(keys: np.ndarray) -> np.ndarray:
    """An ascending sort key that orders ``keys`` from largest to smallest, without overflow.

    Floats are negated (exact; NaN stays NaN, so NaN keys sort after every number). Integers and bools
    use bitwise NOT, ``~v = -v - 1`` for signed and ``MAX - v`` for unsigned, which reverses the order
    where ``-v`` would wrap (the most negative int, any unsigned) or fail (bool).
    """
    keys = np.asarray(keys)
    if keys.dtype.kind in "biu":
        return ~keys
    return -keys


def _single_cluster(cl: np.ndarray, K: int, values) -> bool:
    """Whether ``cl`` names one cluster only (K = 1, every id 0) for ``values`` of its own shape: then a count
    is ``np.count_nonzero``, exact like bincount's (an integer count has no order of terms to keep), without
    gathering the ids (at 30,000 elements a boolean gather costs 150x the count). Anything else, invalid ids
    included, takes the general path, which checks them."""
    if K != 1:
        return False
    shape = values.shape if isinstance(values, np.ndarray) else np.shape(values)
    return shape == cl.shape and not np.count_nonzero(cl)  # a quarter of cl.any()'s cost on small arrays


#: Lanes of a large cluster's sum (``lane_sums``): a power of two, so that they combine by halves
LANES = 128
#: A cluster summing at least this many elements in one call adds them in ``LANES`` lanes, fewer left to
#: right. The rule reads the cluster's own count only, so it holds alike alone and in a batch; it is high
#: enough that no cluster of a few hundred firms, and none of the golden series, ever reaches it.
LANE_MIN = 8192


def _combine_lanes(lanes: np.ndarray) -> np.ndarray:
    """Lane totals (..., LANES) to sums (...): the upper half added to the lower half until one lane is left,
    a fixed tree of additions whatever the numbers."""
    while lanes.shape[-1] > 1:
        half = lanes.shape[-1] // 2
        lanes = lanes[..., :half] + lanes[..., half:]
    return lanes[..., 0]


def lane_sums(rows: np.ndarray) -> np.ndarray:
    """The lane sum of each row of a 2-D float64 array (one cluster's elements per row), shape (rows,).

    Element i goes to lane ``i % LANES``; each lane adds its elements left to right starting from 0.0, as
    ``np.bincount`` adds a bin; then ``_combine_lanes``. ``np.add.reduce`` over the middle axis of the
    (rows, n // LANES, LANES) view adds whole rows of lanes one after another, so each lane is the same
    sequential sum, with vector additions (tests/test_segments.py checks it against a loop).
    """
    n_rows, n = rows.shape
    whole = n - n % LANES
    lanes = np.add.reduce(rows[:, :whole].reshape(n_rows, -1, LANES), axis=1, initial=0.0)
    lanes[:, : n - whole] += rows[:, whole:]  # the last, partial row of lanes, still in order
    return _combine_lanes(lanes)


def _lane_sums_by_cluster(x: np.ndarray, cl: np.ndarray, K: int) -> np.ndarray:
    """``lane_sums`` of every cluster's elements of 2-D ``x`` (rows, elements), shape (rows, K): the general
    route, for a batch holding a large cluster. An element's lane is its rank within its cluster (in index
    order, ``cl`` sorted or not); one bincount adds every (row, cluster, lane) bin left to right."""
    order = np.argsort(cl, kind="stable")
    sorted_cl = cl[order]
    rank = np.empty(cl.size, dtype=np.int64)
    rank[order] = rank_in_segment(sorted_cl, K)
    n_rows = x.shape[0]
    bins = ((np.arange(n_rows)[:, None] * K + cl) * LANES + rank % LANES).ravel()
    lanes = np.bincount(bins, weights=x.ravel(), minlength=n_rows * K * LANES)
    return _combine_lanes(lanes.reshape(n_rows, K, LANES))


def _row_totals(x: np.ndarray, cl: np.ndarray, K: int, counts: np.ndarray) -> np.ndarray:
    """Per (row, cluster) sums of 2-D float64 ``x`` (rows, elements), shape (rows, K): left to right by one
    ``np.bincount`` over the bins ``row * K + cluster``, and ``lane_sums`` for a cluster of ``LANE_MIN``
    elements or more. ``counts`` are the elements per cluster (length K: the ids are checked)."""
    n_rows = x.shape[0]
    if x.shape[-1] != cl.size:  # (bincount refuses it below; the one-cluster route must too)
        raise ValueError(f"{x.shape[-1]} values per row for {cl.size} cluster ids")
    if K == 1 and counts[0] >= LANE_MIN:  # one large cluster: its rows as they are
        return lane_sums(x)[:, None]
    bins = (np.arange(n_rows)[:, None] * K + cl).ravel()
    totals = np.bincount(bins, weights=x.ravel(), minlength=n_rows * K).reshape(n_rows, K)
    large = counts >= LANE_MIN
    if large.any():  # a batch holding a large cluster: its sums again, in lanes
        totals[:, large] = _lane_sums_by_cluster(x, cl, K)[:, large]
    return totals.astype(np.float64, copy=False)  # no elements: bincount gives int64


def _sum_of_one(x: np.ndarray, zeros: np.ndarray) -> np.ndarray:
    """``segsum`` of the elements of one cluster (K = 1), length 1; ``zeros`` are cluster ids, all 0, at
    least as many as the elements (a prefix serves: nothing is allocated or checked)."""
    if x.dtype == bool:  # a sum of 0.0s and 1.0s below 2**53 is the exact count, in any order
        return np.array([np.count_nonzero(x)], dtype=np.float64)
    x = x.astype(np.float64, copy=False)
    if x.size >= LANE_MIN:
        return lane_sums(x[None, :])
    return np.bincount(zeros[: x.size], weights=x, minlength=1).astype(np.float64, copy=False)


def segsum(x: np.ndarray, cl: np.ndarray, K: int) -> np.ndarray:
    """Per-cluster sum of ``x`` (bool, int or float), float64 of length K; an empty cluster sums to 0.

    ``np.bincount`` adds in index order, so each cluster's total is its own left-to-right float sum,
    independent of the other clusters in the batch (module docstring); a cluster of ``LANE_MIN`` elements or
    more is added in lanes (``lane_sums``), which is as independent of the batch. Integer sums are exact
    only below 2**53; count with ``segcount`` instead.
    """
    x, cl = np.asarray(x), np.asarray(cl)
    if _single_cluster(cl, K, x):
        return _sum_of_one(x, cl)
    x = x.astype(np.float64, copy=False)
    if cl.size < LANE_MIN:  # no cluster can be large: one bincount
        return _check_cluster_count(np.bincount(cl, weights=x, minlength=K), K).astype(np.float64, copy=False)
    counts = _check_cluster_count(np.bincount(cl, minlength=K), K)
    return _row_totals(x[None, :], cl, K, counts)[0]


def segcount(mask: np.ndarray, cl: np.ndarray, K: int) -> np.ndarray:
    """Per-cluster number of True elements of ``mask``, int64 of length K.

    Counting the selected cluster ids (bincount without weights) is exact integer arithmetic, unlike a
    float sum of the mask.
    """
    mask, cl = np.asarray(mask, dtype=bool), np.asarray(cl)
    if _single_cluster(cl, K, mask):
        return np.array([np.count_nonzero(mask)], dtype=np.int64)
    return _check_cluster_count(np.bincount(cl[mask], minlength=K), K).astype(np.int64, copy=False)


def segmean(x: np.ndarray, cl: np.ndarray, K: int, empty: float = np.nan) -> np.ndarray:
    """Per-cluster mean of ``x``, float64 of length K, ``empty`` for a cluster without elements.

    The sum is ``segsum`` (order-independent of the batch) divided by the exact count.
    """
    cl = np.asarray(cl)
    if _single_cluster(cl, K, cl):  # the count is the number of elements
        counts = np.array([cl.size], dtype=np.int64)
    else:
        counts = _check_cluster_count(np.bincount(cl, minlength=K), K)
    return _divide_counts(segsum(x, cl, K), counts, empty)


def segmean_rows(x: np.ndarray, cl: np.ndarray, K: int) -> np.ndarray:
    """``segmean`` of each row of a 2-D ``x`` (rows x elements), shape (rows, K); NaN for an empty cluster.

    One ``np.bincount`` over the bins ``row * K + cluster`` instead of one per row: a bin adds its row's
    elements of its cluster one by one in index order, exactly as ``segsum`` of that row does (and a large
    cluster's rows go to ``lane_sums``, as there), so every mean has the same bits as ``segmean``'s.
    """
    x, cl = np.asarray(x, dtype=np.float64), np.asarray(cl)
    counts = _check_cluster_count(np.bincount(cl, minlength=K), K)
    return _divide_counts(_row_totals(x, cl, K, counts), counts, np.nan)


def _divide_counts(totals: np.ndarray, counts: np.ndarray, empty: float) -> np.ndarray:
    """``totals / counts`` per cluster (any shapes that broadcast: one row per cluster, or rows of months),
    ``empty`` where the count is 0. ``np.divide`` with ``where`` skips the empty clusters, so no 0/0 warning
    is emitted and ``empty`` is kept as given; when no cluster is empty the plain division is the same
    operation on every element, without the mask."""
    if counts.all():
        return totals / counts
    means = np.full(np.broadcast_shapes(np.shape(totals), np.shape(counts)), empty, dtype=np.float64)
    np.divide(totals, counts, out=means, where=counts > 0)
    return means


def segmax(x: np.ndarray, cl: np.ndarray, K: int, empty) -> np.ndarray:
    """Per-cluster maximum of ``x``, ``empty`` for a cluster without elements; NaN in a cluster gives NaN.

    Each non-empty cluster is first seeded with one of its own elements, then ``np.maximum.at`` folds in
    the rest, so no sentinel (-inf, or an integer minimum) can leak into the result. The result dtype is
    that of ``x`` combined with ``empty`` (an int ``x`` with ``empty=-1`` stays int). A maximum is exact,
    so it does not depend on the batch.
    """
    values = np.asarray(x)
    cl = np.asarray(cl)
    maxima = np.full(K, empty, dtype=np.result_type(values, empty))
    if _single_cluster(cl, K, values):  # a maximum is exact in any order: numpy's own, without ufunc.at
        if values.size:
            maxima[0] = values.max()
        return maxima
    _check_cluster_count(np.bincount(cl, minlength=K), K)
    maxima[cl] = values  # seeds every non-empty cluster with one of its own elements
    with np.errstate(invalid="ignore"):  # a NaN element: the cluster's maximum is NaN, as documented
        np.maximum.at(maxima, cl, values)
    return maxima


def seg_starts(cl: np.ndarray, K: int) -> np.ndarray:
    """Segment pointers: cluster k's elements are ``ptr[k]:ptr[k + 1]``, int64 of length K + 1.

    Computed from the cumulative cluster sizes, so it ASSUMES ``cl`` is sorted (non-decreasing), as the
    plan's ``firm_cl``/``tie_cl``/``off_cl`` are by construction; for an unsorted ``cl`` the pointers
    are only the cumulative sizes. An empty cluster has ``ptr[k] == ptr[k + 1]``.
    """
    ptr = np.zeros(K + 1, dtype=np.int64)
    np.cumsum(_check_cluster_count(np.bincount(cl, minlength=K), K), out=ptr[1:])
    return ptr


def rank_in_segment(cl: np.ndarray, K: int) -> np.ndarray:
    """The 0-based position of each element within its cluster's segment, for a SORTED ``cl``.

    ``arange - seg_starts(cl)[cl]``: the local index when ``cl`` is a layout's cluster array, and the
    rank in sorted order when ``cl`` is a sorted copy (as in ``topk_seg``). Wrong for an unsorted ``cl``.
    """
    cl = np.asarray(cl)
    return np.arange(cl.size, dtype=np.int64) - seg_starts(cl, K)[cl]


def topk_seg(keys: np.ndarray, cl: np.ndarray, K: int, k: np.ndarray, local: np.ndarray | None = None) -> np.ndarray:
    """Positions of the ``k[c]`` largest ``keys`` in each cluster c, grouped by cluster, largest key first.

    One ``np.lexsort((local, -keys, cl))`` orders the elements by cluster, then by key descending, then by
    ``local`` (the element's index within its own cluster) ascending, so that equal keys are ordered by
    the cluster's own data and never by the neighbours in the batch (R3), unlike ``argpartition`` or an
    unstable ``argsort``. The rank within each sorted segment is compared with ``k[cl]``: a ``k[c]``
    above the cluster's size takes all of it, and ``k[c] <= 0`` takes none. ``cl`` need not be sorted.
    NaN keys rank below every number. ``k`` may also be one int, used for every cluster.

    ``local=None`` says the elements are in index order (ascending global indices, as ``np.flatnonzero``
    gives them): ``cl`` is sorted and each cluster's elements come in their own order, so the position
    breaks ties exactly as ``local`` would (lexsort is stable), and the sorted clusters are ``cl`` itself.
    """
    cl = np.asarray(cl)
    k = np.asarray(k)
    if k.size == 1:  # one quota for every cluster: compared as it is
        quota = k.reshape(-1)[0]
    elif k.shape == (K,):
        quota = None  # per cluster: gathered below
    else:
        raise ValueError(f"one quota, or one per cluster ({K}), not {k.shape}")
    if _single_cluster(cl, K, keys):  # one segment: its first ranks, without sorting all of it
        return smallest_first(_descending(keys), int(np.count_nonzero(np.arange(cl.size) < quota)), local)
    if local is None:
        order = np.lexsort((_descending(keys), cl))
        sorted_cl = cl
    else:
        order = np.lexsort((np.asarray(local), _descending(keys), cl))
        sorted_cl = cl[order]
    return order[rank_in_segment(sorted_cl, K) < (k[sorted_cl] if quota is None else quota)]


def smallest_first(keys: np.ndarray, take: int, local=None) -> np.ndarray:
    """The first ``take`` positions of ``np.lexsort((local, keys))`` (``np.argsort(keys, kind="stable")``
    without ``local``): the smallest keys in ascending order, ties by ``local``, then by position.

    A sort is exact, so any route to the same permutation gives the same answer. For ``take`` well below
    the size, ``np.partition`` finds the ``take``-th smallest key in linear time and only the keys up to it
    (ties included) are sorted: at 30,000 firms a stable sort of all keys costs 60 times as much. A NaN
    there (fewer than ``take`` numbers; NaN sorts last) falls back to the full sort.
    """
    keys = np.asarray(keys)
    n = keys.shape[0]
    if take <= 0:
        return np.zeros(0, dtype=np.intp)
    if take < n // 4:
        kth = np.partition(keys, take - 1)[take - 1]
        if kth == kth:  # not NaN
            candidates = np.flatnonzero(keys <= kth)  # in position order, so stable sorts keep it
            sub_keys = keys[candidates]
            if local is None:
                order = np.argsort(sub_keys, kind="stable")
            else:
                order = np.lexsort((np.asarray(local)[candidates], sub_keys))
            return candidates[order[:take]]
    if local is None:
        return np.argsort(keys, kind="stable")[:take]
    return np.lexsort((np.asarray(local), keys))[:take]


def first_per_key(key: np.ndarray, order_key: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Among the elements sharing an integer ``key``, the position of the one with the smallest ``order_key``.

    Ties in ``order_key`` go to the smaller ``local``, then to the earlier position; the kept positions
    are returned sorted by ``key`` ascending. This is the content-addressed form of
    ``np.unique(key[perm], return_index=True)`` (formation's candidate de-duplication), where the first
    occurrence in a random permutation wins: with ``order_key`` a draw addressed by the element's content,
    the winner no longer depends on the element's position in a batch. In a batch, ``key`` must tell the
    clusters apart (a global firm id, not a local one).
    """
    key = np.asarray(key)
    order = np.lexsort((np.asarray(local), np.asarray(order_key), key))
    sorted_key = key[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = sorted_key[1:] != sorted_key[:-1]
    return order[first]


def top2_per_segment(x: np.ndarray, cl: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster, the positions of the largest and the second largest ``x`` (-1 where missing).

    For the regional platform: a group member's best peer other than itself is ``x[best]``, or
    ``x[second]`` when it is ``best`` itself (``platform.best_peer``). Ties go to the lower position,
    which within one cluster is the lower local index, so the answer does not depend on the batch; NaN
    ranks below every number. ``cl`` need not be sorted. Returns ``(best, second)``, int64 of length K.
    """
    cl = np.asarray(cl)
    order = np.lexsort((np.arange(cl.size), _descending(x), cl))
    sorted_cl = cl[order]
    rank = rank_in_segment(sorted_cl, K)
    best = np.full(K, -1, dtype=np.int64)
    second = np.full(K, -1, dtype=np.int64)
    best[sorted_cl[rank == 0]] = order[rank == 0]
    second[sorted_cl[rank == 1]] = order[rank == 1]
    return best, second


class Reducer:
    """Per-cluster reductions of one state, in the state's mode (docs/plans/ensemble-engine.md, D2 and R2).

    ``legacy`` (one cluster under the legacy draws): ``ndarray.sum()``/``.mean()`` on the selected
    elements, exactly the calls the golden series were recorded with, returned as length-1 arrays.
    Otherwise the batch reductions above, whatever K is, so that a cluster alone and in a batch give the
    same bits. Never switch a float sum on K: a K = 1 fast path would break that. What may depend on K is
    work whose result has no order of terms: exact integer counts, and the cluster ids of a selection
    (with one cluster all 0, built instead of gathered).

    ``space`` names the elements reduced (``"firm"``, ``"tie"`` or ``"officer"``); ``where`` selects some.
    """

    def __init__(self, layout, legacy: bool) -> None:
        if legacy and layout.K != 1:
            raise ValueError("the legacy reductions serve one cluster only")
        self.layout = layout
        self.legacy = legacy
        self.K = layout.K

    def _select(self, x: np.ndarray, space: str, where) -> tuple[np.ndarray, np.ndarray]:
        """The selected elements of ``x`` and their clusters (the layout's ids: no check needed)."""
        cl = self.layout.clusters(space)
        x = np.asarray(x)
        if x.shape[0] != cl.size:  # one value per element of the space (a K = 1 prefix would hide a mismatch)
            raise ValueError(f"{x.shape[0]} values for the {cl.size} elements of space {space!r}")
        if where is None:
            return x, cl
        x = x[where]
        if self.K == 1:  # every id is 0: a prefix of the layout's, where a boolean gather costs 150x
            return x, cl[: len(x)]
        return x, cl[where]

    def sum(self, x: np.ndarray, space: str, where=None) -> np.ndarray:
        if self.legacy:  # the recorded call on the selected elements; no cluster array to select
            x = np.asarray(x) if where is None else np.asarray(x)[where]
            return np.array([x.sum()], dtype=np.float64)
        x, cl = self._select(x, space, where)
        return self._total(x, cl)

    def _total(self, x: np.ndarray, cl: np.ndarray) -> np.ndarray:
        """``segsum`` of selected elements; one cluster's ids are all 0 and need no check (``_sum_of_one``)."""
        return _sum_of_one(x, cl) if self.K == 1 else segsum(x, cl, self.K)

    def count(self, mask: np.ndarray, space: str) -> np.ndarray:
        """Number of True elements per cluster (exact integers)."""
        if self.K == 1:  # legacy or not: the one exact count, without gathering cluster ids
            return np.array([np.count_nonzero(mask)], dtype=np.int64)
        # the layout's cluster ids lie in 0..K-1 by construction: bincount needs no check
        selected = self.layout.clusters(space)[np.asarray(mask, dtype=bool)]
        return np.bincount(selected, minlength=self.K).astype(np.int64, copy=False)

    def any(self, mask: np.ndarray, space: str) -> np.ndarray:
        return self.count(mask, space) > 0

    def mean(self, x: np.ndarray, space: str, where=None, empty: float = np.nan) -> np.ndarray:
        """Mean per cluster of the selected elements; ``empty`` where a cluster has none."""
        if self.legacy:  # the recorded call on the selected elements; no cluster array to select
            x = np.asarray(x) if where is None else np.asarray(x)[where]
            return np.array([x.mean() if x.size else empty], dtype=np.float64)
        x, cl = self._select(x, space, where)
        if where is None:  # every element: the counts are the cluster sizes
            counts = self.layout.sizes(space)
        elif self.K == 1:
            counts = np.array([cl.size], dtype=np.int64)
        else:
            counts = np.bincount(cl, minlength=self.K)
        return _divide_counts(self._total(x, cl), counts, empty)
