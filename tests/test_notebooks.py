"""The notebooks in notebooks/ run top to bottom and are committed without outputs.

CI executes every notebook with nbclient on the ``python3`` kernel of the
interpreter running pytest (the project's venv), so a notebook that a code
change breaks fails the suite. Outputs are never committed; strip them before
committing with (nbformat only, no nbconvert needed)::

    .venv/bin/python tests/test_notebooks.py --strip
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = ("01_quickstart.ipynb", "02_policy_mix.ipynb", "03_trust_lessons.ipynb", "04_sensitivity.ipynb")
#: seconds per cell; each whole notebook should take well under 3 minutes on two cores (docs/notebooks.md)
CELL_TIMEOUT = 600
#: cell metadata that Jupyter front ends add when running a notebook
RUN_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")


def notebooks() -> list[Path]:
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def strip_outputs(nb):
    """Remove outputs, execution counts and run metadata from a notebook (in place); returns it."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in RUN_METADATA:
            cell.metadata.pop(key, None)
    nb.metadata.pop("widgets", None)
    return nb


def code_cells(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_the_four_notebooks_are_there():
    assert tuple(p.name for p in notebooks()) == EXPECTED


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb == strip_outputs(copy.deepcopy(nb)), (
        f"{path.name} holds outputs; strip them with: .venv/bin/python tests/test_notebooks.py --strip"
    )
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_notebooks_define_no_helpers_and_use_the_public_api(path):
    """Anything a notebook needs beyond plotting glue belongs in the package, not in a cell."""
    for source in code_cells(path):
        assert not re.search(r"^\s*(def|class)\s", source, re.M), f"{path.name} defines a helper:\n{source}"
        assert not re.search(r"clustersim[\w.]*\._", source), f"{path.name} uses a private name:\n{source}"
        assert not re.search(r"sys\.path|importlib\.reload", source), f"{path.name} patches imports:\n{source}"


def test_quickstart_stays_under_15_cells():
    nb = nbformat.read(NOTEBOOK_DIR / "01_quickstart.ipynb", as_version=4)
    assert len(nb.cells) < 15


@pytest.mark.slow
@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_notebook_executes(path, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    # a probe cell first: the kernel must run this interpreter's environment, not some other Python
    probe = nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)")
    nb.cells.insert(0, probe)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell and the error, if any cell fails
    assert Path(probe.outputs[0]["text"].strip()).resolve() == Path(sys.prefix).resolve()
    # notebooks write their results into temporary folders, never into the working folder
    assert not any(tmp_path.iterdir()), sorted(p.name for p in tmp_path.iterdir())


# ---------------------------------------------------------------------------------------------------------
# the package functions the notebooks rely on (clustersim.analysis, clustersim.experiments.mixes): fast checks;
# the notebooks run them at scale


def test_budget_lines_follow_the_model_ledger():
    """The split notebook 02 reads (``budget_lines``) is what the model's ledger allocates, and the ledger spends
    within it: the manager and monitoring from month 0 (or from the late first tranche when the programme waits
    for it), the BSO training and the grant in full, and nothing a line does not hold."""
    from clustersim import ClusterModel, load_scenario
    from clustersim.experiments.mixes import budget_lines, ledger_outputs
    from clustersim.policy import LINES

    for name, months_paid in (("funded_programme", 96), ("delayed_funding", 96 - 18)):
        sc = load_scenario(name)
        lines = budget_lines(sc)
        assert lines["budget"] == pytest.approx(760.0) and lines["unallocated"] == pytest.approx(2.0)
        assert [lines[k] for k in ("manager", "bso_training", "firm_training", "cofinancing", "monitoring")] == [
            288.0,
            10.0,
            30.0,
            400.0,
            30.0,
        ]
        model = ClusterModel(sc, seed=1)
        model.run()
        ledger = model.ledger
        assert ledger.allocation == {line: lines[line] for line in LINES}
        assert all(ledger.spent[line] <= ledger.allocation[line] + 1e-9 for line in LINES)
        assert ledger.spent_manager == pytest.approx(3.0 * months_paid)  # 3 k$ a month while the programme pays
        assert ledger.spent_bso_training == pytest.approx(10.0)  # two officers at 5 k$
        assert ledger.disbursed == pytest.approx(400.0) and ledger.paid_to_firms == pytest.approx(400.0)
        assert ledger.spent["monitoring"] == pytest.approx(0.3 * months_paid)  # intensity 0.3 x 1 k$ a month
        direct = sum(ledger.spent[line] for line in LINES if line != "cofinancing")
        assert ledger.funder_paid == pytest.approx(ledger.disbursed + direct)
        assert ledger.programme_cost <= lines["budget"] and ledger.funder_paid <= lines["budget"]
        out = ledger_outputs(model)
        assert out["spent_manager"] == ledger.spent_manager and out["funder_paid"] == ledger.funder_paid
        assert out["unspent"] == pytest.approx(760.0 - ledger.programme_cost)
    for name in ("baseline", "unfunded_plan"):  # no programme, or a plan never funded: nothing to spend
        assert budget_lines(name)["budget"] == 0.0 and sum(budget_lines(name)[line] for line in LINES) == 0.0


def test_split_budget_allocates_one_total_and_refuses_lines_over_it():
    from clustersim.experiments.mixes import budget_lines, split_budget
    from clustersim.scenario import ScenarioError

    mix = split_budget("funded_programme", 760.0, "manager first", {"manager": 288.0, "monitoring": 30.0})
    lines = budget_lines(mix)
    assert mix.name == "manager first" and mix.programme_budget == 760.0
    assert lines["manager"] == 288.0 and lines["monitoring"] == 30.0 and lines["cofinancing"] == pytest.approx(442.0)
    assert lines["bso_training"] == lines["firm_training"] == 0.0  # lines not named get nothing
    assert lines["unallocated"] == pytest.approx(0.0)
    kept = split_budget("funded_programme", 760.0, "no grant", {"manager": 288.0}, rest=None, leader_firms=2)
    assert budget_lines(kept)["cofinancing"] == 0.0 and budget_lines(kept)["unallocated"] == pytest.approx(472.0)
    assert kept.leader_firms == 2
    with pytest.raises(
        ScenarioError, match=r"manager 500 \+ bso_training 300 = 800 k\$ exceed the budget of 760"
    ) as err:
        split_budget("funded_programme", 760.0, "too much", {"manager": 500.0, "bso_training": 300.0})
    assert "\n" not in str(err.value)
    with pytest.raises(ScenarioError, match="unknown budget line 'salary'; allowed: manager, "):
        split_budget("funded_programme", 760.0, "typo", {"salary": 1.0})


def test_compare_budget_mixes_reports_money_by_line_on_common_seeds():
    from clustersim import load_scenario
    from clustersim.experiments.mixes import compare_budget_mixes

    same = load_scenario("funded_programme")
    table, runs = compare_budget_mixes({"a": same, "b": same}, replicates=2, seed=3, executor="serial")
    assert list(table["mix"]) == ["a", "b", "baseline"] and table["baseline"].tolist() == [False, False, True]
    a, b = (runs[runs["mix"] == m].drop(columns=["mix", "point_id"]).reset_index(drop=True) for m in "ab")
    assert a.equals(b)  # identical scenarios on common seeds give identical runs
    row, base = table.iloc[0], table.iloc[2]
    extra = (row["final_cooperation_mean"] - base["final_cooperation_mean"]) * 60
    assert row["additional_cooperating_firms"] == pytest.approx(extra)
    assert row["cost_per_additional_cooperating_firm"] == pytest.approx((row["cost_mean"] - base["cost_mean"]) / extra)
    assert row["allocated_manager"] == 288.0 and row["budget"] == 760.0 and base["budget"] == 0.0
    assert row["spent_manager"] == pytest.approx(288.0) and row["cost_mean"] == pytest.approx(
        runs["programme_cost"][:2].mean()
    )
    assert row["unspent"] == pytest.approx(760.0 - row["cost_mean"])
    assert set(runs["association_formed"]) <= {0.0, 1.0}


def test_budget_mixes_batch_through_the_ensemble_and_equal_their_runs_alone():
    """compare_budget_mixes' model adds the ledger to the summary but still batches (posterior draws included):
    every row equals the run alone, under the same counter draws, and the money adds up per run."""
    from clustersim import load_scenario
    from clustersim.experiments.mixes import budget_model, run_on_common_seeds
    from clustersim.experiments.work import run_batch
    from clustersim.posterior import SHIPPED_POSTERIOR, resolve_posterior

    scenarios = [load_scenario("funded_programme"), load_scenario("tapered_exit"), load_scenario("baseline")]
    runs = run_on_common_seeds(scenarios, 3, 11, model=budget_model, posterior=SHIPPED_POSTERIOR)
    drawn = [c for c in runs.columns if c.startswith("posterior_")]
    assert len(runs) == 9 and (resolve_posterior(SHIPPED_POSTERIOR) is None or drawn)
    for row in runs.itertuples(index=False):
        row = row._asdict()
        sc = scenarios[row["point_id"]]
        draw = {c.removeprefix("posterior_"): row[c] for c in drawn}
        alone = budget_model(sc.replace(**draw) if draw else sc, row["seed"], streams="counter")
        assert all(same(alone[k], row[k]) for k in alone), [k for k in alone if not same(alone[k], row[k])]
        assert row["unspent"] == pytest.approx(row["budget"] - row["programme_cost"])
    # the same rows whether the runs of a batch go one at a time or together
    from clustersim.experiments.work import RunSpec

    specs = [RunSpec(i, 0, 7, sc, "counter") for i, sc in enumerate(scenarios)]
    together = run_batch(budget_model, specs)["rows"]
    apart = [run_batch(budget_model, [spec])["rows"][0] for spec in specs]
    for x, y in zip(together, apart, strict=True):
        assert x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    # with series: one at a time (legacy draws) returns them as the batched path does
    legacy = run_batch(budget_model, [RunSpec(0, 0, 7, scenarios[0], "legacy")], series=True)
    counter = run_batch(budget_model, specs[:1], series=True)
    assert len(legacy["series"]) == len(counter["series"]) == 1
    assert list(legacy["series"][0].columns) == list(counter["series"][0].columns)


def same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)


