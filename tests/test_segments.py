"""clustersim.segments against plain Python loops, and the ensemble invariant: one cluster's answer is the same
bits alone as inside any batch (docs/plans/ensemble-engine.md, D2, R2, R3)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clustersim.segments import (
    LANE_MIN,
    LANES,
    first_per_key,
    lane_sums,
    rank_in_segment,
    seg_starts,
    segcount,
    segmax,
    segmean,
    segmean_rows,
    segsum,
    top2_per_segment,
    topk_seg,
)

EXAMPLES = settings(max_examples=80, deadline=None)

# few distinct values, so that equal keys and empty clusters are common; the wide range makes float sums round
FLOATS = st.one_of(st.sampled_from([0.0, -0.0, 1.0, 2.5, -3.0, 0.1]), st.floats(-1e6, 1e6, width=64))


def bits(values) -> np.ndarray:
    """Float64 values as their bit patterns, so that ``==`` is bit for bit (it tells -0.0 from 0.0)."""
    return np.asarray(values, dtype=np.float64).view(np.uint64)


@st.composite
def batches(draw, values=FLOATS, max_elements=30):
    """K clusters (some empty), the elements in any cluster order: (values, cl, K)."""
    K = draw(st.integers(1, 6))
    cl = draw(st.lists(st.integers(0, K - 1), max_size=max_elements))
    values = draw(st.lists(values, min_size=len(cl), max_size=len(cl)))
    return np.array(values), np.array(cl, dtype=np.int32), K


@st.composite
def cluster_lists(draw, values=FLOATS):
    """A list of 1-6 clusters, each a (possibly empty) list of values."""
    return draw(st.lists(st.lists(values, max_size=8), min_size=1, max_size=6))


def local_indices(cl: np.ndarray, K: int, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of 0..size-1 per cluster, so that ``local`` differs from the batch order."""
    local = np.zeros(cl.size, dtype=np.int64)
    for cluster in range(K):
        members = np.flatnonzero(cl == cluster)
        local[members] = rng.permutation(members.size)
    return local


def members_of(cl: np.ndarray, cluster: int) -> list[int]:
    return [i for i in range(cl.size) if cl[i] == cluster]


# --- reductions against loops ---


@EXAMPLES
@given(batches())
def test_segsum_is_each_clusters_left_to_right_sum(batch):
    values, cl, K = batch
    expected = []
    for cluster in range(K):
        total = 0.0
        for i in members_of(cl, cluster):
            total += float(values[i])
        expected.append(total)
    assert np.array_equal(bits(segsum(values, cl, K)), bits(expected))


@EXAMPLES
@given(batches(values=st.integers(-5, 5)), st.data())
def test_segcount_and_segsum_of_ints_and_bools(batch, data):
    values, cl, K = batch
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=cl.size, max_size=cl.size)), dtype=bool)
    counts = segcount(mask, cl, K)
    assert counts.dtype == np.int64
    assert counts.tolist() == [sum(bool(mask[i]) for i in members_of(cl, cluster)) for cluster in range(K)]
    assert segsum(mask, cl, K).tolist() == [float(count) for count in counts]
    int_sums = segsum(values.astype(np.int64), cl, K)
    assert int_sums.dtype == np.float64
    assert int_sums.tolist() == [float(sum(int(values[i]) for i in members_of(cl, cluster))) for cluster in range(K)]


@EXAMPLES
@given(batches(), st.sampled_from([np.nan, -1.0, 0.0]))
def test_segmean_is_sum_over_count_and_empty_where_no_element(batch, empty):
    values, cl, K = batch
    expected = []
    for cluster in range(K):
        members = members_of(cl, cluster)
        total = 0.0
        for i in members:
            total += float(values[i])
        expected.append(total / len(members) if members else empty)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 RuntimeWarning for the empty clusters
        means = segmean(values, cl, K, empty=empty)
    assert np.array_equal(bits(means), bits(expected))


@EXAMPLES
@given(batches(), st.integers(1, 4), st.data())
def test_segmean_rows_is_segmean_of_each_row_bit_for_bit(batch, rows, data):
    """One bincount over (row, cluster) bins adds in the same order as one segmean per row."""
    values, cl, K = batch
    others = [data.draw(st.lists(FLOATS, min_size=cl.size, max_size=cl.size)) for _ in range(rows - 1)]
    x = np.array([values, *others], dtype=np.float64).reshape(rows, cl.size)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 RuntimeWarning for the empty clusters
        means = segmean_rows(x, cl, K)
    assert np.array_equal(bits(means), bits(np.stack([segmean(row, cl, K) for row in x])))


