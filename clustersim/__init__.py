"""clustersim: an agent-based model of cooperation in business clusters, built on Mesa."""

from .model import ClusterModel
from .parameters import PARAMETERS
from .scenario import Scenario, ScenarioError, load_scenario, preset_names

__version__ = "0.1.0"

__all__ = ["ClusterModel", "PARAMETERS", "Scenario", "ScenarioError", "load_scenario", "preset_names", "__version__"]
