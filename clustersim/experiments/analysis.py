"""Analysing a results folder: detect the design from the manifest, write tables and figures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..results import atomic_folder, write_json
from ..scenario import ScenarioError
from . import plots
from .mixes import KPIS, compare_mixes
from .sensitivity import morris_indices, rank_correlations, sobol_convergence, sobol_indices
from .store import ANALYSIS_DIR, experiment_from_manifest, read_manifest, read_results


def markdown_table(df: pd.DataFrame, title: str = "", digits: int = 4) -> str:
    """A plain Markdown table (no optional dependencies)."""

    def fmt(v):
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else ""
        if isinstance(v, (float, np.floating)):
            return "" if math.isnan(v) else f"{v:.{digits}g}"
        return "" if v is None else str(v)

    lines = [f"## {title}", ""] if title else []
    lines.append("| " + " | ".join(map(str, df.columns)) + " |")
    lines.append("|" + "|".join("---:" if pd.api.types.is_numeric_dtype(df[c]) else "---" for c in df.columns) + "|")
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(fmt(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _write_table(tmp: Path, name: str, df: pd.DataFrame, title: str, files: list[str]) -> None:
    df.to_csv(tmp / f"{name}.csv", index=False)
    (tmp / f"{name}.md").write_text(markdown_table(df, title))
    files += [f"{name}.csv", f"{name}.md"]


def _skipped_note(tables) -> str:
    skipped = {}
    for t in tables:
        skipped.update(t.attrs.get("skipped", {}))
    return "".join(f"not analysed: {k}: {v}\n" for k, v in skipped.items())


def analyze_folder(folder, out=None, force: bool = False) -> tuple[str, Path, list[str]]:
    """Analyse a sweep's results folder; returns ``(headline text, output folder, files written)``.

    The design (sobol, morris, grid, lhs) comes from the manifest. Outputs go to
    ``folder/_analysis`` by default (never next to the raw parts, so
    ``pandas.read_parquet(folder)`` keeps working); an existing analysis is
    replaced only with ``force``.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    exp = experiment_from_manifest(manifest)
    results = read_results(folder)
    expected = manifest["runs"]["total"]
    if len(results) < expected and exp.method in ("sobol", "morris"):
        raise ScenarioError(
            f"{folder}: {len(results)} of {expected} runs present; allowed: a complete sweep "
            "(finish it with clustersim sweep EXPERIMENT --out FOLDER --resume)"
        )
    out = Path(out) if out is not None else folder / ANALYSIS_DIR
    files: list[str] = []
    outputs = list(exp.outputs)
    head = [
        f"{exp.name}: {exp.method} design, {exp.n_points} points x {exp.replicates} replicates = {len(results)} runs"
    ]
    if len(results) < expected:
        head.append(f"warning: {len(results)} of {expected} runs present (incomplete sweep)")
    with atomic_folder(out, force=force) as tmp:
        if exp.method == "sobol":
            idx = sobol_indices(results, exp)
            conv = sobol_convergence(results, exp)
            _write_table(tmp, "sobol_indices", idx, f"Sobol' indices of {exp.name}", files)
            _write_table(tmp, "sobol_convergence", conv, f"Sobol' indices against N ({exp.name})", files)
            for o in outputs:
                for stat in ("mean", "std"):
                    if ((idx["output"] == o) & (idx["statistic"] == stat)).any():
                        files.append(plots.plot_sobol_bars(idx, o, tmp / f"sobol_{o}_{stat}.png", stat).name)
                if (conv["output"] == o).any():
                    files.append(plots.plot_sobol_convergence(conv, o, tmp / f"sobol_convergence_{o}.png").name)
            first = idx[(idx["statistic"] == "mean") & (idx["index"] != "S2")]
            if not first.empty:
                o = next(x for x in outputs if (first["output"] == x).any())
                w = first[first["output"] == o].pivot(index="factor", columns="index", values=["value", "conf"])
                w.columns = [f"{i}{'' if v == 'value' else '_conf'}" for v, i in w.columns]
                w = w.sort_values("ST", ascending=False).head(12).round(3)
                head.append(f"Sobol' indices of {o} (replicate mean), top factors by ST:\n{w.to_string()}")
            head.append(_skipped_note([idx]).rstrip())
        elif exp.method == "morris":
            idx = morris_indices(results, exp)
            _write_table(tmp, "morris_indices", idx, f"Morris screening of {exp.name}", files)
            for o in outputs:
                for stat in ("mean", "std"):
                    if ((idx["output"] == o) & (idx["statistic"] == stat)).any():
                        files.append(plots.plot_morris(idx, o, tmp / f"morris_{o}_{stat}.png", stat).name)
            rank = (
                idx[idx["statistic"] == "mean"]
                .assign(rank=lambda d: d.groupby("output")["mu_star"].rank(ascending=False))
                .pivot(index="factor", columns="output", values="rank")
            )
            rank["mean_rank"] = rank.mean(axis=1)
            rank = rank.sort_values("mean_rank").reset_index()
            _write_table(tmp, "morris_ranking", rank, "Factors ranked by mu* (1 = most influential)", files)
            first = idx[idx["statistic"] == "mean"]
            if not first.empty:
                o = next(x for x in outputs if (first["output"] == x).any())
                t = first[first["output"] == o].head(12)[["factor", "mu_star", "mu_star_conf", "sigma", "sigma_conf"]]
                head.append(
                    f"Morris screening of {o} (replicate mean), top factors by mu*:\n{t.round(4).to_string(index=False)}"
                )
                head.append("Overall ranking (mean rank over outputs), top 10: " + ", ".join(rank["factor"].head(10)))
            head.append(_skipped_note([idx]).rstrip())
        else:
            if exp.method == "lhs":
                corr = rank_correlations(results, exp)
                _write_table(tmp, "rank_correlations", corr, f"Spearman rank correlations ({exp.name})", files)
                for o in outputs:
                    files.append(plots.plot_rank_correlations(corr, o, tmp / f"rank_correlations_{o}.png").name)
            if exp.method == "grid" and len(exp.factors) == 2:
                fx, fy = exp.factor_names
                for o in outputs:
                    files.append(plots.plot_heatmap(results, fx, fy, o, tmp / f"heatmap_{o}.png").name)
            kpis = [k for k in dict.fromkeys([*outputs, *KPIS]) if k in results.columns]
            table = compare_mixes(results, exp, kpis=kpis)
            _write_table(tmp, "mixes", table, f"Intervention mixes of {exp.name}", files)
            files.append(plots.plot_cost_cooperation(table, tmp / "cost_cooperation.png").name)
            files.append(plots.plot_kpi_distributions(results, table, outputs[:4], tmp / "kpi_distributions.png").name)
            coop = table.attrs["cooperation"]
            show = ["point_id", "mix", f"{coop}_mean", f"{coop}_low", f"{coop}_high", "cost_mean"]
            show += ["cost_per_additional_cooperating_firm", "pareto"]
            best = pd.concat(
                [table[table["baseline"]], table[~table["baseline"]].sort_values(f"{coop}_mean", ascending=False)]
            )
            head.append(
                f"Mixes by {coop} (mean, 95% interval), top 15:\n{best[show].head(15).round(3).to_string(index=False)}"
            )
            n_pareto = int(table["pareto"].sum())
            head.append(
                f"Pareto-efficient mixes (cost vs {coop}): {n_pareto}: "
                + ", ".join(f"#{p}" for p in table.loc[table["pareto"], "point_id"])
            )
        write_json(
            tmp / "analysis.json",
            {
                "results_folder": str(folder),
                "design": exp.method,
                "runs": len(results),
                "files": sorted(files + ["analysis.json"]),
            },
        )
        files.append("analysis.json")
    return "\n".join(h for h in head if h), out, sorted(files)
