"""Experiments at scale: parameter sweeps, intervention-mix comparison and global sensitivity analysis.

Typical use::

    from clustersim.experiments import load_experiment, run_experiment, morris_indices

    exp = load_experiment("experiments/morris_screening.toml")
    runs = run_experiment(exp, executor="local", out="results/morris")
    indices = morris_indices(runs, exp)

See docs/experiments.md for the walk-through and docs/slurm.md for clusters.
"""

from .design import Experiment, Factor, load_experiment
from .mixes import compare_mixes, compare_scenarios, pareto_efficient
from .runner import run_experiment
from .sensitivity import morris_indices, replicate_statistics, sobol_convergence, sobol_indices
from .store import experiment_from_manifest, read_manifest, read_results

__all__ = [
    "Experiment",
    "Factor",
    "compare_mixes",
    "compare_scenarios",
    "experiment_from_manifest",
    "load_experiment",
    "morris_indices",
    "pareto_efficient",
    "read_manifest",
    "read_results",
    "replicate_statistics",
    "run_experiment",
    "sobol_convergence",
    "sobol_indices",
]
