"""Figures of scenario runs: key series over time with replicate mean and band, and event markers."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .style import SERIES_LABELS, scenario_color

KEY_SERIES = (
    "share_cooperating",
    "mean_trust",
    "mean_motivation",
    "dropouts",
    "joint_actions_completed",
    "revenue_index",
)
MARKER_STYLE = {
    "funding approved": "--",
    "first disbursement": "-",
    "programme end": ":",
    "training block": (0, (1, 3)),
    "shock start": "-.",
    "shock end": "-.",
    "hurricane": "-.",
}


def band(series: pd.DataFrame, metric: str, low: float = 0.1, high: float = 0.9) -> pd.DataFrame:
    """Replicate mean and the ``low``-``high`` quantile band of ``metric`` for each month."""
    g = series.groupby("month")[metric]
    return pd.DataFrame({"mean": g.mean(), "low": g.quantile(low), "high": g.quantile(high)})


def plot_runs(
    runs: dict[str, pd.DataFrame],
    path: str | Path | None = None,
    metrics=KEY_SERIES,
    markers: list[tuple[int, str]] | None = None,
    title: str = "",
):
    """Panels of ``metrics`` over months, one line (mean) and band (10-90% of replicates) per run set.

    ``runs`` maps a label to a long-form series table (``month``, ``replicate``,
    metrics) as returned by :func:`clustersim.run_scenario`.
    """
    n = len(metrics)
    cols = 3 if n > 4 else 2
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.4 * rows), squeeze=False, sharex=True)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for i, (label, series) in enumerate(runs.items()):
            b = band(series, metric)
            color = scenario_color(label, i)
            n_rep = series["replicate"].nunique() if "replicate" in series else 1
            ax.plot(b.index, b["mean"], color=color, lw=2, label=f"{label} (mean of {n_rep})")
            if n_rep > 1:
                ax.fill_between(b.index, b["low"], b["high"], color=color, alpha=0.18, lw=0)
        for month, what in markers or []:
            ax.axvline(month, color="#555555", lw=0.8, ls=MARKER_STYLE.get(what, "--"), alpha=0.7)
        ax.set_title(SERIES_LABELS.get(metric, metric), fontsize=10)
        ax.set_ylabel(SERIES_LABELS.get(metric, metric).split("(")[-1].rstrip(")"), fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("Month")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if markers:
        from matplotlib.lines import Line2D

        seen = dict.fromkeys(w for _, w in markers)
        handles += [Line2D([], [], color="#555555", lw=0.8, ls=MARKER_STYLE.get(w, "--")) for w in seen]
        labels += list(seen)
    fig.legend(
        handles,
        labels + [],
        loc="lower center",
        ncol=min(4, len(labels)),
        fontsize=8,
        frameon=False,
        title="Shaded: 10th-90th percentile of replicates",
        title_fontsize=8,
    )
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, 0.08 + 0.02 * (len(labels) // 4), 1, 0.96))
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
