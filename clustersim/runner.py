"""Running a scenario with replicates and returning tidy pandas tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .model import ClusterModel
from .scenario import Scenario, load_scenario
from .seeds import replicate_seeds
from .streams import DEFAULT_STREAMS


def simulate(
    scenario: Scenario, seed: int, months: int | None = None, series: bool = True, streams: str = DEFAULT_STREAMS
):
    """One run: returns ``(monthly series DataFrame or None, summary dict)``; ``streams`` as in ClusterModel."""
    model = ClusterModel(scenario, seed=seed, streams=streams)
    model.run(months)
    df = model.series() if series else None
    return df, model.summary()


def _results(
    scenarios: list[Scenario], seeds: list[int], streams: str, series: bool = True
) -> list[tuple[pd.DataFrame | None, dict]]:
    """(series or None, summary) of each run: one at a time under the legacy draws; under counter-based draws
    the runs that can share a batch are stepped together by the ensemble engine (the same results, faster; a
    single run goes faster alone)."""
    if streams != "counter" or len(scenarios) == 1:
        return [simulate(sc, s, series=series, streams=streams) for sc, s in zip(scenarios, seeds, strict=True)]
    from .ensemble_run import run_each

    return [(df, summary) for summary, df in run_each(scenarios, seeds, series)]


def run_summaries(scenarios, seeds, streams: str = DEFAULT_STREAMS) -> list[dict]:
    """The summary of each run of ``scenarios[i]`` with ``seeds[i]`` (presets, paths or Scenarios), as
    ``ClusterModel(scenario, seed=seed, streams=streams).run().summary()`` gives it, batched where it can be."""
    return [summary for _, summary in _results([load_scenario(s) for s in scenarios], list(seeds), streams, False)]


def run_scenario(
    scenario: str | Scenario = "baseline",
    seed: int = 0,
    replicates: int = 1,
    months: int | None = None,
    posterior=None,
    streams: str = DEFAULT_STREAMS,
    **overrides,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run a scenario ``replicates`` times with seeds derived from ``seed``.

    Returns ``(series, summary)``: the monthly series in long form (one row per
    replicate and month) and one summary row per replicate. Both carry the
    ``replicate`` number and the run's ``seed``. With a ``posterior`` (a path or table from
    ``clustersim calibrate``, or :data:`clustersim.posterior.SHIPPED_POSTERIOR`), replicate ``r`` also uses posterior parameter draw ``r``, reproducibly
    from ``seed``; the summary then carries the drawn values (``posterior_<parameter>`` columns).
    A drawn parameter must not also be set explicitly, as a keyword override or as a scenario value other
    than the registry default: that raises a one-line :class:`~clustersim.scenario.ScenarioError`
    (:func:`clustersim.posterior.check_not_drawn`) rather than letting the draw replace the setting.
    ``streams = "counter"`` runs every replicate with counter-based draws (``clustersim.streams``).
    """
    from .posterior import check_not_drawn, draw_parameter_sets, resolve_posterior  # lazily: workers import runner

    sc = load_scenario(scenario, **overrides)
    if months is not None:
        sc = sc.replace(months=months)
    draws = [{}] * replicates
    post = resolve_posterior(posterior)
    if post is not None:
        check_not_drawn(post, sc, overrides)
        draws = draw_parameter_sets(post, replicates, seed)
    seeds = replicate_seeds(seed, replicates)
    scenarios = [sc.replace(origin="posterior", **draws[r]) if draws[r] else sc for r in range(replicates)]
    if streams == "counter" and len(scenarios) > 1:  # batched: each run's series as columns, stacked at once
        from .ensemble_run import run_each_columns

        return _tables(
            sc, seeds, draws, [(columns, summary) for summary, columns in run_each_columns(scenarios, seeds)]
        )
    return _tables(sc, seeds, draws, _results(scenarios, seeds, streams))


