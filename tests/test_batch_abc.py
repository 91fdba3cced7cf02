"""The batch ABC sampler (clustersim/batch_abc.py): candidates' model calls are evaluated together, and the
sample is the one a sequential sampler would take from the same candidates."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

pytest.importorskip("pyabc")
pytest.importorskip("greenlet")
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
    particles, _ = run_batch(simulate_one, 4, evaluate)
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


@pytest.mark.parametrize("max_eval, evaluated, sizes", [(20, 20, [8, 8, 4]), (20.5, 21, [8, 8, 5])])
def test_max_eval_stops_the_sample_short(max_eval, evaluated, sizes):
    """pyabc's max_eval is population / least acceptance rate, often fractional: as the single-core sampler
    (check_max_eval) does, candidates are evaluated while fewer than max_eval have been."""
    calls: list = []
    simulate_one, evaluate = _toy(itertools.repeat(9), threshold=30, calls=calls)  # never accepted
    sampler = BatchSampler(evaluate, min_batch=8, max_batch=8)
    sample = sampler.sample_until_n_accepted(3, simulate_one, 0, max_eval=max_eval)
    assert sampler.nr_evaluations_ == evaluated and not sample.ok and sample.n_accepted == 0
    assert [len(c) for c in calls] == sizes


def _drawing_toy(threshold, calls):
    """A ``simulate_one`` that draws its candidate from numpy's global generator before the model call, as
    pyabc's does (parameters, then clustersim's model seeds)."""

    def evaluate(requests):
        calls.append(len(requests))
        return [r * r for r in requests]

    def simulate_one():
        value = float(np.random.uniform(0, 10))
        square = deferred(value, lambda r: evaluate([r])[0])
        return pyabc.Particle(0, pyabc.Parameter(x=value), 1.0, {"y": square}, square, accepted=square < threshold)

    return simulate_one, evaluate


def test_the_sample_and_the_generator_are_the_single_core_samplers():
    """Draw for draw: the same particles, the same count, and the generator where one at a time leaves it,
    over generations whose batches are cut short by the n-th acceptance."""
    results = {}
    for name in ("single", "batch"):
        calls: list = []
        simulate_one, evaluate = _drawing_toy(threshold=30, calls=calls)
        sampler = pyabc.sampler.SingleCoreSampler() if name == "single" else BatchSampler(evaluate, min_batch=8)
        np.random.seed(5)
        runs = []
        for n in (10, 3, 25):
            sample = sampler.sample_until_n_accepted(n, simulate_one, 0)
            runs.append(([p.parameter["x"] for p in sample.accepted_particles], sampler.nr_evaluations_))
        results[name] = (runs, np.random.random(), calls)
    assert results["batch"][0] == results["single"][0]
    assert results["batch"][1] == results["single"][1]
    assert max(results["batch"][2]) > 1  # it did batch


def test_a_candidate_may_call_the_model_never_or_twice():
    calls: list = []

    def evaluate(requests):
        calls.append(list(requests))
        return [r + 1 for r in requests]

    script = iter([0, 1, 2])

    def simulate_one():
        times = next(script)
        out = 0
        for _ in range(times):
            out = deferred(out, lambda r: evaluate([r])[0])
        return out

    outs, _ = run_batch(simulate_one, 3, evaluate)
    assert outs == [0, 1, 2]
    assert calls == [[0, 0], [1]]


@pytest.mark.parametrize("first_fails_as_it_unwinds", [False, True])
def test_an_error_in_a_batch_unwinds_every_suspended_candidate(first_fails_as_it_unwinds):
    """Every suspended candidate is unwound; an error while unwinding one neither hides the first error nor
    stops the rest."""
    unwound: list = []

    def evaluate(requests):
        raise RuntimeError("a model run failed")

    def simulate_one():
        try:
            return deferred(1, lambda r: evaluate([r])[0])
        finally:
            unwound.append(True)
            if first_fails_as_it_unwinds and len(unwound) == 1:
                raise ValueError("the first candidate fails as it unwinds")

    with pytest.raises(RuntimeError, match="a model run failed"):
        run_batch(simulate_one, 4, evaluate)
    assert unwound == [True] * 4


def test_the_next_generation_starts_at_the_last_ones_acceptance_rate():
    calls: list = []
    simulate_one, evaluate = _toy(itertools.cycle([1, 9, 9, 9]), threshold=30, calls=calls)  # 1 in 4 accepted
    sampler = BatchSampler(evaluate, min_batch=1, max_batch=1000)
    sampler.sample_until_n_accepted(10, simulate_one, 0)
    assert len(calls[0]) == 10  # the first generation starts at a rate of 1
    rate = 10 / sampler.nr_evaluations_
    calls.clear()
    sampler.sample_until_n_accepted(10, simulate_one, 1)
    assert rate < 0.5 and len(calls[0]) == sampler.batch_size(10, rate) == math.ceil(10 / rate)


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