@EXAMPLES
@given(batches(), st.sampled_from([np.nan, -np.inf, -1.0]))
def test_segmax_of_floats(batch, empty):
    values, cl, K = batch
    expected = [
        max(float(values[i]) for i in members_of(cl, cluster)) if members_of(cl, cluster) else empty
        for cluster in range(K)
    ]
    np.testing.assert_array_equal(segmax(values, cl, K, empty), expected)


@EXAMPLES
@given(batches(values=st.integers(-(2**63), 2**63 - 1)))
def test_segmax_of_ints_keeps_the_dtype_and_extreme_values(batch):
    values, cl, K = batch
    values = values.astype(np.int64)
    maxima = segmax(values, cl, K, empty=-1)
    assert maxima.dtype == np.int64
    expected = [
        max(int(values[i]) for i in members_of(cl, cluster)) if members_of(cl, cluster) else -1 for cluster in range(K)
    ]
    assert maxima.tolist() == expected


def test_segmax_propagates_nan_within_its_cluster_only():
    maxima = segmax(np.array([1.0, np.nan, 2.0]), np.array([0, 0, 1]), 3, empty=-np.inf)
    assert np.isnan(maxima[0]) and maxima[1] == 2.0 and maxima[2] == -np.inf


def test_an_empty_cluster_sums_to_zero_where_reduceat_would_not():
    values = np.array([1.0, 2.0, 4.0])
    cl = np.array([0, 0, 2])
    assert segsum(values, cl, 3).tolist() == [3.0, 0.0, 4.0]
    # the reduceat pitfall the plan avoids (D2): an empty segment returns the next element, not 0
    assert np.add.reduceat(values, seg_starts(cl, 3)[:-1]).tolist() == [3.0, 4.0, 4.0]


def test_a_cluster_id_of_K_or_more_is_refused():
    for reduce in (segsum, segcount):
        with pytest.raises(ValueError, match="cluster ids"):
            reduce(np.ones(3, dtype=bool), np.array([0, 1, 3]), 3)
    with pytest.raises(ValueError, match="cluster ids"):
        seg_starts(np.array([0, 3]), 3)


def test_no_elements_give_empty_clusters():
    none = np.array([], dtype=np.int64)
    assert segsum(np.array([]), none, 2).tolist() == [0.0, 0.0]
    assert segcount(np.array([], dtype=bool), none, 2).tolist() == [0, 0]
    assert np.isnan(segmean(np.array([]), none, 2)).all()
    assert seg_starts(none, 2).tolist() == [0, 0, 0]
    assert topk_seg(np.array([]), none, 2, np.array([3, 3]), none).size == 0
    assert first_per_key(none, np.array([]), none).size == 0
    assert [part.tolist() for part in top2_per_segment(np.array([]), none, 2)] == [[-1, -1], [-1, -1]]


# --- segment positions ---


@EXAMPLES
@given(batches())
def test_seg_starts_and_rank_in_segment_of_a_sorted_cl(batch):
    _, cl, K = batch
    cl = np.sort(cl)
    ptr = seg_starts(cl, K)
    assert ptr.tolist() == [sum(1 for c in cl if c < cluster) for cluster in range(K + 1)]
    assert all((cl[ptr[cluster] : ptr[cluster + 1]] == cluster).all() for cluster in range(K))
    seen = [0] * K
    expected = []
    for c in cl:
        expected.append(seen[c])
        seen[c] += 1
    assert rank_in_segment(cl, K).tolist() == expected


# --- selections against loops ---


def topk_by_loop(keys, cl, K, quota, local) -> list[int]:
    """The k[c] largest keys of each cluster c; Python ints so that negating an int key cannot wrap."""
    selected = []
    for cluster in range(K):
        ranked = sorted(members_of(cl, cluster), key=lambda i: (-keys[i].item(), local[i]))
        selected += ranked[: max(int(quota[cluster]), 0)]
    return selected


@EXAMPLES
@given(batches(), st.data())
def test_topk_seg_matches_a_loop(batch, data):
    keys, cl, K = batch
    quota = np.array(data.draw(st.lists(st.integers(-1, 10), min_size=K, max_size=K)))
    local = local_indices(cl, K, np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))))
    assert topk_seg(keys, cl, K, quota, local).tolist() == topk_by_loop(keys, cl, K, quota, local)


