"""Facilitation (docs/ODD.md, "Process overview": steps 6-7; SF6, SF9).

How the BSO and the cluster manager spend their limited monthly contacts. One contact is a
meeting with one firm: it lifts the firm's motivation, and firms met in the same month build
trust on their ties, have latent ties brokered, and outsiders and dropped-out firms are invited
(000 §Cluster managers; 004 §Cluster Development Agents). The BSO's trained officers leave at the
turnover rate and are replaced by untrained hires (000 §BSOs' future objectives).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..queries import (
    in_exit_taper,
    manager_active,
    manager_mode_factor,
    manager_online,
    per_cluster,
    reachable,
    spread,
    waiting_for_first_tranche,
)
from ..segments import topk_seg
from ..state import ACTIVE, DROPPED, OUTSIDE
from ..streams import Site
from . import association


def contact_need(c, state: np.ndarray, motivation: np.ndarray) -> np.ndarray:
    """How much a firm needs a visit: a sagging member's motivation gap, or a fixed weight for
    outsiders (recruits) and dropped-out firms (000 §Monitoring and Evaluation)."""
    need = np.where(state == OUTSIDE, c.outsider_contact_need, 1.0 - motivation)
    return np.where(state == DROPPED, c.dropout_contact_need, need)


def choose_contacts(s: ClusterState, n_contacts: np.ndarray, can_reach: np.ndarray, site: Site) -> np.ndarray:
    """Up to ``n_contacts`` (per cluster) reachable firms: uniform without information, targeted by need with it.

    Weighted sampling without replacement uses the Gumbel top-k trick, so the cost is O(n_firms).
    """
    n_contacts = per_cluster(s, n_contacts, np.int64)
    if not (n_contacts > 0).all():  # nobody is met where no contact is to be made
        can_reach = can_reach & (n_contacts > 0)[s.firm_cluster]
    idx = can_reach.nonzero()[0]
    if idx.size == 0:
        return idx
    reached = s.tally(idx)
    if ((n_contacts >= reached) | (reached == 0)).all():  # everyone reachable is met: nothing to draw
        return idx
    f, q, c = s.firms, spread(s, s.information_quality, "firm", idx), s.coef_for("firm", idx)
    need = contact_need(c, f.state[idx], f.motivation[idx])
    weight = (1.0 - q) + q * c.targeting_strength * need + 1e-9  # 1e-9: no zero weights in log()
    keys = np.log(weight) - np.log(-np.log(s.draws.uniform(site, idx)))
    if s.reduce.legacy:  # the golden series' selection (one cluster, argpartition's order)
        return idx[np.argpartition(-keys, n_contacts[0] - 1)[: n_contacts[0]]]
    return idx[topk_seg(keys, s.firm_cluster[idx], s.K, n_contacts)]  # idx: in index order


def facilitate(s: ClusterState, contacts: np.ndarray, effect: np.ndarray, broker_site: Site) -> None:
    """Apply the facilitators' contacts for this month (``effect``, skill x mode, per cluster): motivation,
    then a meeting among those met in each cluster."""
    effect = per_cluster(s, effect)
    met = s.tally(contacts)
    working = (met > 0) & (effect > 0)
    if not working.any():
        return
    if not working.all():
        contacts = contacts[working[s.firm_cluster[contacts]]]
    act = s.activity
    effect_each = spread(s, effect, "firm", contacts)
    lift_motivation(s, contacts, effect_each)
    act.contacted[contacts] = True
    act.contact_effect[contacts] = np.maximum(act.contact_effect[contacts], effect_each)
    if not working.all():
        met = np.where(working, met, 0)
    act.counters["contacts"] += met
    act.counters["meetings"] += working & (met >= s.coef.meeting_min_firms)  # no meeting where nobody was met
    hold_meeting(s, contacts, effect, broker_site)


def lift_motivation(s: ClusterState, firms: np.ndarray, effect_each: np.ndarray) -> None:
    """A contact of strength ``effect_each`` lifts each firm's motivation, a dropout's by its own rate."""
    c, f = s.coef_for("firm", firms), s.firms
    dropped = f.state[firms] == DROPPED
    lift = np.where(dropped, c.dropout_contact_motivation_lift, c.contact_motivation_lift) * effect_each
    motivation = f.motivation[firms]
    f.motivation[firms] = motivation + lift * (1.0 - motivation)


def hold_meeting(s: ClusterState, contacts: np.ndarray, effect: np.ndarray, broker_site: Site) -> None:
    """Trust grows on ties among firms met in the same month, and latent ties among them are brokered."""
    net = s.network
    ties = net.ties
    met = np.zeros(s.firms.n, dtype=bool)
    met[contacts] = True
    both = met[ties.u] & met[ties.v]
    if not both.any():
        return
    broker = brokered(s, both & ~ties.active, effect, broker_site)
    net.activate(broker)  # a brokered tie starts at the partners' propensity
    s.counters["ties_brokered"] += s.tally(broker, "tie")
    grow = both & ties.active
    gain = s.per_tie(s.coef.meeting_trust_gain, grow) * spread(s, effect, "tie", grow)
    net.trust[grow] += gain * (1.0 - net.trust[grow])
    net.contact |= grow


def brokered(s: ClusterState, latent: np.ndarray, effect: np.ndarray, broker_site: Site) -> np.ndarray:
    """Which of the ``latent`` ties (a mask) the facilitator brokers: each with the chance
    ``brokerage_chance`` x the contact effect of its cluster. Counter draws depend on their address only, so
    only the latent ties among the firms met are drawn for (a handful, of thousands of ties); the legacy
    stream draws one number per tie, as it always has."""
    n_ties = latent.size
    if not s.draws.addressed:
        chance = s.coef_for("tie").brokerage_chance * spread(s, effect, "tie")
        return latent & (s.draws.uniform(broker_site, n_ties) < chance)
    idx = latent.nonzero()[0]
    chance = s.coef_for("tie", idx).brokerage_chance * spread(s, effect, "tie", idx)
    broker = np.zeros(n_ties, dtype=bool)
    broker[idx] = s.draws.uniform(broker_site, idx) < chance
    return broker


def leader_outreach(s: ClusterState, paid: np.ndarray) -> None:
    """Leader firms paid an incentive (in the clusters ``paid`` selects) host their acquaintances not now in a
    joint action (outsiders, dropouts, idle members): a contact of strength ``leader_outreach_effect`` that
    lifts motivation and a join decision, and a meeting among those hosted (000 §Cultural attitude towards
    collaboration: driving firms show results to sceptical companies; §Heterogeneity among cluster
    members: large firms mentor small ones)."""
    c, f, t = s.coef, s.firms, s.network.ties
    leaders = f.leader
    hosting = t.active & s.per_tie(paid)
    a = hosting & leaders[t.u]
    b = hosting & leaders[t.v]
    reached = np.unique(np.concatenate([t.v[a], t.u[b]]))
    hosted = reached[(f.state[reached] != ACTIVE) & ~leaders[reached]]
    effect = c.leader_outreach_effect * np.where(s.face_to_face, 1.0, c.online_effectiveness)
    hosted = hosted[(effect > 0)[s.firm_cluster[hosted]]]
    if hosted.size == 0:
        return
    effect_each = s.per_firm(effect)[hosted]
    lift_motivation(s, hosted, effect_each)
    s.activity.contacted[hosted] = True
    s.activity.contact_effect[hosted] = np.maximum(s.activity.contact_effect[hosted], effect_each)
    hold_meeting(s, hosted, effect, Site.BROKER_LEADER)
    s.counters["services"] += s.tally(hosted)


def bso_turnover(s: ClusterState) -> None:
    """Officers leave at the turnover rate and are replaced by untrained hires (SF6). Own random stream."""
    bso = s.bso
    leave = s.draws.uniform(Site.TURNOVER, bso.competence.size) < s.coef_for("officer").bso_turnover_rate
    bso.officers_lost += s.tally(leave & bso.trained, "officer")
    bso.competence[leave] = bso.untrained[bso.officer_cluster[leave]]


def bso_month(s: ClusterState) -> None:
    """Turnover, then the BSO's meetings and matchmaking while the programme runs."""
    bso, c = s.bso, s.coef
    staffed = bso.staff > 0
    if not staffed.any():
        return
    bso_turnover(s)
    bso.contacts_this_month[:] = 0
    bso.contacted = np.zeros(0, dtype=np.int64)
    working = s.programme_on & staffed
    if not working.any():
        return
    mode = np.where(s.face_to_face, 1.0, c.online_effectiveness)
    capacity = bso.capacity
    n = np.where(working, np.round(c.bso_contacts_per_officer * bso.staff * capacity), 0).astype(np.int64)
    contacts = choose_contacts(s, n, reachable(s), Site.CONTACT_BSO)
    skill = c.bso_facilitation_skill * capacity
    facilitate(s, contacts, effect=np.where(skill > 0, skill * mode, 0.0), broker_site=Site.BROKER_BSO)
    bso.contacted = contacts
    met = s.tally(contacts)
    bso.contacts_this_month[:] = met
    s.counters["services"] += met


