"""Global sensitivity analysis of a sweep: Sobol' indices (with convergence) and Morris screening.

The model is stochastic, so each design point has replicates. The indices are
computed twice: on the replicate mean (what drives the expected outcome) and
on the replicate standard deviation (what drives the run-to-run spread).
SALib's analysers rely on row order, so the per-point statistics are sorted
by design-point id before analysis, whatever order the runs finished in.

Only SALib's public API is used (``SALib.sample.sobol/morris.sample``,
``SALib.analyze.sobol/morris.analyze``). The one thing it does not give, a
bootstrap interval for the Morris sigma, needs the elementary effects
themselves; :func:`elementary_effects` and :func:`bootstrap_conf` compute them
here, and tests/test_sensitivity_estimators.py checks both against SALib's
public results on deterministic functions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..scenario import ScenarioError
from .design import Experiment, load_experiment

STATISTICS = ("mean", "std")
#: statistics of a factor's elementary effects (axis -1) that :func:`bootstrap_conf` can resample
EFFECT_STATISTICS = {
    "mu": lambda ee: ee.mean(axis=-1),
    "mu_star": lambda ee: np.abs(ee).mean(axis=-1),
    "sigma": lambda ee: ee.std(axis=-1, ddof=1),
}


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


def elementary_effects(x: np.ndarray, y: np.ndarray, trajectory_size: int, num_levels: int) -> np.ndarray:
    """Morris elementary effects of a one-at-a-time trajectory design, shape ``(factors, trajectories)``.

    Each trajectory has ``k + 1`` points and moves one factor between consecutive
    points by a grid step of ``delta = p / (2 (p - 1))`` of its range (``p`` =
    ``num_levels``). The effect of factor ``i`` in trajectory ``t`` is
    ``(y(after) - y(before)) / delta`` if the step raised ``x_i`` and
    ``(y(before) - y(after)) / delta`` if it lowered it (Morris 1991, eq. 2), so it is per
    unit of the factor's range; mu, mu* (Campolongo et al. 2007) and sigma are its mean,
    mean absolute value and standard deviation over trajectories. This is the
    convention of ``SALib.analyze.morris.analyze`` (unscaled), which returns only those
    summaries; the effects themselves are needed for a bootstrap of sigma.

    ``x`` is the design matrix as sampled (``SALib.sample.morris.sample``, no groups),
    ``y`` the output per row, both in design order.

    References
    ----------
    1. Morris, M. D. (1991). Factorial sampling plans for preliminary computational
       experiments. Technometrics, 33(2), 161-174. doi:10.1080/00401706.1991.10484804
    2. Campolongo, F., Cariboni, J., Saltelli, A. (2007). An effective screening design
       for sensitivity analysis of large models. Environmental Modelling & Software,
       22(10), 1509-1518. doi:10.1016/j.envsoft.2006.10.004
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    k = x.shape[1]
    if trajectory_size != k + 1 or x.shape[0] != y.size or y.size % trajectory_size:
        raise ValueError(
            f"a Morris design of {k} factors has trajectories of {k + 1} rows; got {x.shape[0]} rows, "
            f"{y.size} outputs and trajectory_size {trajectory_size}"
        )
    r = y.size // trajectory_size
    dx = np.diff(x.reshape(r, trajectory_size, k), axis=1)  # (trajectory, step, factor)
    dy = np.diff(y.reshape(r, trajectory_size), axis=1)  # (trajectory, step)
    moved = dx != 0
    factor = moved.argmax(axis=2)  # the factor each step moves
    if not (moved.sum(axis=2) == 1).all() or not (np.sort(factor, axis=1) == np.arange(k)).all():
        raise ValueError("not a Morris trajectory design: each step must move exactly one factor, each factor once")
    sign = np.sign(np.take_along_axis(dx, factor[..., None], axis=2)[..., 0])
    delta = num_levels / (2.0 * (num_levels - 1))
    ee = np.empty((k, r))
    ee[factor, np.arange(r)[:, None]] = sign * dy / delta
    return ee


def bootstrap_conf(
    effects: np.ndarray,
    statistic: str,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Half-width of the bootstrap ``conf_level`` interval of a statistic of each factor's elementary effects.

    For each factor (a row of ``effects``), in turn, ``num_resamples`` resamples of its
    effects are drawn with replacement over trajectories, the statistic
    (``"mu"``, ``"mu_star"`` or ``"sigma"``, see :data:`EFFECT_STATISTICS`) is taken of
    each, and the half-width is ``z * sd`` of those values, ``z`` the normal quantile of
    ``conf_level`` (the normal-approximation bootstrap interval, Efron & Tibshirani 1993,
    ch. 13). The draws follow ``SALib.analyze.morris.analyze``'s interval for mu*: with
    ``rng = numpy.random.default_rng(seed)`` and ``statistic = "mu_star"`` the result is
    SALib's ``mu_star_conf`` for the same ``seed``, and with ``"sigma"`` it is sigma's
    interval from the very same resamples.

    References
    ----------
    Efron, B., Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    """
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level = {conf_level!r}; allowed: a number between 0 and 1")
    if statistic not in EFFECT_STATISTICS:
        raise ValueError(f"statistic = {statistic!r}; allowed: {', '.join(EFFECT_STATISTICS)}")
    stat = EFFECT_STATISTICS[statistic]
    rng = np.random.default_rng(rng)
    effects = np.asarray(effects, dtype=float)
    r = effects.shape[1]
    z = norm.ppf(0.5 + conf_level / 2)
    conf = np.empty(effects.shape[0])
    for j, ee in enumerate(effects):
        idx = rng.integers(r, size=(num_resamples, r))
        conf[j] = z * stat(ee[idx]).std(ddof=1)
    return conf


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

    mu, mu*, sigma and mu*'s interval come from ``SALib.analyze.morris.analyze``;
    sigma's interval from :func:`bootstrap_conf` on the same resamples of the same
    :func:`elementary_effects`.
    """
    from SALib.analyze import morris

    exp = load_experiment(experiment)
    if exp.method != "morris":
        raise ScenarioError(f"{exp.source}: [design] method = {exp.method!r}; allowed: 'morris' for Morris screening")
    stats = replicate_statistics(results, exp, outputs)
    x = exp.design().matrix
    problem = {"num_vars": len(exp.factors), "names": exp.factor_names, "bounds": exp.problem()["bounds"]}
    levels = exp.settings["levels"]
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
            # SALib gives an interval for mu* only; sigma's comes from the same resamples of the same effects
            ee = elementary_effects(x, y, exp.group_size, levels)
            if not np.allclose(ee.std(axis=1, ddof=1), np.asarray(si["sigma"], dtype=float), rtol=1e-9, atol=1e-12):
                raise RuntimeError("elementary effects disagree with SALib's sigma; see elementary_effects()")
            sigma_conf = bootstrap_conf(ee, "sigma", num_resamples, conf_level, np.random.default_rng(exp.seed))
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
