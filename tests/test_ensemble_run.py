"""The ensemble driver (clustersim.ensemble_run): a cluster run in a batch is the same run as alone.

``run_ensemble`` must give each cluster exactly the series and summary of
``ClusterModel(scenario, seed=seed, streams="counter").run()``, whichever clusters share the batch and in
whatever order (docs/plans/ensemble-engine.md, design (a): per-cluster counter-based streams).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from clustersim.ensemble_run import run_ensemble
from clustersim.model import ClusterModel
from clustersim.scenario import load_scenario

MONTHS = 36  # long enough for actions to end, the association to form in some runs, tranches to fall due


def same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_cluster_is_the_single_run(run, k: int, scenario: str, seed: int, **overrides) -> None:
    model = ClusterModel(scenario, seed=seed, streams="counter", **overrides).run(MONTHS)
    alone, batch = model.series(), run.series_of(k)
    assert list(alone.columns) == list(batch.columns)
    for name in alone.columns:
        np.testing.assert_array_equal(batch[name].to_numpy(dtype=float), alone[name].to_numpy(dtype=float), name)
    single, in_batch = model.summary(), run.summaries()[k]
    assert list(single) == list(in_batch)
    assert [key for key in single if not same(single[key], in_batch[key])] == []


@pytest.mark.parametrize("scenario", ["funded_programme", "pandemic_shock"])
def test_each_cluster_of_a_batch_is_its_single_counter_run(scenario):
    seeds = [3, 17, 40, 41]
    run = run_ensemble(scenario, seeds, months=MONTHS)
    assert len(seeds) == run.K and run.series["share_cooperating"].shape == (MONTHS + 1, len(seeds))
    for k, seed in enumerate(seeds):
        assert_cluster_is_the_single_run(run, k, scenario, seed)


def test_a_cluster_does_not_depend_on_its_batch_mates_or_their_order():
    forward = run_ensemble("funded_programme", [5, 6, 7], months=MONTHS)
    backward = run_ensemble("funded_programme", [7, 9, 5], months=MONTHS)
    for name, values in forward.series.items():
        np.testing.assert_array_equal(values[:, 0], backward.series[name][:, 2], name)
        np.testing.assert_array_equal(values[:, 2], backward.series[name][:, 0], name)


def test_clusters_of_different_sizes_and_calendars_share_a_batch():
    sizes = [{"n_firms": 20, "programme_months": 24}, {"n_firms": 90}, {"n_firms": 45, "manager_present": False}]
    from clustersim.scenario import load_scenario

    scenarios = [load_scenario("funded_programme", **o) for o in sizes]
    run = run_ensemble(scenarios, [1, 2, 3], months=MONTHS)
    for k, overrides in enumerate(sizes):
        assert_cluster_is_the_single_run(run, k, "funded_programme", k + 1, **overrides)


def test_programmes_that_wait_for_their_money_share_a_batch_with_programmes_that_do_not():
    """Each cluster's calendar says when its paid services start (docs/ODD.md §7.2): waiting and not waiting,
    late and on time, funded or not, and with leader incentives, side by side in one batch."""
    arms = [
        {"programme_waits_for_first_tranche": True, "disbursement_delay_months": 12},
        {"disbursement_delay_months": 12},
        {"programme_waits_for_first_tranche": True, "disbursement_delay_months": 5, "leader_firms": 3,
         "budget_leader_incentive": 20.0, "leader_incentive_per_month": 0.5, "programme_budget": 0.0},
        {"programme_waits_for_first_tranche": True, "grant_amount": 0.0, "programme_budget": 0.0},
    ]
    scenarios = [load_scenario("funded_programme", **o) for o in arms]
    run = run_ensemble(scenarios, [11, 12, 13, 14], months=MONTHS)
    for k, overrides in enumerate(arms):
        assert_cluster_is_the_single_run(run, k, "funded_programme", 11 + k, **overrides)


def test_a_batch_refuses_what_it_cannot_mix():
    with pytest.raises(ValueError, match="one model variant per batch"):
        run_ensemble([_with(), _with(group_formation="random_groups")], [1, 2], months=2)
    with pytest.raises(ValueError, match="tranche_condition"):  # a choice the monthly step reads
        run_ensemble(
            [_with(tranche_condition="none"), _with(tranche_condition="reported_cooperation")], [1, 2], months=2
        )
    with pytest.raises(ValueError, match="2 scenarios for 3 seeds"):
        run_ensemble(["funded_programme", "funded_programme"], [1, 2, 3], months=2)


def _with(**overrides):
    from clustersim.scenario import load_scenario

    return load_scenario("funded_programme", **overrides)


def test_run_scenario_under_counter_draws_batches_its_replicates_with_the_results_of_runs_alone():
    from clustersim import run_scenario
    from clustersim.runner import simulate

    series, summary = run_scenario("funded_programme", seed=4, replicates=3, months=MONTHS, streams="counter")
    for r, seed in enumerate(summary["seed"]):
        df, single = simulate(load_scenario("funded_programme", months=MONTHS), int(seed), streams="counter")
        mine = series[series["replicate"] == r].set_index("month")[df.columns]
        np.testing.assert_array_equal(mine.to_numpy(dtype=float), df.to_numpy(dtype=float))
        row = summary.iloc[r]
        assert [k for k in single if not same(single[k], row[k])] == []


def test_runs_share_a_batch_only_with_the_same_horizon_and_monthly_choices():
    from clustersim.ensemble_run import ensemble_groups

    scenarios = [
        _with(),
        _with(months=48),
        _with(grant_amount=50.0, n_firms=30),  # numbers may differ
        _with(tranche_condition="reported_cooperation"),
        _with(group_formation="random_groups"),
        _with(group_formation="random_groups", n_firms=30),  # the random-group game batches too
        _with(months=48, bso_turnover_rate=0.0),
    ]
    assert ensemble_groups(scenarios) == [[0, 2], [1, 6], [3], [4, 5]]


def test_random_group_games_in_one_batch_are_the_games_played_alone():
    """The well-mixed public goods game (groups re-drawn every month within each cluster) in one batch: clusters
    of other sizes (one smaller than a group, one that leaves firms over), group sizes and multipliers, each
    bit for bit its run alone."""
    from clustersim.ensemble_run import run_each

    cases = [
        {"n_firms": 60},
        {"n_firms": 4, "game_group_size": 5, "mean_degree": 2},  # fewer firms than a group: all play in one
        {"n_firms": 47, "game_group_size": 4, "game_multiplier": 3.5},  # 3 firms sit each month out
        {"n_firms": 25, "game_multiplier": 1.2, "imitation_rate": 0.3},
    ]
    scenarios = [_with(months=MONTHS, group_formation="random_groups", **case) for case in cases]
    seeds = [21, 22, 23, 24]
    for (summary, series), sc, seed in zip(run_each(scenarios, seeds), scenarios, seeds, strict=True):
        model = ClusterModel(sc, seed=seed, streams="counter").run()
        alone = model.series()
        assert series.to_numpy(dtype=float).tobytes() == alone[series.columns].to_numpy(dtype=float).tobytes()
        assert [k for k, v in model.summary().items() if not same(v, summary[k])] == []
        assert alone["contribution_rate"].iloc[1:].between(0.0, 1.0).all()


def test_runs_with_their_own_action_type_table_or_exporter_threshold_share_a_batch():
    """A posterior draw or a factor can change the action-type table or the exporter threshold: such runs share
    a batch (each cluster reads its own row), and each still equals itself alone."""
    from clustersim.ensemble_run import ensemble_groups, run_each

    scenarios = [
        _with(months=12),
        _with(months=12, joint_export_cost=1.5 * load_scenario("funded_programme")["joint_export_cost"]),
        _with(months=12, exporter_threshold=0.8, production_min_participants=4),
        _with(months=12, grant_amount=50.0, joint_marketing_cofinanced=False),
    ]
    assert ensemble_groups(scenarios) == [[0, 1, 2, 3]]
    seeds = [5, 6, 7, 8]
    for (summary, _), sc, seed in zip(run_each(scenarios, seeds), scenarios, seeds, strict=True):
        alone = ClusterModel(sc, seed=seed, streams="counter").run().summary()
        assert [k for k in alone if not same(alone[k], summary[k])] == []


def test_runs_that_differ_in_a_start_only_text_setting_share_a_batch():
    """manager_mode and network_kind only shape the start: such runs share a batch, and their summaries (which
    read each cluster's own coefficients) equal the runs alone (helper-34 found an AttributeError here)."""
    from clustersim.ensemble_run import ensemble_groups, run_each

    scenarios = [_with(months=6), _with(months=6, manager_mode="online"), _with(months=6, network_kind="ring")]
    assert ensemble_groups(scenarios) == [[0, 1, 2]]
    seeds = [3, 4, 5]
    for (summary, _), sc, seed in zip(run_each(scenarios, seeds), scenarios, seeds, strict=True):
        alone = ClusterModel(sc, seed=seed, streams="counter").run().summary()
        assert [k for k in alone if not same(alone[k], summary[k])] == []
