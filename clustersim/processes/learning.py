"""Learning (docs/ODD.md, "Process overview": steps 12-13; SF5, SF12).

Engaged firms copy the disposition of a better-paid engaged acquaintance (payoff-biased imitation,
Fermi rule; Santos et al. 2008), leader firms keep their commitment, and leaders mentor small
neighbouring firms, especially in exporting (000 §Heterogeneity among cluster members).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..network import random_incident_partner
from ..queries import any_cluster, leader_floor_level
from ..streams import Site
from .completion import refresh_weights_of_winners
from .rules import fermi_adoption


def adopt_if_better(s: ClusterState, learners: np.ndarray, partner: np.ndarray) -> None:
    """Each learner copies its partner's disposition with the Fermi probability of their payoff gap."""
    f = s.firms
    diff = f.payoff[partner] - f.payoff[learners]
    chance = fermi_adoption(s.coef_for("firm", learners).selection_intensity, diff)
    adopt = s.draws.uniform(Site.IMITATION_ADOPT, learners) < chance
    f.disposition[learners[adopt]] = f.disposition[partner[adopt]]


def leader_floor(s: ClusterState, learners: np.ndarray | None = None) -> None:
    """Leader firms do not let their disposition fall below their commitment (switch: leader_commitment = 0).

    With ``learners``, only in the clusters that had one: a cluster without learners skipped its learning
    step, the floor included, and a batch must leave it as it would stand alone.
    """
    f, c = s.firms, s.coef
    if not any_cluster(c.leader_firms):  # a scalar the batch shares, or one per cluster
        return
    floored = f.leader & s.per_firm(np.asarray(c.leader_firms) != 0)
    if learners is not None:
        learning = s.tally(learners) > 0
        if not learning.all():
            floored &= learning[s.firm_cluster]
    f.disposition[floored] = np.maximum(f.disposition[floored], s.per_firm(leader_floor_level(s), floored))


def imitate(s: ClusterState) -> None:
    """A share ``imitation_rate`` of engaged firms each consider one engaged acquaintance."""
    f = s.firms
    if (np.asarray(s.coef.imitation_rate) <= 0).all():
        return
    # a cluster that does not imitate (rate 0) draws no learner: a uniform is never below 0
    rate = s.coef_for("firm").imitation_rate
    learners = (f.engaged & (s.draws.uniform(Site.IMITATION_PICK, f.n) < rate)).nonzero()[0]
    if learners.size == 0:
        return
    ties = s.network.ties
    tie, partner = random_incident_partner(ties, learners, s.draws.uniform(Site.IMITATION_PARTNER, learners))
    ok = (tie >= 0) & ties.active[np.maximum(tie, 0)] & f.engaged[np.maximum(partner, 0)]
    adopt_if_better(s, learners[ok], partner[ok])
    leader_floor(s, learners)


def mentor(s: ClusterState) -> None:
    """Leaders raise small neighbours' capability and export readiness (SF5); a mentored tie counts as contact."""
    c, f, net = s.coef, s.firms, s.network
    mentoring = (np.asarray(c.leader_firms) != 0) & (np.asarray(c.leader_mentoring) > 0)
    if not mentoring.any():
        return
    t = net.ties
    small = f.size_rank < s.coef_for("firm").size_score_median
    leads = t.active & s.per_tie(mentoring)
    a = leads & f.leader[t.u] & small[t.v]
    b = leads & f.leader[t.v] & small[t.u]
    mentees = np.unique(np.concatenate([t.v[a], t.u[b]]))
    if mentees.size == 0:
        return
    cf = s.coef_for("firm", mentees)
    rate = cf.mentoring_rate * cf.leader_mentoring
    f.capability[mentees] += rate * (1.0 - f.capability[mentees])
    f.export_readiness[mentees] += rate * (1.0 - f.export_readiness[mentees])
    # only the clusters with a mentee: the others skipped this step (plan §5, R6)
    refresh_weights_of_winners(s, mentees)
    net.contact |= a | b
    due = s.month % np.asarray(c.mentoring_service_interval_months) == 0
    s.counters["services"] += np.where(due, s.tally(mentees), 0)
