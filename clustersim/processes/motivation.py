"""Motivation (docs/ODD.md, "Process overview": step 13; SF2-SF4, SF8, SF15).

Motivation relaxes towards each firm's base level; while an approved programme has disbursed
nothing, engaged members lose some (disillusion); visible success stories lift everyone but
dropouts; monitoring costs engaged firms effort; in a pandemic, idle members without trusted
partners drift away; leaders keep their commitment.
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..queries import reputation, success_signal
from ..state import DROPPED


def update_motivation(s: ClusterState) -> None:
    """Apply the motivation rules in order, then keep every bounded firm variable in [0, 1]."""
    c, f = s.coef, s.firms
    m = f.motivation
    m += c.motivation_decay * (f.motivation_base - m)
    engaged = f.engaged
    if s.programme_on and s.ledger.disbursed == 0:  # SF3, SF4: approval raised expectations that are not met
        m[engaged] -= c.disillusion_rate
    m += c.demonstration_motivation_gain * c.demonstration_effect * success_signal(s) * (1.0 - m) * (f.state != DROPPED)
    if s.programme_on and c.monitoring_intensity > 0:
        m[engaged] -= c.monitoring_burden * c.monitoring_intensity
    if not s.face_to_face and c.isolation_motivation_loss > 0:
        # without meetings, idle members drift away unless they have trusted partners (SF8)
        idle = engaged & (f.action < 0) & ~s.activity.contacted
        m[idle] -= c.isolation_motivation_loss * (1.0 - reputation(s)[idle])
    if c.leader_firms:
        m[f.leader] = np.maximum(m[f.leader], c.leader_commitment)
    np.clip(m, 0.0, 1.0, out=m)
    np.clip(f.capability, 0.0, 1.0, out=f.capability)
    np.clip(f.export_readiness, 0.0, 1.0, out=f.export_readiness)
    np.clip(f.disposition, 0.0, 1.0, out=f.disposition)
