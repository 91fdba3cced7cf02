"""Running a scenario with replicates and returning tidy pandas tables."""

from __future__ import annotations

import pandas as pd

from .model import ClusterModel
from .scenario import Scenario, load_scenario
from .seeds import replicate_seeds


def simulate(scenario: Scenario, seed: int, months: int | None = None, series: bool = True, streams: str = "legacy"):
    """One run: returns ``(monthly series DataFrame or None, summary dict)``; ``streams`` as in ClusterModel."""
    model = ClusterModel(scenario, seed=seed, streams=streams)
    model.run(months)
    df = model.series() if series else None
    return df, model.summary()


def run_scenario(
    scenario: str | Scenario = "baseline",
    seed: int = 0,
    replicates: int = 1,
    months: int | None = None,
    posterior=None,
    streams: str = "legacy",
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
    frames, rows = [], []
    for r, s in enumerate(replicate_seeds(seed, replicates)):
        df, summ = simulate(sc.replace(origin="posterior", **draws[r]) if draws[r] else sc, s, streams=streams)
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
