"""Global sensitivity analysis of a sweep: Sobol' indices (with convergence) and Morris screening.

The model is stochastic, so each design point has replicates. The indices are
computed twice: on the replicate mean (what drives the expected outcome) and
on the replicate standard deviation (what drives the run-to-run spread).
SALib's analysers rely on row order, so the per-point statistics are sorted
by design-point id before analysis, whatever order the runs finished in.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..scenario import ScenarioError
from .design import Experiment, load_experiment

STATISTICS = ("mean", "std")


def _outputs(exp: Experiment, outputs) -> list[str]:
    return list(exp.outputs if outputs is None else ([outputs] if isinstance(outputs, str) else outputs))


def replicate_statistics(results: pd.DataFrame, experiment, outputs=None) -> pd.DataFrame:
    """Mean and standard deviation over replicates per design point, indexed by ``point_id`` in design order.

    Columns are ``(output, statistic)``. Raises :class:`ScenarioError` if a design
    point or replicate is missing (an unfinished sweep cannot be analysed).
    """
    exp = load_experiment(experiment)
    outs = _outputs(exp, outputs)
    missing_cols = [o for o in outs if o not in results.columns]
    if missing_cols:
        raise ScenarioError(f"results: no column {missing_cols[0]!r}; allowed: {', '.join(map(str, results.columns))}")
    df = results[results["point_id"] < exp.n_points]
    counts = df.groupby("point_id").size().reindex(range(exp.n_points), fill_value=0)
    if (counts < exp.replicates).any() or len(df) != exp.n_points * exp.replicates:
        have = int(min(counts.sum(), len(df)))
        raise ScenarioError(
            f"results of {exp.name!r}: {have} of {exp.n_points * exp.replicates} design runs present; "
            "allowed: a complete sweep (finish it with clustersim sweep ... --resume)"
        )
    g = df.sort_values(["point_id", "replicate"]).groupby("point_id")[outs]
    stats = pd.concat({"mean": g.mean(), "std": g.std(ddof=1) if exp.replicates > 1 else g.mean() * np.nan}, axis=1)
    stats = stats.swaplevel(axis=1).sort_index(axis=1, level=0, sort_remaining=False)
    return stats.sort_index()


def _usable(y: np.ndarray) -> str | None:
    """Why ``y`` cannot be analysed, or None."""
    if np.isnan(y).any():
        return f"{int(np.isnan(y).sum())} design points have no value (NaN)"
    if np.ptp(y) == 0:
        return "no variation across design points"
    return None


def sobol_indices(
    results: pd.DataFrame,
    experiment,
    outputs=None,
    statistics=STATISTICS,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    n: int | None = None,
) -> pd.DataFrame:
    """First-order (S1), total (ST) and, if the design has them, second-order (S2) Sobol' indices.

    Returns a tidy table: ``output, statistic, index, factor, factor2, value, conf, low, high, n``
    where ``conf`` is the half-width of the bootstrap ``conf_level`` interval and
    ``n`` the number of base samples used (all, or the first ``n`` of a nested
    Sobol' design). Outputs that cannot be analysed are listed in
    ``table.attrs["skipped"]`` with the reason.
    """
    from SALib.analyze import sobol

    exp = load_experiment(experiment)
    if exp.method != "sobol":
        raise ScenarioError(f"{exp.source}: [design] method = {exp.method!r}; allowed: 'sobol' for Sobol' indices")
    stats = replicate_statistics(results, exp, outputs)
    n_base = exp.settings["n"] if n is None else n
    rows_used = n_base * exp.group_size
    second = exp.settings["second_order"]
    problem = {"num_vars": len(exp.factors), "names": exp.factor_names, "bounds": exp.problem()["bounds"]}
    names = exp.factor_names
    records, skipped = [], {}
    for out in _outputs(exp, outputs):
        for stat in statistics:
            if stat == "std" and exp.replicates < 2:
                continue
            y = stats[(out, stat)].to_numpy(dtype=float)[:rows_used]
            why = _usable(y)
            if why:
                skipped[f"{out} ({stat})"] = why
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                si = sobol.analyze(
                    problem,
                    y,
                    calc_second_order=second,
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    seed=exp.seed,
                )
            for index in ("S1", "ST"):
                for j, f in enumerate(names):
                    v, c = float(si[index][j]), float(si[f"{index}_conf"][j])
                    records.append((out, stat, index, f, None, v, c, v - c, v + c, n_base))
            if second:
                for a in range(len(names)):
                    for b in range(a + 1, len(names)):
                        v, c = float(si["S2"][a, b]), float(si["S2_conf"][a, b])
                        records.append((out, stat, "S2", names[a], names[b], v, c, v - c, v + c, n_base))
    table = pd.DataFrame(
        records, columns=["output", "statistic", "index", "factor", "factor2", "value", "conf", "low", "high", "n"]
    )
    table.attrs["skipped"] = skipped
    return table


def sobol_convergence(
    results: pd.DataFrame,
    experiment,
    outputs=None,
    statistic: str = "mean",
    num_resamples: int = 200,
    smallest: int = 8,
) -> pd.DataFrame:
    """S1 and ST against the number of base samples N, from the nested sub-designs of one Sobol' sample.

    The first ``n`` base samples of a Sobol' sequence (``n`` a power of two) are
    themselves a balanced Sobol' design, so no extra runs are needed.
    """
    exp = load_experiment(experiment)
    n_max = exp.settings["n"]
    sizes = [k for k in (2**i for i in range(1, 31)) if smallest <= k <= n_max] or [n_max]
    frames = [sobol_indices(results, exp, outputs, (statistic,), num_resamples=num_resamples, n=k) for k in sizes]
    table = pd.concat(frames, ignore_index=True)
    table = table[table["index"] != "S2"].reset_index(drop=True)
    table.attrs["skipped"] = frames[-1].attrs.get("skipped", {})
    return table


def morris_indices(
    results: pd.DataFrame,
    experiment,
    outputs=None,
    statistics=STATISTICS,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Morris elementary-effects screening: mu, mu*, sigma, with bootstrap intervals for mu* and sigma.

    Returns ``output, statistic, factor, mu, mu_star, mu_star_conf, sigma, sigma_conf``,
    sorted by mu* (largest first) within each output and statistic. Elementary
    effects are per unit of the factor's range (SALib's convention), so mu* values
    are comparable across factors.
    """
    from SALib.analyze import morris
    from SALib.analyze.morris import _compute_elementary_effects
    from SALib.sample.morris import _compute_delta

    exp = load_experiment(experiment)
    if exp.method != "morris":
        raise ScenarioError(f"{exp.source}: [design] method = {exp.method!r}; allowed: 'morris' for Morris screening")
    stats = replicate_statistics(results, exp, outputs)
    x = exp.design().matrix
    problem = {"num_vars": len(exp.factors), "names": exp.factor_names, "bounds": exp.problem()["bounds"]}
    levels = exp.settings["levels"]
    rng = np.random.default_rng(exp.seed)
    z = norm.ppf(0.5 + conf_level / 2)
    records, skipped = [], {}
    for out in _outputs(exp, outputs):
        for stat in statistics:
            if stat == "std" and exp.replicates < 2:
                continue
            y = stats[(out, stat)].to_numpy(dtype=float)
            why = _usable(y)
            if why:
                skipped[f"{out} ({stat})"] = why
                continue
            si = morris.analyze(
                problem, x, y, num_resamples=num_resamples, conf_level=conf_level, num_levels=levels, seed=exp.seed
            )
            # SALib gives an interval for mu* only; sigma's comes from the same bootstrap over trajectories
            ee = _compute_elementary_effects(x, y, exp.group_size, _compute_delta(levels))
            r = ee.shape[1]
            idx = rng.integers(r, size=(num_resamples, r))
            sigma_conf = z * ee[:, idx].std(axis=2, ddof=1).std(axis=1, ddof=1)
            for j, f in enumerate(exp.factor_names):
                records.append(
                    (
                        out,
                        stat,
                        f,
                        float(si["mu"][j]),
                        float(si["mu_star"][j]),
                        float(si["mu_star_conf"][j]),
                        float(si["sigma"][j]),
                        float(sigma_conf[j]),
                    )
                )
    table = pd.DataFrame(
        records, columns=["output", "statistic", "factor", "mu", "mu_star", "mu_star_conf", "sigma", "sigma_conf"]
    )
    table = table.sort_values(["output", "statistic", "mu_star"], ascending=[True, True, False], kind="stable")
    table = table.reset_index(drop=True)
    table.attrs["skipped"] = skipped
    return table


def rank_correlations(results: pd.DataFrame, experiment, outputs=None) -> pd.DataFrame:
    """Spearman rank correlation of each factor with each output's replicate mean (LHS and grid designs)."""
    exp = load_experiment(experiment)
    stats = replicate_statistics(results, exp, outputs)
    pts = pd.DataFrame(exp.design().points).astype(float)
    records = []
    for out in _outputs(exp, outputs):
        y = stats[(out, "mean")].to_numpy(dtype=float)
        for f in exp.factor_names:
            xs = pts[f].to_numpy()
            ok = ~np.isnan(y)
            rho = pd.Series(xs[ok]).corr(pd.Series(y[ok]), method="spearman") if ok.sum() > 2 else np.nan
            records.append((out, f, float(rho)))
    return pd.DataFrame(records, columns=["output", "factor", "spearman_rho"])
