"""Questions several processes ask of the state. They only read it (docs/architecture.md).

A per-firm answer is an array over all firms of the ensemble; a per-cluster answer is an array with one
entry per cluster (K), which ``x[s.firm_cluster]`` spreads over that cluster's firms.
"""

from __future__ import annotations

import numpy as np

from .cluster_state import ClusterState


def reputation(s: ClusterState) -> np.ndarray:
    """Each firm's reputation: the mean trust others place in it over active ties (its propensity if none)."""
    return s.network.mean_trust_of(s.network.ties.active, s.firms.n, s.firms.trust_propensity)


def cooperating(s: ClusterState) -> np.ndarray:
    """Firms that contributed to a joint action within the cooperation window (their cluster's)."""
    return (s.month - s.firms.last_contribution) <= s.coef_for("firm").cooperation_window_months


def success_signal(s: ClusterState) -> np.ndarray:
    """Visibility of recent success stories, in [0, 1) (SF2 demonstration effect), per cluster.

    ``1 - exp(-stories / (success_signal_scale * n))`` over the stories of the window before this month:
    the cluster's own, plus those a regional platform brings from other clusters (SF18; none outside a
    portfolio).
    """
    c = s.coef
    return 1.0 - np.exp(-recent_stories(s) / np.maximum(1.0, c.success_signal_scale * s.layout.n_firms))


def recent_stories(s: ClusterState) -> np.ndarray:
    """Stories (own and from peers) of each cluster's window before this month, per cluster.

    Clusters that share a window length are summed together as slices, so each row is summed exactly as
    for the cluster alone (a mask of zeros over a longer window could change the rounding).
    """
    windows = s.coef.success_story_window_months
    if is_shared(windows):
        window = slice(max(0, s.month - windows), s.month)
        return s.success_stories[:, window].sum(axis=1) + s.peer_stories[:, window].sum(axis=1)
    recent = np.zeros(s.K)
    for months in np.unique(windows):
        rows = windows == months
        window = slice(max(0, s.month - int(months)), s.month)
        recent[rows] = s.success_stories[rows, window].sum(axis=1) + s.peer_stories[rows, window].sum(axis=1)
    return recent


def cofinanced(s: ClusterState) -> np.ndarray:
    """Which action types the grant co-finances this month, (K, types): it must run and hold cash."""
    funding = s.programme_on & (s.ledger.bso_cash > 0)
    return s.types.rows("cofinanced") & funding[:, None]


def cofinancing_envelope(s: ClusterState) -> np.ndarray:
    """The most the cluster account may pay in co-financing this month, per cluster: all its cash on demand;
    under a spending plan (``cofinancing_paced``) its cash spread evenly over the months until the next
    tranche falls due, or until the programme ends when none is left to come (000 §Monitoring and
    Evaluation: budget and procurement plans). A tranche already due but withheld is not counted on."""
    cash, paced = s.ledger.bso_cash, s.coef.cofinancing_paced
    if not any_cluster(paced):
        return cash
    cal, nxt = s.calendar, s.funder.next_tranche
    col = np.minimum(nxt, cal.disbursements.shape[1] - 1)
    due = cal.disbursements[np.arange(s.K), col]
    refill = np.where((nxt < cal.n_disbursements) & (due > s.month), due, cal.programme_end)
    return np.where(paced, cash / np.maximum(refill - s.month, 1), cash)


def own_cost_share(s: ClusterState, funded: np.ndarray | None = None) -> np.ndarray:
    """Share of each action type's cost a firm expects to pay itself, (K, types); ``funded`` is this
    month's ``cofinanced(s)`` where the caller has it already. Under a spending plan (``cofinancing_paced``)
    members expect the grant to cover what it covered the last month it was asked: a rationed account raises
    the share they expect to pay, so a small grant paced over the programme is not mistaken for a large one."""
    share = as_column(s.coef.cofunding_share)
    if any_cluster(s.coef.cofinancing_paced):
        expected = share + (1.0 - share) * (1.0 - s.ledger.cofinancing_cover[:, None])
        share = np.where(as_column(np.asarray(s.coef.cofinancing_paced)), expected, share)
    return np.where(cofinanced(s) if funded is None else funded, share, 1.0)


def per_cluster(s: ClusterState, value, dtype=float) -> np.ndarray:
    """``value`` with one entry per cluster: a (K,) array as it is, a value all clusters share repeated."""
    value = np.asarray(value, dtype=dtype)
    return value if value.shape == (s.K,) else np.broadcast_to(value, (s.K,))


def spread(s: ClusterState, value, space: str = "firm", index=None):
    """A per-cluster value (or row of a (K, ...) table) against the elements of ``space`` (all, or those
    ``index`` selects), for element-wise arithmetic only: gathered through each element's cluster, except
    that one cluster's value (a first axis of length 1) broadcasts as it is (the same products, bit for bit,
    without a full-size copy of one number)."""
    if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] > 1:
        cluster = s.layout.clusters(space)
        return value[cluster if index is None else cluster[index]]
    return value


def any_cluster(flag) -> bool:
    """Whether ``flag`` holds in any cluster (a flag all clusters share, or one per cluster)."""
    return bool(flag.any()) if isinstance(flag, np.ndarray) else bool(flag)


def is_shared(value) -> bool:
    """A coefficient all clusters share (a scalar), not one value per cluster."""
    return not isinstance(value, np.ndarray) or value.ndim == 0


