"""Model invariants, determinism, the Mesa face of the model, and lever effects not covered by SF tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clustersim import ClusterModel, load_scenario
from clustersim.agents import BSO, ClusterManager, Firm
from clustersim.runner import run_scenario


def test_same_seed_same_series_different_seed_differs():
    a = ClusterModel("funded_programme", seed=7).run().series()
    b = ClusterModel("funded_programme", seed=7).run().series()
    c = ClusterModel("funded_programme", seed=8).run().series()
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_run_scenario_is_reproducible_and_records_seeds():
    s1, m1 = run_scenario("pandemic_shock", seed=3, replicates=3, months=30)
    s2, m2 = run_scenario("pandemic_shock", seed=3, replicates=3, months=30)
    pd.testing.assert_frame_equal(s1, s2)
    assert m1["seed"].nunique() == 3
    # a recorded replicate seed reproduces that replicate on its own
    again = ClusterModel(load_scenario("pandemic_shock", months=30), seed=int(m1["seed"][1])).run().series()
    np.testing.assert_allclose(again["mean_trust"].to_numpy(), s1.loc[s1.replicate == 1, "mean_trust"].to_numpy())


def test_mesa_agents_are_a_view_of_the_arrays():
    m = ClusterModel("leader_firms", seed=1)
    firms = m.agents_by_type[Firm]
    assert len(firms) == m.params.n_firms
    assert len(m.agents_by_type[BSO]) == 1 and len(m.agents_by_type[ClusterManager]) == 1
    m.run(24)
    f = firms.select(lambda a: a.leader)
    assert len(f) == 5 and all(a.motivation >= 0.85 - 1e-9 for a in f)
    one = next(iter(firms))
    assert one.motivation == m.firms.motivation[one.index]
    assert one.state in ("outside", "member", "active", "dropped")
    for other, t in one.ties().items():
        assert 0.0 <= t <= 1.0 and one.trust_in(other) == t
    g = m.network
    assert g.number_of_nodes() == m.params.n_firms


def test_no_programme_spends_nothing_and_the_manager_is_never_hired():
    m = ClusterModel("baseline", seed=2, manager_present=True).run(60)
    assert m.ledger.disbursed == 0 and m.ledger.programme_cost == 0
    assert m.series()["contacts"].sum() == 0


def test_the_manager_is_paid_in_full_for_every_month_worked():
    m = ClusterModel("funded_programme", seed=4, disbursement_delay_months=6, programme_waits_for_first_tranche=True)
    m.run()
    assert m.ledger.spent_manager == 3.0 * (96 - 6)  # hired at the first tranche, paid every month after
    assert m.ledger.paid_to_firms > 0
    m = ClusterModel("funded_programme", seed=4, disbursement_delay_months=6).run()
    assert m.ledger.spent_manager == 3.0 * 96  # in post from approval: the salary line does not wait


def test_unfunded_plan_never_hires_the_manager():
    m = ClusterModel("unfunded_plan", seed=2).run(48)
    assert m.manager is not None and not m.manager.active
    assert m.ledger.disbursed == 0


def test_tranches_follow_the_calendar():
    m = ClusterModel("funded_programme", seed=1, disbursement_delay_months=5)
    disb = m.run(60).series()["money_disbursed"]
    assert disb.iloc[5] == 0 and disb.iloc[6] == 100.0 and disb.iloc[18] == 200.0 and disb.iloc[60] == 400.0


@st.composite
def params(draw):
    return dict(
        n_firms=draw(st.integers(8, 80)),
        months=draw(st.integers(1, 60)),
        network_kind=draw(st.sampled_from(["small_world", "scale_free", "ring"])),
        mean_degree=draw(st.sampled_from([2, 4, 6])),
        trust_propensity_mean=draw(st.floats(0, 1)),
        trust_gain=draw(st.floats(0, 0.5)),
        trust_loss=draw(st.floats(0, 0.8)),
        trust_decay=draw(st.floats(0, 0.3)),
        reputation_weight=draw(st.floats(0, 0.5)),
        free_riding_temptation=draw(st.floats(0, 1)),
        selection_intensity=draw(st.floats(0, 50)),
        programme_months=draw(st.integers(0, 60)),
        grant_amount=draw(st.floats(0, 2000)),
        grant_tranches=draw(st.integers(1, 6)),
        disbursement_delay_months=draw(st.integers(0, 30)),
        cofunding_share=draw(st.floats(0, 1)),
        manager_present=draw(st.booleans()),
        manager_mode=draw(st.sampled_from(["face_to_face", "online"])),
        bso_staff=draw(st.integers(0, 4)),
        firm_training_share=draw(st.floats(0, 1)),
        firm_training_cost=draw(st.floats(0, 50)),
        leader_firms=draw(st.integers(0, 4)),
        leader_mentoring=draw(st.floats(0, 1)),
        pandemic_months=draw(st.integers(0, 30)),
        hurricane_capital_loss=draw(st.floats(0, 1)),
        hurricane_month=draw(st.integers(0, 30)),
        monitoring_intensity=draw(st.floats(0, 1)),
        prior_cooperative_share=draw(st.floats(0, 1)),
        size_heterogeneity=draw(st.floats(0, 2.5)),
        group_formation=draw(st.sampled_from(["projects", "projects", "random_groups", "neighbourhoods"])),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=params(), seed=st.integers(0, 2**31))
def test_invariants_hold_for_any_valid_parameters(p, seed):
    m = ClusterModel("baseline", seed=seed, **p)
    led = m.ledger
    for _ in range(p["months"]):
        m.step()
        assert np.all((m.trust >= 0) & (m.trust <= 1))
        f = m.firms
        for arr in (f.motivation, f.disposition, f.capability, f.export_readiness):
            assert np.all((arr >= 0) & (arr <= 1))
        # money is conserved between funder, cluster account and firms, and no line is overspent
        assert np.isclose(led.disbursed, led.bso_cash + led.paid_to_firms)
        assert led.bso_cash >= -1e-9 and led.disbursed <= p["grant_amount"] + 1e-6
        assert all(led.spent[k] <= led.allocation[k] + 1e-9 for k in led.spent)
        assert np.isclose(led.programme_cost, led.funder_paid - led.bso_cash)
    s = m.series()
    shares = [
        "share_cooperating",
        "women_share_jobs",
        "women_share_new_jobs",
        "women_share_management",
        "giant_component",
        "mean_trust",
        "mean_motivation",
        "alignment",
        "contribution_rate",
        "reported_cooperation",
        "bso_capacity",
        "export_share",
    ]
    for col in shares:
        vals = s[col].dropna()
        assert ((vals >= -1e-12) & (vals <= 1 + 1e-12)).all(), col
    numeric = s.drop(
        columns=["alignment", "contribution_rate", "reported_cooperation", "women_share_new_jobs", "exports_index"]
    )
    assert not numeric.isna().any().any()
    assert np.isfinite(numeric.to_numpy(dtype=float)).all()


def test_regional_exchange_only_strengthens_trained_officers():
    untrained = ClusterModel(
        "funded_programme", seed=1, bso_training_staff=0, bso_turnover_rate=0.0, regional_exchange_interval_months=6
    ).run(30)
    assert untrained.bso.trained_staff == 0 and untrained.series()["bso_capacity"].max() == 0.25
    trained = ClusterModel(
        "funded_programme",
        seed=1,
        bso_turnover_rate=0.0,
        regional_exchange_interval_months=6,
        budget_regional_exchange=50.0,
        programme_budget=0.0,
    )
    before = ClusterModel("funded_programme", seed=1, bso_turnover_rate=0.0).run(30).bso.capacity
    assert trained.run(30).bso.capacity > before + 0.01


def test_a_hurricane_keeps_every_share_in_range():
    s = (
        ClusterModel("funded_programme", seed=1, hurricane_capital_loss=0.9, hurricane_month=2, female_job_share=0.8)
        .run(24)
        .series()
    )
    assert s["jobs_index"].min() < 0.8  # the hurricane bites
    for col in ("women_share_jobs", "women_share_management", "share_cooperating", "giant_component"):
        assert s[col].between(0, 1).all(), col


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 80), st.integers(0, 200), st.integers(0, 2**32 - 1))
def test_component_labels_match_scipy_connected_components(n, edges, seed):
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from clustersim.metrics import _giant_component, component_labels

    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, edges), rng.integers(0, n, edges)
    labels = component_labels(u, v, n)
    _, expected = connected_components(coo_matrix((np.ones(edges), (u, v)), shape=(n, n)), directed=False)
    # the same partition: a firm's label is the smallest firm of its component
    assert all(labels[i] == np.flatnonzero(expected == expected[i]).min() for i in range(n))
    if edges:
        assert _giant_component(u, v, n) == np.bincount(expected).max() / n


def test_component_labels_of_a_path_with_bit_reversed_labels():
    from clustersim.metrics import _giant_component, component_labels

    # the hardest case found (review of 2026-12-06): a path whose firm numbers follow the bit-reversal
    # permutation needs log2(n) hooking rounds, each with pointer jumping
    bits = 13
    n = 2**bits
    order = np.array([int(f"{i:0{bits}b}"[::-1], 2) for i in range(n)])
    u, v = order[:-1], order[1:]
    assert (component_labels(u, v, n) == 0).all()
    assert _giant_component(u, v, n) == 1.0
    half = n // 2  # drop edge half: firms order[:half + 1] and order[half + 1:] are the two components
    labels = component_labels(np.delete(u, half), np.delete(v, half), n)
    assert set(np.unique(labels)) == {int(order[: half + 1].min()), int(order[half + 1 :].min())}


def test_giant_component_above_the_numpy_labelling_size_uses_scipy_and_agrees():
    from clustersim.metrics import NUMPY_LABELLING_MAX_FIRMS, _giant_component, component_labels

    n = NUMPY_LABELLING_MAX_FIRMS + 1
    rng = np.random.default_rng(7)
    u, v = rng.integers(0, n, n), rng.integers(0, n, n)
    assert _giant_component(u, v, n) == np.bincount(component_labels(u, v, n)).max() / n


def _stepped(preset: str, months: int, **overrides) -> ClusterModel:
    model = ClusterModel(preset, seed=3, **overrides)
    for _ in range(months):
        model.step()
    return model


def _same_numbers(a: dict, b: dict) -> bool:
    """Equal keys, types and values (NaN equal to NaN)."""
    return list(a) == list(b) and all(
        type(a[k]) is type(b[k]) and (a[k] == b[k] or (a[k] != a[k] and b[k] != b[k])) for k in a
    )


def _with_process_of_ones_own(model: ClusterModel, month: int, action) -> ClusterModel:
    """``model`` whose schedule runs ``action(state)`` after its last process in ``month``."""
    last = model.schedule[-1]

    def last_then_action(state):
        last(state)
        if state.month == month:
            action(state)

    model.schedule = (*model.schedule[:-1], last_then_action)
    return model


def _ran_and_stepped(make, months: int) -> tuple[ClusterModel, ClusterModel]:
    """Two models from ``make()``: one ``run`` for ``months``, one stepped month by month."""
    ran, stepped = make().run(months), make()
    for _ in range(months):
        stepped.step()
    return ran, stepped


def test_run_records_what_stepping_month_by_month_collects():
    """``run`` reduces its months' metrics at the end: the series, ``current``, Mesa's step count and time
    and the collector's steps are those of calling ``step`` month by month; stepping on afterwards collects
    as before."""
    for preset, months, overrides in (("funded_programme", 96, {}), ("pandemic_shock", 40, {"n_firms": 30})):
        ran, stepped = _ran_and_stepped(lambda: ClusterModel(preset, seed=3, **overrides), months)  # noqa: B023
        pd.testing.assert_frame_equal(ran.series(), stepped.series(), check_exact=True)
        assert _same_numbers(ran.current, stepped.current)
        assert (ran.steps, ran.time) == (stepped.steps, stepped.time)
        assert ran.datacollector._collection_steps == stepped.datacollector._collection_steps
        ran.step(), stepped.step()
        pd.testing.assert_frame_equal(ran.series(), stepped.series(), check_exact=True)


def test_run_with_a_reporter_of_ones_own_collects_each_month():
    """A collector of one's own sees the model every month, as under Mesa's own ``run``."""
    from mesa import DataCollector

    model = ClusterModel("funded_programme", seed=3)
    seen = []
    model.datacollector = DataCollector(model_reporters={"month": lambda m: seen.append(m.state.month) or seen[-1]})
    model.run(5)
    assert seen[-5:] == [1, 2, 3, 4, 5]  # (Mesa's collector may also look once when it is set)


def test_an_interrupted_run_keeps_the_months_it_finished():
    """A run stopped in its fourth month (here by an error in a process) has collected months 1 to 3."""
    def interrupt(state):
        raise KeyboardInterrupt

    model = _with_process_of_ones_own(ClusterModel("funded_programme", seed=3), 4, interrupt)
    with pytest.raises(KeyboardInterrupt):
        model.run(10)
    stepped = _stepped("funded_programme", 3)
    pd.testing.assert_frame_equal(model.series(), stepped.series(), check_exact=True)
    assert _same_numbers(model.current, stepped.current)


def test_run_records_each_month_under_what_held_then_when_a_process_of_ones_own_changes_it():
    """The recorder reads firm sizes and some coefficients once, not every month: a process of one's own that
    changes them mid-run must not rewrite the months before (the block is reduced under what held for it)."""

    def grow(state):
        state.firms.size *= 2.0
        state.coef.jobs_elasticity = 0.5

    ran, stepped = _ran_and_stepped(
        lambda: _with_process_of_ones_own(ClusterModel("funded_programme", seed=3), 6, grow), 12
    )
    pd.testing.assert_frame_equal(ran.series(), stepped.series(), check_exact=True)


def test_a_run_interrupted_while_a_block_is_reduced_loses_no_month():
    """With blocks of two months, an interruption inside the second reduction still hands over every month
    recorded, and the collector's times and values stay the same length."""
    from unittest import mock

    from clustersim import batch_metrics

    model = ClusterModel("funded_programme", seed=3, n_firms=20)
    calls = []
    reduce = batch_metrics._firm_metrics_block

    def interrupted_second_time(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return reduce(*args)

    per_month = batch_metrics.month_bytes(20, model.ties.n_ties)
    with (
        mock.patch.object(batch_metrics, "RECORD_MAX_BYTES", 2 * per_month),
        mock.patch.object(batch_metrics, "_firm_metrics_block", interrupted_second_time),
        pytest.raises(KeyboardInterrupt),
    ):
        model.run(10)
    stepped = _stepped("funded_programme", 4, n_firms=20)
    pd.testing.assert_frame_equal(model.series(), stepped.series(), check_exact=True)
    assert len(model.datacollector._collection_steps) == len(model.series())


def test_run_survives_a_network_of_another_size_swapped_in_mid_run():
    """A process of one's own that swaps in another network (``replace_network``) mid-run: the months before
    are reduced under the old ties, the months after under the new, as stepping month by month gives them."""
    from clustersim.processes.initialisation import initial_network

    def swap(state):
        denser = state.coef_of(0)
        denser.mean_degree = 8
        state.replace_network(initial_network(denser, state.firms, np.random.default_rng(1)))

    ran, stepped = _ran_and_stepped(
        lambda: _with_process_of_ones_own(ClusterModel("funded_programme", seed=3), 5, swap), 8
    )
    pd.testing.assert_frame_equal(ran.series(), stepped.series(), check_exact=True)
    with pytest.raises(ValueError):  # the tie ends are read-only: a new network is the way to change them
        ran.ties.u[0] = 1
