"""Confirmatory tests of issue 11's money claims (tests/money_thresholds.toml, [confirmatory]).

The designs were committed before they were run: the registered margins and z, replicate counts set
from the pilots' standard deviations for about 80% power, and a fresh seed root. The pilots are the
strict xfails in tests/test_money.py, kept as the record of what 16 replicates could not show.
A separate file so that pytest-xdist runs these long tests beside the rest; the exit and own-share designs
are in tests/test_money_confirmatory_exit.py, so that the two halves (about three minutes each on one core)
can run on two workers at once.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_money import (  # the pilots' designs and test, here with more replicates and fresh seeds
    T,
    assert_greater,
    dose_arms,
)

from clustersim.runner import run_scenario

CONF = T["confirmatory"]
#: the draws these designs were registered and run under; counter draws would be a fresh randomisation
REGISTERED_STREAMS = "legacy"

pytestmark = pytest.mark.slow


def outcome(scenario: str, metric: str, replicates: int, **overrides) -> np.ndarray:
    summary = run_scenario(scenario, seed=CONF["seed"], replicates=replicates, streams=REGISTERED_STREAMS, **overrides)[1]
    return summary[metric].to_numpy(dtype=float)


@pytest.mark.parametrize("line", ["grant_amount", "budget_leader_incentive"])
def test_budget_line_buys_its_outcome_confirmatory(line):
    reps = CONF[line]["replicates"]
    assert_greater(*dose_arms(line, lambda scenario, metric, **kw: outcome(scenario, metric, reps, **kw)))