def as_column(value):
    """A per-cluster value against a (K, types) table: a shared scalar as it is, one per cluster as a column."""
    return value if is_shared(value) else value[:, None]


def reachable(s: ClusterState, online=False) -> np.ndarray:
    """Firms a facilitator can meet: anyone face to face, only digitally connected firms online.

    ``online`` is one flag or one per cluster (a manager working online); a pandemic forces it.
    """
    remote = np.asarray(online) | ~s.face_to_face
    if not remote.any():
        return np.ones(s.firms.n, dtype=bool)
    if remote.all():
        return s.firms.digital_access.copy()
    return ~remote[s.firm_cluster] | s.firms.digital_access


def manager_active(s: ClusterState) -> np.ndarray:
    """The manager works this month if someone paid (part of) the salary: the programme or the association."""
    return s.manager.present & (s.manager.funded_share > 0)


def manager_online(s: ClusterState) -> np.ndarray:
    return s.manager.present & (s.manager.online | ~s.face_to_face)


def manager_mode_factor(s: ClusterState) -> np.ndarray:
    return np.where(manager_online(s), s.coef.online_effectiveness, 1.0)


def bso_proposal_rate(s: ClusterState) -> np.ndarray:
    """Expected joint-action proposals the BSO brokers per month."""
    bso = s.bso
    staff = bso.staff
    working = (staff > 0) & s.programme_on
    if not working.any():
        return np.zeros(s.K)
    return np.where(working, s.coef.bso_proposals_per_officer * staff * bso.capacity, 0.0)


def manager_proposal_rate(s: ClusterState) -> np.ndarray:
    """Expected joint-action proposals the manager brokers per month."""
    m = s.manager
    active = manager_active(s)
    if not active.any():
        return np.zeros(s.K)
    contacts = m.contacts_per_month * m.funded_share
    rate = s.coef.manager_proposals_per_contact * contacts * m.skill * manager_mode_factor(s)
    return np.where(active, rate, 0.0)


def waiting_for_first_tranche(s: ClusterState) -> np.ndarray:
    """Clusters whose programme waits for its money (``programme_waits_for_first_tranche``) and has had none yet:
    until the first outlay of funds it hires no manager and pays for no service (000 §Cluster Development as a
    Long-Term Goal: delays between programme design and the first outlay of funds). One source of truth, the
    calendar (``PolicyCalendar.services_start``): the first tranche is paid unconditionally in its month, before
    the services of that month (§3), and the training blocks and exchanges are scheduled from the same month."""
    return s.month < s.calendar.services_start


def in_exit_taper(s: ClusterState) -> np.ndarray:
    """The programme runs, pays its manager, and is within its last ``exit_taper_months`` months (never in
    a cluster without a taper)."""
    c = s.coef
    tapering = c.exit_taper_months > 0
    if not any_cluster(tapering):
        return np.zeros(s.K, dtype=bool)
    closing = s.programme_on & (s.calendar.programme_end - s.month <= c.exit_taper_months) & tapering
    if not closing.any():  # most months: no programme near its end
        return closing
    return closing & ~waiting_for_first_tranche(s)


def association_trust_needed(s: ClusterState) -> np.ndarray:
    """Mean trust members need to found the association: less while the programme hands the cluster
    over and sponsors the founding (004 §Phase II: the CDA works to establish a governance structure)."""
    c = s.coef
    return c.association_trust_threshold * (1.0 - c.handover_founding_trust_relief * in_exit_taper(s))


def association_capability(s: ClusterState) -> np.ndarray:
    """Share of the manager's role the association can sustain: a base share, growing with the months
    it has co-paid the manager (learning by doing; 1 - exp(-months / association_learning_months))."""
    c, a = s.coef, s.association
    formed = a.formed
    if not formed.any():
        return np.zeros(s.K)
    learned = 1.0 - np.exp(-a.copay_months / c.association_learning_months)
    return np.where(formed, c.association_base_capability + (1.0 - c.association_base_capability) * learned, 0.0)


def association_proposal_rate(s: ClusterState) -> np.ndarray:
    """Joint actions the cluster association coordinates a month (SF12), as far as it can run the role."""
    return s.coef.association_proposals_per_month * association_capability(s)


def liquidity(s: ClusterState) -> np.ndarray:
    """What each firm can put into joint actions a month (k$): a share of its revenue, times intact capital."""
    f = s.firms
    return s.coef_for("firm").liquidity_share * f.revenue0 * f.capital


def own_monthly_cost(s: ClusterState, kinds, clusters, share: np.ndarray | None = None) -> np.ndarray:
    """A participant's own monthly cost of action type ``kinds`` in cluster ``clusters`` at this month's
    co-financing (the two broadcast together). ``share``: ``own_cost_share(s)`` if the caller has it at hand
    (nothing paid since it was read)."""
    cost = s.types.at("cost", kinds, clusters)
    share = own_cost_share(s) if share is None else share
    return share[clusters, kinds] * cost * s.coef_for("cluster", clusters).joint_action_cost


def leader_floor_level(s: ClusterState) -> np.ndarray:
    """Leaders' commitment floor, per cluster: their own commitment, higher while the programme pays them an
    incentive."""
    c = s.coef
    return c.leader_commitment + np.where(s.funder.leader_incentive_paid, c.leader_incentive_commitment, 0.0)
