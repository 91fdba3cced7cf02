"""clustersim: an agent-based model of cooperation in business clusters, built on Mesa."""

from .agents import BSO, ClusterManager, Firm
from .model import ClusterModel
from .parameters import PARAMETERS
from .runner import run_scenario
from .scenario import Scenario, ScenarioError, load_scenario, preset_names

__version__ = "0.1.0"

__all__ = [
    "BSO",
    "ClusterManager",
    "ClusterModel",
    "compare_scenarios",
    "load_experiment",
    "run_experiment",
    "Firm",
    "run_scenario",
    "PARAMETERS",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "preset_names",
    "__version__",
]

#: exported from ``clustersim.experiments``, imported on first use: the experiments package loads scipy.stats
#: and SALib's machinery, about a second that a model run, the dashboard or a worker does not need
_FROM_EXPERIMENTS = ("compare_scenarios", "load_experiment", "run_experiment")


def __getattr__(name: str):
    if name in _FROM_EXPERIMENTS:
        from . import experiments

        return getattr(experiments, name)
    raise AttributeError(f"module 'clustersim' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The lazy exports too, so that completion in a notebook offers them before first use."""
    return sorted({*globals(), *_FROM_EXPERIMENTS})
