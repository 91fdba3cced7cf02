"""Membership (docs/ODD.md, "Process overview": step 8; SF2, SF3).

Outsiders who can pay for what they would join for join; discouraged idle members drop out, and so, more
slowly, do idle members who cannot pay their share of the joint action they want most; contacted dropouts
whose motivation has recovered, and who can pay for it, return (000 §Success Factors; 000 §Difficulties; 000 §Heterogeneity among cluster
members).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..queries import liquidity, own_monthly_cost, spread, success_signal
from ..state import ACTIVE, DROPPED, MEMBER, OUTSIDE
from ..streams import Site
from .rules import goal_type


def join_probability(c, contact_effect, signal: float, active_share, motivation) -> np.ndarray:
    """Monthly chance that an outsider joins: a base rate plus pulls from a facilitator's contact,
    visible success stories (demonstration effect, SF2) and active acquaintances, scaled by the
    cluster's openness and the firm's motivation."""
    pull = (
        c.join_base_rate
        + c.join_contact_weight * contact_effect
        + c.join_demonstration_weight * c.demonstration_effect * signal
        + c.join_neighbour_weight * active_share
    )
    return c.openness * pull * (c.join_motivation_offset + motivation)


def active_neighbour_share(s: ClusterState) -> np.ndarray:
    """Each firm's share of acquaintances (active ties) now in a joint action."""
    net, f = s.network, s.firms
    _, u, v, degree = net.incidence(net.ties.active, f.n)  # the active ties' ends, kept while they stay the same
    active_firm = (f.state == ACTIVE).astype(float)
    active_nb = np.bincount(u, weights=active_firm[v], minlength=f.n) + np.bincount(v, weights=active_firm[u], minlength=f.n)
    return active_nb / np.maximum(degree, 1)


def priced_out_of_goal(s: ClusterState) -> np.ndarray:
    """Firms that cannot pay their own share of the joint action they want most (``rules.goal_type``) this
    month. Small firms, with small revenues (so little liquidity), are the ones priced out when the own share
    rises (when co-financing stops, or never starts)."""
    goal = goal_type(s.types, s.firms.weights, s.firm_cluster if s.types.varies else None)
    return own_monthly_cost(s, goal, s.firm_cluster) > liquidity(s)


def update_membership(s: ClusterState) -> None:
    """Join, drop out, return. One uniform draw per firm decides both joining and dropping out."""
    f, c = s.firms, s.coef_for("firm")
    signal = spread(s, success_signal(s))
    active_share = active_neighbour_share(s)
    r = s.draws.uniform(Site.MEMBERSHIP, f.n)
    # while price makes members leave, nobody joins or returns to what it cannot pay for
    priced_out = priced_out_of_goal(s) & (np.asarray(c.priced_out_exit_rate) > 0)
    joins = (f.state == OUTSIDE) & ~priced_out
    joins &= r < join_probability(c, s.activity.contact_effect, signal, active_share, f.motivation)
    f.state[joins] = MEMBER
    f.joined_later[joins] = True
    # this month's joiners drew r below their join probability, so they are not also tested for leaving
    staying = (f.state == MEMBER) & ~joins & ~f.leader
    discouraged = staying & (f.motivation < c.dropout_threshold) & (r < c.dropout_hazard)
    # leaving for want of money is not disillusion: the firm's base motivation keeps no mark
    unaffordable = staying & ~discouraged & priced_out & (r < c.priced_out_exit_rate)
    f.state[discouraged | unaffordable] = DROPPED
    f.motivation_base[discouraged] *= s.per_firm(s.coef.dropout_base_motivation_factor, discouraged)  # SF3
    s.cumulative["priced_out_exits"] += s.tally(unaffordable)
    back = (f.state == DROPPED) & s.activity.contacted & (f.motivation > c.reengagement_threshold) & ~priced_out
    f.state[back] = MEMBER
