"""Experiments at scale: sensitivity pipeline, executors, shards, resume, worker death, bad files."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from clustersim.cli import main
from clustersim.experiments import (
    compare_scenarios,
    load_experiment,
    morris_indices,
    pareto_efficient,
    run_experiment,
    sobol_indices,
)
from clustersim.experiments import runner as runner_mod
from clustersim.experiments.analysis import dose_response, dose_shape
from clustersim.experiments.work import clustersim_model
from clustersim.scenario import ScenarioError

# ----------------------------------------------------------------------------- helpers
TINY = {"n_firms": 10, "months": 12, "mean_degree": 4}


def tiny_grid(**extra) -> dict:
    spec = {
        "name": "tiny_grid",
        "scenario": "funded_programme",
        "replicates": 2,
        "seed": 11,
        "fixed": dict(TINY),
        "design": {"method": "grid"},
        "factors": {
            "grant_amount": {"levels": [100.0, 400.0]},
            "leader_firms": {"levels": [0, 2]},
            "manager_present": {"levels": [False, True]},
        },
        "outputs": ["final_cooperation", "final_trust"],
    }
    spec.update(extra)
    return spec


def ishigami(params, seed):
    x1, x2, x3 = params["x1"], params["x2"], params["x3"]
    return {"y": math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)}


def flaky_model(scenario, seed, *, marker: str, target_seed: int, action: str):
    """The real model, except that one run fails the first time (a marker file records that it did)."""
    if seed == target_seed and not os.path.exists(marker):
        Path(marker).touch()
        if action == "exit":
            os._exit(3)  # a worker process dies abruptly
        raise KeyboardInterrupt  # the sweep is interrupted part-way
    return clustersim_model(scenario, seed)


def same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    key = ["point_id", "replicate"]
    a = a.sort_values(key).reset_index(drop=True)
    b = b.sort_values(key).reset_index(drop=True)
    pdt.assert_frame_equal(a, b, check_dtype=False)


@pytest.fixture(scope="module")
def reference():
    """The tiny grid, swept serially: the rows every other route must reproduce."""
    return run_experiment(tiny_grid(), executor="serial", progress=False)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed", reason="the 'cluster' extra (dask, distributed) is not installed")
    import logging

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


# ----------------------------------------------------------------------------- sensitivity pipeline
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def test_ishigami_sobol_indices_within_their_confidence_intervals():
    spec = {
        "name": "ishigami",
        "design": {"method": "sobol", "n": 1024},
        "seed": 3,
        "factors": {k: {"range": [-math.pi, math.pi]} for k in ("x1", "x2", "x3")},
        "outputs": ["y"],
    }
    exp = load_experiment(spec, model=ishigami)
    runs = run_experiment(exp, executor="serial", progress=False)
    assert len(runs) == 1024 * 5
    si = sobol_indices(runs, exp)
    for index, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        for factor, value in truth.items():
            row = si[(si["index"] == index) & (si["factor"] == factor)].iloc[0]
            assert row["low"] <= value <= row["high"], (index, factor, row["value"], row["conf"])
            assert row["conf"] < 0.1  # the intervals are informative, not trivially wide
    # runs finishing in any order give the same indices: analysis sorts by design point
    shuffled = runs.sample(frac=1.0, random_state=1)
    pdt.assert_frame_equal(sobol_indices(shuffled, exp), si)


def test_morris_ranks_a_linear_function_correctly():
    spec = {
        "design": {"method": "morris", "trajectories": 20, "levels": 4},
        "factors": {k: {"range": [0.0, 1.0]} for k in ("a", "b", "c")},
        "outputs": ["y"],
        "replicates": 2,
    }
    exp = load_experiment(
        spec, model=lambda p, s: {"y": 10 * p["a"] + p["b"] + np.random.default_rng(s).normal(0, 0.01)}
    )
    mi = morris_indices(run_experiment(exp, executor="serial", progress=False), exp, statistics=("mean",))
    assert mi["factor"].tolist() == ["a", "b", "c"]
    mu = dict(zip(mi["factor"], mi["mu_star"], strict=True))
    assert mu["a"] == pytest.approx(10, rel=0.01) and mu["b"] == pytest.approx(1, rel=0.05) and mu["c"] < 0.05
    assert (mi["sigma"] < 0.05).all() and (mi["sigma_conf"] >= 0).all() and (mi["mu_star_conf"] >= 0).all()


# ----------------------------------------------------------------------------- reproducibility
def test_rows_and_seeds(reference):
    exp = load_experiment(tiny_grid())
    assert len(reference) == exp.n_runs == 16
    assert not reference.duplicated(["point_id", "replicate"]).any()
    from clustersim.seeds import run_seed

    assert reference["seed"].tolist() == [
        run_seed(11, p, r) for p, r in zip(reference["point_id"], reference["replicate"], strict=True)
    ]
    assert {"grant_amount", "leader_firms", "manager_present", "final_cooperation", "typology"} <= set(
        reference.columns
    )


def test_local_pool_gives_identical_rows(reference):
    same_rows(run_experiment(tiny_grid(), executor="local", workers=2, progress=False), reference)


def test_dask_local_cluster_gives_identical_rows(reference, dask_client, tmp_path, monkeypatch):
    same_rows(run_experiment(tiny_grid(), executor="dask", scheduler=dask_client, progress=False), reference)
    # by its address, as --scheduler gives it: the sweep connects its own client, records the address, closes it
    import distributed

    from clustersim.experiments.store import read_manifest

    closed = []
    real_close = distributed.Client.close
    monkeypatch.setattr(distributed.Client, "close", lambda self, *a, **k: closed.append(self) or real_close(self, *a, **k))
    address = dask_client.scheduler.address
    out = tmp_path / "by_address"
    same_rows(run_experiment(tiny_grid(), executor="dask", scheduler=address, out=out, progress=False), reference)
    assert len(closed) == 1 and closed[0] is not dask_client
    assert read_manifest(out)["timings"]["0/1"][-1]["scheduler"] == address


def test_shard_splits_give_identical_rows(reference, tmp_path):
    for n in (2, 3):
        parts = [run_experiment(tiny_grid(), executor="serial", shard=f"{i}/{n}", progress=False) for i in range(n)]
        assert sum(len(p) for p in parts) == len(reference)
        same_rows(pd.concat(parts), reference)
    # shards of one folder, as sbatch --array writes them, read back as one table
    out = tmp_path / "shared"
    for i in range(3):
        run_experiment(tiny_grid(), executor="serial", shard=f"{i}/3", out=out, resume=True, progress=False)
    same_rows(pd.read_parquet(out), reference)


def test_legacy_streams_are_reproducible_across_executors_and_shards(reference):
    """The legacy draws (clustersim.streams), which old results folders resume on: the same rows serially, in a
    pool and in shards; not the default counter draws' rows, and another fingerprint."""
    spec = tiny_grid(streams="legacy")
    serial = run_experiment(spec, executor="serial", progress=False)
    same_rows(run_experiment(spec, executor="local", workers=2, progress=False), serial)
    same_rows(
        pd.concat(run_experiment(spec, executor="serial", shard=f"{i}/2", progress=False) for i in range(2)), serial
    )
    assert serial["seed"].tolist() == reference["seed"].tolist()
    assert not np.allclose(serial["final_trust"], reference["final_trust"])
    default, legacy = load_experiment(tiny_grid()), load_experiment(spec)
    assert default.spec()["streams"] == "counter" and legacy.spec()["streams"] == "legacy"
    assert default.fingerprint() != legacy.fingerprint()