def _tables(sc: Scenario, seeds: list[int], draws: list[dict], results) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``run_scenario``'s two tables from each replicate's (series, summary); a series is a DataFrame by month
    (``ClusterModel.series()``) or its columns (``ensemble_run.run_each_columns``)."""
    rows = []
    for r, (s, (_, summ)) in enumerate(zip(seeds, results, strict=True)):
        summ = {**{f"posterior_{k}": v for k, v in draws[r].items()}, **summ}
        rows.append({"replicate": r, "seed": s, **summ})
    series = _long_series([series for series, _ in results], seeds)
    summary = pd.DataFrame(rows)
    series.attrs["scenario"] = summary.attrs["scenario"] = sc.name
    return series, summary


def _long_series(runs: list, seeds: list[int]) -> pd.DataFrame:
    """The runs' monthly series stacked in long form, each row led by its replicate, seed and month.

    Runs given as columns (metric -> one value per month) of int64 seeds are stacked column by column into
    the table ``pd.concat`` gives of their DataFrames (the same columns, dtypes and index), without a
    DataFrame, an index reset and two insertions per run (about 20 ms of a 10-replicate run).
    """
    seed_column = np.asarray(seeds)
    if runs and all(isinstance(run, dict) for run in runs) and seed_column.dtype == np.int64:
        lengths = [len(next(iter(run.values()))) for run in runs]
        return pd.DataFrame(
            {
                "replicate": np.repeat(np.arange(len(runs)), lengths),
                "seed": np.repeat(seed_column, lengths),
                "month": np.concatenate([np.arange(n) for n in lengths]),
                **{name: np.concatenate([run[name] for run in runs]) for name in runs[0]},
            }
        )
    frames = []
    for r, (s, df) in enumerate(zip(seeds, runs, strict=True)):
        if isinstance(df, dict):  # columns: the DataFrame ``EnsembleRun.series_of`` builds
            df = pd.DataFrame(df)
            df.index.name = "month"
        df = df.reset_index()
        df.insert(0, "seed", s)
        df.insert(0, "replicate", r)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


#: runs per task when ``run_scenarios`` spreads batches over processes (the ensemble's throughput levels off
#: beyond a few hundred clusters: benchmarks/run.py, "ensemble")
TASK_RUNS = 256
#: below this many runs in all, ``run_scenarios`` stays in this process (starting workers would cost more)
POOL_MIN_RUNS = 64


def run_scenarios(jobs, workers: int = 1) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """``run_scenario(scenario, seed=seed, replicates=replicates, **overrides)`` for each job
    ``(scenario, overrides, seed, replicates)``: the same tables, but the replicates of *all* jobs share
    ensemble batches wherever their runs can (under counter draws), spread over ``workers`` processes."""
    jobs = [
        (load_scenario(scenario, **dict(overrides)), seed, replicates) for scenario, overrides, seed, replicates in jobs
    ]
    seeds = [replicate_seeds(seed, replicates) for _, seed, replicates in jobs]
    if DEFAULT_STREAMS != "counter":  # one job at a time on each worker, as run_scenario would
        scenarios = [sc for sc, _, _ in jobs]
        streams = [DEFAULT_STREAMS] * len(jobs)  # this process's default, also in the workers
        if workers <= 1 or len(jobs) < 2:
            return list(map(_one_job, scenarios, seeds, streams))
        return _pool_map(_one_job, scenarios, seeds, streams, workers=workers)
    flat = [(j, sc, s) for j, ((sc, _, _), job_seeds) in enumerate(zip(jobs, seeds, strict=True)) for s in job_seeds]
    results = _run_flat([sc for _, sc, _ in flat], [s for _, _, s in flat], workers)
    out, start = [], 0
    for (sc, _, _), job_seeds in zip(jobs, seeds, strict=True):
        own = results[start : start + len(job_seeds)]
        start += len(job_seeds)
        out.append(_tables(sc, job_seeds, [{}] * len(job_seeds), [(df, summary) for summary, df in own]))
    return out


def _run_flat(scenarios: list[Scenario], seeds: list[int], workers: int) -> list:
    """run_each's (summary, series) of every run, in order; batches cut into tasks for ``workers`` processes."""
    from .ensemble_run import ensemble_groups, run_each

    if workers <= 1 or len(seeds) < POOL_MIN_RUNS:
        return run_each(scenarios, seeds)
    size = min(TASK_RUNS, -(-len(seeds) // workers))  # every worker gets work
    tasks = [g[i : i + size] for g in ensemble_groups(scenarios) for i in range(0, len(g), size)]
    done = _pool_map(
        run_each, [[scenarios[i] for i in t] for t in tasks], [[seeds[i] for i in t] for t in tasks], workers=workers
    )
    out: list = [None] * len(seeds)
    for task, results in zip(tasks, done, strict=True):
        for i, result in zip(task, results, strict=True):
            out[i] = result
    return out


def _one_job(sc: Scenario, seeds: list[int], streams: str):
    """One job's tables, its replicates as run_scenario runs them."""
    return _tables(sc, seeds, [{}] * len(seeds), _results([sc] * len(seeds), seeds, streams))


def _pool_map(fn, *iterables, workers: int) -> list:
    """``list(map(fn, *iterables))`` on ``workers`` processes, in order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # forkserver: forking a process that may hold threads (a progress bar, BLAS) can deadlock
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        return list(pool.map(fn, *iterables))
