"""Analysing a results folder: detect the design from the manifest, write tables and figures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..report import mean_ci
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


# ---------------------------------------------------------------------- dose-response (doses designs)
def dose_references(exp, manifest: dict | None = None) -> dict[str, float | None]:
    """The level that counts as 1 on each factor's dose axis.

    A factor's ``reference`` from the experiment file (kept in the manifest), else its value in the
    base scenario if that is a positive number, else None (the axis then shows levels, not shares).
    """
    given = {f.name: f.reference for f in exp.factors}
    if manifest is not None:
        given.update({f["name"]: f.get("reference") for f in manifest["experiment"]["factors"]})
    base = exp.base_values()
    out: dict[str, float | None] = {}
    for name in exp.factor_names:
        ref = given.get(name)
        if ref is None:
            b = base.get(name)
            ok = isinstance(b, (int, float)) and not isinstance(b, bool) and b > 0
            ref = float(b) if ok else None
        out[name] = ref
    return out


def dose_runs(results: pd.DataFrame, exp, outputs=None) -> pd.DataFrame:
    """The runs of a doses design in long form: factor, level, point_id, replicate, output, value.

    The baseline point, if any, is left out (see :func:`baseline_levels`); outputs without a value
    in any run are listed in ``attrs["skipped"]``.
    """
    doses = exp.doses()
    outputs = [o for o in (outputs or exp.outputs) if o in results.columns]
    d = results[results["point_id"] < len(doses)]
    skipped = {o: "no run has a value" for o in outputs if pd.to_numeric(d[o], errors="coerce").isna().all()}
    outputs = [o for o in outputs if o not in skipped]
    factor = [doses[p][0] for p in d["point_id"]]
    level = [float(doses[p][1]) for p in d["point_id"]]
    frames = [
        pd.DataFrame(
            {
                "factor": factor,
                "level": level,
                "point_id": d["point_id"].to_numpy(),
                "replicate": d["replicate"].to_numpy(),
                "output": o,
                "value": pd.to_numeric(d[o], errors="coerce").to_numpy(float),
            }
        )
        for o in outputs
    ]
    cols = ["factor", "level", "point_id", "replicate", "output", "value"]
    long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    long.attrs["skipped"] = skipped
    return long


def dose_response(results: pd.DataFrame, exp, references: dict | None = None, outputs=None) -> pd.DataFrame:
    """Mean and 95% interval of every output at every dose of every factor (a doses design).

    One row per (factor, level, output) in design order: ``dose`` = level / reference (NaN without
    a reference), ``base`` marks the level the base scenario has, ``replicates`` counts the runs
    with a value. The baseline point, if any, is left out (see :func:`baseline_levels`).
    """
    references = dose_references(exp) if references is None else references
    long = dose_runs(results, exp, outputs)
    outputs = list(dict.fromkeys(long["output"]))
    base = exp.base_values()
    groups = {key: g["value"].to_numpy(float) for key, g in long.groupby(["point_id", "output"])}
    rows = []
    for pid, (name, level) in enumerate(exp.doses()):
        ref = references.get(name)
        for o in outputs:
            x = groups.get((pid, o), np.zeros(0))
            x = x[~np.isnan(x)]
            m, lo, hi = mean_ci(x)
            rows.append(
                {
                    "factor": name,
                    "level": float(level),
                    "reference": np.nan if ref is None else ref,
                    "dose": float(level) / ref if ref else np.nan,
                    "base": bool(level == base.get(name)),
                    "output": o,
                    "replicates": int(x.size),
                    "mean": m,
                    "low": lo,
                    "high": hi,
                    "sd": float(x.std(ddof=1)) if x.size > 1 else np.nan,
                }
            )
    table = pd.DataFrame(rows)
    table.attrs["skipped"] = long.attrs["skipped"]
    return table


def baseline_levels(results: pd.DataFrame, exp, outputs=None) -> dict[str, tuple[float, float, float]]:
    """Mean and 95% interval of each output at the baseline point (empty without a baseline)."""
    if exp.baseline_point is None:
        return {}
    g = results[results["point_id"] == exp.baseline_point]
    outputs = [o for o in (outputs or exp.outputs) if o in results.columns]
    return {o: mean_ci(pd.to_numeric(g[o], errors="coerce")) for o in outputs} if len(g) else {}


def _paired_half_width(columns: np.ndarray, weights) -> np.ndarray:
    """95% half-width of the mean of ``columns @ weights`` over the replicates that have every column.

    Computed from per-replicate contrasts, it is right whether the levels ran on independent seeds
    (the contrast's variance is the sum of the levels') or on common ones (smaller, by their covariance).
    """
    rows = columns[~np.isnan(columns).any(axis=1)]
    if len(rows) < 2:
        return np.full(np.shape(weights)[1:], np.nan)
    contrast = rows @ weights
    return stats.t.ppf(0.975, len(rows) - 1) * contrast.std(axis=0, ddof=1) / math.sqrt(len(rows))


def _none_above(values: np.ndarray, bound: float) -> bool | float:
    """No value with an interval exceeds ``bound`` (NaN: fewer than 2 replicates to judge by)."""
    values = values[~np.isnan(values)]
    return bool((values <= bound).all()) if values.size else np.nan


def dose_shape(runs: pd.DataFrame) -> pd.DataFrame:
    """Is each factor's response monotone, with diminishing returns? One row per (factor, output).

    ``runs`` is the long table of :func:`dose_runs` (factor, level, replicate, output, value).
    From the level means ``m_i`` (levels ascending):

    - ``change`` = mean at the highest level - mean at the lowest, with a 95% interval;
      ``direction`` is its sign ("up", "down"; "flat" if the interval holds 0).
    - ``monotone`` = every step between neighbouring levels goes the way of ``direction``;
      ``no_reversal_95`` = no step goes against it beyond its 95% interval.
    - ``diminishing`` = the slope (change per unit of the factor) shrinks from each segment to the
      next (a concave response when rising, a convex one when falling: returns fall off either
      way); ``no_acceleration_95`` = no slope grows beyond its 95% interval.
    - ``share_at_half`` = share of ``change`` reached halfway from the lowest to the highest level
      (linear interpolation between levels): above 0.5 when returns diminish (empty when flat).

    Intervals are Student-t intervals of per-replicate contrasts (replicate ``r`` of one level
    against replicate ``r`` of the next), so they are right for independent seeds and tighter,
    as they should be, for common seeds. They are pointwise, not adjusted for the number of
    steps: the 95% checks flag clear departures only.
    """
    rows = []
    for (name, o), g in runs.groupby(["factor", "output"], sort=False):
        wide = g.pivot_table(index="replicate", columns="level", values="value", aggfunc="first", dropna=False)
        wide = wide.sort_index(axis=1)
        x = wide.columns.to_numpy(float)
        y = wide.to_numpy(float)
        m = np.nanmean(y, axis=0) if y.size else np.zeros(0)
        row = {"factor": name, "output": o, "levels": len(x), "replicates": int((~np.isnan(y)).sum(axis=0).min())}
        if len(x) < 2 or np.isnan(m).any():
            rows.append(row)
            continue
        k = len(x)
        change = m[-1] - m[0]
        first_last = np.zeros((k, 1))
        first_last[0, 0], first_last[-1, 0] = -1.0, 1.0
        half = float(_paired_half_width(y, first_last)[0])
        sign = -1.0 if change < 0 else 1.0
        flat = not abs(change) > (half if not math.isnan(half) else 0.0)
        tol = 1e-9 * max(1.0, float(np.abs(m).max()))  # float noise in sums of k$, not a change
        steps = np.zeros((k, k - 1))  # column i: level i+1 minus level i
        steps[np.arange(k - 1), np.arange(k - 1)] = -1.0
        steps[np.arange(1, k), np.arange(k - 1)] = 1.0
        d = sign * np.diff(m)
        d_half = _paired_half_width(y, steps)
        dx = np.diff(x)
        if k >= 3:
            # column i: slope of segment i+1 minus slope of segment i (a second difference)
            curv = np.zeros((k, k - 2))
            for i in range(k - 2):
                curv[i, i] = 1.0 / dx[i]
                curv[i + 1, i] = -(1.0 / dx[i] + 1.0 / dx[i + 1])
                curv[i + 2, i] = 1.0 / dx[i + 1]
            ds = sign * (m @ curv)
            ds_half = _paired_half_width(y, curv)
            slack = tol / dx.min()
            diminishing = bool((ds <= slack).all())
            no_accel = _none_above(ds - ds_half, slack)
        else:
            diminishing = no_accel = np.nan
        at_half = np.interp((x[0] + x[-1]) / 2, x, m)
        row.update(
            {
                "low_level": x[0],
                "high_level": x[-1],
                "change": change,
                "change_low": change - half,
                "change_high": change + half,
                "direction": "flat" if flat else ("up" if change > 0 else "down"),
                "monotone": bool((d >= -tol).all()),
                "no_reversal_95": _none_above(-(d + d_half), tol),
                "diminishing": diminishing,
                "no_acceleration_95": no_accel,
                "share_at_half": np.nan if flat else (at_half - m[0]) / change,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _dose_markdown(table: pd.DataFrame, title: str) -> str:
    """The dose-response table as Markdown: one row per factor and level, "mean [low, high]" per output."""
    cell = table.assign(
        cell=[
            f"{m:.4g} [{lo:.4g}, {hi:.4g}]" if not math.isnan(lo) else f"{m:.4g}"
            for m, lo, hi in zip(table["mean"], table["low"], table["high"], strict=True)
        ]
    )
    wide = cell.pivot_table(index=["factor", "level"], columns="output", values="cell", aggfunc="first", sort=False)
    wide = wide[list(dict.fromkeys(table["output"]))].reset_index()
    dose = table.drop_duplicates(["factor", "level"]).set_index(["factor", "level"])["dose"]
    wide.insert(2, "dose", [dose.get((f, lv), np.nan) for f, lv in zip(wide["factor"], wide["level"], strict=True)])
    return markdown_table(wide, title)


def _analyze_doses(tmp: Path, exp, manifest: dict, results: pd.DataFrame, files: list[str], head: list[str]) -> None:
    outputs = list(exp.outputs)
    refs = dose_references(exp, manifest)
    table = dose_response(results, exp, refs, outputs)
    shape = dose_shape(dose_runs(results, exp, outputs))
    base = baseline_levels(results, exp, outputs)
    title = f"Dose-response of {exp.name}: mean [95% interval] per factor and level"
    table.to_csv(tmp / "dose_response.csv", index=False)
    (tmp / "dose_response.md").write_text(_dose_markdown(table, title))
    files += ["dose_response.csv", "dose_response.md"]
    _write_table(tmp, "dose_shape", shape, f"Shape of each dose-response ({exp.name})", files)
    files.append(plots.plot_dose_response(table, outputs, tmp / "dose_response.png", baseline=base).name)
    o = next((x for x in outputs if (table["output"] == x).any()), None)
    if o is not None:
        d = table[table["output"] == o]
        if d["dose"].notna().all() and d.groupby("factor")["dose"].apply(tuple).nunique() == 1:
            wide = d.pivot_table(index="factor", columns="dose", values="mean", sort=False)
            what = "by dose, 1 = reference amount"
        else:
            wide = d.assign(step=d.groupby("factor").cumcount()).pivot_table(
                index="factor", columns="step", values="mean", sort=False
            )
            what = "by level, in the file's order; dose_response.md has the levels"
        head.append(f"Dose-response of {o} (replicate mean {what}):\n{wide.round(3).to_string()}")
    if not shape.empty and "direction" in shape:
        flags = shape.assign(shape=[_shape_word(r) for r in shape.itertuples()])
        flags = flags.pivot_table(index="factor", columns="output", values="shape", aggfunc="first", sort=False)
        head.append(
            "Shape of each response (flat: no change beyond its 95% interval; 'within noise': not so in "
            f"the means, but no step departs beyond its 95% interval; see dose_shape.md):\n{flags.to_string()}"
        )
    head.append(_skipped_note([table]).rstrip())


def _shape_word(r) -> str:
    """'up, monotone, diminishing' and the like, for the headline (see docs/experiments.md)."""
    if not isinstance(r.direction, str):
        return "no values"
    if r.direction == "flat":
        return "flat"
    words = [r.direction]
    if r.monotone == 1:
        words.append("monotone")
    else:
        words.append("monotone within noise" if r.no_reversal_95 == 1 else "reverses")
    if r.diminishing == 1:
        words.append("diminishing")
    elif r.no_acceleration_95 == 0:
        words.append("accelerates")
    elif r.share_at_half >= 0.5:
        words.append("diminishing within noise")
    elif r.diminishing == 0:
        words.append("not diminishing")
    return ", ".join(words)


def analyze_folder(folder, out=None, force: bool = False) -> tuple[str, Path, list[str]]:
    """Analyse a sweep's results folder; returns ``(headline text, output folder, files written)``.

    The design (sobol, morris, grid, lhs, doses) comes from the manifest. Outputs go to
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
    if folder.resolve() == out.resolve() or out.resolve() in folder.resolve().parents:
        raise ScenarioError(
            f"--out {out}: would replace the results it analyses ({folder}); allowed: a folder outside them "
            f"(default {folder / ANALYSIS_DIR})"
        )
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
        elif exp.method == "doses":
            _analyze_doses(tmp, exp, manifest, results, files, head)
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