def test_counter_sweeps_step_runs_together_and_give_the_rows_of_runs_alone():
    """Under counter draws a task's runs go through the ensemble engine; rows depend on no batch size."""
    spec = tiny_grid(streams="counter")
    together = run_experiment(spec, executor="serial", batch_runs=16, progress=False)
    same_rows(run_experiment(spec, executor="serial", batch_runs=1, progress=False), together)
    exp = load_experiment(spec)
    params = exp.point_params()
    for row in together.iloc[[0, 5, 11, 15]].itertuples():
        alone = clustersim_model(params[row.point_id], row.seed, streams="counter")  # ClusterModel, one run
        assert (alone["final_cooperation"], alone["final_trust"]) == (row.final_cooperation, row.final_trust)


def test_sweep_refuses_a_batch_size_below_one(capsys, tmp_path):
    assert main(["sweep", "sobol_study", "--batch-size", "0", "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "--batch-size" in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "never").exists()


def test_counter_streams_need_the_default_model_and_survive_the_manifest(tmp_path):
    import dataclasses
    import json

    from clustersim.experiments.mixes import run_on_common_seeds
    from clustersim.experiments.store import experiment_from_manifest
    from clustersim.scenario import ScenarioError

    exp = load_experiment(tiny_grid(streams="counter", replicates=1))
    with pytest.raises(ScenarioError, match="needs the default model"):
        dataclasses.replace(exp, model=ishigami)
    with pytest.raises(ScenarioError, match="needs the default model"):
        run_on_common_seeds([exp.scenario], 1, 0, model=ishigami, streams="counter")
    out = tmp_path / "counter"
    run_experiment(exp, executor="serial", out=out, progress=False)
    manifest = json.loads((out / "_manifest.json").read_text())
    assert experiment_from_manifest(manifest).fingerprint() == exp.fingerprint()


def test_a_model_with_cluster_outputs_takes_counter_draws_and_a_stable_fingerprint(tmp_path):
    """work.WithClusterOutputs (compare_budget_mixes' model) is clustersim's model: an experiment with it defaults
    to counter draws and accepts them, batches, and its fingerprint does not depend on the process (an
    instance's repr once held a memory address, so a resume in another process was refused)."""
    import subprocess

    from clustersim.experiments.mixes import budget_model

    spec = tiny_grid(replicates=1)
    exp = load_experiment(spec, model=budget_model)
    assert exp.streams == "counter"
    assert load_experiment(tiny_grid(replicates=1, streams="counter"), model=budget_model).streams == "counter"
    code = (
        "from clustersim.experiments import load_experiment; from clustersim.experiments.mixes import budget_model;"
        f"print(load_experiment({spec!r}, model=budget_model).fingerprint())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == exp.fingerprint()
    runs = run_experiment(exp, executor="serial", out=tmp_path / "budget", progress=False)
    assert "spent_manager" in runs.columns and len(runs) == exp.n_runs
    # the results folder rebuilds the experiment (analyze, resume) from its manifest, counter draws and all
    import json

    from clustersim.experiments.mixes import cluster_ledger_outputs
    from clustersim.experiments.store import experiment_from_manifest
    from clustersim.experiments.work import WithClusterOutputs

    manifest = json.loads((tmp_path / "budget" / "_manifest.json").read_text())
    assert experiment_from_manifest(manifest).fingerprint() == exp.fingerprint()
    # an outputs callable without a name of its own (helper-36: repr crashed on a partial)
    partial = WithClusterOutputs(functools.partial(cluster_ledger_outputs))
    assert load_experiment(spec, model=partial).streams == "counter"


# ----------------------------------------------------------------------------- store, resume, worker death
def test_resume_after_interruption_gives_exactly_the_uninterrupted_rows(reference, tmp_path, monkeypatch):
    monkeypatch.setattr(runner_mod, "FLUSH_ROWS", 3)  # commit small parts, so the interruption leaves some behind
    target = int(reference.loc[(reference["point_id"] == 5) & (reference["replicate"] == 1), "seed"].iloc[0])
    model = functools.partial(flaky_model, marker=str(tmp_path / "marker"), target_seed=target, action="interrupt")
    exp = load_experiment(tiny_grid(), model=model)
    out = tmp_path / "sweep"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(exp, executor="serial", out=out, progress=False)
    partial = pd.read_parquet(out)
    assert 0 < len(partial) < len(reference)
    with pytest.raises(Exception, match="not empty"):  # never written into without --resume or --force
        run_experiment(exp, executor="serial", out=out, progress=False)
    resumed = run_experiment(exp, executor="serial", out=out, resume=True, progress=False)
    on_disk = pd.read_parquet(out)
    assert not on_disk.duplicated(["point_id", "replicate"]).any()
    same_rows(on_disk, reference)
    same_rows(resumed, reference)
    # a different experiment cannot be resumed into this folder
    with pytest.raises(Exception, match="different experiment"):
        run_experiment(tiny_grid(seed=12), executor="serial", out=out, resume=True, progress=False)


def test_worker_death_loses_and_duplicates_nothing_under_local(reference, tmp_path, capfd):
    target = int(reference.loc[(reference["point_id"] == 6) & (reference["replicate"] == 0), "seed"].iloc[0])
    marker = tmp_path / "died"
    model = functools.partial(flaky_model, marker=str(marker), target_seed=target, action="exit")
    out = tmp_path / "sweep"
    runs = run_experiment(
        load_experiment(tiny_grid(), model=model), executor="local", workers=2, out=out, progress=False
    )
    assert marker.exists()  # the worker really died
    assert "worker process died" in capfd.readouterr().err
    assert not runs.duplicated(["point_id", "replicate"]).any()
    same_rows(runs, reference)
    same_rows(pd.read_parquet(out), reference)


# ----------------------------------------------------------------------------- CLI end to end
def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


GRID_TOML = """
name = "tiny_delay_funding"
scenario = "funded_programme"
baseline = "baseline"
replicates = 3
seed = 5
outputs = ["final_cooperation", "final_trust"]
[design]
method = "grid"
[fixed]
n_firms = 10
months = 12
mean_degree = 4
[factors]
disbursement_delay_months = { levels = [0, 6] }
grant_amount = { levels = [100.0, 400.0] }
"""

MORRIS_TOML = """
scenario = "funded_programme"
replicates = 2
seed = 9
outputs = ["final_cooperation", "final_trust"]
[design]
method = "morris"
trajectories = 4
[fixed]
n_firms = 10
programme_budget = 0.0  # the budget is the sum of its lines, so grant_amount can vary
months = 12
mean_degree = 4
[factors]
trust_propensity_mean = { range = [0.1, 0.5] }
leader_firms = { range = [0, 3] }
grant_amount = { range = [100.0, 800.0] }
"""

SOBOL_TOML = """
scenario = "funded_programme"
replicates = 2
seed = 9
outputs = ["final_cooperation"]
[design]
method = "sobol"
n = 16
second_order = true
[fixed]
n_firms = 10
programme_budget = 0.0  # the budget is the sum of its lines, so grant_amount can vary
months = 12
mean_degree = 4
[factors]
trust_propensity_mean = { range = [0.1, 0.5] }
leader_firms = { range = [0, 3] }
grant_amount = { range = [100.0, 800.0] }
"""


DOSES_TOML = """
scenario = "funded_programme"
baseline = "baseline"
replicates = 2
seed = 7
outputs = ["mean_cooperation", "programme_cost", "coop_24m_after_end"]
[design]
method = "doses"
[fixed]
n_firms = 10
months = 24
mean_degree = 4
programme_months = 12
programme_budget = 0.0  # the budget is the sum of its lines, so a line can rise
leader_firms = 2
[factors]
budget_manager = { levels = [0.0, 18.0, 36.0] }
budget_leader_incentive = { levels = [0.0, 6.0, 12.0], reference = 12.0 }
"""


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            GRID_TOML,
            ["mixes.csv", "mixes.md", "heatmap_final_cooperation.png", "cost_cooperation.png", "kpi_distributions.png"],
        ),
        (MORRIS_TOML, ["morris_indices.csv", "morris_indices.md", "morris_final_cooperation_mean.png"]),
        (DOSES_TOML, ["dose_response.csv", "dose_response.md", "dose_shape.csv", "dose_shape.md", "dose_response.png"]),
        (
            SOBOL_TOML,
            [
                "sobol_indices.csv",
                "sobol_convergence.csv",
                "sobol_final_cooperation_mean.png",
                "sobol_convergence_final_cooperation.png",
            ],
        ),
    ],
    ids=["grid", "morris", "doses", "sobol"],
)
def test_sweep_then_analyze_writes_tables_and_figures(tmp_path, capsys, toml, expected):
    exp_file = _write(tmp_path / "exp.toml", toml)
    out = tmp_path / "res"
    assert main(["sweep", str(exp_file), "--executor", "serial", "--out", str(out)]) == 0
    assert main(["analyze", str(out)]) == 0
    printed = capsys.readouterr().out
    files = {p.name for p in (out / "_analysis").iterdir()}
    assert set(expected) <= files, files
    # the folder still reads as one tidy table, manifest and analysis included
    runs = pd.read_parquet(out)
    exp = load_experiment(exp_file)
    assert len(runs) == exp.n_runs and not runs.duplicated(["point_id", "replicate"]).any()
    assert (out / "_manifest.json").is_file()
    if exp.method == "grid":
        table = pd.read_csv(out / "_analysis" / "mixes.csv")
        assert table["baseline"].sum() == 1 and table["pareto"].any()
        assert "Pareto-efficient" in printed
    if exp.method == "doses":
        table = pd.read_csv(out / "_analysis" / "dose_response.csv")
        # a row per factor, level and output with a value; coop_24m_after_end has none on a 24-month horizon
        assert len(table) == exp.n_points * 2 and set(table["output"]) == {"mean_cooperation", "programme_cost"}
        assert (table["replicates"] == 2).all()
        assert ((table["low"] <= table["mean"]) & (table["mean"] <= table["high"])).all()
        leader = table[(table["factor"] == "budget_leader_incentive") & (table["output"] == "programme_cost")]
        assert leader["dose"].tolist() == [0.0, 0.5, 1.0]  # level / the file's reference
        manager = table[(table["factor"] == "budget_manager") & (table["output"] == "programme_cost")]
        assert manager["dose"].tolist() == pytest.approx([0.0, 18 / 288, 36 / 288])  # / the preset's amount
        assert manager["mean"].is_monotonic_increasing  # the manager's line is spent as it grows
        shape = pd.read_csv(out / "_analysis" / "dose_shape.csv")
        assert len(shape) == 2 * 2 and {"direction", "monotone", "diminishing", "share_at_half"} <= set(shape)
        assert "Dose-response of mean_cooperation" in printed
        assert "not analysed: coop_24m_after_end" in printed
    if exp.method == "sobol":
        idx = pd.read_csv(out / "_analysis" / "sobol_indices.csv")
        assert {"S1", "ST", "S2"} <= set(idx["index"]) and {"mean", "std"} <= set(idx["statistic"])
    # the analysis is never silently overwritten
    assert main(["analyze", str(out)]) == 2


