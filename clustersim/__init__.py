"""clustersim: an agent-based model of cooperation in business clusters, built on Mesa."""

from .agents import BSO, ClusterManager, Firm
from .experiments import compare_scenarios, load_experiment, run_experiment
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
