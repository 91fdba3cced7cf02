"""Confirmatory tests of issue 11's money claims, continued: the exit strategy and the own share
(tests/money_thresholds.toml, [confirmatory]; the designs and their rules are in tests/test_money_confirmatory.py,
a file of its own so that pytest-xdist can run the two halves at once)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_money import T, assert_greater
from test_money_confirmatory import CONF, REGISTERED_STREAMS, outcome

from clustersim.runner import run_scenario

pytestmark = pytest.mark.slow


# Registered and first run 2026-12-06 (112 paired replicates, root 7101): it failed, +0.012 (SE 0.0126, z 0.96),
# the association forming in 97-98% of runs in both arms and then paying the manager itself. It passes since
# session 25's rule that members priced out of their goal leave (a change made for SF5, not for this test):
# +0.064 (SE 0.017, z 3.7), the association paying 100 k$ of the manager's salary after a taper against 42 k$
# after an abrupt exit. The design is unchanged; the model is not, so this is not a second registration.
def test_tapered_exit_improves_sustainability_confirmatory():
    e, reps = T["exit"], CONF["exit"]["replicates"]
    tapered = outcome("funded_programme", "coop_24m_after_end", reps, exit_taper_months=e["taper_months"])
    abrupt = outcome("funded_programme", "coop_24m_after_end", reps)
    assert_greater(tapered, abrupt, e["margin"])


def _runs_with_cash_record(scenario: str, root: int, replicates: int, **overrides):
    """Summaries of the replicates of ``run_scenario`` (same seeds), and each run's fewest k$ in the cluster
    account over the programme's months: co-financing pays only from cash held (``queries.cofinanced``)."""
    from clustersim import ClusterModel
    from clustersim.seeds import replicate_seeds

    summaries, least_cash = [], []
    for seed in replicate_seeds(root, replicates):
        model = ClusterModel(scenario, seed=seed, streams=REGISTERED_STREAMS, **overrides)
        cash = []
        for _ in range(model.params.months):
            model.step()
            if model.programme_on:
                cash.append(model.ledger.bso_cash)
        summaries.append(model.summary())
        least_cash.append(min(cash))
    return summaries, least_cash


def test_a_higher_own_share_buys_a_smaller_volume_of_joint_actions_confirmatory():
    c = CONF["cofunding_volume"]
    common = {"programme_budget": 0.0, "grant_amount": c["grant_amount"]}
    volume = {}
    for share in (c["low"], c["high"]):
        summaries, least_cash = _runs_with_cash_record(
            "funded_programme", CONF["seed"], c["replicates"], **common, cofunding_share=share
        )
        # the design: the account never ran dry while the programme ran, so only the price differs between arms
        assert min(least_cash) > 0, f"the cluster account ran dry at a {share:.0%} own share"
        volume[share] = np.array([s["joint_action_volume"] for s in summaries])
    log_ratio = np.log(volume[c["low"]]) - np.log(volume[c["high"]])
    assert_greater(log_ratio, np.zeros_like(log_ratio), math.log(c["min_volume_ratio"]))


def test_tapered_exit_improves_sustainability_when_the_programme_ends_before_governance_matures():
    e, c = T["exit"], CONF["exit_short_programme"]
    common = {"programme_months": c["programme_months"], "programme_budget": 0.0}
    runs = {
        taper: run_scenario(
            "funded_programme",
            seed=c["seed"],
            replicates=c["replicates"],
            streams=REGISTERED_STREAMS,
            exit_taper_months=taper,
            **common,
        )[1]
        for taper in (e["taper_months"], 0)
    }
    tapered, abrupt = (runs[t]["coop_24m_after_end"].to_numpy(dtype=float) for t in (e["taper_months"], 0))
    assert_greater(tapered, abrupt, e["margin"])