def test_compare_scenarios_table():
    table = compare_scenarios(["funded_programme", "delayed_funding"], replicates=3, seed=1, months=24)
    assert table["scenario"].tolist() == ["funded_programme", "delayed_funding", "baseline"]
    base = table[table["baseline"]].iloc[0]
    assert base["additional_cooperating_firms"] == 0 and np.isnan(base["cost_per_additional_cooperating_firm"])
    assert (table["final_cooperation_low"] <= table["final_cooperation_mean"]).all()
    funded = table.iloc[0]
    if funded["additional_cooperating_firms"] > 0:
        expected = (funded["cost_mean"] - base["cost_mean"]) / funded["additional_cooperating_firms"]
        assert funded["cost_per_additional_cooperating_firm"] == pytest.approx(expected)


def test_compare_with_counter_streams_is_reproducible_and_differs_from_legacy(capsys):
    def runs(streams):
        kw = dict(replicates=2, seed=1, months=12, posterior=None, return_runs=True, streams=streams)
        return compare_scenarios(["funded_programme"], **kw)[1]

    counter = runs("counter")
    pdt.assert_frame_equal(counter, runs("counter"))
    assert counter["seed"].tolist() == runs("legacy")["seed"].tolist()
    assert not np.allclose(counter["final_trust"], runs("legacy")["final_trust"])
    args = ["compare", "funded_programme", "--replicates", "2", "--months", "6", "--streams", "counter"]
    assert main([*args, "--executor", "serial", "--posterior", "none"]) == 0
    assert "counter draws" in capsys.readouterr().out


