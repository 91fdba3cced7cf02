"""Run many clusters at once: the ensemble engine's driver (docs/plans/ensemble-engine.md, §4 step 7).

``run_ensemble`` builds one single-cluster state per seed (the same initial state ``ClusterModel`` builds
with ``streams="counter"``), concatenates them (``ensemble.concat_states``) and steps the variant's
schedule once a month for all of them, collecting every monthly metric as a (months + 1, K) array. Each
cluster's series and summary are exactly those of ``ClusterModel(scenario, seed=seed,
streams="counter").run()``: the processes reduce per cluster (``segments``) and draw by address
(``streams.CounterDraws``), so a cluster's run does not depend on the batch it is in (tested).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .batch_metrics import MonthlyRecorder, economy_totals_batch
from .cluster_state import ClusterState
from .ensemble import INIT_ONLY, concat_states
from .metrics import cluster_summary
from .model import VARIANTS
from .parameters import PARAMETERS
from .processes import information
from .processes.initialisation import initial_state
from .scenario import Scenario, load_scenario

#: the choices (string coefficients) the monthly step reads: a batch shares them
MONTHLY_CHOICES = tuple(p.name for p in PARAMETERS if p.kind == "choice" and p.name not in INIT_ONLY)


@dataclass
class EnsembleRun:
    """K clusters run together: the final state, every monthly metric as (months + 1, K), and the seeds."""

    state: ClusterState
    series: dict[str, np.ndarray]
    seeds: tuple[int, ...]

    @property
    def K(self) -> int:
        return self.state.K

    def series_of(self, k: int) -> pd.DataFrame:
        """Cluster ``k``'s monthly series, as ``ClusterModel.series()`` gives it."""
        df = pd.DataFrame({name: values[:, k] for name, values in self.series.items()})
        df.index.name = "month"
        return df

    def summaries(self) -> list[dict[str, float | str]]:
        """Each cluster's per-run summary (``metrics.cluster_summary``), in seed order."""
        return [
            cluster_summary({name: values[:, k] for name, values in self.series.items()}, self.state, k)
            for k in range(self.K)
        ]


def _scenarios(scenario, n: int, overrides: dict) -> list[Scenario]:
    if isinstance(scenario, str | Scenario):
        one = load_scenario(scenario, **overrides)
        return [one] * n
    if len(scenario) != n:
        raise ValueError(f"{len(scenario)} scenarios for {n} seeds: give one scenario, or one per seed")
    return [load_scenario(s, **overrides) for s in scenario]


#: variants whose monthly step still serves one cluster at a time (their runs form batches of one); none since
#: the random-group game batches (plan step 5h)
SINGLE_CLUSTER_VARIANTS: frozenset[str] = frozenset()


def batch_key(scenario: Scenario) -> tuple:
    """Runs with the same key can share a batch: the same horizon and the same value of every choice the
    monthly step reads (the model variant among them); numbers may differ, the action-type table's too."""
    return (scenario.months, *(scenario[name] for name in MONTHLY_CHOICES))


def ensemble_groups(scenarios: Sequence) -> list[list[int]]:
    """Positions of ``scenarios`` grouped into batches that can run together, in first-seen order."""
    groups: dict[tuple, list[int]] = {}
    singles = []
    for i, scenario in enumerate(scenarios):
        scenario = load_scenario(scenario)
        if scenario.group_formation in SINGLE_CLUSTER_VARIANTS:
            singles.append([i])
        else:
            groups.setdefault(batch_key(scenario), []).append(i)
    return [*groups.values(), *singles]


@dataclass
class BatchStepper:
    """One batch stepped a month at a time, collecting every monthly metric: ``run_ensemble`` runs it to its
    horizon; a portfolio steps several in lockstep, with the regional platform between months."""

    state: ClusterState
    schedule: tuple
    baseline: dict
    recorder: MonthlyRecorder
    seeds: tuple[int, ...]
    horizon: int

    @classmethod
    def start(cls, params: Sequence[Scenario], seeds: Sequence[int]) -> BatchStepper:
        variants = {p.group_formation for p in params}
        if len(variants) != 1:
            raise ValueError(f"one model variant per batch, got {sorted(variants)} (the schedule differs)")
        variant = VARIANTS[variants.pop()]
        singles = [
            initial_state(p, np.random.default_rng(seed), variant.initial_disposition, "counter")
            for p, seed in zip(params, seeds, strict=True)
        ]
        state = concat_states(singles)
        information.report_monitoring(state)
        information.classify_yearly(state)
        baseline = economy_totals_batch(state.firms, state.coef, state.layout)
        horizon = max(p.months for p in params)
        recorder = MonthlyRecorder(baseline, months=horizon + 1)
        recorder.record(state)
        return cls(state, variant.schedule, baseline, recorder, tuple(int(s) for s in seeds), horizon)

    def step(self) -> None:
        """One month of every cluster, and its metrics."""
        for process in self.schedule:
            process(self.state)
        self.recorder.record(self.state)

    def result(self) -> EnsembleRun:
        return EnsembleRun(self.state, self.recorder.series(self.state), self.seeds)


