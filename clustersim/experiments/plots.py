"""Figures of sweeps: Sobol' bars and convergence, Morris mu*-sigma, grid heat maps, mix comparisons, dose-response."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..style import SCENARIO_COLORS, scenario_color

INDEX_COLORS = {"S1": "#4c72b0", "ST": "#dd8452"}
BASELINE_COLOR = SCENARIO_COLORS["baseline"]
PARETO_COLOR = SCENARIO_COLORS["prior_cooperative"]
MIX_COLOR = SCENARIO_COLORS["funded_programme"]


def _save(fig, path) -> Path:
    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_sobol_bars(indices: pd.DataFrame, output: str, path, statistic: str = "mean", top: int = 25) -> Path:
    """S1 and ST per factor with bootstrap error bars, factors sorted by ST (largest first)."""
    d = indices[(indices["output"] == output) & (indices["statistic"] == statistic) & (indices["index"] != "S2")]
    n_max = d["n"].max()
    d = d[d["n"] == n_max]
    wide = d.pivot(index="factor", columns="index", values=["value", "conf"])
    wide = wide.sort_values(("value", "ST"), ascending=False).head(top)
    y = np.arange(len(wide))
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(wide) + 1.6))
    for k, idx in enumerate(("S1", "ST")):
        ax.barh(
            y + (k - 0.5) * 0.4,
            wide[("value", idx)],
            height=0.4,
            xerr=wide[("conf", idx)],
            color=INDEX_COLORS[idx],
            label=idx,
            error_kw={"elinewidth": 0.8, "capsize": 2},
        )
    ax.set_yticks(y, wide.index)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    what = "replicate mean" if statistic == "mean" else "replicate std"
    ax.set_xlabel("Sobol' index (share of variance), 95% bootstrap interval")
    ax.set_title(f"Sobol' indices of {output} ({what}), N = {n_max}")
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_sobol_convergence(conv: pd.DataFrame, output: str, path, top: int = 6) -> Path:
    """S1 and ST of the most influential factors against the number of base samples N."""
    d = conv[conv["output"] == output]
    final = d[(d["n"] == d["n"].max()) & (d["index"] == "ST")].sort_values("value", ascending=False)
    factors = final["factor"].head(top).tolist()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, idx in zip(axes, ("S1", "ST"), strict=True):
        for i, f in enumerate(factors):
            s = d[(d["factor"] == f) & (d["index"] == idx)].sort_values("n")
            color = scenario_color("", i)
            ax.plot(s["n"], s["value"], marker="o", ms=3, color=color, label=f)
            ax.fill_between(s["n"], s["low"], s["high"], color=color, alpha=0.15)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("base samples N (nested Sobol' sub-designs)")
        ax.set_title(f"{idx} of {output}")
        ax.axhline(0, color="black", lw=0.5)
    axes[0].set_ylabel("index, 95% bootstrap band")
    axes[1].legend(fontsize=8, loc="best")
    return _save(fig, path)


def plot_morris(indices: pd.DataFrame, output: str, path, statistic: str = "mean", label_top: int = 10) -> Path:
    """Morris mu* against sigma with bootstrap error bars; the most influential factors are labelled."""
    d = indices[(indices["output"] == output) & (indices["statistic"] == statistic)].sort_values(
        "mu_star", ascending=False
    )
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.errorbar(
        d["mu_star"],
        d["sigma"],
        xerr=d["mu_star_conf"],
        yerr=d["sigma_conf"],
        fmt="o",
        ms=4,
        color=MIX_COLOR,
        ecolor="#9aa9c4",
        elinewidth=0.8,
        capsize=2,
    )
    for _, r in d.head(label_top).iterrows():
        ax.annotate(r["factor"], (r["mu_star"], r["sigma"]), fontsize=8, xytext=(4, 3), textcoords="offset points")
    lim = max(d["mu_star"].max(), d["sigma"].max()) * 1.05 if len(d) else 1
    ax.plot([0, lim], [0, lim], ls=":", color="grey", lw=0.8, label="sigma = mu* (non-linear or interacting)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("mu* (mean absolute elementary effect per unit of range)")
    ax.set_ylabel("sigma (spread of elementary effects)")
    what = "replicate mean" if statistic == "mean" else "replicate std"
    ax.set_title(f"Morris screening of {output} ({what})")
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)


def plot_heatmap(results: pd.DataFrame, x: str, y: str, output: str, path) -> Path:
    """Replicate mean of ``output`` over a two-factor grid (x across, y up)."""
    d = results[~results["is_baseline"]] if "is_baseline" in results else results
    table = d.groupby([y, x])[output].mean().unstack(x).sort_index(ascending=False)
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 2.5, 0.7 * table.shape[0] + 1.8))
    im = ax.imshow(table.to_numpy(dtype=float), cmap="viridis", aspect="auto")
    ax.set_xticks(range(table.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.index])
    vals = table.to_numpy(dtype=float)
    mid = np.nanmean(vals)
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            ax.text(
                j,
                i,
                f"{vals[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if vals[i, j] < mid else "black",
            )
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{output}: replicate mean")
    fig.colorbar(im, ax=ax, label=output)
    return _save(fig, path)


def plot_kpi_distributions(results: pd.DataFrame, table: pd.DataFrame, kpis, path, max_mixes: int = 30) -> Path:
    """Box plots of each KPI across replicates, one box per mix (the baseline first, then by cooperation)."""
    coop = table.attrs.get("cooperation", kpis[0])
    order = pd.concat(
        [table[table["baseline"]], table[~table["baseline"]].sort_values(f"{coop}_mean", ascending=False)]
    ).head(max_mixes)
    ids = order["point_id"].tolist()
    fig, axes = plt.subplots(len(kpis), 1, figsize=(max(8, 0.35 * len(ids) + 2), 2.6 * len(kpis)), squeeze=False)
    for ax, k in zip(axes[:, 0], kpis, strict=True):
        data = [results.loc[results["point_id"] == p, k].dropna().to_numpy() for p in ids]
        bp = ax.boxplot(data, patch_artist=True, widths=0.6, medianprops={"color": "black"})
        for patch, (_, r) in zip(bp["boxes"], order.iterrows(), strict=True):
            patch.set_facecolor(BASELINE_COLOR if r["baseline"] else (PARETO_COLOR if r["pareto"] else MIX_COLOR))
            patch.set_alpha(0.7)
        ax.set_ylabel(k)
        ax.set_xticks(
            range(1, len(ids) + 1),
            ["base" if b else f"#{p}" for p, b in zip(ids, order["baseline"], strict=True)],
            fontsize=7,
        )
    axes[0, 0].set_title("KPI distributions across replicates (grey: baseline, green: Pareto-efficient mix)")
    axes[-1, 0].set_xlabel("mix (design point id; see mixes.md)")
    return _save(fig, path)


def plot_cost_cooperation(table: pd.DataFrame, path) -> Path:
    """Programme cost against cooperation per mix, with 95% intervals; Pareto-efficient mixes marked and joined."""
    coop = table.attrs.get("cooperation", "final_cooperation")
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for kind, sel, color, label in (
        ("mix", ~table["baseline"] & ~table["pareto"], MIX_COLOR, "mix"),
        ("pareto", table["pareto"], PARETO_COLOR, "Pareto-efficient mix"),
        ("baseline", table["baseline"], BASELINE_COLOR, "no-programme baseline"),
    ):
        d = table[sel]
        if d.empty:
            continue
        ax.errorbar(
            d["cost_mean"],
            d[f"{coop}_mean"],
            yerr=[d[f"{coop}_mean"] - d[f"{coop}_low"], d[f"{coop}_high"] - d[f"{coop}_mean"]],
            fmt="D" if kind == "baseline" else "o",
            ms=6 if kind != "mix" else 4,
            color=color,
            elinewidth=0.8,
            capsize=2,
            label=label,
        )
        if kind == "pareto":
            front = d.sort_values("cost_mean")
            ax.plot(front["cost_mean"], front[f"{coop}_mean"], color=color, lw=1)
            for _, r in front.iterrows():
                ax.annotate(
                    f"#{r['point_id']}",
                    (r["cost_mean"], r[f"{coop}_mean"]),
                    fontsize=8,
                    xytext=(4, -10),
                    textcoords="offset points",
                )
    ax.set_xlabel("programme cost (k$, replicate mean)")
    ax.set_ylabel(f"{coop} (replicate mean, 95% interval)")
    ax.set_title("Cost against cooperation per intervention mix")
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def plot_rank_correlations(corr: pd.DataFrame, output: str, path) -> Path:
    """Spearman rank correlation of each factor with an output (LHS designs)."""
    d = corr[corr["output"] == output].sort_values("spearman_rho", key=np.abs, ascending=False)
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(d) + 1.5))
    ax.barh(
        d["factor"],
        d["spearman_rho"],
        color=[INDEX_COLORS["S1"] if v >= 0 else INDEX_COLORS["ST"] for v in d["spearman_rho"]],
    )
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("Spearman rank correlation with the replicate mean")
    ax.set_title(output)
    return _save(fig, path)


def plot_dose_response(table: pd.DataFrame, outputs, path, baseline: dict | None = None, ncols: int = 3) -> Path:
    """One panel per output, one line per factor: replicate mean against the dose, with 95% bands.

    The x axis is the dose as a share of each factor's reference (by default its amount in the base
    scenario; a dotted line marks 1) when every factor has one, otherwise the factor's own level.
    A baseline, if given (``{output: (mean, low, high)}``), is a grey band across each panel, or a
    note in the corner when it lies far from the curves.
    """
    outputs = [o for o in outputs if (table["output"] == o).any()]
    shared = table["dose"].notna().all()
    x = "dose" if shared else "level"
    n = max(len(outputs), 1)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.5 * nrows + 0.8), squeeze=False)
    factors = list(dict.fromkeys(table["factor"]))
    for ax, o in zip(axes.flat, outputs, strict=False):
        d = table[table["output"] == o]
        top = np.nanmax(d[["mean", "high"]].to_numpy(float))
        bottom = np.nanmin(d[["mean", "low"]].to_numpy(float))
        span = max(top - bottom, 1e-9)
        if baseline and o in baseline and not np.isnan(baseline[o][0]):
            m, lo, hi = baseline[o]
            if bottom - 0.5 * span <= m <= top + 0.5 * span:  # near the doses: draw it
                ax.axhline(m, color=BASELINE_COLOR, lw=1, ls="--")
                if not (np.isnan(lo) or np.isnan(hi)):
                    ax.axhspan(lo, hi, color=BASELINE_COLOR, alpha=0.12, lw=0)
            else:  # far off: say where, rather than squash the curves into a corner
                where = "below" if m < bottom else "above"
                ax.annotate(
                    f"baseline (no programme): {m:.3g}, {where}",
                    xy=(0.98, 0.03 if where == "below" else 0.97),
                    xycoords="axes fraction",
                    ha="right",
                    va="bottom" if where == "below" else "top",
                    fontsize=7.5,
                    color=BASELINE_COLOR,
                )
        for i, f in enumerate(factors):
            s = d[d["factor"] == f].sort_values(x)
            color = scenario_color("", i)
            ax.plot(s[x], s["mean"], marker="o", ms=3.5, lw=1.4, color=color, label=f)
            ax.fill_between(s[x], s["low"], s["high"], color=color, alpha=0.13, lw=0)
        if shared:
            ax.axvline(1.0, color="black", lw=0.6, ls=":")
        ax.set_title(o, fontsize=10)
        ax.set_xlabel("dose (share of each factor's reference amount)" if shared else "level")
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(outputs) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if baseline:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color=BASELINE_COLOR, ls="--"))
        labels.append("baseline (no programme)")
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8, frameon=False)
    fig.suptitle("Dose-response: replicate mean and its 95% interval, one factor varied at a time", fontsize=11)
    legend_rows = -(-len(labels) // 4)
    fig.tight_layout(rect=(0, (0.1 + 0.22 * legend_rows) / fig.get_figheight(), 1, 1))  # room for the legend
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