def _toy_model(params, seed):
    return {"y": params["x"] + (seed % 7) / 100}


def test_replicate_subset_analyses_a_sweep_as_if_it_had_fewer_replicates():
    from clustersim.analysis import replicate_subset
    from clustersim.experiments import load_experiment, replicate_statistics, run_experiment
    from clustersim.scenario import ScenarioError

    spec = {"replicates": 3, "outputs": ["y"], "design": {"method": "grid"}, "factors": {"x": {"levels": [1, 2]}}}
    exp = load_experiment(spec, model=_toy_model)
    runs = run_experiment(exp, executor="serial", progress=False)
    sub, fewer = replicate_subset(runs, exp, 1)
    assert fewer.replicates == 1 and exp.replicates == 3 and len(sub) == 2
    stats = replicate_statistics(sub, fewer)
    assert stats[("y", "mean")].tolist() == sub.sort_values("point_id")["y"].tolist()
    assert len(replicate_subset(runs, exp, [0, 2])[0]) == 4
    with pytest.raises(ScenarioError, match="allowed: a count or replicate numbers in 0..2"):
        replicate_subset(runs, exp, [3])


def test_plot_bands_draws_titled_labelled_figures_with_legends():
    import matplotlib.pyplot as plt

    from clustersim.analysis import plot_bands
    from clustersim.runner import run_scenario
    from clustersim.style import SCENARIO_COLORS

    series, _ = run_scenario("funded_programme", seed=0, replicates=2, months=12)
    fig = plot_bands({"funded_programme": series}, "mean_trust", markers=[(0, "funding approved")])
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() == "Month" and "(0-1)" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["funded_programme (mean of 2)", "funding approved"]
    assert ax.lines[0].get_color() == SCENARIO_COLORS["funded_programme"]
    plt.close(fig)


def main(argv: list[str]) -> int:
    """``--strip``: remove outputs from every notebook in notebooks/ (only files that change are rewritten)."""
    if argv != ["--strip"]:
        print("usage: python tests/test_notebooks.py --strip", file=sys.stderr)
        return 2
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)
        stripped = strip_outputs(copy.deepcopy(nb))
        if stripped != nb:
            nbformat.write(stripped, path)
            print(f"stripped {path.relative_to(NOTEBOOK_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
