"""The random draws (clustersim.streams): the legacy backend repeats the old generator calls, the
counter backend is a function of its address, and the model agrees in distribution under both."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import pdtr

from clustersim.layout import Layout
from clustersim.model import ClusterModel
from clustersim.seeds import replicate_seeds
from clustersim.streams import (
    GOLDEN_GAMMA,
    SITE_SPACES,
    CounterDraws,
    LegacyDraws,
    Site,
    counter_uniform,
    mix64,
    month_bases,
    poisson_inverse_cdf,
    site_bases,
)

THRESHOLDS = tomllib.loads((Path(__file__).parent / "streams_thresholds.toml").read_text())


def test_mix64_is_splitmix64():
    # SplitMix64 seeded with 0: its first output is mix(0 + gamma), the reference value of Steele et al.
    assert int(mix64(np.array([GOLDEN_GAMMA], dtype=np.uint64))[0]) == 0xE220A8397B1DCDAF


@settings(max_examples=30, deadline=None)
@given(keys=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=4), month=st.integers(0, 2**40))
def test_a_months_table_of_site_bases_is_each_sites_own(keys, month):
    """A batch draws from one table of every site's bases a month: the same hashes as site by site."""
    keys = np.array(keys, dtype=np.uint64)
    table = month_bases(keys, month)
    for site in Site:
        assert np.array_equal(table[site], site_bases(keys, month, int(site)))


def test_counter_uniforms_are_uniform_and_inside_the_unit_interval():
    u = counter_uniform(7, 3, int(Site.JOIN), np.arange(20_000))
    assert (u > 0).all() and (u < 1).all()
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_sites_months_and_keys_give_unrelated_streams():
    idx = np.arange(20_000)
    base = counter_uniform(7, 3, int(Site.JOIN), idx)
    others = [
        counter_uniform(7, 3, int(Site.SUCCESS), idx),  # another site
        counter_uniform(7, 4, int(Site.JOIN), idx),  # the next month
        counter_uniform(8, 3, int(Site.JOIN), idx),  # the next key
        counter_uniform(7, 3, int(Site.JOIN), idx + 1),  # the neighbouring addresses
    ]
    for other in others:
        assert abs(np.corrcoef(base, other)[0, 1]) < 4 / np.sqrt(idx.size)


@settings(max_examples=50, deadline=None)
@given(subset=st.lists(st.integers(0, 999), max_size=40), key=st.integers(0, 2**63), month=st.integers(0, 500))
def test_a_counter_draw_depends_on_its_address_only(subset, key, month):
    """The property the ensemble needs: drawing for some elements gives them what drawing for all would."""
    draws = CounterDraws(key)
    draws.at_month(month)
    everyone = draws.uniform(Site.MEMBERSHIP, np.arange(1000))
    some = draws.uniform(Site.MEMBERSHIP, np.array(subset, dtype=np.int64))
    assert np.array_equal(some, everyone[np.array(subset, dtype=np.int64)])


def test_two_part_addresses_differ_by_either_part():
    draws = CounterDraws(5)
    a = draws.uniform(Site.JOIN, np.array([1, 2]), np.array([2, 1]))
    assert a[0] != a[1]


@settings(max_examples=200, deadline=None)
@given(u=st.floats(1e-12, 1 - 1e-12), lam=st.floats(0.0, 1e5))
def test_poisson_inverse_cdf_is_the_exact_quantile(u, lam):
    k = int(poisson_inverse_cdf(np.array([u]), lam)[0])
    if lam == 0:
        assert k == 0
        return
    assert pdtr(k, lam) >= u
    assert k == 0 or pdtr(k - 1, lam) < u


def test_counter_poisson_has_the_poisson_mean_and_variance():
    draws = CounterDraws(11)
    ks = np.array([draws.poisson(Site.PROPOSALS_SELF, 3.5) for draws.month in range(4000)])
    assert abs(ks.mean() - 3.5) < 4 * np.sqrt(3.5 / ks.size)
    assert abs(ks.var() / 3.5 - 1) < 0.1


