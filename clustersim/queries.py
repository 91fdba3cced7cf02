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

    ``1 - exp(-stories / (success_signal_scale * n))`` over the stories of the window before this month.
    """
    c = s.coef
    recent = float(s.success_stories[max(0, s.month - c.success_story_window_months) : s.month].sum())
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
    """The manager works while the programme runs, once the first tranche has arrived."""
    return s.manager is not None and s.programme_on and s.ledger.disbursed > 0


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
    return s.coef.manager_proposals_per_contact * m.contacts_per_month * m.skill * manager_mode_factor(s)