@EXAMPLES
@given(batches(), st.data())
def test_topk_seg_of_elements_in_index_order_needs_no_local_index(batch, data):
    """Elements in index order (clusters sorted, each in its own order): the position breaks ties as the
    local index does, with per-cluster quotas or one for every cluster."""
    keys, cl, K = batch
    order = np.argsort(cl, kind="stable")
    keys, cl = keys[order], cl[order]
    local = rank_in_segment(cl, K)
    quota = np.array(data.draw(st.lists(st.integers(-1, 10), min_size=K, max_size=K)))
    assert topk_seg(keys, cl, K, quota).tolist() == topk_by_loop(keys, cl, K, quota, local)
    one = data.draw(st.integers(-1, 10))
    assert topk_seg(keys, cl, K, one).tolist() == topk_seg(keys, cl, K, np.full(K, one), local).tolist()


@EXAMPLES
@given(batches(values=st.one_of(st.integers(-3, 3), st.sampled_from([-(2**63), 2**63 - 1]))), st.data())
def test_topk_seg_of_int_and_bool_keys_at_their_extremes(batch, data):
    keys, cl, K = batch
    keys = keys.astype(np.int64)
    quota = np.array(data.draw(st.lists(st.integers(0, 4), min_size=K, max_size=K)))
    local = local_indices(cl, K, np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))))
    assert topk_seg(keys, cl, K, quota, local).tolist() == topk_by_loop(keys, cl, K, quota, local)
    unsigned = keys.view(np.uint64)
    assert topk_seg(unsigned, cl, K, quota, local).tolist() == topk_by_loop(unsigned, cl, K, quota, local)
    flags = keys > 0
    assert topk_seg(flags, cl, K, quota, local).tolist() == topk_by_loop(flags, cl, K, quota, local)


def test_topk_seg_breaks_ties_by_local_not_position_and_ranks_nan_last():
    keys = np.array([1.0, np.nan, 1.0, 5.0, 1.0])
    cl = np.array([0, 0, 0, 1, 0])
    local = np.array([2, 0, 3, 0, 1])
    assert topk_seg(keys, cl, 2, np.array([4, 1]), local).tolist() == [4, 0, 2, 1, 3]
    assert topk_seg(keys, cl, 2, 2, local).tolist() == [4, 0, 3]  # one k for every cluster


@EXAMPLES
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from([0.0, 0.5, 1.0]), st.integers(0, 2)), max_size=25))
def test_first_per_key_matches_a_loop(rows):
    key = np.array([row[0] for row in rows], dtype=np.int64)
    order_key = np.array([row[1] for row in rows])
    local = np.array([row[2] for row in rows], dtype=np.int64)
    expected = [
        min((i for i in range(len(rows)) if key[i] == value), key=lambda i: (order_key[i], local[i], i))
        for value in sorted(set(key.tolist()))
    ]
    assert first_per_key(key, order_key, local).tolist() == expected


@EXAMPLES
@given(st.lists(st.integers(0, 6), max_size=25), st.integers(0, 2**32 - 1))
def test_first_per_key_is_np_unique_of_a_permutation_when_order_key_is_the_position(keys, seed):
    key = np.array(keys, dtype=np.int64)
    perm = np.random.default_rng(seed).permutation(key.size)
    position_in_perm = np.empty(key.size)
    position_in_perm[perm] = np.arange(key.size)
    _, first = np.unique(key[perm], return_index=True)
    kept = first_per_key(key, position_in_perm, np.zeros(key.size, dtype=np.int64))
    assert kept.tolist() == perm[first].tolist()


@EXAMPLES
@given(batches())
def test_top2_per_segment_matches_a_loop(batch):
    values, cl, K = batch
    best, second = top2_per_segment(values, cl, K)
    for cluster in range(K):
        ranked = sorted(members_of(cl, cluster), key=lambda i: (-values[i], i)) + [-1, -1]
        assert (best[cluster], second[cluster]) == (ranked[0], ranked[1])


@EXAMPLES
@given(st.lists(st.sampled_from([0.2, 0.5, 0.9, 0.9]), min_size=1, max_size=8))
def test_top2_per_segment_gives_the_platforms_best_peer(capacities):
    from clustersim.processes.platform import best_peer

    values = np.array(capacities)
    best, second = top2_per_segment(values, np.zeros(values.size, dtype=np.int64), 1)
    peer = [values[second[0]] if i == best[0] else values[best[0]] for i in range(values.size)]
    if values.size < 2:
        peer = [-np.inf]
    assert peer == best_peer(values).tolist()


