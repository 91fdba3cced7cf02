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
# clustersim.analysis: the package functions the notebooks rely on (fast checks; the notebooks run them at scale)


def test_committed_budget_follows_the_model_ledger():
    from clustersim import ClusterModel, load_scenario
    from clustersim.analysis import committed_budget

    for name, delay in (("funded_programme", 0), ("delayed_funding", 18)):
        sc = load_scenario(name)
        lines = committed_budget(sc)
        assert lines["cluster manager"] == pytest.approx(3.0 * (96 - delay))  # hired when the first tranche arrives
        assert lines["BSO training"] == pytest.approx(10.0)
        assert lines["grant for joint actions"] == pytest.approx(400.0)
        assert lines["total"] == pytest.approx(410.0 + 3.0 * (96 - delay))
        model = ClusterModel(sc, seed=1)
        model.run()
        ledger = model.ledger
        assert ledger.funder_paid == pytest.approx(lines["total"])  # every committed k$ reaches the programme
        assert ledger.disbursed == pytest.approx(lines["grant for joint actions"])
        assert ledger.spent_bso_training == pytest.approx(lines["BSO training"])
        assert ledger.spent_manager == pytest.approx(lines["cluster manager"])  # paid in full, directly
    assert committed_budget("baseline")["total"] == 0.0


def test_budget_mix_commits_exactly_the_budget_and_refuses_what_it_cannot_pay():
    from clustersim.analysis import LEADER_FIRM_COST, budget_mix, committed_budget
    from clustersim.scenario import ScenarioError

    mix = budget_mix("funded_programme", 410.0, "leaders", manager_present=False, leader_firms=5)
    assert mix.name == "leaders" and mix.leader_firms == 5
    assert mix.grant_amount == pytest.approx(410.0 - 10.0 - 5 * LEADER_FIRM_COST)
    assert committed_budget(mix)["total"] == pytest.approx(410.0)
    with pytest.raises(ScenarioError, match=r"leaves -98 k\$ for the grant.*allowed: budget > 398 k\$") as err:
        budget_mix("funded_programme", 300.0, "too small", leader_firms=5)
    assert "\n" not in str(err.value)


def test_compare_policy_mixes_runs_every_mix_on_the_same_seeds():
    from clustersim import load_scenario
    from clustersim.analysis import compare_policy_mixes

    same = load_scenario("funded_programme")
    table, runs = compare_policy_mixes({"a": same, "b": same}, replicates=2, seed=3, executor="serial")
    assert list(table["mix"]) == ["a", "b", "baseline"] and table["baseline"].tolist() == [False, False, True]
    a, b = (runs[runs["mix"] == m].drop(columns=["mix", "point_id"]).reset_index(drop=True) for m in "ab")
    assert a.equals(b)  # identical scenarios on common seeds give identical runs
    row, base = table.iloc[0], table.iloc[2]
    extra = (row["final_cooperation_mean"] - base["final_cooperation_mean"]) * 60
    assert row["additional_cooperating_firms"] == pytest.approx(extra)
    assert row["cost_per_additional_cooperating_firm"] == pytest.approx((row["cost_mean"] - base["cost_mean"]) / extra)
    assert (
        row["committed: total"] == pytest.approx(698.0) and base["committed: total"] == 0.0
    )  # 400 grant + 288 manager + 10 training


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