def programme_salary_share(s: ClusterState) -> np.ndarray:
    """Share of the manager's salary the programme means to pay this month: all of it while it runs,
    tapering linearly over the last ``exit_taper_months`` to nothing in its final month (the exit
    strategy: with T months the programme pays (T-1)/T, ..., 1/T, 0); nothing before the first
    tranche if the manager waits for it."""
    c, cal = s.coef, s.calendar
    employing = s.programme_on & s.manager.present
    if not employing.any():  # no programme runs with a manager: nothing to pay anywhere
        return np.zeros(s.K)
    paying = employing & ~waiting_for_first_tranche(s)
    tapering = in_exit_taper(s)
    if not tapering.any():  # the whole salary wherever the programme pays
        return np.where(paying, 1.0, 0.0)
    months_left = cal.programme_end - s.month
    # without a taper (0 months) no cluster is in one, whatever the quotient; the maximum only avoids 0/0
    taper = (months_left - 1) / np.maximum(c.exit_taper_months, 1)
    return np.where(paying, np.where(tapering, taper, 1.0), 0.0)


def fund_manager(s: ClusterState) -> np.ndarray:
    """Pay this month's salary from the manager's budget line, the association paying the rest it can.

    During a hand-over (a taper) the programme still covers, from its manager line, the share
    ``exit_handover_cover`` of what the association cannot yet pay (000 §BSOs' future objectives,
    TEPA: build capacity "so that if we must be removed, the cluster will continue"; 004 §Phase III:
    the CDA accompanies the cluster until phasing out). What nobody pays is not worked: the
    manager's contacts shrink to the share paid, and a programme month without pay is recorded.
    """
    salary = s.coef.manager_cost_per_month
    share = programme_salary_share(s)
    salaried = np.asarray(salary) > 0  # an unpaid post (salary 0) draws nothing from the manager line
    paying = (share > 0) & salaried
    if paying.any():  # a payment of nothing anywhere would change no account
        paid = s.ledger.pay("manager", share * salary, where=paying)
        share = np.where(paying, paid / np.where(salaried, salary, 1.0), share)
    present = s.manager.present  # a cluster without a manager pays no salary
    share = share + association.pay_manager(s, np.where(present, 1.0 - share, 0.0))
    share = share + handover_cover(s, share, present)
    s.manager.months_unpaid += present & s.programme_on & (share <= 0)
    return share


