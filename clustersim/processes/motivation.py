"""Motivation (docs/ODD.md, "Process overview": step 16; SF2-SF5, SF8, SF15).

Motivation relaxes towards each firm's base level. Engaged members lose some while the support
they were promised by now has not arrived, in proportion to the unpaid share and growing with its
lateness (an expectation gap, not a switch: a plan promised small and paid as promised costs
nothing). Visible success stories lift everyone but dropouts; paid monitoring costs engaged firms
effort; idle members who cannot pay their share of the joint action they want most lose interest; in a pandemic, idle members
without trusted partners drift away; leaders keep their commitment.
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..queries import leader_floor_level, reputation, spread, success_signal
from ..state import DROPPED
from .funder import support_gap
from .membership import priced_out_of_goal


def disillusion(c, gap, lateness) -> np.ndarray:
    """Monthly motivation loss from a support gap: ``disillusion_rate * gap * (1 - exp(-lateness / patience))``."""
    loss = c.disillusion_rate * gap * (1.0 - np.exp(-np.asarray(lateness) / c.expectation_patience_months))
    return np.where(np.asarray(gap) > 0, loss, 0.0)


def update_motivation(s: ClusterState) -> None:
    """Apply the motivation rules in order, then keep every bounded firm variable in [0, 1]."""
    c, f = s.coef, s.firms
    cf = s.coef_for("firm")  # the per-firm rules read each firm's cluster's values
    m = f.motivation
    m += cf.motivation_decay * (f.motivation_base - m)
    engaged = f.engaged
    gap, lateness = support_gap(s)
    if (gap > 0).any():  # where nothing is missing the loss is 0.0, and m - 0.0 is m bit for bit
        m[engaged] -= s.per_firm(disillusion(c, gap, lateness), engaged)
    signal = spread(s, success_signal(s))
    m += cf.demonstration_motivation_gain * cf.demonstration_effect * signal * (1.0 - m) * (f.state != DROPPED)
    if s.monitoring_on.any():
        monitored = engaged & s.per_firm(s.monitoring_on)
        cm = s.coef_for("firm", monitored)
        m[monitored] -= cm.monitoring_burden * cm.monitoring_intensity
    idle = engaged & (f.action < 0)
    priced_out = idle & priced_out_of_goal(s)
    m[priced_out] -= s.coef_for("firm", priced_out).unaffordable_motivation_loss
    isolating = np.asarray(c.isolation_motivation_loss) > 0
    if isolating.any() and not s.face_to_face.all():
        # without meetings, idle members drift away unless they have trusted partners (SF8)
        alone = idle & ~s.activity.contacted & ~s.per_firm(s.face_to_face) & s.per_firm(isolating)
        m[alone] -= s.coef_for("firm", alone).isolation_motivation_loss * (1.0 - reputation(s)[alone])
    leaders = f.leader & s.per_firm(np.asarray(c.leader_firms) != 0)  # only where the scenario has leaders
    if leaders.any():
        m[leaders] = np.maximum(m[leaders], s.per_firm(leader_floor_level(s), leaders))
    # the ndarray method: np.clip's own clip, without the np.clip wrapper's dispatch (3 us a call)
    m.clip(0.0, 1.0, out=m)
    f.capability.clip(0.0, 1.0, out=f.capability)
    f.export_readiness.clip(0.0, 1.0, out=f.export_readiness)
    f.disposition.clip(0.0, 1.0, out=f.disposition)