def test_pareto_efficient():
    cost = [0, 10, 20, 15, 30]
    coop = [0.1, 0.5, 0.6, 0.4, 0.6]
    assert pareto_efficient(cost, coop).tolist() == [True, True, True, False, False]


def test_shipped_experiments_load_and_cover_what_they_promise():
    from clustersim.parameters import levers

    root = Path(__file__).resolve().parent.parent / "experiments"
    morris = load_experiment(root / "morris_screening.toml")
    assert morris.method == "morris" and morris.exclude
    sobol = load_experiment(root / "sobol_levers.toml")
    # every numeric lever but programme_budget, a cap held at 0 so that the lines can move on their own
    wanted = {p.name for p in levers() if p.kind in ("int", "float")} - {"programme_budget"}
    wanted |= {"trust_propensity_mean", "free_riding_temptation", "trust_decay"}
    assert set(sobol.factor_names) == wanted and sobol.method == "sobol"
    assert sobol.fixed == {"programme_budget": 0.0}
    sobol_header = (root / "sobol_levers.toml").read_text().split("\n\n")[0]
    for p in levers():  # the levers that cannot be sampled are named, with where to study them
        assert p.kind in ("int", "float") or p.name in sobol_header, p.name
    mix = load_experiment(root / "intervention_mix.toml")
    assert mix.method == "grid" and mix.baseline is not None and len(mix.factors) == 5
    heat = load_experiment(root / "delay_vs_funding.toml")
    assert heat.method == "grid" and len(heat.factors) == 2
    assert not (root / "calibration.toml").exists(), "the hand grid went; calibration is ABC (calibration/ccpf.toml)"
    dose = load_experiment(root / "budget_dose.toml")
    assert dose.method == "doses" and dose.baseline is not None
    # every budget line, from nothing to about twice its reference, in a scenario where each line buys something
    from clustersim.policy import LINE_KEYS

    assert set(dose.factor_names) == set(LINE_KEYS.values())
    assert dose.scenario["programme_budget"] == 0
    assert dose.scenario["leader_firms"] > 0 and dose.scenario["regional_exchange_interval_months"] > 0
    refs = {f.name: f.reference or dose.scenario[f.name] for f in dose.factors}
    for f in dose.factors:
        assert f.levels[0] == 0 and max(f.levels) == pytest.approx(2 * refs[f.name]) and len(f.levels) >= 5, f.name
    assert set(dose.outputs) >= {
        "mean_cooperation",
        "joint_actions_completed",
        "revenue_index",
        "exports_index",
        "jobs_index",
        "coop_24m_after_end",
    }
    for exp, path in (
        (morris, "morris_screening"),
        (sobol, "sobol_levers"),
        (mix, "intervention_mix"),
        (heat, "delay_vs_funding"),
        (dose, "budget_dose"),
    ):
        header = (root / f"{path}.toml").read_text().split("\n\n")[0]
        if exp is morris:  # its factors follow the registry: the stated count may lag a new entry or two
            stated = [int(m.replace(",", "")) for m in re.findall(r"= ([\d,]+) runs", header)]
            assert stated and abs(stated[0] - exp.n_runs) <= 0.1 * exp.n_runs, (
                f"{path}: the header states {stated} runs, the design has {exp.n_runs:,}; update the comment"
            )
            continue
        assert f"{exp.n_runs:,}" in header, path  # the comment header states the run count


def test_morris_screening_covers_every_numeric_registry_entry_but_the_excluded():
    """The screening's factors are the registry's numeric entries minus [exclude], so coverage cannot drift."""
    from clustersim.parameters import numeric_parameters

    morris = load_experiment(Path(__file__).resolve().parent.parent / "experiments" / "morris_screening.toml")
    numeric = [p.name for p in numeric_parameters()]
    assert set(morris.exclude) <= set(numeric)
    assert morris.factor_names == [n for n in numeric if n not in morris.exclude]  # registry order, none twice
    assert all(isinstance(why, str) and len(why.split()) >= 3 for why in morris.exclude.values())
    # each factor spans its registry range unless the file narrows it; narrowed ones stay inside it
    by_name = {p.name: p for p in numeric_parameters()}
    for f in morris.factors:
        p = by_name[f.name]
        assert p.low <= f.low < f.high <= p.high and f.kind == p.kind, f.name
    assert {"n_firms", "months"} <= set(morris.exclude)
    assert morris.spec()["exclude"] == morris.exclude  # the reasons go into the results' manifest


def test_registry_factors_follow_the_registry(monkeypatch):
    """A new numeric registry entry becomes a factor without touching the experiment file."""
    from clustersim import parameters
    from clustersim.parameters_base import Param
    from clustersim.scenario import ScenarioError

    spec = {
        "scenario": "funded_programme",
        "design": {"method": "lhs", "samples": 3},
        "fixed": {"n_firms": 10},
        "exclude": {
            p.name: "not part of this test" for p in parameters.numeric_parameters() if p.name != "trust_decay"
        },
        "factors": {"from": "registry", "trust_decay": {"range": [0.01, 0.05]}},
    }
    spec["exclude"].pop("n_firms")
    with pytest.raises(ScenarioError, match="both in \\[fixed\\] and \\[factors\\].*\\[exclude\\]"):
        load_experiment(spec)
    spec["exclude"]["n_firms"] = "held fixed at 10 firms"
    exp = load_experiment(spec)
    assert exp.factor_names == ["trust_decay"] and (exp.factors[0].low, exp.factors[0].high) == (0.01, 0.05)
    extra = Param("new_coefficient", "trust", "float", 0.5, "A coefficient added later", low=0.25, high=0.75)
    monkeypatch.setattr(parameters, "PARAMETERS", (*parameters.PARAMETERS, extra))
    monkeypatch.setitem(parameters.BY_NAME, "new_coefficient", extra)
    exp = load_experiment(spec)
    assert exp.factor_names == ["trust_decay", "new_coefficient"]
    assert (exp.factors[1].low, exp.factors[1].high) == (0.25, 0.75)


