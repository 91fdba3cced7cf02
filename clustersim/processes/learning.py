"""Learning (docs/ODD.md, "Process overview": steps 12-13; SF5, SF12).

Engaged firms copy the disposition of a better-paid engaged acquaintance (payoff-biased imitation,
Fermi rule; Santos et al. 2008), leader firms keep their commitment, and leaders mentor small
neighbouring firms, especially in exporting (000 §Heterogeneity among cluster members).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..network import random_incident_partner
from ..queries import leader_floor_level
from ..streams import Site
from .economy import refresh_benefit_weights
from .rules import fermi_adoption


def adopt_if_better(s: ClusterState, learners: np.ndarray, partner: np.ndarray) -> None:
    """Each learner copies its partner's disposition with the Fermi probability of their payoff gap."""
    f = s.firms
    diff = f.payoff[partner] - f.payoff[learners]
    adopt = s.draws.uniform(Site.IMITATION_ADOPT, learners) < fermi_adoption(s.coef.selection_intensity, diff)
    f.disposition[learners[adopt]] = f.disposition[partner[adopt]]


def leader_floor(s: ClusterState) -> None:
    """Leader firms do not let their disposition fall below their commitment (switch: leader_commitment = 0)."""
    f, c = s.firms, s.coef
    if c.leader_firms:
        f.disposition[f.leader] = np.maximum(f.disposition[f.leader], s.per_firm(leader_floor_level(s))[f.leader])


def imitate(s: ClusterState) -> None:
    """A share ``imitation_rate`` of engaged firms each consider one engaged acquaintance."""
    c, f = s.coef, s.firms
    if c.imitation_rate <= 0:
        return
    learners = np.flatnonzero(f.engaged & (s.draws.uniform(Site.IMITATION_PICK, f.n) < c.imitation_rate))
    if learners.size == 0:
        return
    ties = s.network.ties
    tie, partner = random_incident_partner(ties, learners, s.draws.uniform(Site.IMITATION_PARTNER, learners))
    ok = (tie >= 0) & ties.active[np.maximum(tie, 0)] & f.engaged[np.maximum(partner, 0)]
    adopt_if_better(s, learners[ok], partner[ok])
    leader_floor(s)


def mentor(s: ClusterState) -> None:
    """Leaders raise small neighbours' capability and export readiness (SF5); a mentored tie counts as contact."""
    c, f, net = s.coef, s.firms, s.network
    if c.leader_firms == 0 or c.leader_mentoring <= 0:
        return
    t = net.ties
    small = f.size_rank < c.size_score_median
    a = t.active & f.leader[t.u] & small[t.v]
    b = t.active & f.leader[t.v] & small[t.u]
    mentees = np.unique(np.concatenate([t.v[a], t.u[b]]))
    if mentees.size == 0:
        return
    rate = c.mentoring_rate * c.leader_mentoring
    f.capability[mentees] += rate * (1.0 - f.capability[mentees])
    f.export_readiness[mentees] += rate * (1.0 - f.export_readiness[mentees])
    refresh_benefit_weights(s)
    net.contact |= a | b
    if s.month % c.mentoring_service_interval_months == 0:
        s.counters["services"] += s.tally(mentees)
