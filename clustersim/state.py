"""Firm state held as arrays the model owns (one entry per firm).

Mesa ``Firm`` agents are thin, readable views over these arrays; the monthly
step updates the arrays in bulk with numpy. Keeping state here (rather than on
100,000 Python objects) is what makes the step fast (docs/ODD.md, "Where state
lives"). The initial population is drawn by ``clustersim.processes.initialisation``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

OUTSIDE, MEMBER, ACTIVE, DROPPED = 0, 1, 2, 3
STATE_NAMES = ("outside", "member", "active", "dropped")


@dataclass
class FirmArrays:
    """Every firm's state variables (see docs/ODD.md, "Entities and state variables")."""

    n: int
    size: np.ndarray  # employees at start
    size_rank: np.ndarray  # size score in [0, 1]: size_score_median for the median firm
    capability: np.ndarray  # [0, 1]
    capability0: np.ndarray
    export_readiness: np.ndarray  # [0, 1]; exporter when >= exporter_threshold
    trust_propensity: np.ndarray  # [0, 1]; low = individualistic
    prior_collaboration: np.ndarray  # bool
    motivation: np.ndarray  # [0, 1]
    motivation_base: np.ndarray  # the level motivation relaxes to
    disposition: np.ndarray  # [0, 1] learned disposition to contribute
    state: np.ndarray  # int8: OUTSIDE, MEMBER, ACTIVE, DROPPED
    joined_later: np.ndarray  # bool: became a member after month 0
    female_owner: np.ndarray  # bool
    digital_access: np.ndarray  # bool
    leader: np.ndarray  # bool
    trained: np.ndarray  # bool: received firm training
    action: np.ndarray  # int64: running joint action id, -1 if none
    last_contribution: np.ndarray  # month of last contribution (large negative if never)
    action_contributions: np.ndarray  # months contributed to the current joint action
    payoff: np.ndarray  # smoothed monthly payoff (k$), the basis of imitation
    revenue0: np.ndarray  # k$/month at start
    productivity: np.ndarray  # multiplier on domestic sales from successful joint actions
    export_productivity: np.ndarray  # multiplier on export sales from successful joint actions
    export_share0: np.ndarray  # share of revenue exported at start
    experience: np.ndarray  # (n, types) successful joint actions of each type so far
    capital: np.ndarray  # [0, 1] share of productive capital intact
    female_job_share: np.ndarray  # share of women among the firm's staff and hires
    weights: np.ndarray  # (n, types) benefit weights per action type
    exporter_threshold: float | np.ndarray  # export readiness at which a firm counts as an exporter (or one per cluster)

    @property
    def engaged(self) -> np.ndarray:
        return (self.state == MEMBER) | (self.state == ACTIVE)

    @property
    def exporter(self) -> np.ndarray:
        """Exporters, where one threshold serves every firm (with one per cluster, compare against
        ``ClusterState.per_firm(exporter_threshold)``, which knows each firm's cluster)."""
        if np.ndim(self.exporter_threshold):
            raise ValueError("one exporter threshold per cluster: compare against ClusterState.per_firm(...)")
        return self.export_readiness >= self.exporter_threshold

    def names(self) -> list[str]:
        return [f.name for f in fields(self)]