# --- the ensemble invariant: alone equals in a batch ---


@EXAMPLES
@given(cluster_lists(), st.data())
def test_a_clusters_sum_and_mean_are_the_same_bits_alone_and_in_a_batch(clusters, data):
    target = data.draw(st.integers(0, len(clusters) - 1))
    alone = np.array(clusters[target], dtype=np.float64)
    alone_cl = np.zeros(alone.size, dtype=np.int64)
    batch = np.array([value for cluster in clusters for value in cluster], dtype=np.float64)
    cl = np.repeat(np.arange(len(clusters)), [len(cluster) for cluster in clusters])
    K = len(clusters)
    assert bits(segsum(alone, alone_cl, 1)[0]) == bits(segsum(batch, cl, K)[target])
    assert bits(segmean(alone, alone_cl, 1)[0]) == bits(segmean(batch, cl, K)[target])


def test_segsum_is_the_left_to_right_sum_at_any_offset():
    # why bincount (D2): x.sum() is pairwise (its grouping, hence its last bit, is numpy's and the CPU's
    # choice); bincount adds in index order, so a cluster's sum is its plain sequential sum wherever it sits
    rng = np.random.default_rng(12)
    values = rng.standard_normal(1000) * 10.0 ** rng.integers(-3, 6, 1000)
    alone = segsum(values, np.zeros(1000, dtype=np.int64), 1)[0]
    sequential = 0.0
    for value in values.tolist():
        sequential += value
    assert bits(alone) == bits(sequential)
    for before in (1, 7, 64, 333):
        batch = np.concatenate([rng.standard_normal(before), values, rng.standard_normal(5)])
        cl = np.repeat([0, 1, 2], [before, 1000, 5])
        assert bits(segsum(batch, cl, 3)[1]) == bits(alone)