def test_counter_sample_and_order_are_permutations():
    draws = CounterDraws(3)
    pool = np.array([10, 4, 99, 7, 23])
    picked = draws.sample(Site.MATCHMAKING, pool, 3)
    assert picked.size == 3 and len(set(picked.tolist())) == 3 and set(picked.tolist()) <= set(pool.tolist())
    assert sorted(draws.order(Site.FIRST_CALL, pool).tolist()) == list(range(5))


def test_legacy_draws_make_the_old_generator_calls():
    def three(seed):
        return (np.random.default_rng(seed), np.random.default_rng(seed + 1), np.random.default_rng(seed + 2))

    draws, (rng, turnover, monitoring) = LegacyDraws(*three(1)), three(1)
    assert np.array_equal(draws.uniform(Site.JOIN, np.arange(5)), rng.random(5))
    assert np.array_equal(draws.uniform(Site.TURNOVER, 4), turnover.random(4))
    assert np.array_equal(draws.uniform(Site.MONITORING, 6), monitoring.random(6))
    assert draws.poisson(Site.PROPOSALS_SELF, 2.0) == rng.poisson(2.0)
    items = np.array([5, 9, 2, 8])
    assert np.array_equal(items[draws.order(Site.TRAIN_SUBSET, items)], rng.permutation(items))
    assert np.array_equal(draws.sample(Site.MATCHMAKING, items, 2), rng.choice(items, size=2, replace=False))
    assert np.array_equal(draws.integers(Site.WELL_MIXED_PARTNER, 9, items), rng.integers(0, 9, size=4))
    assert np.array_equal(draws.uniform_between(Site.HURRICANE, 0.5, 1.5, 3), rng.uniform(0.5, 1.5, 3))


def test_every_site_names_its_index_space():
    assert set(SITE_SPACES) == set(Site)


def test_counter_runs_have_no_generator_to_replace():
    s = ClusterModel("baseline", seed=1, streams="counter").state
    with pytest.raises(AttributeError, match="counter-based draws"):
        s.rng_turnover = np.random.default_rng(1)


def test_poisson_means_must_be_finite_and_at_least_zero_and_batches_need_a_layout():
    with pytest.raises(ValueError, match="finite and >= 0"):
        poisson_inverse_cdf(np.array([0.5]), np.nan)
    with pytest.raises(ValueError, match="need a Layout"):
        CounterDraws([1, 2])
    batch = CounterDraws([1, 2], Layout.from_sizes(firms=[1, 1], ties=[0, 0], officers=[0, 0]))
    with pytest.raises(ValueError, match="one Poisson mean per cluster"):
        batch.poisson(Site.PROPOSALS_SELF, np.ones(3))


@settings(max_examples=30, deadline=None)
@given(
    firms=st.lists(st.integers(0, 25), min_size=1, max_size=4),
    keys=st.lists(st.integers(0, 2**63), min_size=4, max_size=4),
    share=st.floats(0, 1),
    size=st.integers(0, 30),
)
def test_batch_selections_equal_each_cluster_alone(firms, keys, share, size):
    """Poisson counts, random orders and samples without replacement: per cluster, as if it ran alone."""
    K = len(firms)
    layout = Layout.from_sizes(firms, [0] * K, [0] * K)
    batch = CounterDraws(keys[:K], layout)
    lam = np.linspace(0.5, 40.0, K)
    counts = batch.poisson(Site.PROPOSALS_SELF, lam)
    # several sites at once (formation's two proposal counts): each as drawn alone, a mean of 0 included
    fac = np.where(np.arange(K) % 2 == 0, 0.0, lam[::-1])
    both = batch.poissons((Site.PROPOSALS_FACILITATED, Site.PROPOSALS_SELF), (fac, lam))
    assert [b.tolist() for b in both] == [batch.poisson(Site.PROPOSALS_FACILITATED, fac).tolist(), counts.tolist()]
    order = batch.order(Site.INITIATOR_ORDER, np.arange(layout.firm_ptr[-1]))
    pool = np.flatnonzero(batch.uniform(Site.MEMBERSHIP, layout.firm_ptr[-1]) < share)
    picked = batch.sample(Site.MATCHMAKING, pool, size)
    for k in range(K):
        alone = CounterDraws(keys[k])
        assert counts[k] == alone.poisson(Site.PROPOSALS_SELF, lam[k])
        offset = layout.firm_ptr[k]
        mine = order[(order >= offset) & (order < layout.firm_ptr[k + 1])] - offset
        assert np.array_equal(mine, alone.order(Site.INITIATOR_ORDER, np.arange(firms[k])))
        assert np.array_equal(order[offset : layout.firm_ptr[k + 1]] - offset, mine)  # grouped by cluster
        local_pool = pool[(pool >= offset) & (pool < layout.firm_ptr[k + 1])] - offset
        mine = picked[(picked >= offset) & (picked < layout.firm_ptr[k + 1])] - offset
        assert np.array_equal(mine, alone.sample(Site.MATCHMAKING, local_pool, size))