# ----------------------------------------------------------------------------- doses (dose-response) designs
def tiny_doses(**extra) -> dict:
    spec = {
        "scenario": "funded_programme",
        "replicates": 1,
        "seed": 2,
        "fixed": {**TINY, "programme_budget": 0.0},
        "design": {"method": "doses"},
        "factors": {
            "grant_amount": {"levels": [0.0, 400.0, 800.0]},
            "budget_manager": {"levels": [0.0, 288.0]},
            "leader_firms": {"levels": [0, 1, 6]},
        },
    }
    spec.update(extra)
    return spec


def test_doses_design_varies_one_factor_at_a_time_from_the_base_scenario(tmp_path):
    exp = load_experiment(tiny_doses())
    base = {"grant_amount": 400.0, "budget_manager": 288.0, "leader_firms": 0}  # the preset's values
    assert exp.base_values() == base
    assert exp.n_points == 3 + 2 + 3 and exp.n_runs == 8  # the sum of the level counts, not their product
    assert exp.doses() == [
        ("grant_amount", 0.0),
        ("grant_amount", 400.0),
        ("grant_amount", 800.0),
        ("budget_manager", 0.0),
        ("budget_manager", 288.0),
        ("leader_firms", 0),
        ("leader_firms", 1),
        ("leader_firms", 6),
    ]
    for point, (name, level), params in zip(exp.design().points, exp.doses(), exp.point_params(), strict=True):
        assert point == {**base, name: level}  # this factor at its level, every other at the base
        assert params[name] == level and all(params[k] == v for k, v in point.items())
        assert params["programme_budget"] == 0 and params["n_firms"] == 10
    assert exp.problem() is None and exp.design().matrix is None
    spec = exp.spec()
    assert spec["design"] == {"method": "doses", "common_seeds": False} and "reference" not in spec["factors"][0]
    with_ref = load_experiment(tiny_doses(factors={"leader_firms": {"levels": [0, 3], "reference": 3}}))
    assert with_ref.factors[0].reference == 3.0 and with_ref.spec()["factors"][0]["reference"] == 3.0
    assert (
        with_ref.fingerprint()
        != load_experiment(tiny_doses(factors={"leader_firms": {"levels": [0, 3]}})).fingerprint()
    )
    # the runs carry every factor's value, so a dose-response reads straight off the table
    runs = run_experiment(exp, executor="serial", progress=False)
    assert runs[exp.factor_names].to_dict("records") == exp.design().points
    table = dose_response(runs, exp)
    assert table["factor"].tolist()[:: len(exp.outputs)] == [name for name, _ in exp.doses()]
    assert table.loc[table["factor"] == "grant_amount", "dose"].unique().tolist() == [0.0, 1.0, 2.0]
    # no reference and nothing in the base scenario: no dose, and the figure falls back to the levels
    assert table.loc[table["factor"] == "leader_firms", "dose"].isna().all()
    assert table.loc[table["base"], "level"].tolist()[:: len(exp.outputs)] == [400.0, 288.0, 0.0]
    from clustersim.experiments import plots

    assert plots.plot_dose_response(table, exp.outputs, tmp_path / "levels.png").stat().st_size > 0


def test_doses_design_needs_a_base_scenario():
    from clustersim.scenario import ScenarioError

    spec = {"design": {"method": "doses"}, "factors": {"x": {"levels": [0.0, 1.0]}}, "outputs": ["y"]}
    with pytest.raises(ScenarioError, match="method 'doses'.*allowed: a base scenario"):
        load_experiment(spec, model=lambda p, s: {"y": p["x"]})


def test_dose_shape_tells_diminishing_from_accelerating_returns():
    levels = [0.0, 1.0, 2.0, 3.0, 4.0]
    curves = {
        "concave": [0.0, 0.5, 0.75, 0.875, 0.9375],  # each step half the last
        "convex": [0.0, 0.1, 0.3, 0.6, 1.0],
        "falling": [1.0, 0.5, 0.25, 0.125, 0.0625],  # down, with returns falling off
        "saturating": [0.0, 1.0, 1.0, 1.0, 1.0],  # a line spent in full at the second level
        "noise": [0.5, 0.52, 0.49, 0.51, 0.5],
        "reversal": [0.0, 0.6, 0.3, 0.8, 1.0],
    }
    rng = np.random.default_rng(0)
    rows = []
    for f, means in curves.items():
        for x, m in zip(levels, means, strict=True):
            noise = rng.normal(0, 0.2 if f == "noise" else 0.01, 10)
            noise -= noise.mean()  # the level means are exactly the curve's
            rows += [
                {"factor": f, "level": x, "replicate": r, "output": "y", "value": m + e} for r, e in enumerate(noise)
            ]
    shape = dose_shape(pd.DataFrame(rows)).set_index("factor")
    assert (shape["replicates"] == 10).all() and (shape["levels"] == 5).all()
    assert shape.loc["concave", "direction"] == "up" and shape.loc["concave", "monotone"]
    assert shape.loc["concave", "diminishing"] and shape.loc["concave", "share_at_half"] == pytest.approx(0.75 / 0.9375)
    assert shape.loc["convex", "monotone"] and not shape.loc["convex", "diminishing"]
    assert not shape.loc["convex", "no_acceleration_95"]  # clearly accelerating, beyond the noise
    assert shape.loc["falling", "direction"] == "down" and shape.loc["falling", "monotone"]
    assert shape.loc["falling", "diminishing"]
    assert shape.loc["saturating", "monotone"] and shape.loc["saturating", "diminishing"]
    assert shape.loc["noise", "direction"] == "flat" and shape.loc["noise", "no_reversal_95"]
    assert np.isnan(shape.loc["noise", "share_at_half"])  # no effect, no share of it
    assert not shape.loc["reversal", "monotone"] and not shape.loc["reversal", "no_reversal_95"]
    assert shape.loc["concave", "change"] == pytest.approx(0.9375)
    assert shape.loc["concave", "change_low"] < 0.9375 < shape.loc["concave", "change_high"]
    # with common seeds the replicates move together across levels: the same means, tighter steps
    shared = rng.normal(0, 0.3, 10)
    common = [
        {"factor": "f", "level": x, "replicate": r, "output": "y", "value": m + shared[r]}
        for x, m in zip(levels, curves["concave"], strict=True)
        for r in range(10)
    ]
    independent = [dict(row, value=row["value"] - shared[row["replicate"]] + rng.normal(0, 0.3)) for row in common]
    tight, loose = (dose_shape(pd.DataFrame(rows)).iloc[0] for rows in (common, independent))
    assert tight["change_high"] - tight["change_low"] < 1e-9 < loose["change_high"] - loose["change_low"]


