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
from ..queries import in_exit_taper, manager_active, manager_mode_factor, manager_online, reachable
from ..state import ACTIVE, DROPPED, OUTSIDE
from ..streams import Site
from . import association


def contact_need(c, state: np.ndarray, motivation: np.ndarray) -> np.ndarray:
    """How much a firm needs a visit: a sagging member's motivation gap, or a fixed weight for
    outsiders (recruits) and dropped-out firms (000 §Monitoring and Evaluation)."""
    need = np.where(state == OUTSIDE, c.outsider_contact_need, 1.0 - motivation)
    return np.where(state == DROPPED, c.dropout_contact_need, need)


def choose_contacts(s: ClusterState, n_contacts: int, can_reach: np.ndarray, site: Site) -> np.ndarray:
    """Up to ``n_contacts`` reachable firms: uniform without information, targeted by need with it.

    Weighted sampling without replacement uses the Gumbel top-k trick, so the cost is O(n_firms).
    """
    idx = np.flatnonzero(can_reach)
    if n_contacts <= 0 or idx.size == 0:
        return idx[:0]
    f, q = s.firms, s.information_quality
    need = contact_need(s.coef, f.state[idx], f.motivation[idx])
    weight = (1.0 - q) + q * s.coef.targeting_strength * need + 1e-9  # 1e-9: no zero weights in log()
    if n_contacts >= idx.size:
        return idx
    keys = np.log(weight) - np.log(-np.log(s.draws.uniform(site, idx)))
    return idx[np.argpartition(-keys, n_contacts - 1)[:n_contacts]]


def facilitate(s: ClusterState, contacts: np.ndarray, skill: float, mode_factor: float, broker_site: Site) -> None:
    """Apply one facilitator's contacts for this month: motivation, then a meeting among those met."""
    if contacts.size == 0 or skill <= 0 or mode_factor <= 0:
        return
    c, f, act = s.coef, s.firms, s.activity
    effect = skill * mode_factor
    dropped = f.state[contacts] == DROPPED
    lift = np.where(dropped, c.dropout_contact_motivation_lift, c.contact_motivation_lift) * effect
    f.motivation[contacts] += lift * (1.0 - f.motivation[contacts])
    act.contacted[contacts] = True
    act.contact_effect[contacts] = np.maximum(act.contact_effect[contacts], effect)
    act.counters["contacts"] += int(contacts.size)
    if contacts.size >= c.meeting_min_firms:
        act.counters["meetings"] += 1
    hold_meeting(s, contacts, effect, broker_site)


def hold_meeting(s: ClusterState, contacts: np.ndarray, effect: float, broker_site: Site) -> None:
    """Trust grows on ties among firms met in the same month, and latent ties among them are brokered."""
    c, net = s.coef, s.network
    ties = net.ties
    met = np.zeros(s.firms.n, dtype=bool)
    met[contacts] = True
    both = met[ties.u] & met[ties.v]
    if not both.any():
        return
    broker = both & ~ties.active & (s.draws.uniform(broker_site, ties.n_ties) < c.brokerage_chance * effect)
    net.activate(broker)  # a brokered tie starts at the partners' propensity
    s.counters["ties_brokered"] += int(broker.sum())
    grow = both & ties.active
    net.trust[grow] += c.meeting_trust_gain * effect * (1.0 - net.trust[grow])
    net.contact |= grow


def leader_outreach(s: ClusterState) -> None:
    """Leader firms paid an incentive host their acquaintances not now in a joint action (outsiders,
    dropouts, idle members): a contact of strength ``leader_outreach_effect`` that lifts motivation
    and a join decision, and a meeting among those hosted (000 §Cultural attitude towards
    collaboration: driving firms show results to sceptical companies; §Heterogeneity among cluster
    members: large firms mentor small ones)."""
    c, f, t = s.coef, s.firms, s.network.ties
    leaders = f.leader
    a = t.active & leaders[t.u]
    b = t.active & leaders[t.v]
    reached = np.unique(np.concatenate([t.v[a], t.u[b]]))
    hosted = reached[(f.state[reached] != ACTIVE) & ~leaders[reached]]
    mode = 1.0 if s.face_to_face else c.online_effectiveness
    effect = c.leader_outreach_effect * mode
    if hosted.size == 0 or effect <= 0:
        return
    dropped = f.state[hosted] == DROPPED
    lift = np.where(dropped, c.dropout_contact_motivation_lift, c.contact_motivation_lift) * effect
    f.motivation[hosted] += lift * (1.0 - f.motivation[hosted])
    s.activity.contacted[hosted] = True
    s.activity.contact_effect[hosted] = np.maximum(s.activity.contact_effect[hosted], effect)
    hold_meeting(s, hosted, effect, Site.BROKER_LEADER)
    s.counters["services"] += int(hosted.size)