def test_the_model_is_reproducible_under_counter_draws_and_differs_from_legacy():
    runs = [ClusterModel("funded_programme", seed=4, streams=mode).run(24).series() for mode in ("counter",) * 2]
    legacy = ClusterModel("funded_programme", seed=4, streams="legacy").run(24).series()
    assert runs[0].equals(runs[1])
    assert not runs[0].equals(legacy)
    # the initial state is drawn the same way in both; month 0's metrics differ only in how means are summed
    # (counter mode reduces per cluster in index order, as a batch does: clustersim.segments)
    counter0, legacy0 = (ClusterModel("funded_programme", seed=4, streams=mode) for mode in ("counter", "legacy"))
    for name in counter0.firms.names():
        assert np.array_equal(getattr(counter0.firms, name), getattr(legacy0.firms, name)), name
    assert np.array_equal(counter0.trust, legacy0.trust)
    np.testing.assert_allclose(runs[0].iloc[0].to_numpy(float), legacy.iloc[0].to_numpy(float), rtol=1e-12)


def test_an_unknown_stream_is_refused():
    with pytest.raises(ValueError, match="streams must be one of legacy, counter"):
        ClusterModel("baseline", seed=1, streams="philox")


def _summaries(scenario: str, streams: str) -> dict[str, np.ndarray]:
    rows = [
        ClusterModel(scenario, seed=seed, streams=streams).run(THRESHOLDS["months"]).summary()
        for seed in replicate_seeds(THRESHOLDS["seed"], THRESHOLDS["replicates"])
    ]
    return {name: np.array([row[name] for row in rows], dtype=float) for name in THRESHOLDS["outcomes"]}


@pytest.mark.slow
@pytest.mark.parametrize("scenario", THRESHOLDS["scenarios"])
def test_counter_and_legacy_draws_agree_in_distribution(scenario):
    legacy, counter = _summaries(scenario, "legacy"), _summaries(scenario, "counter")
    for name in THRESHOLDS["outcomes"]:
        difference = counter[name] - legacy[name]  # paired: the same seed, so the same initial cluster
        se = difference.std(ddof=1) / np.sqrt(difference.size)
        assert abs(difference.mean()) <= THRESHOLDS["z"] * se, (
            f"{scenario} {name}: {difference.mean():.4f}, SE {se:.4f}"
        )
        spreads = sorted([legacy[name].std(ddof=1), counter[name].std(ddof=1)])
        if spreads[0] > 0:
            assert spreads[1] / spreads[0] <= THRESHOLDS["sd_ratio_max"], f"{scenario} {name}: spreads {spreads}"