@EXAMPLES
@given(cluster_lists(values=st.sampled_from([0.0, 1.0, 1.0, 2.0, -0.5])), st.data())
def test_a_clusters_topk_is_the_same_alone_and_in_a_shuffled_batch(clusters, data):
    K = len(clusters)
    target = data.draw(st.integers(0, K - 1))
    quota = np.array(data.draw(st.lists(st.integers(0, 9), min_size=K, max_size=K)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    locals_ = [rng.permutation(len(cluster)) for cluster in clusters]
    keys = np.array([value for cluster in clusters for value in cluster], dtype=np.float64)
    local = np.concatenate(locals_).astype(np.int64)
    cl = np.repeat(np.arange(K), [len(cluster) for cluster in clusters])

    alone_keys = np.array(clusters[target], dtype=np.float64)
    alone = topk_seg(alone_keys, np.zeros(alone_keys.size, dtype=np.int64), 1, quota[[target]], locals_[target])
    expected = locals_[target][alone].tolist()

    selected = topk_seg(keys, cl, K, quota, local)
    assert local[selected[cl[selected] == target]].tolist() == expected
    shuffle = rng.permutation(keys.size)  # cl need not be sorted: the same cluster, its elements anywhere
    selected = topk_seg(keys[shuffle], cl[shuffle], K, quota, local[shuffle])
    assert local[shuffle][selected[cl[shuffle][selected] == target]].tolist() == expected


# --- large clusters: sums in lanes (segments.LANE_MIN) ---


def lane_reference(values) -> float:
    """The lane sum by its definition, in plain Python: element i into lane i % LANES, each lane left to right
    from 0.0, then the upper half of the lanes added to the lower half until one is left."""
    lanes = [0.0] * LANES
    for i, value in enumerate(values):
        lanes[i % LANES] += float(value)
    while len(lanes) > 1:
        half = len(lanes) // 2
        lanes = [lanes[j] + lanes[j + half] for j in range(half)]
    return lanes[0]


def spread_values(rng, n: int) -> np.ndarray:
    """Values over twelve orders of magnitude, signed zeros included, so that the order of additions shows.
    The magnitude follows the position modulo 13, so the lanes' totals differ in magnitude and any other
    assignment of elements to lanes, or pairing of lanes, rounds differently."""
    values = rng.standard_normal(n) * 10.0 ** (np.arange(n) % 13 - 6)
    values[rng.integers(0, n, 5)] = -0.0
    return values


@pytest.mark.parametrize("n", [LANE_MIN, LANE_MIN + 1, LANE_MIN + LANES - 1, 3 * LANE_MIN + 77])
def test_a_large_clusters_sum_is_its_lane_sum_alone_and_at_any_offset_in_a_batch(n):
    rng = np.random.default_rng(n)
    values = spread_values(rng, n)
    expected = lane_reference(values)
    sequential = 0.0
    for value in values.tolist():
        sequential += value
    assert bits(expected) != bits(sequential)  # the lanes are a different order of additions, visibly
    assert bits(segsum(values, np.zeros(n, dtype=np.int64), 1)[0]) == bits(expected)
    assert bits(lane_sums(values[None, :])[0]) == bits(expected)
    small = spread_values(rng, 40)
    small_sequential = 0.0
    for value in small.tolist():
        small_sequential += value
    for before in (0, 1, 7, 333):
        batch = np.concatenate([rng.standard_normal(before), values, small])
        cl = np.repeat([0, 1, 2], [before, n, small.size])
        totals = segsum(batch, cl, 3)
        assert bits(totals[1]) == bits(expected)
        assert bits(totals[2]) == bits(small_sequential)  # a small cluster beside it: still left to right
        # the same clusters interleaved (each in its own order): the lanes follow the rank within the cluster
        mixed = rng.permutation(np.repeat([0, 1, 2], [before, n, small.size]))
        mixed_values = np.empty(batch.size)
        for k in range(3):
            mixed_values[mixed == k] = batch[cl == k]
        assert bits(segsum(mixed_values, mixed, 3)[1]) == bits(expected)
        assert bits(segmean(mixed_values, mixed, 3)[1]) == bits(expected / n)


def test_the_lane_rule_reads_the_clusters_own_count_not_the_batchs():
    # many small clusters filling more than LANE_MIN elements: each still adds left to right
    rng = np.random.default_rng(3)
    sizes = rng.integers(50, 200, 100)
    assert sizes.sum() >= LANE_MIN
    values = spread_values(rng, int(sizes.sum()))
    cl = np.repeat(np.arange(sizes.size), sizes)
    totals = segsum(values, cl, sizes.size)
    start = 0
    for k, size in enumerate(sizes.tolist()):
        sequential = 0.0
        for value in values[start : start + size].tolist():
            sequential += value
        assert bits(totals[k]) == bits(sequential)
        start += size
    # one element below the threshold: left to right; at it: lanes
    below = values[: LANE_MIN - 1]
    sequential = 0.0
    for value in below.tolist():
        sequential += value
    assert bits(segsum(below, np.zeros(below.size, dtype=np.int64), 1)[0]) == bits(sequential)


def test_segmean_rows_of_a_large_cluster_is_segmean_of_each_row_alone_and_in_a_batch():
    rng = np.random.default_rng(8)
    n, rows = LANE_MIN + 300, 3
    x = np.stack([spread_values(rng, n) for _ in range(rows)])
    alone = segmean_rows(x, np.zeros(n, dtype=np.int64), 1)[:, 0]
    assert [bits(a) for a in alone] == [bits(lane_reference(row) / n) for row in x]
    batch = np.concatenate([rng.standard_normal((rows, 9)), x], axis=1)
    cl = np.repeat([0, 1], [9, n])
    in_batch = segmean_rows(batch, cl, 2)
    assert np.array_equal(bits(in_batch[:, 1]), bits(alone))
    assert np.array_equal(bits(in_batch[:, 0]), bits([segmean(row, np.zeros(9, dtype=np.int64), 1)[0] for row in batch[:, :9]]))


def test_values_and_cluster_ids_of_different_lengths_are_refused_alone_as_in_a_batch():
    # helper-52's review: the one-cluster routes (lanes, a prefix of the ids) once summed whatever they got
    from clustersim.layout import Layout
    from clustersim.segments import Reducer

    for n_values in (100, LANE_MIN + 10):
        for K in (1, 2):
            with pytest.raises(ValueError):
                segsum(np.ones(n_values), np.zeros(LANE_MIN + 1000, dtype=np.int64) + (K - 1), K)
            with pytest.raises(ValueError):
                segmean_rows(np.ones((2, n_values)), np.zeros(LANE_MIN + 1000, dtype=np.int64) + (K - 1), K)
    for sizes in ([LANE_MIN + 1000], [10, LANE_MIN + 990]):
        layout = Layout.from_sizes(sizes, [1] * len(sizes), [1] * len(sizes))
        reduce = Reducer(layout, legacy=False)
        with pytest.raises(ValueError):
            reduce.mean(np.ones(100), "firm")
        with pytest.raises(ValueError):
            reduce.sum(np.ones(LANE_MIN + 2000), "firm")
