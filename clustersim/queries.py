"""Questions several processes ask of the state. They only read it (docs/architecture.md)."""

from __future__ import annotations

import numpy as np

from .cluster_state import ClusterState


def reputation(s: ClusterState) -> np.ndarray:
    """Each firm's reputation: the mean trust others place in it over active ties (its propensity if none)."""
    return s.network.mean_trust_of(s.network.ties.active, s.firms.n, s.firms.trust_propensity)


def cooperating(s: ClusterState) -> np.ndarray:
    """Firms that contributed to a joint action within the cooperation window."""
    return (s.month - s.firms.last_contribution) <= s.coef.cooperation_window_months


def success_signal(s: ClusterState) -> float:
    """Visibility of recent success stories, in [0, 1) (SF2 demonstration effect).

    ``1 - exp(-stories / (success_signal_scale * n))`` over the stories of the window before this month:
    the cluster's own, plus those a regional platform brings from other clusters (SF18; none outside a
    portfolio).
    """
    c = s.coef
    window = slice(max(0, s.month - c.success_story_window_months), s.month)
    recent = float(s.success_stories[window].sum()) + float(s.peer_stories[window].sum())
    return 1.0 - np.exp(-recent / max(1.0, c.success_signal_scale * s.firms.n))


def cofinanced(s: ClusterState) -> np.ndarray:
    """Which action types the grant co-finances this month (it must be running and hold cash)."""
    return s.types.cofinanced & (s.programme_on and s.ledger.bso_cash > 0)


def own_cost_share(s: ClusterState) -> np.ndarray:
    """Share of each action type's cost a firm expects to pay itself."""
    return np.where(cofinanced(s), s.coef.cofunding_share, 1.0)


def reachable(s: ClusterState, online: bool = False) -> np.ndarray:
    """Firms a facilitator can meet: anyone, or only digitally connected firms online."""
    if online or not s.face_to_face:
        return s.firms.digital_access.copy()
    return np.ones(s.firms.n, dtype=bool)


def manager_active(s: ClusterState) -> bool:
    """The manager works this month if someone paid (part of) the salary: the programme or the association."""
    return s.manager is not None and s.manager.funded_share > 0


def manager_online(s: ClusterState) -> bool:
    return s.manager is not None and (s.manager.mode == "online" or not s.face_to_face)


def manager_mode_factor(s: ClusterState) -> float:
    return s.coef.online_effectiveness if manager_online(s) else 1.0


def bso_proposal_rate(s: ClusterState) -> float:
    """Expected joint-action proposals the BSO brokers per month."""
    if s.bso.staff == 0 or not s.programme_on:
        return 0.0
    return s.coef.bso_proposals_per_officer * s.bso.staff * s.bso.capacity


def manager_proposal_rate(s: ClusterState) -> float:
    """Expected joint-action proposals the manager brokers per month."""
    if not manager_active(s):
        return 0.0
    m = s.manager
    contacts = m.contacts_per_month * m.funded_share
    return s.coef.manager_proposals_per_contact * contacts * m.skill * manager_mode_factor(s)


def in_exit_taper(s: ClusterState) -> bool:
    """The programme runs, pays its manager, and is within its last ``exit_taper_months`` months."""
    c = s.coef
    if not s.programme_on or c.exit_taper_months <= 0:
        return False
    if c.manager_waits_for_first_tranche and s.ledger.disbursed == 0:
        return False
    return s.calendar.programme_end - s.month <= c.exit_taper_months


def association_trust_needed(s: ClusterState) -> float:
    """Mean trust members need to found the association: less while the programme hands the cluster
    over and sponsors the founding (004 §Phase II: the CDA works to establish a governance structure)."""
    c = s.coef
    return c.association_trust_threshold * (1.0 - c.handover_founding_trust_relief * in_exit_taper(s))


def association_capability(s: ClusterState) -> float:
    """Share of the manager's role the association can sustain: a base share, growing with the months
    it has co-paid the manager (learning by doing; 1 - exp(-months / association_learning_months))."""
    c, a = s.coef, s.association
    if not a.formed:
        return 0.0
    learned = 1.0 - np.exp(-a.copay_months / c.association_learning_months)
    return c.association_base_capability + (1.0 - c.association_base_capability) * learned


def association_proposal_rate(s: ClusterState) -> float:
    """Joint actions the cluster association coordinates a month (SF12), as far as it can run the role."""
    return s.coef.association_proposals_per_month * association_capability(s)


def liquidity(s: ClusterState) -> np.ndarray:
    """What each firm can put into joint actions a month (k$): a share of its revenue, times intact capital."""
    f = s.firms
    return s.coef.liquidity_share * f.revenue0 * f.capital


def own_monthly_cost(s: ClusterState, kinds) -> np.ndarray:
    """A participant's own monthly cost of each action type in ``kinds`` at this month's co-financing."""
    return own_cost_share(s)[kinds] * s.types.cost[kinds] * s.coef.joint_action_cost


def can_afford_any(s: ClusterState) -> np.ndarray:
    """Firms that can afford at least one action type this month (SF5: small firms first to be priced out)."""
    cheapest = float(own_monthly_cost(s, np.arange(s.types.count)).min())
    return liquidity(s) >= cheapest


def leader_floor_level(s: ClusterState) -> float:
    """Leaders' commitment floor: their own commitment, higher while the programme pays them an incentive."""
    c = s.coef
    return c.leader_commitment + (c.leader_incentive_commitment if s.funder.leader_incentive_paid else 0.0)