def run_ensemble(scenario, seeds: Sequence[int], *, months: int | None = None, **overrides) -> EnsembleRun:
    """Run one cluster per seed of ``scenario`` (a preset, a path, a ``Scenario``, or one per seed) together.

    The clusters of one batch share the model variant and every choice the monthly step reads; they may
    differ in any number (each cluster reads its own), and in choices that only shape their start
    (``ensemble.INIT_ONLY``: network kind, manager mode, ...). They run for ``months`` (default: the longest
    horizon among them).
    """
    batch = BatchStepper.start(_scenarios(scenario, len(seeds), overrides), seeds)
    for _ in range(batch.horizon if months is None else months):
        batch.step()
    return batch.result()


def run_each(
    scenarios: Sequence, seeds: Sequence[int], series: bool = True, outputs=None
) -> list[tuple[dict, pd.DataFrame | None]]:
    """Each run's (summary, monthly series or None), in order; the runs that can share a batch
    (``ensemble_groups``) are stepped together, each exactly as ``ClusterModel(..., streams="counter")``.
    ``outputs(state, k, scenario)``, if given, adds what it reads from each finished cluster to its summary."""
    out: list = [None] * len(seeds)
    for i, run, k, summary in _each_run(scenarios, seeds, outputs):
        out[i] = (summary, run.series_of(k) if series else None)
    return out


def run_each_columns(scenarios: Sequence, seeds: Sequence[int]) -> list[tuple[dict, dict[str, np.ndarray]]]:
    """``run_each``'s (summary, series) of each run, the series as its columns (metric -> one value per month,
    ``series_of``'s columns) instead of a DataFrame: for a caller that stacks the runs into one table, where
    a DataFrame per run only costs time."""
    out: list = [None] * len(seeds)
    for i, run, k, summary in _each_run(scenarios, seeds):
        out[i] = (summary, {name: values[:, k] for name, values in run.series.items()})
    return out


class OutputsFailure(Exception):
    """A caller's ``outputs(state, k, scenario)`` function raised: an error in the caller's code (a custom
    output of ``experiments.WithClusterOutputs``, say), not in clustersim's model."""


def call_outputs(outputs, state, k: int, scenario) -> dict:
    """``outputs(state, k, scenario)``: a dict of named numbers (or labels). An exception it raises, or
    anything else it returns, is an ``OutputsFailure`` naming the function."""
    name = getattr(outputs, "__qualname__", None) or type(outputs).__qualname__
    try:
        result = outputs(state, k, scenario)
    except Exception as exc:
        raise OutputsFailure(f"the outputs function {name} raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, Mapping):
        raise OutputsFailure(f"the outputs function {name} returned {type(result).__name__}, not a dict")
    for key, value in result.items():
        if not isinstance(key, str) or not isinstance(value, bool | int | float | str | np.number | np.bool_):
            raise OutputsFailure(
                f"the outputs function {name} returned {key!r}: {type(value).__name__}, not a number or a label"
            )
    return dict(result)


def _each_run(scenarios: Sequence, seeds: Sequence[int], outputs=None):
    """(position, its batch's EnsembleRun, its cluster there, its summary) of every run, batch by batch."""
    for positions in ensemble_groups(scenarios):
        params = [load_scenario(scenarios[i]) for i in positions]
        run = run_ensemble(params, [seeds[i] for i in positions])
        for k, (i, summary) in enumerate(zip(positions, run.summaries(), strict=True)):
            if outputs is not None:
                summary = {**summary, **call_outputs(outputs, run.state, k, params[k])}
            yield i, run, k, summary
