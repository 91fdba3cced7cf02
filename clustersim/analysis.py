"""Analysis helpers for notebooks and scripts: replicate subsets of a sweep and replicate-band figures.

The sweep machinery (designs, Sobol', Morris, doses, the comparison table with cost per additional
cooperating firm and the Pareto mark) lives in :mod:`clustersim.experiments`, and splitting one
budget across real lines in :mod:`clustersim.experiments.mixes`; this module adds:

- :func:`replicate_subset` lets a sweep be analysed as if it had fewer replicates;
- :func:`plot_bands` draws replicate mean and band of one monthly metric.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pandas as pd

from .experiments.design import load_experiment
from .plots import MARKER_STYLE, band
from .scenario import ScenarioError
from .style import SERIES_LABELS, scenario_color


def replicate_subset(results: pd.DataFrame, experiment, replicates: int | Sequence[int]):
    """``(runs, experiment)`` restricted to some replicates, to analyse a sweep as if it had fewer.

    ``replicates`` is a count (the first k replicates) or a list of replicate
    numbers. The returned experiment is a copy with ``replicates`` set to match,
    so :func:`clustersim.experiments.sobol_indices` and friends accept the pair,
    e.g. ``sobol_indices(*replicate_subset(runs, exp, 1))`` for one replicate.
    """
    exp = load_experiment(experiment)
    keep = list(range(replicates)) if isinstance(replicates, int) else list(replicates)
    bad = [r for r in keep if not 0 <= r < exp.replicates]
    if not keep or bad:
        raise ScenarioError(
            f"replicate_subset: replicates = {replicates!r}; allowed: a count or replicate numbers in 0..{exp.replicates - 1}"
        )
    sub = results[results["replicate"].isin(keep)].reset_index(drop=True)
    return sub, dataclasses.replace(exp, replicates=len(keep))


def plot_bands(
    runs: Mapping[str, pd.DataFrame],
    metric: str = "share_cooperating",
    colors: Mapping[str, str] | None = None,
    markers: Sequence[tuple[int, str]] = (),
    title: str = "",
    ylabel: str | None = None,
    low: float = 0.1,
    high: float = 0.9,
    ax=None,
):
    """Replicate mean (line) and ``low``-``high`` quantile band of ``metric`` per month, one per labelled run set.

    ``runs`` maps a label to a long series table (``month``, ``replicate``,
    metrics) as returned by :func:`clustersim.runner.run_scenario`. Colours come
    from ``colors`` or else :func:`clustersim.style.scenario_color` of the label,
    so presets keep their colour in every figure. ``markers`` are (month, event)
    pairs drawn as vertical lines, e.g. ``PolicyCalendar.from_scenario(s).markers()``.
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4.2))
    else:
        fig = ax.figure
    for i, (label, series) in enumerate(runs.items()):
        b = band(series, metric, low, high)
        color = (colors or {}).get(label) or scenario_color(label, i)
        n_rep = series["replicate"].nunique() if "replicate" in series else 1
        ax.plot(b.index, b["mean"], color=color, lw=2, label=f"{label} (mean of {n_rep})")
        if n_rep > 1:
            ax.fill_between(b.index, b["low"], b["high"], color=color, alpha=0.18, lw=0)
    seen: set[str] = set()
    for month, what in markers:
        ax.axvline(
            month,
            color="#555555",
            lw=0.8,
            ls=MARKER_STYLE.get(what, "--"),
            alpha=0.7,
            label=what if what not in seen else None,
        )
        seen.add(what)
    ax.set_xlabel("Month")
    ax.set_ylabel(ylabel or SERIES_LABELS.get(metric, metric))
    ax.set_title(title or SERIES_LABELS.get(metric, metric))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, title=f"Shaded: {low:.0%}-{high:.0%} of replicates", title_fontsize=8)
    return fig
