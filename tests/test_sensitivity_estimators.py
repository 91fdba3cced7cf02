"""The hand-written sensitivity estimators agree with SALib's public results on deterministic functions.

clustersim uses SALib's public API only. What that API cannot give, the Morris
elementary effects themselves (for a bootstrap interval of sigma), is computed in
clustersim.experiments.sensitivity and checked here against ``SALib.analyze.morris.analyze``.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from SALib.analyze import morris as morris_analyze
from SALib.sample import morris as morris_sample
from SALib.test_functions import Ishigami, Sobol_G

from clustersim.experiments import load_experiment, morris_indices, run_experiment
from clustersim.experiments.sensitivity import bootstrap_conf, elementary_effects

PKG = Path(__file__).resolve().parents[1] / "clustersim"
TIGHT = {"rtol": 1e-12, "atol": 1e-12}

ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
SOBOL_G = {"num_vars": 8, "names": [f"x{i}" for i in range(1, 9)], "bounds": [[0.0, 1.0]] * 8}
#: a linear function y = sum a_i x_i over uneven ranges: every elementary effect is a_i (high_i - low_i)
LINEAR_A = np.array([2.0, -3.0, 0.5, 0.0, 10.0])
LINEAR = {
    "num_vars": 5,
    "names": ["a", "b", "c", "d", "e"],
    "bounds": [[0.0, 1.0], [-2.0, 2.0], [10.0, 30.0], [0.0, 5.0], [0.1, 0.2]],
}


def linear(x: np.ndarray) -> np.ndarray:
    return x @ LINEAR_A


CASES = {
    "ishigami": (ISHIGAMI, Ishigami.evaluate),
    "sobol_g": (SOBOL_G, Sobol_G.evaluate),
    "linear": (LINEAR, linear),
}


@pytest.mark.parametrize("levels", [4, 6])
@pytest.mark.parametrize("case", sorted(CASES))
def test_elementary_effects_match_salib_mu_mu_star_sigma(case, levels):
    problem, f = CASES[case]
    x = morris_sample.sample(problem, 40, num_levels=levels, seed=7)
    y = f(x)
    si = morris_analyze.analyze(problem, x, y, num_levels=levels, num_resamples=100, seed=1)
    ee = elementary_effects(x, y, problem["num_vars"] + 1, levels)
    assert ee.shape == (problem["num_vars"], 40)
    np.testing.assert_allclose(ee.mean(axis=1), si["mu"], **TIGHT)
    np.testing.assert_allclose(np.abs(ee).mean(axis=1), si["mu_star"], **TIGHT)
    np.testing.assert_allclose(ee.std(axis=1, ddof=1), si["sigma"], **TIGHT)


def test_elementary_effects_of_a_linear_function_are_its_slopes_times_the_ranges():
    x = morris_sample.sample(LINEAR, 25, num_levels=4, seed=3)
    ee = elementary_effects(x, linear(x), LINEAR["num_vars"] + 1, 4)
    width = np.diff(np.array(LINEAR["bounds"]), axis=1).ravel()
    np.testing.assert_allclose(ee, np.repeat((LINEAR_A * width)[:, None], 25, axis=1), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bootstrap_of_mu_star_reproduces_salib_interval(case):
    """Same seed, same draws: the mu* interval is SALib's, so sigma's comes from the same resamples."""
    problem, f = CASES[case]
    x = morris_sample.sample(problem, 30, num_levels=4, seed=11)
    y = f(x)
    for seed, conf_level, resamples in ((5, 0.95, 500), (123, 0.9, 200)):
        si = morris_analyze.analyze(
            problem, x, y, num_levels=4, num_resamples=resamples, conf_level=conf_level, seed=seed
        )
        ee = elementary_effects(x, y, problem["num_vars"] + 1, 4)
        conf = bootstrap_conf(ee, "mu_star", resamples, conf_level, np.random.default_rng(seed))
        np.testing.assert_allclose(conf, si["mu_star_conf"], **TIGHT)


def test_bootstrap_of_sigma_matches_its_sampling_spread():
    """For normal effects the standard error of sigma is about sigma / sqrt(2 (r - 1))."""
    rng = np.random.default_rng(0)
    r, sd = 400, np.array([0.5, 1.0, 3.0])
    ee = rng.normal(0.0, sd[:, None], size=(3, r))
    conf = bootstrap_conf(ee, "sigma", 2000, 0.95, np.random.default_rng(1))
    expected = 1.959964 * sd / math.sqrt(2 * (r - 1))
    np.testing.assert_allclose(conf, expected, rtol=0.15)
    # constant effects have no spread to resample
    assert bootstrap_conf(np.ones((2, 10)), "sigma", 50, 0.95, 0).tolist() == [0.0, 0.0]


def test_estimators_refuse_what_they_cannot_analyse():
    x = morris_sample.sample(ISHIGAMI, 4, num_levels=4, seed=1)
    y = Ishigami.evaluate(x)
    with pytest.raises(ValueError, match="trajectories of 4 rows"):
        elementary_effects(x, y, 3, 4)
    bad = x.copy()
    bad[1] = bad[0]  # a step that moves no factor
    with pytest.raises(ValueError, match="each step must move exactly one factor"):
        elementary_effects(bad, y, 4, 4)
    ee = elementary_effects(x, y, 4, 4)
    with pytest.raises(ValueError, match="allowed: mu, mu_star, sigma"):
        bootstrap_conf(ee, "median", 10)
    with pytest.raises(ValueError, match="between 0 and 1"):
        bootstrap_conf(ee, "sigma", 10, conf_level=95)


def _ishigami_model(params, seed):
    return {"y": float(Ishigami.evaluate(np.array([[params["x1"], params["x2"], params["x3"]]]))[0])}


def _noisy_linear_model(params, seed):
    noise = np.random.default_rng(seed).normal(0.0, 0.1)
    return {"y": 3.0 * params["x1"] - params["x2"] + noise, "z": params["x3"] ** 2 + noise}


def test_morris_indices_are_salib_public_results_plus_sigma_interval():
    """The whole table on a deterministic function: SALib's numbers, and sigma's interval from the same draws."""
    spec = {
        "seed": 42,
        "design": {"method": "morris", "trajectories": 30, "levels": 4},
        "factors": {k: {"range": [-math.pi, math.pi]} for k in ("x1", "x2", "x3")},
        "outputs": ["y"],
    }
    exp = load_experiment(spec, model=_ishigami_model)
    runs = run_experiment(exp, executor="serial", progress=False)
    table = morris_indices(runs, exp, num_resamples=300).set_index("factor").loc[exp.factor_names]
    x = exp.design().matrix
    y = Ishigami.evaluate(x)
    si = morris_analyze.analyze(exp.problem(), x, y, num_levels=4, num_resamples=300, seed=42)
    for col in ("mu", "mu_star", "mu_star_conf", "sigma"):
        np.testing.assert_allclose(table[col].to_numpy(), si[col], **TIGHT)
    ee = elementary_effects(x, y, 4, 4)
    sigma_conf = bootstrap_conf(ee, "sigma", 300, 0.95, np.random.default_rng(42))
    np.testing.assert_allclose(table["sigma_conf"].to_numpy(), sigma_conf, **TIGHT)


def test_morris_indices_on_replicates_analyse_the_replicate_mean_and_std():
    spec = {
        "seed": 8,
        "replicates": 3,
        "design": {"method": "morris", "trajectories": 12, "levels": 4},
        "factors": {k: {"range": [0.0, 2.0]} for k in ("x1", "x2", "x3")},
        "outputs": ["y", "z"],
    }
    exp = load_experiment(spec, model=_noisy_linear_model)
    runs = run_experiment(exp, executor="serial", progress=False)
    table = morris_indices(runs, exp, num_resamples=200)
    stats = runs.sort_values(["point_id", "replicate"]).groupby("point_id")
    x = exp.design().matrix
    for out in ("y", "z"):
        for stat, values in (("mean", stats[out].mean()), ("std", stats[out].std(ddof=1))):
            got = table[(table["output"] == out) & (table["statistic"] == stat)].set_index("factor")
            got = got.loc[exp.factor_names]
            si = morris_analyze.analyze(exp.problem(), x, values.to_numpy(), num_levels=4, num_resamples=200, seed=8)
            for col in ("mu", "mu_star", "mu_star_conf", "sigma"):
                np.testing.assert_allclose(got[col].to_numpy(), si[col], **TIGHT)
    # the output order does not change an output's intervals (each analysis draws from the seed afresh)
    alone = morris_indices(runs, exp, outputs="z", num_resamples=200)
    both = table[table["output"] == "z"].reset_index(drop=True)
    assert alone["sigma_conf"].tolist() == both["sigma_conf"].tolist()


def _salib_names(path: Path) -> list[str]:
    """Every SALib name a module uses: the modules and names it imports, and attributes of those."""
    tree = ast.parse(path.read_text())
    used, bound = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "SALib":
            used += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            bound |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "SALib":
                    used.append(a.name)
                    bound.add(a.asname or a.name.split(".")[0])
    for node in ast.walk(tree):  # e.g. morris._compute_delta after "from SALib.sample import morris"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            used.append(f"{node.value.id}.{node.attr}")
    return used


def test_clustersim_uses_only_salib_public_names():
    found = []
    for path in sorted(PKG.rglob("*.py")):
        for name in _salib_names(path):
            found.append(name)
            private = [part for part in name.split(".") if part.startswith("_")]
            assert not private, f"{path.relative_to(PKG.parent)} uses SALib's private {name}"
    assert found, "the scan found no SALib import at all"
    assert "morris.analyze" in found and "sobol.analyze" in found