def handover_cover(s: ClusterState, share_paid, present: np.ndarray | None = None) -> np.ndarray:
    """Share of the salary the programme adds from its manager line while it tapers out: the part
    ``exit_handover_cover`` of what neither the taper nor the association paid (0 outside a taper)."""
    c, salary = s.coef, s.coef.manager_cost_per_month
    tapering = in_exit_taper(s)
    if not tapering.any():  # no programme hands over this month
        return np.zeros(s.K)
    present = s.manager.present if present is None else present
    gap = c.exit_handover_cover * (1.0 - share_paid)
    salaried = np.asarray(salary) > 0
    covering = present & tapering & (gap > 0) & salaried
    if not covering.any():
        return np.zeros(s.K)
    paid = s.ledger.pay("manager", gap * salary, where=covering)
    return np.where(covering, paid / np.where(salaried, salary, 1.0), 0.0)


def manager_month(s: ClusterState) -> None:
    """The manager, as far as paid, meets at most ``manager_contacts_per_month`` firms (SF9)."""
    mgr = s.manager
    if not mgr.present.any():
        return
    mgr.contacts_this_month[:] = 0
    mgr.contacted = np.zeros(0, dtype=np.int64)
    mgr.funded_share[:] = np.where(mgr.present, fund_manager(s), 0.0)
    active = manager_active(s)
    if not active.any():
        return
    n_contacts = np.where(active, np.round(mgr.contacts_per_month * mgr.funded_share), 0).astype(np.int64)
    contacts = choose_contacts(s, n_contacts, reachable(s, online=manager_online(s)), Site.CONTACT_MANAGER)
    effect = np.where(mgr.skill > 0, mgr.skill * manager_mode_factor(s), 0.0)
    facilitate(s, contacts, effect=effect, broker_site=Site.BROKER_MANAGER)
    mgr.contacted = contacts
    met = s.tally(contacts)
    mgr.contacts_this_month[:] = met
    s.counters["services"] += met
