"""Information and monitoring (docs/ODD.md, "Process overview": step 3; SF15).

Facilitators target better with monitoring data, and the data are only as good as the response:
disengaged firms withhold it (000 §Monitoring and Evaluation).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState


def update_information(s: ClusterState) -> None:
    """Information quality = monitoring intensity x the engaged firms' mean motivation (their response)."""
    f, c = s.firms, s.coef
    engaged = f.engaged
    if not s.programme_on or c.monitoring_intensity == 0 or not engaged.any():
        s.information_quality = 0.0
        return
    s.information_quality = c.monitoring_intensity * float(f.motivation[engaged].mean())


def monitoring_responders(s: ClusterState) -> np.ndarray:
    """Which firms answer this month's monitoring: engaged firms, with a chance that rises with
    the monitoring intensity and their motivation. Draws from the monitoring stream only."""
    c, f = s.coef, s.firms
    if not (s.programme_on and c.monitoring_intensity > 0):
        return np.zeros(f.n, dtype=bool)
    chance = (c.monitoring_base_response + c.monitoring_response_slope * c.monitoring_intensity) * f.motivation
    return f.engaged & (s.rng_monitoring.random(f.n) < chance)