def test_common_seeds_give_every_point_the_same_replicate_seeds():
    from clustersim.seeds import run_seed

    independent = load_experiment(tiny_doses())
    common = load_experiment(tiny_doses(design={"method": "doses", "common_seeds": True}))
    assert independent.settings == {"common_seeds": False} and common.fingerprint() != independent.fingerprint()
    assert common.run_seed(5, 1) == common.run_seed(0, 1) == run_seed(2, 1) != common.run_seed(5, 0)
    assert independent.run_seed(5, 1) == run_seed(2, 5, 1) != independent.run_seed(0, 1)
    runs = run_experiment(common, executor="serial", progress=False)
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()
    # the base scenario's points (grant 400, manager 288) are the same run on the same seed
    base = runs[runs["point_id"].isin([1, 4])].drop(columns=["point_id"])
    assert base.drop_duplicates().shape[0] == 1


# ----------------------------------------------------------------------------- bad experiment files
BASE = """
scenario = "funded_programme"
replicates = 2
seed = 1
[design]
method = "grid"
[fixed]
n_firms = 10
months = 12
mean_degree = 4
[factors]
grant_amount = { levels = [100.0, 400.0] }
"""

REGISTRY_BASE = """
scenario = "funded_programme"
seed = 1
[design]
method = "lhs"
samples = 4
[factors]
from = "registry"
[exclude]
months = "horizon"
"""

