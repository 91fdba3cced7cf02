"""Running a scenario with replicates and returning tidy pandas tables."""

from __future__ import annotations

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
    results = _results(scenarios, seeds, streams)
    frames, rows = [], []
    for r, (s, (df, summ)) in enumerate(zip(seeds, results, strict=True)):
        summ = {**{f"posterior_{k}": v for k, v in draws[r].items()}, **summ}
        df = df.reset_index()
        df.insert(0, "seed", s)
        df.insert(0, "replicate", r)
        frames.append(df)
        rows.append({"replicate": r, "seed": s, **summ})
    series = pd.concat(frames, ignore_index=True)
    summary = pd.DataFrame(rows)
    series.attrs["scenario"] = summary.attrs["scenario"] = sc.name
    return series, summary