def bso_turnover(s: ClusterState) -> None:
    """Officers leave at the turnover rate and are replaced by untrained hires (SF6). Own random stream."""
    bso = s.bso
    leave = s.draws.uniform(Site.TURNOVER, bso.staff) < s.coef.bso_turnover_rate
    bso.officers_lost += int((leave & bso.trained).sum())
    bso.competence[leave] = bso.untrained


def bso_month(s: ClusterState) -> None:
    """Turnover, then the BSO's meetings and matchmaking while the programme runs."""
    bso, c = s.bso, s.coef
    if bso.staff == 0:
        return
    bso_turnover(s)
    bso.contacts_this_month = 0
    bso.contacted = np.zeros(0, dtype=np.int64)
    if not s.programme_on:
        return
    mode = 1.0 if s.face_to_face else c.online_effectiveness
    n = int(round(c.bso_contacts_per_officer * bso.staff * bso.capacity))
    contacts = choose_contacts(s, n, reachable(s), Site.CONTACT_BSO)
    skill = c.bso_facilitation_skill * bso.capacity
    facilitate(s, contacts, skill=skill, mode_factor=mode, broker_site=Site.BROKER_BSO)
    bso.contacted = contacts
    bso.contacts_this_month = int(contacts.size)
    s.counters["services"] += int(contacts.size)


def programme_salary_share(s: ClusterState) -> float:
    """Share of the manager's salary the programme means to pay this month: all of it while it runs,
    tapering linearly over the last ``exit_taper_months`` to nothing in its final month (the exit
    strategy: with T months the programme pays (T-1)/T, ..., 1/T, 0); nothing before the first
    tranche if the manager waits for it."""
    c, cal = s.coef, s.calendar
    if not s.programme_on or (c.manager_waits_for_first_tranche and s.ledger.disbursed == 0):
        return 0.0
    months_left = cal.programme_end - s.month
    if in_exit_taper(s):
        return (months_left - 1) / c.exit_taper_months
    return 1.0


def fund_manager(s: ClusterState) -> float:
    """Pay this month's salary from the manager's budget line, the association paying the rest it can.

    During a hand-over (a taper) the programme still covers, from its manager line, the share
    ``exit_handover_cover`` of what the association cannot yet pay (000 §BSOs' future objectives,
    TEPA: build capacity "so that if we must be removed, the cluster will continue"; 004 §Phase III:
    the CDA accompanies the cluster until phasing out). What nobody pays is not worked: the
    manager's contacts shrink to the share paid, and a programme month without pay is recorded.
    """
    salary = s.coef.manager_cost_per_month
    share = programme_salary_share(s)
    if share > 0:
        share = s.ledger.pay("manager", share * salary) / salary if salary > 0 else share
    share += association.pay_manager(s, 1.0 - share)
    share += handover_cover(s, share)
    if s.programme_on and share <= 0:
        s.manager.months_unpaid += 1
    return share


def handover_cover(s: ClusterState, share_paid: float) -> float:
    """Share of the salary the programme adds from its manager line while it tapers out: the part
    ``exit_handover_cover`` of what neither the taper nor the association paid (0 outside a taper)."""
    c, salary = s.coef, s.coef.manager_cost_per_month
    gap = c.exit_handover_cover * (1.0 - share_paid)
    if not in_exit_taper(s) or gap <= 0 or salary <= 0:
        return 0.0
    return s.ledger.pay("manager", gap * salary) / salary


def manager_month(s: ClusterState) -> None:
    """The manager, as far as paid, meets at most ``manager_contacts_per_month`` firms (SF9)."""
    mgr = s.manager
    if mgr is None:
        return
    mgr.contacts_this_month = 0
    mgr.contacted = np.zeros(0, dtype=np.int64)
    mgr.funded_share = fund_manager(s)
    if not manager_active(s):
        return
    n_contacts = int(round(mgr.contacts_per_month * mgr.funded_share))
    contacts = choose_contacts(s, n_contacts, reachable(s, online=manager_online(s)), Site.CONTACT_MANAGER)
    facilitate(s, contacts, skill=mgr.skill, mode_factor=manager_mode_factor(s), broker_site=Site.BROKER_MANAGER)
    mgr.contacted = contacts
    mgr.contacts_this_month = int(contacts.size)
    s.counters["services"] += int(contacts.size)