# ------------------------------------------------------------------------------ batches of clusters
def test_layout_localises_global_indices():
    layout = Layout.from_sizes(firms=[3, 0, 2], ties=[1, 4, 0], officers=[2, 2, 0])
    assert layout.K == 3 and layout.n_firms.tolist() == [3, 0, 2]
    cluster, local = layout.localise("firm", np.array([0, 2, 3, 4]))
    assert cluster.tolist() == [0, 0, 2, 2] and local.tolist() == [0, 2, 0, 1]
    cluster, local = layout.localise("tie", np.array([0, 1, 4]))
    assert cluster.tolist() == [0, 1, 1] and local.tolist() == [0, 0, 3]
    with pytest.raises(ValueError, match="one count per cluster"):
        Layout.from_sizes(firms=[1, 2], ties=[1], officers=[1, 1])


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 40), st.integers(0, 4)), min_size=1, max_size=5),
    keys=st.lists(st.integers(0, 2**64 - 1), min_size=5, max_size=5),
    month=st.integers(0, 200),
)
def test_a_cluster_draws_the_same_alone_and_in_any_batch(sizes, keys, month):
    """Design (a) of issue 12: a cluster's draws depend on its key and its own elements only."""
    firms, ties, officers = ([size[i] for size in sizes] for i in range(3))
    K = len(sizes)
    batch = CounterDraws(keys[:K], Layout.from_sizes(firms, ties, officers))
    batch.at_month(month)
    layout = batch.layout
    every_firm = batch.uniform(Site.MEMBERSHIP, layout.firm_ptr[-1])
    every_tie = batch.uniform(Site.INFORMAL_CONTACT, layout.tie_ptr[-1])
    every_officer = batch.uniform(Site.TURNOVER, layout.officer_ptr[-1])
    # content addresses: every firm asks firm 0 of its own cluster, as a facilitator's introduction
    askers = np.arange(layout.firm_ptr[-1])
    asked = layout.firm_ptr[layout.clusters("firm")]
    calls = batch.uniform(Site.FIRST_CALL, askers, asked, np.ones(askers.size, dtype=np.int64))
    joins = batch.uniform(Site.JOIN, asked, askers)
    for k in range(K):
        alone = CounterDraws(keys[k])
        alone.at_month(month)
        firm_slice = slice(layout.firm_ptr[k], layout.firm_ptr[k + 1])
        assert np.array_equal(every_firm[firm_slice], alone.uniform(Site.MEMBERSHIP, firms[k]))
        tie_slice = slice(layout.tie_ptr[k], layout.tie_ptr[k + 1])
        assert np.array_equal(every_tie[tie_slice], alone.uniform(Site.INFORMAL_CONTACT, ties[k]))
        officer_slice = slice(layout.officer_ptr[k], layout.officer_ptr[k + 1])
        assert np.array_equal(every_officer[officer_slice], alone.uniform(Site.TURNOVER, officers[k]))
        local = np.arange(firms[k])
        expected = alone.uniform(Site.FIRST_CALL, local, np.zeros(firms[k], dtype=np.int64), np.ones(firms[k], int))
        assert np.array_equal(calls[firm_slice], expected)
        first_firm = np.zeros(firms[k], dtype=np.int64)
        assert np.array_equal(joins[firm_slice], alone.uniform(Site.JOIN, first_firm, local))


def test_a_batch_needs_one_key_per_cluster_and_named_clusters_for_actions():
    layout = Layout.from_sizes(firms=[2, 2], ties=[0, 0], officers=[0, 0])
    with pytest.raises(ValueError, match="one key per cluster"):
        CounterDraws([1, 2, 3], layout)
    with pytest.raises(ValueError, match="pass its cluster explicitly"):
        CounterDraws([1, 2], layout).uniform(Site.SUCCESS, np.array([0, 1]))
    actions = CounterDraws([1, 2], layout).uniform(Site.SUCCESS, np.array([0, 0]), cluster=np.array([0, 1]))
    assert actions[0] == CounterDraws(1).uniform(Site.SUCCESS, np.array([0]))[0]
    assert actions[1] == CounterDraws(2).uniform(Site.SUCCESS, np.array([0]))[0]
