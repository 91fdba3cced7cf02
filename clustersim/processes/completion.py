"""Completion (docs/ODD.md, "Process overview": step 11; SF2, SF12, SF16).

Joint actions that reach their end succeed or fail, with a chance that rises with the share of
contributions made, the participants' capability, facilitation and the BSO's support. Outcomes
feed the evidence firms use to judge joint actions, success stories, productivity, capability,
export readiness, motivation, dispositions and trust among co-participants; then the
participants are released (000 §Success Factors; 000 Table 6).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..segments import segcount
from ..state import ACTIVE, MEMBER
from ..streams import Site
from .economy import refresh_benefit_weights
from .rules import logistic_trust_growth, success_probability


def success_chance(s: ClusterState, ids: np.ndarray, part_idx: np.ndarray, aid: np.ndarray) -> np.ndarray:
    """Chance of success of each ending action ``ids`` (rules.success_probability with its inputs)."""
    c, f, book = s.coef, s.firms, s.actions
    n_a = book.count
    cap_mean = np.bincount(aid, weights=f.capability[part_idx], minlength=n_a) / np.maximum(book.size[:n_a], 1)
    kind, cluster = book.kind[ids], book.cluster[ids]
    completion = book.contributions[ids] / (book.size[ids] * s.types.at("duration_months", kind, cluster))
    # while the programme runs, the BSO's technical support helps every joint action (000 Table 6)
    bso_support = np.where(s.programme_on, c.bso_success_support * s.bso.capacity, 0.0)
    support = book.facilitated[ids] + bso_support[cluster]
    threshold = s.types.at("success_threshold", kind, cluster)
    return success_probability(s.coef_for("action", ids), completion, cap_mean[ids], support, threshold)


def success_draws(s: ClusterState, ids: np.ndarray) -> np.ndarray:
    """One uniform per ending action: in the legacy stream by count, otherwise addressed by the action's
    cluster and its number within the cluster (never its position in a batch's book)."""
    book = s.actions
    if s.reduce.legacy:
        return s.draws.uniform(Site.SUCCESS, ids)
    return s.draws.uniform(Site.SUCCESS, book.local[ids], cluster=book.cluster[ids])


def record_outcomes(s: ClusterState, ids: np.ndarray, success: np.ndarray, led: np.ndarray) -> None:
    """Book the outcomes; success stories (a leader's counts extra, SF2) and the evidence tally."""
    c, book = s.coef, s.actions
    cluster = book.cluster[ids]
    book.running[ids] = False
    book.succeeded[ids] = success
    # counts of actions are exact integers, the same however they are added
    n_success = segcount(success, cluster, s.K)
    n_outcomes = segcount(np.ones(ids.size, dtype=bool), cluster, s.K)
    s.cumulative["succeeded"] += n_success
    s.cumulative["failed"] += segcount(~success, cluster, s.K)
    if s.month >= s.success_stories.shape[1]:  # stepping beyond the scenario's horizon
        s.success_stories = np.concatenate([s.success_stories, np.zeros_like(s.success_stories)], axis=1)
    s.success_stories[:, s.month] += n_success + c.leader_story_bonus * segcount(success & led, cluster, s.K)
    # evidence about joint actions: a running tally with a decaying memory, which moves only in the
    # clusters where something ended
    tally, ended = s.outcomes_recent, n_outcomes > 0
    memory = s.coef_for("cluster", ended.nonzero()[0]).evidence_memory
    tally[ended, 0] = memory * tally[ended, 0] + n_success[ended]
    tally[ended, 1] = memory * tally[ended, 1] + n_outcomes[ended]


def reward_participants(s: ClusterState, won: np.ndarray, lost: np.ndarray, kind_won: np.ndarray) -> None:
    """Winners gain productivity, capability, export readiness, a bonus and motivation; losers lose motivation."""
    c, f = s.coef_for("firm", won), s.firms
    cluster = s.firm_cluster[won]

    def gain(name: str) -> np.ndarray:  # the won type's entry of the winner's cluster's table
        return s.types.at(name, kind_won, cluster)

    w = f.weights[won, kind_won]
    f.productivity[won] += gain("revenue_gain") * c.revenue_gain_scale * w
    f.export_productivity[won] += gain("export_revenue_gain") * c.export_gain_scale * w
    np.add.at(f.experience, (won, kind_won), 1.0)
    f.capability[won] += gain("capability_gain") * (1.0 - f.capability[won])
    f.export_readiness[won] += gain("export_readiness_gain") * c.export_gain_scale * (1.0 - f.export_readiness[won])
    f.payoff[won] += gain("multiplier") * c.benefit_multiplier * gain("cost") * c.joint_action_cost * w
    f.motivation[won] += c.success_motivation_gain * (1.0 - f.motivation[won])
    f.motivation[lost] -= s.per_firm(s.coef.failure_motivation_loss, lost) * f.motivation[lost]


def reinforce_dispositions(s, part_idx, out, won, lost) -> None:
    """Shared success strengthens the contributors' cooperative values; failure weakens them."""
    f = s.firms
    duration = s.types.at("duration_months", s.actions.kind[f.action[part_idx]], s.firm_cluster[part_idx])
    contributed = f.action_contributions[part_idx] >= s.per_firm(s.coef.contributor_share, part_idx) * duration
    c = s.coef_for("firm", won)
    f.disposition[won] += (
        c.trust_weight * c.success_disposition_gain * (1.0 - f.disposition[won]) * contributed[out == 1]
    )
    c = s.coef_for("firm", lost)
    f.disposition[lost] -= c.trust_weight * c.failure_disposition_loss * f.disposition[lost] * contributed[out == -1]


def trust_from_outcomes(s: ClusterState, part_idx: np.ndarray, aid: np.ndarray, outcome: np.ndarray) -> None:
    """Trust among co-participants reflects the shared outcome."""
    net = s.network
    t, tr = net.ties, net.trust
    gid = np.full(s.firms.n, -1, dtype=np.int64)
    gid[part_idx] = aid
    same = t.active & (gid[t.u] >= 0) & (gid[t.u] == gid[t.v])
    res = np.where(same, outcome[np.maximum(gid[t.u], 0)], 0)
    won_tie, lost_tie = (res == 1).nonzero()[0], (res == -1).nonzero()[0]
    c = s.coef_for("tie", won_tie)
    tr[won_tie] += logistic_trust_growth(c, c.success_trust_multiplier * c.trust_gain, tr[won_tie])
    c = s.coef_for("tie", lost_tie)
    tr[lost_tie] -= c.failure_trust_loss_factor * c.trust_loss * tr[lost_tie]


def refresh_weights_of_winners(s: ClusterState, won: np.ndarray) -> None:
    """Recompute the benefit weights of the clusters with a winner, and of no other (plan §5, R6).

    ``refresh_benefit_weights`` recomputes every firm; a cluster without a winner keeps its rows, which a
    recomputation could change (export readiness clipped since its last refresh).
    """
    f = s.firms
    won_firm = np.zeros(f.n, dtype=bool)
    won_firm[won] = True
    keep = ~s.reduce.any(won_firm, "firm")[s.firm_cluster]
    kept = f.weights[keep]  # a copy: empty when every cluster had a winner
    refresh_benefit_weights(s)
    f.weights[keep] = kept


def complete_joint_actions(s: ClusterState) -> None:
    """Finish the joint actions that end this month and release their participants."""
    book, f = s.actions, s.firms
    n_a = book.count
    if n_a == 0:
        return
    ending = book.running[:n_a] & (book.end[:n_a] <= s.month + 1)
    if not ending.any():
        return
    ids = ending.nonzero()[0]
    part_idx = (f.action >= 0).nonzero()[0]
    aid = f.action[part_idx]
    success = success_draws(s, ids) < success_chance(s, ids, part_idx, aid)
    outcome = np.zeros(n_a, dtype=np.int8)  # 0 not ending, 1 success, -1 failure
    outcome[ids] = np.where(success, 1, -1)
    led = np.bincount(f.action[f.leader & (f.action >= 0)], minlength=n_a)[ids] > 0
    record_outcomes(s, ids, success, led)
    out = outcome[aid]
    won, lost = part_idx[out == 1], part_idx[out == -1]
    kind_won = book.kind[f.action[won]]
    reward_participants(s, won, lost, kind_won)
    reinforce_dispositions(s, part_idx, out, won, lost)
    if kind_won.size:
        refresh_weights_of_winners(s, won)
    trust_from_outcomes(s, part_idx, aid, outcome)
    done = part_idx[out != 0]
    f.action[done] = -1
    f.action_contributions[done] = 0.0
    f.state[done] = np.where(f.state[done] == ACTIVE, MEMBER, f.state[done])
