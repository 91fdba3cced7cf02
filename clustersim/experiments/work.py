"""The unit of work shipped to executors: a batch of runs, returning per-run summaries.

This module is small and imports little, because every worker process (local
pool or Dask) imports it before its first task.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..runner import simulate
from ..streams import DEFAULT_STREAMS


@dataclass(frozen=True)
class RunSpec:
    """One run: its design point, replicate, seed and model input (a Scenario or a dict)."""

    point_id: int
    replicate: int
    seed: int
    params: object
    streams: str = DEFAULT_STREAMS  # the model's random draws (clustersim.streams); the default model only


#: how an experiment's manifest begins the reference of a ``WithClusterOutputs`` model (module, then its repr)
WITH_OUTPUTS_REF = f"{__name__}:WithClusterOutputs("


@dataclass(frozen=True)
class WithClusterOutputs:
    """clustersim's model with more outputs: each run's summary plus ``outputs(state, k, scenario)``, read from
    cluster ``k`` of the finished state. Unlike an opaque custom model, its runs still go through the ensemble
    under counter-based draws; the ``streams`` of a run reaches it."""

    outputs: Callable

    def __repr__(self) -> str:
        """Stable across processes (an experiment's fingerprint records it): the outputs function by name (a
        callable without one, e.g. a ``functools.partial``, by its type)."""
        outputs = self.outputs
        name = getattr(outputs, "__qualname__", None) or type(outputs).__qualname__
        return f"WithClusterOutputs({getattr(outputs, '__module__', '?')}:{name})"

    def __call__(self, scenario, seed: int, streams: str = DEFAULT_STREAMS) -> dict:
        return self.run(scenario, seed, streams)[0]

    def run(self, scenario, seed: int, streams: str = DEFAULT_STREAMS, series: bool = False):
        """One run alone: (summary plus outputs, monthly series or None)."""
        from ..ensemble_run import call_outputs
        from ..model import ClusterModel

        model = ClusterModel(scenario, seed=seed, streams=streams)
        model.run()
        outputs = {**model.summary(), **call_outputs(self.outputs, model.state, 0, model.params)}
        return outputs, (model.series() if series else None)


def draws_reach(model: Callable | None) -> bool:
    """Whether the draws option reaches ``model``: clustersim's own, with or without more outputs (a custom
    model draws its own numbers)."""
    return model is None or isinstance(model, WithClusterOutputs)


def ref_draws_reach(model_ref: str | None, default_ref: str) -> bool:
    """``draws_reach`` for a model known only by its recorded reference (an experiment rebuilt from a results
    folder's manifest): the default model, a ``WithClusterOutputs`` as its repr names it, or a
    ``module:name`` that imports as one."""
    if model_ref in (None, default_ref) or model_ref.startswith(WITH_OUTPUTS_REF):
        return True
    module, _, name = model_ref.partition(":")
    try:
        return isinstance(getattr(importlib.import_module(module), name), WithClusterOutputs)
    except (ImportError, AttributeError, ValueError):
        return False


def clustersim_model(scenario, seed: int, series: bool = False, streams: str = DEFAULT_STREAMS):
    """The agent-based model as a sweep model: per-run summary dict (and the monthly series if asked)."""
    df, summary = simulate(scenario, seed, series=series, streams=streams)
    return (summary, df) if series else summary


def _clean(outputs) -> dict:
    if not isinstance(outputs, Mapping):
        raise TypeError(f"a sweep model must return a mapping of outputs, got {type(outputs).__name__}")
    out = {}
    for k, v in outputs.items():
        if isinstance(v, str):
            out[k] = v
        elif v is None:
            out[k] = math.nan
        else:
            out[k] = float(v)
    return out


def run_batch(model: Callable | None, runs: list[RunSpec], series: bool = False) -> dict:
    """Run a batch and return ``{"rows": [...], "series": [...] or None, "seconds": float}``.

    Each row holds ``point_id``, ``replicate`` and the model's outputs; the
    caller adds factor values and seeds, so little data travels back. Runs of the
    default model (or ``WithClusterOutputs``) under counter-based draws go through the ensemble engine
    (``clustersim.ensemble_run``): the same rows as one at a time, several times faster.
    """
    t0 = time.perf_counter()
    if draws_reach(model) and runs and all(r.streams == "counter" for r in runs):
        results = _ensemble_results(runs, series, None if model is None else model.outputs)
    else:
        results = [_one_result(model, r, series) for r in runs]
    rows, frames = [], []
    for r, (summary, df) in zip(runs, results, strict=True):
        if df is not None:
            df = df.reset_index()
            df.insert(0, "replicate", r.replicate)
            df.insert(0, "point_id", r.point_id)
            frames.append(df)
        rows.append({"point_id": r.point_id, "replicate": r.replicate, **_clean(summary)})
    return {"rows": rows, "series": frames if series else None, "seconds": time.perf_counter() - t0}


def _one_result(model: Callable | None, r: RunSpec, series: bool):
    """(summary, monthly series or None) of one run."""
    if model is None:
        result = clustersim_model(r.params, r.seed, series=series, streams=r.streams)
        return result if series else (result, None)
    if isinstance(model, WithClusterOutputs):  # clustersim's model: its series too, if asked
        return model.run(r.params, r.seed, r.streams, series)
    return model(r.params, r.seed), None


def _ensemble_results(runs: list[RunSpec], series: bool, outputs: Callable | None = None) -> list:
    """(summary, series or None) of each run, the runs that can share a batch stepped together; ``outputs``
    as for ``WithClusterOutputs``."""
    from ..ensemble_run import run_each

    return run_each([r.params for r in runs], [r.seed for r in runs], series, outputs=outputs)