BAD = {
    "invalid_toml": ("replicates = [", "not valid TOML"),
    "unknown_top_key": ("replicats = 3\n" + BASE, "unknown key 'replicats'"),
    "missing_design": ("[factors]\ngrant_amount = { levels = [1.0] }\n", "[design] is missing"),
    "bad_method": (BASE.replace('method = "grid"', 'method = "fractional"'), "method = 'fractional'"),
    "unknown_design_key": (BASE.replace('method = "grid"', 'method = "grid"\nn = 4'), "unknown key 'n' in [design]"),
    "sobol_n_not_power_of_two": (
        BASE.replace('method = "grid"', 'method = "sobol"\nn = 100').replace(
            "levels = [100.0, 400.0]", "range = [100.0, 400.0]"
        )
        + "leader_firms = { range = [0, 3] }\n",
        "power of two",
    ),
    "morris_odd_levels": (
        BASE.replace('method = "grid"', 'method = "morris"\ntrajectories = 4\nlevels = 3').replace(
            "levels = [100.0, 400.0]", "range = [100.0, 400.0]"
        )
        + "leader_firms = { range = [0, 3] }\n",
        "an even int",
    ),
    "lhs_missing_samples": (BASE.replace('method = "grid"', 'method = "lhs"'), "samples is missing"),
    "unknown_factor": (BASE + "grant_amout = { levels = [1.0] }\n", "unknown factor 'grant_amout'"),
    "factor_out_of_range": (BASE + "trust_decay = { levels = [0.1, 0.9] }\n", "out of range"),
    "range_in_grid": (BASE + "trust_decay = { range = [0.1, 0.2] }\n", "a grid needs levels"),
    "empty_range": (
        BASE.replace('method = "grid"', 'method = "lhs"\nsamples = 4').replace(
            "levels = [100.0, 400.0]", "range = [400.0, 100.0]"
        ),
        "low < high",
    ),
    "sampled_bool": (
        BASE.replace('method = "grid"', 'method = "lhs"\nsamples = 4').replace(
            "levels = [100.0, 400.0]", "range = [100.0, 400.0]"
        )
        + "manager_present = { range = [0, 1] }\n",
        "cannot be sampled",
    ),
    "wrong_level_type": (BASE + 'leader_firms = { levels = ["two"] }\n', "wrong type"),
    "replicates_zero": (BASE.replace("replicates = 2", "replicates = 0"), "replicates = 0"),
    "unknown_output": ('outputs = ["happiness"]\n' + BASE, "unknown output 'happiness'"),
    "fixed_out_of_range": (BASE.replace("n_firms = 10", "n_firms = 1"), "n_firms = 1"),
    "unknown_scenario": (BASE.replace('"funded_programme"', '"no_such_preset"'), "no such preset"),
    "impossible_combination": (BASE + "bso_training_staff = { levels = [1, 5] }\n", "exceeds bso_staff"),
    "fixed_and_factor": (
        BASE.replace("n_firms = 10", "n_firms = 10\ngrant_amount = 5.0"),
        "both in [fixed] and [factors]",
    ),
    "factor_not_a_table": (BASE + "leader_firms = [0, 2]\n", "allowed: a table"),
    # [factors] from = "registry" with [exclude]
    "registry_from_typo": (
        REGISTRY_BASE.replace('from = "registry"', 'from = "registy"'),
        "from = 'registy' is not allowed",
    ),
    "registry_in_a_grid": (
        REGISTRY_BASE.replace('method = "lhs"\nsamples = 4', 'method = "grid"'),
        "a grid cannot use",
    ),
    "exclude_unknown_name": (REGISTRY_BASE + 'n_frims = "typo"\n', "[exclude] n_frims: unknown parameter"),
    "exclude_without_reason": (REGISTRY_BASE.replace('months = "horizon"', 'months = ""'), "gives no reason"),
    "exclude_reason_not_text": (REGISTRY_BASE.replace('months = "horizon"', "months = true"), "gives no reason"),
    "exclude_not_numeric": (REGISTRY_BASE + 'manager_present = "a switch"\n', "never a factor"),
    "exclude_not_a_table": (
        'exclude = ["months"]\n' + REGISTRY_BASE.split("[exclude]")[0],
        "[exclude] = ['months'] is not allowed",
    ),
    "exclude_without_registry": (BASE + '[exclude]\nmonths = "horizon"\n', "[exclude] needs [factors] from"),
    # doses designs
    "doses_with_a_range": (
        BASE.replace('method = "grid"', 'method = "doses"').replace(
            "levels = [100.0, 400.0]", "range = [100.0, 400.0]"
        ),
        "a doses design needs levels",
    ),
    "doses_one_level": (
        BASE.replace('method = "grid"', 'method = "doses"').replace("[100.0, 400.0]", "[100.0]"),
        "at least 2 levels",
    ),
    "doses_of_a_switch": (
        BASE.replace('method = "grid"', 'method = "doses"') + "manager_present = { levels = [false, true] }\n",
        "cannot be a dose",
    ),
    "doses_reference_not_positive": (
        BASE.replace('method = "grid"', 'method = "doses"').replace(
            "[100.0, 400.0] }", "[100.0, 400.0], reference = 0 }"
        ),
        "reference = 0 is not allowed",
    ),
    "reference_in_a_grid": (
        BASE.replace("[100.0, 400.0] }", "[100.0, 400.0], reference = 400.0 }"),
        "unknown key 'reference' in [factors] grant_amount",
    ),
    "doses_design_key": (BASE.replace('method = "grid"', 'method = "doses"\nn = 4'), "unknown key 'n' in [design]"),
    "doses_from_registry": (
        REGISTRY_BASE.replace('method = "lhs"\nsamples = 4', 'method = "doses"'),
        "a doses design cannot use",
    ),
    "doses_common_seeds_not_bool": (
        BASE.replace('method = "grid"', 'method = "doses"\ncommon_seeds = "yes"'),
        "common_seeds = 'yes' is not allowed",
    ),
    "doses_over_the_budget": (
        BASE.replace('method = "grid"', 'method = "doses"').replace("[100.0, 400.0]", "[400.0, 800.0]"),
        "budget lines exceed programme_budget = 760",
    ),
    "streams_unknown": (BASE.replace("seed = 1", 'seed = 1\nstreams = "philox"'), "streams = 'philox' is not valid"),
    "streams_with_a_custom_model": (
        BASE.replace("seed = 1", 'seed = 1\nstreams = "counter"\nmodel = "math:fsum"'),
        "streams = 'counter' needs the default model",
    ),
    # analyze names a figure after each output: a custom model's output may not climb out of the folder
    "output_name_with_a_separator": (
        BASE.replace("seed = 1", 'seed = 1\nmodel = "math:fsum"\noutputs = ["a/b"]'),
        "outputs = 'a/b' cannot name a figure file",
    ),
    "excluded_and_narrowed": (
        REGISTRY_BASE.replace('from = "registry"', 'from = "registry"\nmonths = { range = [12, 24] }'),
        "narrows the range of an excluded parameter",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_experiment_file_one_line_error_exit_2(tmp_path, capsys, case):
    text, needle = BAD[case]
    path = _write(tmp_path / f"{case}.toml", text)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--executor", "serial", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert str(path) in err and needle in err and "allowed" in err, err
    assert not out.exists()  # no partial output


def test_missing_file_bad_shard_and_occupied_folder_exit_2(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err
    good = _write(tmp_path / "good.toml", BASE)
    assert main(["sweep", str(good), "--shard", "3/3", "--out", str(tmp_path / "o")]) == 2
    assert "--shard" in capsys.readouterr().err
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("keep me")
    for extra in ([], ["--force"], ["--resume"]):
        assert main(["sweep", str(good), "--executor", "serial", "--out", str(occupied), *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "allowed" in err
    assert (occupied / "notes.txt").read_text() == "keep me"
    assert main(["analyze", str(tmp_path / "o")]) == 2
    assert main(["compare", "no_such_preset", "--replicates", "1"]) == 2


def test_a_sweep_with_a_results_folder_keeps_no_rows_or_series_in_memory():
    """Memory stays bounded for a design of any size: with a store, flushed rows and series live on disk only."""
    from clustersim.experiments.runner import Progress, _Collector

    class Disk:
        written = 0

        def write(self, table, series):
            Disk.written += len(table)

    exp = load_experiment(tiny_grid(series=True))
    seeds = {(p, r): 1 for p in range(exp.n_points) for r in range(exp.replicates)}
    collector = _Collector(exp, Disk(), seeds, Progress(len(seeds), 0, False, "test"))
    for p, r in seeds:
        collector.add(
            {
                "rows": [{"point_id": p, "replicate": r, "final_cooperation": 0.5}],
                "series": [pd.DataFrame({"month": [0]})],
                "seconds": 0.0,
            }
        )
    collector.flush()
    assert Disk.written == collector.runs_done == len(seeds)
    assert collector.kept == [] and collector.kept_series == [] and collector.rows == [] and collector.series == []


def test_mean_interval_contains_the_mean_of_equal_values():
    """Seven equal values whose computed mean rounds a last bit below them: the interval, clipped to the
    observed range, must still contain the mean (the cost-cooperation figure's error bars need it)."""
    from clustersim.report import mean_ci

    x = np.full(7, 0.8132702392002724)
    mean, low, high = mean_ci(x)
    assert mean < x.min()  # the rounding this guards against
    assert low <= mean <= high


def test_bad_execution_settings_and_a_failing_custom_model_leave_no_output(tmp_path, capsys):
    """A worker count below one is refused before any output exists; a custom model that fails on its first
    run is an input error (one line naming the file and the model, exit 2) and leaves no results folder."""
    good = _write(tmp_path / "good.toml", BASE)
    for workers in ("0", "-4"):
        out = tmp_path / f"w{workers}"
        assert main(["sweep", str(good), "--workers", workers, "--out", str(out)]) == 2
        assert "--workers" in capsys.readouterr().err and not out.exists()
    wrong = _write(
        tmp_path / "sqrt.toml",
        'name = "sqrt"\nmodel = "math:sqrt"\nreplicates = 1\noutputs = ["y"]\n'
        '[design]\nmethod = "grid"\n[factors]\nx = { levels = [1.0, 2.0] }\n',
    )
    for existed in (False, True):
        out = tmp_path / f"sqrt-{existed}"
        if existed:
            out.mkdir()  # an empty folder the user made is left empty, not removed
        assert main(["sweep", str(wrong), "--executor", "serial", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert str(wrong) in err and "math:sqrt" in err and "TypeError" in err and "allowed" in err
        assert out.is_dir() == existed and not (existed and any(out.iterdir()))


def test_resuming_a_damaged_results_folder_is_a_one_line_error(tmp_path, capsys):
    good = _write(tmp_path / "good.toml", BASE)
    for damage in ("part", "manifest"):
        out = tmp_path / damage
        assert main(["sweep", str(good), "--executor", "serial", "--out", str(out)]) == 0
        if damage == "part":
            part = next(out.glob("part-*.parquet"))
            part.write_bytes(part.read_bytes()[:100])
        else:
            (out / "_manifest.json").write_text("{")
        capsys.readouterr()
        for argv in (["sweep", str(good), "--executor", "serial", "--out", str(out), "--resume"], ["analyze", str(out)]):
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "Traceback" not in err and str(out) in err and "allowed" in err


def _breakable_grid(name: str):
    """A custom model on a grid of x = 1..4 that fails at every x >= ``broken["at"]`` (inf at first: never)."""
    broken = {"at": math.inf}

    def model(params, seed):
        if params["x"] >= broken["at"]:
            raise ValueError("boom")
        return {"y": float(params["x"])}

    spec = {
        "name": name,
        "replicates": 1,
        "outputs": ["y"],
        "design": {"method": "grid"},
        "factors": {"x": {"levels": [1.0, 2.0, 3.0, 4.0]}},
    }
    return load_experiment(spec, model=model), broken


def test_a_failing_first_run_never_removes_a_folder_other_shards_share(tmp_path):
    """Sharded array jobs all start with --resume on one folder: a shard whose custom model fails on its first
    run must leave the folder, its manifest and the other shards' runs as they are."""
    exp, broken = _breakable_grid("shared")
    out = tmp_path / "shared"
    run_experiment(exp, executor="serial", shard="1/2", out=out, resume=True, progress=False)
    parts = sorted(p.name for p in out.glob("part-*"))
    assert parts
    broken["at"] = -math.inf
    with pytest.raises(ScenarioError, match="failed on the first run"):
        run_experiment(exp, executor="serial", shard="0/2", out=out, resume=True, progress=False)
    assert sorted(p.name for p in out.glob("part-*")) == parts and (out / "_manifest.json").is_file()
    fresh = tmp_path / "fresh"
    with pytest.raises(ScenarioError, match="failed on the first run"):
        run_experiment(exp, executor="serial", out=fresh, progress=False)
    assert not fresh.exists()  # a sweep's own new folder, with nothing run into it, goes


def test_analyze_never_writes_over_the_results_it_reads(tmp_path, capsys):
    good = _write(tmp_path / "good.toml", BASE)
    out = tmp_path / "sweep"
    assert main(["sweep", str(good), "--executor", "serial", "--out", str(out)]) == 0
    parts = sorted(out.glob("part-*"))
    for target in (out, tmp_path):
        assert main(["analyze", str(out), "--out", str(target), "--force"]) == 2
        assert "would replace the results it analyses" in capsys.readouterr().err
    assert sorted(out.glob("part-*")) == parts


def test_a_custom_model_failing_mid_sweep_is_one_line_and_its_finished_runs_resume(tmp_path):
    exp, broken = _breakable_grid("mid")
    broken["at"] = 3.0
    out = tmp_path / "mid"
    with pytest.raises(ScenarioError, match="failed during the sweep.*kept in") as err:
        run_experiment(exp, executor="serial", out=out, batch_runs=1, progress=False)
    assert "\n" not in str(err.value)
    broken["at"] = math.inf
    done = run_experiment(exp, executor="serial", out=out, resume=True, batch_runs=1, progress=False)
    assert sorted(done["y"]) == [1.0, 2.0, 3.0, 4.0]


def _failing_outputs(state, k, scenario):
    raise ZeroDivisionError("no members to divide by")


def _outputs_returning_none(state, k, scenario):
    return None


def _outputs_returning_an_array(state, k, scenario):
    return {"shares": np.zeros(3)}


@pytest.mark.parametrize("streams", ["counter", "legacy"])
@pytest.mark.parametrize(
    ("outputs", "says"),
    [
        (_failing_outputs, "_failing_outputs raised ZeroDivisionError"),
        (_outputs_returning_none, "_outputs_returning_none returned NoneType, not a dict"),
        (_outputs_returning_an_array, "returned 'shares': ndarray, not a number or a label"),
    ],
)
def test_a_failing_outputs_function_is_one_line_naming_it_not_a_traceback(tmp_path, streams, outputs, says):
    """The outputs function of a WithClusterOutputs model is the user's code: its failure (an exception, or
    something other than a dict of numbers and labels) is an input error (one line, the folder left as a failed
    custom model leaves it), batched or one run at a time; clustersim's own model still raises, as a failure
    there is a bug."""
    from clustersim.experiments.work import WithClusterOutputs

    exp = load_experiment(tiny_grid(replicates=1, streams=streams), model=WithClusterOutputs(outputs))
    out = tmp_path / "outputs"
    with pytest.raises(ScenarioError, match="failed on the first run") as err:
        run_experiment(exp, executor="serial", out=out, progress=False)
    assert says in str(err.value), str(err.value)
    assert "\n" not in str(err.value) and "allowed: an outputs(state, k, scenario) function" in str(err.value)
    assert not out.exists()


def test_an_unreachable_scheduler_is_refused_before_any_output(tmp_path, capsys, monkeypatch):
    """--scheduler at an address where no Dask scheduler listens: one line, exit 2, and no results folder (the
    pilot run used to write one first, leaving a folder of one run behind)."""
    import socket

    pytest.importorskip("distributed")
    from clustersim.experiments import executors

    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 2)
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    good = _write(tmp_path / "good.toml", BASE)
    out = tmp_path / "out"
    assert main(["sweep", str(good), "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"--scheduler 'tcp://127.0.0.1:{port}'" in err and "allowed" in err and not out.exists()


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (Linux /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers die with their parent through Linux's prctl")
def test_local_workers_die_with_a_killed_sweep(tmp_path):
    """A sweep killed with SIGKILL runs no cleanup; its pool workers must not go on computing batches for nobody
    (helper-50's audit: they outlived it). The model sleeps a minute past the pilot run, so a worker that
    survived would still be there."""
    import signal
    import subprocess
    import time

    (tmp_path / "slowmodel.py").write_text(
        "import time\ndef model(params, seed):\n    if params['x'] > 1:\n        time.sleep(60)\n    return {'y': 1.0}\n"
    )
    exp = _write(
        tmp_path / "slow.toml",
        'name = "slow"\nmodel = "slowmodel:model"\nreplicates = 1\noutputs = ["y"]\n'
        '[design]\nmethod = "grid"\n[factors]\nx = { levels = [1.0, 2.0, 3.0, 4.0, 5.0] }\n',
    )
    code = "import sys; from clustersim.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", code, "sweep", str(exp), "--executor", "local", "--workers", "2", "--batch-size", "1"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    sweep = subprocess.Popen([*argv, "--out", str(tmp_path / "out")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    below: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while len(_descendants(sweep.pid)) < 2 and time.monotonic() < deadline:  # the pool's workers are up
            time.sleep(0.2)
        time.sleep(1.0)  # into their first batch
        below = _descendants(sweep.pid)
        assert len(below) >= 2, "the sweep never started its workers"
        sweep.send_signal(signal.SIGKILL)
        sweep.wait(10)
        deadline = time.monotonic() + 10
        while (left := {pid for pid in below if Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)}) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert not left, f"{len(left)} of the sweep's {len(below)} processes outlived it"
    finally:  # on a failure too: the workers seen (re-parented once the sweep died) and any still below it
        if sweep.poll() is None:
            sweep.kill()
        for pid in below | _descendants(sweep.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _state(pid: int) -> str:
    """A process's state letter (Z: a zombie, already dead), or '' if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""
