"""Posterior draws in policy comparisons: a draw never silently replaces an explicit setting, draws are
reproducible from the seed, and the budget-mix comparison uses the shipped posterior by default."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clustersim.cli import main
from clustersim.posterior import shipped_posterior
from clustersim.runner import run_scenario
from clustersim.scenario import ScenarioError

ALLOWED = "allowed: drop the setting, or run without a posterior (posterior=None / --posterior none)"


def _scenario_setting_a_drawn_parameter(tmp_path: Path) -> Path:
    path = tmp_path / "pinned.toml"
    path.write_text('name = "pinned"\nextends = "funded_programme"\n\n[economy]\nrevenue_gain_scale = 3.5\n')
    return path


def test_a_keyword_override_of_a_drawn_parameter_is_a_one_line_error(tmp_path, tiny_posterior):
    path = tiny_posterior
    with pytest.raises(ScenarioError) as err:
        run_scenario("funded_programme", replicates=1, months=24, posterior=path, revenue_gain_scale=2.5)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("override: revenue_gain_scale = 2.5 is set explicitly")  # even at its default
    assert "drawn from the posterior post.parquet" in msg and msg.endswith(ALLOWED)
    # an override the posterior does not draw is fine, and without a posterior the override stands
    run_scenario("funded_programme", replicates=1, months=12, posterior=path, export_gain_scale=0.5)
    plain = run_scenario("funded_programme", replicates=1, months=12, revenue_gain_scale=3.0)[1]
    assert not any(c.startswith("posterior_") for c in plain.columns)


def test_a_scenario_file_setting_a_drawn_parameter_is_a_one_line_error(tmp_path, tiny_posterior):
    from clustersim.experiments import compare_scenarios
    from clustersim.experiments.mixes import compare_budget_mixes

    path, pinned = tiny_posterior, _scenario_setting_a_drawn_parameter(tmp_path)
    expected = "pinned: revenue_gain_scale = 3.5 (registry default 2.5) is set explicitly and is also drawn"
    for call in (
        lambda: run_scenario(pinned, replicates=1, months=12, posterior=path),
        lambda: compare_scenarios([str(pinned)], replicates=1, months=12, executor="serial", posterior=path),
        lambda: compare_budget_mixes({"pinned": pinned}, replicates=1, executor="serial", posterior=path),
    ):
        with pytest.raises(ScenarioError) as err:
            call()
        assert "\n" not in str(err.value) and str(err.value).startswith(expected), str(err.value)
    # without a posterior the file's setting is what runs
    assert len(run_scenario(pinned, replicates=1, months=12)[1]) == 1


def test_the_cli_refuses_a_scenario_setting_a_drawn_parameter(tmp_path, capsys):
    pinned, out = _scenario_setting_a_drawn_parameter(tmp_path), tmp_path / "out"
    args = ["compare", str(pinned), "--replicates", "1", "--months", "12", "--executor", "serial", "--out", str(out)]
    assert main(args) == 2  # the shipped posterior is the CLI's default and draws revenue_gain_scale
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "pinned: revenue_gain_scale = 3.5" in err[0] and "--posterior none" in err[0]
    assert captured.out == "" and not out.exists() and list(tmp_path.iterdir()) == [pinned]
    assert main([*args, "--posterior", "none"]) == 0  # no draws: the file's setting stands
    assert (out / "runs.csv").is_file()


def test_posterior_runs_are_reproducible_from_the_seed_and_differ_from_the_plain_run(tmp_path, tiny_posterior):
    path = tiny_posterior
    a = run_scenario("funded_programme", seed=7, replicates=3, months=24, posterior=path)[1]
    b = run_scenario("funded_programme", seed=7, replicates=3, months=24, posterior=path)[1]
    pd.testing.assert_frame_equal(a, b)
    plain = run_scenario("funded_programme", seed=7, replicates=3, months=24)[1]
    assert a["seed"].tolist() == plain["seed"].tolist()  # the draws do not move the replicate seeds
    metrics = [c for c in plain.columns if c not in ("replicate", "seed")]
    assert not a[metrics].equals(plain[metrics])
    assert set(a["posterior_revenue_gain_scale"]) <= {2.0, 3.0, 4.0}


def test_compare_budget_mixes_uses_the_shipped_posterior_by_default():
    from clustersim.experiments.mixes import compare_budget_mixes

    shipped = shipped_posterior()
    assert shipped is not None
    drawn = [c for c in pd.read_parquet(shipped).columns if c != "weight"]
    from clustersim import load_scenario

    short = dict(baseline=load_scenario("baseline", months=24), executor="serial")
    mixes = {"funded": load_scenario("funded_programme", months=24)}
    _, runs = compare_budget_mixes(mixes, replicates=2, seed=4, **short)
    assert [f"posterior_{p}" for p in drawn] == [c for c in runs.columns if c.startswith("posterior_")]
    # the same draw for every arm (paired), reproducible from the seed
    by_arm = runs.set_index(["mix", "replicate"])[[f"posterior_{p}" for p in drawn]]
    pd.testing.assert_frame_equal(by_arm.loc["funded"], by_arm.loc["baseline"])
    _, again = compare_budget_mixes(mixes, replicates=2, seed=4, **short)
    pd.testing.assert_frame_equal(runs, again)
    _, none = compare_budget_mixes(mixes, replicates=2, seed=4, posterior=None, **short)
    assert not any(c.startswith("posterior_") for c in none.columns)
