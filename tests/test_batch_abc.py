"""The batch ABC sampler (clustersim/batch_abc.py): candidates' model calls are evaluated together, and the
sample is the one a sequential sampler would take from the same candidates."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("pyabc")
import pyabc  # noqa: E402

from clustersim.batch_abc import BatchSampler, deferred, run_batch  # noqa: E402
from clustersim.calibration import Figure, simulate_figures, simulate_figures_of  # noqa: E402


def _toy(values, threshold, calls):
    """A ``simulate_one`` over a fixed stream of candidate values: the model squares the value, and a
    candidate is accepted when its square is below ``threshold``. ``calls`` records each model call."""
    stream = iter(values)

    def evaluate(requests):
        calls.append(list(requests))
        return [r * r for r in requests]

    def simulate_one():
        value = next(stream)
        square = deferred(value, lambda r: evaluate([r])[0])
        return pyabc.Particle(0, pyabc.Parameter(x=value), 1.0, {"y": square}, square, accepted=square < threshold)

    return simulate_one, evaluate


def test_a_batch_asks_the_model_once_and_keeps_creation_order():
    calls: list = []
    simulate_one, evaluate = _toy([3, 1, 2, 5], threshold=10, calls=calls)
    particles = run_batch(simulate_one, 4, evaluate)
    assert calls == [[3, 1, 2, 5]]
    assert [p.parameter["x"] for p in particles] == [3, 1, 2, 5]
    assert [p.sum_stat["y"] for p in particles] == [9, 1, 4, 25]
    assert [p.accepted for p in particles] == [True, True, True, False]


def test_outside_a_batch_the_model_is_evaluated_at_once():
    calls: list = []
    simulate_one, _ = _toy([4], threshold=10, calls=calls)
    assert simulate_one().sum_stat["y"] == 16 and calls == [[4]]


def _sequential(values, n, threshold):
    """What a one-at-a-time sampler takes: candidates in order until the n-th acceptance."""
    taken, accepted = [], 0
    for v in values:
        taken.append(v)
        accepted += v * v < threshold
        if accepted == n:
            break
    return taken


@pytest.mark.parametrize("n, min_batch, max_batch", [(5, 1, 1), (5, 8, 256), (7, 2, 3), (40, 8, 16)])
def test_the_sample_is_the_sequential_samplers_on_the_same_candidates(n, min_batch, max_batch):
    values = np.random.default_rng(n).integers(0, 10, size=1000).tolist()
    calls: list = []
    simulate_one, evaluate = _toy(values, threshold=30, calls=calls)
    sampler = BatchSampler(evaluate, min_batch=min_batch, max_batch=max_batch)
    sample = sampler.sample_until_n_accepted(n, simulate_one, 0)
    taken = _sequential(values, n, threshold=30)
    assert [p.parameter["x"] for p in sample.accepted_particles] == [v for v in taken if v * v < 30]
    assert sampler.nr_evaluations_ == len(taken)
    assert all(min_batch <= len(c) <= max_batch for c in calls)
    assert sum(len(c) for c in calls) >= len(taken)  # candidates after the n-th acceptance are dropped


def test_the_batch_is_sized_to_what_is_still_needed_at_the_rate_seen():
    sampler = BatchSampler(lambda r: r, min_batch=4, max_batch=100)
    assert sampler.batch_size(10, 1.0) == 10
    assert sampler.batch_size(10, 0.25) == 40
    assert sampler.batch_size(1, 1.0) == 4  # never below min_batch
    assert sampler.batch_size(10, 0.0) == 100  # nothing accepted yet: as many as allowed
    with pytest.raises(ValueError, match="min_batch <= max_batch"):
        BatchSampler(lambda r: r, min_batch=5, max_batch=4)


def test_max_eval_stops_the_sample_short():
    calls: list = []
    simulate_one, evaluate = _toy(itertools.repeat(9), threshold=30, calls=calls)  # never accepted
    sampler = BatchSampler(evaluate, min_batch=8, max_batch=8)
    sample = sampler.sample_until_n_accepted(3, simulate_one, 0, max_eval=20)
    assert sampler.nr_evaluations_ == 20 and not sample.ok and sample.n_accepted == 0
    assert [len(c) for c in calls] == [8, 8, 4]


def test_figures_asked_together_equal_figures_asked_alone():
    figures = [
        Figure("rev", "revenue_index_at_programme_end", 1.4, "s", "funded_programme"),
        Figure("ops", "export_action_success_rate", 0.6, "s", "export_consortia"),
    ]
    requests = [({"revenue_gain_scale": 1.5}, [11, 12]), ({"revenue_gain_scale": 4.0}, [13])]
    together = simulate_figures_of(figures, requests)
    alone = [simulate_figures(figures, params, seeds) for params, seeds in requests]
    assert together == alone
    assert together[0]["rev"] != together[1]["rev"]
