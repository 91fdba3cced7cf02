"""Formation of joint actions (docs/ODD.md, "Process overview": step 9; SF2, SF5, SF9-SF11).

Facilitators (the BSO and the manager) and self-organising firms propose joint actions; a proposal
has an initiator and a type; idle acquaintances of the initiator, plus firms a facilitator
introduces, decide whether to join; a proposal that gathers its type's minimum starts, one that
does not costs the initiator some motivation (000 §Success Factors; 004 §Cluster Development
Agents; 004 §The intervention logic).

Per-cluster quantities are (K,) arrays, gathered per firm with ``s.firm_cluster``. The selection
(proposal counts, initiators, candidates) and the common strategy still serve one cluster: they
assert K = 1 until the ensemble step 5g (docs/plans/ensemble-engine.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cluster_state import ClusterState
from ..queries import (
    association_proposal_rate,
    bso_proposal_rate,
    liquidity,
    manager_active,
    manager_proposal_rate,
    own_cost_share,
    own_monthly_cost,
    reputation,
    success_signal,
)
from ..state import ACTIVE
from ..streams import Site
from .rules import common_strategy, expected_cooperation, expected_return


@dataclass
class Proposals:
    """This month's calls for partners: initiator, type and facilitation level of each."""

    seeds: np.ndarray  # initiating firm
    kind: np.ndarray  # action type
    facilitated: np.ndarray  # bool: brokered by the BSO or the manager
    facilitation: np.ndarray  # facilitation level in [0, 1]

    @property
    def count(self) -> int:
        return int(self.seeds.size)


def idle_members(s: ClusterState, rep: np.ndarray) -> np.ndarray:
    """Engaged firms not in a joint action; in a pandemic only the digitally connected and firms with
    trusted partners take part (SF8)."""
    f = s.firms
    idle = f.engaged & (f.action < 0)
    if not s.face_to_face.all():
        idle &= s.face_to_face[s.firm_cluster] | f.digital_access | (rep >= s.coef.trusted_threshold)
    return idle


def proposal_rates(s: ClusterState, idle: np.ndarray, n_idle) -> tuple[np.ndarray, np.ndarray]:
    """Expected facilitated and self-organised proposals this month, per cluster."""
    c, f, net = s.coef, s.firms, s.network
    mean_trust = s.reduce.mean(net.trust, "tie", where=net.ties.active, empty=0.0)
    facilitated = bso_proposal_rate(s) + manager_proposal_rate(s) + association_proposal_rate(s)
    # leading firms are the bedrock of engaged entrepreneurs: they call for partners themselves
    idle_leaders = s.reduce.count(f.leader & idle, "firm")
    self_organised = c.self_organisation_rate * n_idle * mean_trust + c.leader_call_rate * idle_leaders
    return facilitated, self_organised


def proposal_counts(s: ClusterState, idle: np.ndarray, n_idle) -> tuple[int, int]:
    """Poisson numbers of facilitated and self-organised proposals, capped by the idle members.

    ``n_idle`` is the number of idle members per cluster (one int serves a single cluster).
    """
    # K = 1 until the ensemble step 5g (docs/plans/ensemble-engine.md): one Poisson draw per cluster, and
    # the legacy draws take one float mean
    assert s.K == 1, "K = 1 until the ensemble step 5g (docs/plans/ensemble-engine.md)"
    n_idle = np.broadcast_to(n_idle, (s.K,))
    facilitated_rate, self_rate = proposal_rates(s, idle, n_idle)
    n_fac = s.draws.poisson(Site.PROPOSALS_FACILITATED, float(facilitated_rate[0]))
    n_self = s.draws.poisson(Site.PROPOSALS_SELF, float(self_rate[0]))
    n_prop = min(n_fac + n_self, int(n_idle[0]) // s.coef.idle_firms_per_proposal)
    return min(n_fac, n_prop), n_prop


def choose_initiators(s: ClusterState, idle_idx: np.ndarray, n_prop: int) -> np.ndarray:
    """Initiators drawn without replacement, weighted by motivation (leaders weigh more); Gumbel top-k."""
    # K = 1 until the ensemble step 5g (docs/plans/ensemble-engine.md): the top-k is over all idle firms, not
    # per cluster (segments.topk_seg)
    assert s.K == 1, "K = 1 until the ensemble step 5g (docs/plans/ensemble-engine.md)"
    f, c = s.firms, s.coef
    weight = f.motivation[idle_idx] * (1.0 + c.leader_seed_weight * f.leader[idle_idx]) + 1e-9  # no log(0)
    keys = np.log(weight) - np.log(-np.log(s.draws.uniform(Site.INITIATOR, idle_idx)))
    seeds = idle_idx[np.argpartition(-keys, n_prop - 1)[:n_prop]]
    return seeds[s.draws.order(Site.INITIATOR_ORDER, seeds)]


def make_proposals(s: ClusterState, seeds: np.ndarray, facilitated: np.ndarray, common: np.ndarray, gain) -> Proposals:
    """Facilitators push their cluster's common strategy; self-organised groups follow the initiator's preference.

    A facilitated proposal is supported by the manager or the BSO: the chance that either gets it
    right, ``1 - (1 - manager skill)(1 - BSO capacity)``, in the initiator's cluster.
    """
    cluster = s.firm_cluster[seeds]
    kind = np.where(facilitated, common[cluster], np.argmax(gain[seeds], axis=1))
    manager_skill = np.where(manager_active(s), s.manager.skill, 0.0)
    support = 1.0 - (1.0 - manager_skill) * (1.0 - s.bso.capacity)
    facilitation = np.where(facilitated, support[cluster], 0.0)
    return Proposals(seeds, kind, facilitated, facilitation)


def candidates(s: ClusterState, props: Proposals, idle: np.ndarray, rep: np.ndarray):
    """Who is asked: idle neighbours of each initiator over active ties, plus firms a facilitator
    introduces (matchmaking). A firm asked twice answers its first call, in random order.

    Returns (proposal index, firm, trust in the initiator) per candidate.
    """
    # K = 1 until the ensemble step 5g (docs/plans/ensemble-engine.md): the matchmaking pool and its
    # round-robin over the facilitated proposals span all clusters
    assert s.K == 1, "K = 1 until the ensemble step 5g (docs/plans/ensemble-engine.md)"
    c, f, net = s.coef, s.firms, s.network
    t = net.ties
    prop_of = np.full(f.n, -1, dtype=np.int64)
    prop_of[props.seeds] = np.arange(props.count)
    eligible = idle & (prop_of < 0)
    act = t.active
    a = act & (prop_of[t.u] >= 0) & eligible[t.v]
    b = act & (prop_of[t.v] >= 0) & eligible[t.u]
    cand_p = np.concatenate([prop_of[t.u[a]], prop_of[t.v[b]]])
    cand_f = np.concatenate([t.v[a], t.u[b]])
    cand_tr = np.concatenate([net.trust[a], net.trust[b]])
    cand_src = np.zeros(cand_f.size, dtype=np.int64)  # 0: asked over a tie, 1: introduced by a facilitator
    n_fac = int(props.facilitated.sum())
    if n_fac:
        pool = np.flatnonzero(eligible)
        k = min(pool.size, c.matchmaking_candidates_per_proposal * n_fac)
        if k:
            extra = s.draws.sample(Site.MATCHMAKING, pool, k)
            extra_p = np.flatnonzero(props.facilitated)[np.arange(k) % n_fac]
            cand_p = np.concatenate([cand_p, extra_p])
            cand_f = np.concatenate([cand_f, extra])
            cand_tr = np.concatenate([cand_tr, rep[props.seeds[extra_p]]])
            cand_src = np.concatenate([cand_src, np.ones(k, dtype=np.int64)])
    if cand_f.size == 0:
        return cand_p, cand_f, cand_tr
    # a call is addressed by its content (initiator, firm, source), never by its position in the list
    order = s.draws.order(Site.FIRST_CALL, props.seeds[cand_p], cand_f, cand_src)
    cand_p, cand_f, cand_tr = cand_p[order], cand_f[order], cand_tr[order]
    _, first = np.unique(cand_f, return_index=True)
    return cand_p[first], cand_f[first], cand_tr[first]


def join_score(s: ClusterState, props: Proposals, cand_p, cand_f, cand_tr, own_share, evidence, signal):
    """Expected return, minus coordination costs, plus motivation and facilitation (SF9, SF11).

    Coordination costs buy nothing; a facilitator who breaks the work into doable parts removes a
    share ``facilitated_coordination_relief`` of them (004 §Cluster Development Agents).
    ``own_share`` is (K, types) and ``evidence``, ``signal`` are per cluster; one row or value serves
    every cluster.
    """
    c, f, types = s.coef, s.firms, s.types
    k_c = props.kind[cand_p]
    cluster = s.firm_cluster[cand_f]
    own_share = np.broadcast_to(own_share, (s.K, types.count))
    evidence, signal = np.broadcast_to(evidence, (s.K,)), np.broadcast_to(signal, (s.K,))
    expect = expected_cooperation(c, cand_tr, evidence[cluster], signal[cluster])
    ret = expected_return(
        types, c, k_c, f.weights[cand_f, k_c], f.capability[cand_f], f.capital[cand_f], own_share[cluster, k_c], expect
    )
    relief = 1.0 - c.facilitated_coordination_relief * (props.facilitation[cand_p] > 0)
    coordination = c.transaction_cost * relief / (types.cost[k_c] * c.joint_action_cost + 1e-9)  # no 0/0
    return (
        ret
        - coordination
        + c.trust_weight * (f.motivation[cand_f] - c.neutral_motivation)
        + c.facilitation_join_bonus * props.facilitation[cand_p]
    )


def joins(s: ClusterState, props: Proposals, cand_p, cand_f, cand_tr, own_share, evidence, signal) -> np.ndarray:
    """Which candidates join: a logistic chance in the join score, and only what they can pay for."""
    c = s.coef
    score = join_score(s, props, cand_p, cand_f, cand_tr, own_share, evidence, signal)
    with np.errstate(over="ignore"):  # a steep slope overflows exp() to inf: a join chance of exactly 0
        join_chance = 1.0 / (1.0 + np.exp(-c.join_decision_slope * score))
    joined = s.draws.uniform(Site.JOIN, props.seeds[cand_p], cand_f) < join_chance
    # a firm joins only what it can pay its share of (SF5, SF11): small firms are priced out first
    joined &= own_monthly_cost(s, props.kind[cand_p], s.firm_cluster[cand_f]) <= liquidity(s)[cand_f]
    return joined


def start_actions(s: ClusterState, props: Proposals, cand_p: np.ndarray, cand_f: np.ndarray) -> None:
    """Proposals that reach their type's minimum start; failed calls cost the initiator motivation."""
    f, types = s.firms, s.types
    size = np.bincount(cand_p, minlength=props.count) + 1
    start = size >= types.min_participants[props.kind]
    # a failed call for partners costs the initiator some motivation (coordination cost, SF11)
    f.motivation[props.seeds[~start]] *= s.coef.failed_call_motivation_factor
    if not start.any():
        return
    go = np.flatnonzero(start)
    kind = props.kind[go]
    ids = s.actions.add(
        kind, np.full(go.size, s.month), s.month + types.duration_months[kind], size[go], props.facilitation[go]
    )
    action_of_prop = np.full(props.count, -1, dtype=np.int64)
    action_of_prop[go] = ids
    members = np.concatenate([props.seeds[go], cand_f[start[cand_p]]])
    f.action[members] = action_of_prop[np.concatenate([go, cand_p[start[cand_p]]])]
    f.state[members] = ACTIVE
    # each started action has one initiator, so counting initiators counts the actions of each cluster
    initiated = np.zeros(f.n, dtype=bool)
    initiated[props.seeds[go]] = True
    s.cumulative["started"] += s.reduce.count(initiated, "firm")


def expected_gains(s: ClusterState, idx: np.ndarray, own_share: np.ndarray, expect) -> np.ndarray:
    """``rules.expected_gain`` of firms ``idx``, each at its own cluster's cost shares ``own_share[cluster]``.

    The same elementwise steps as ``rules.expected_gain``, whose cost shares are one row for all firms.
    """
    c, f, types = s.coef, s.firms, s.types
    kinds = np.arange(types.count)[None, :]
    share = own_share[s.firm_cluster[idx]]
    expect = np.asarray(expect, dtype=float).reshape(-1, 1)
    ret = expected_return(
        types, c, kinds, f.weights[idx], f.capability[idx][:, None], f.capital[idx][:, None], share, expect
    )
    return types.cost[None, :] * ret


def common_goals(s: ClusterState, gain_idle: np.ndarray, neutral: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Each live cluster's common strategy (returned, per cluster) and the alignment of its goals (stored)."""
    # K = 1 until the ensemble step 5g (docs/plans/ensemble-engine.md): common_strategy pools every firm it
    # is given; a batch needs its per-type segment means (plan §2, 9e)
    assert s.K == 1, "K = 1 until the ensemble step 5g (docs/plans/ensemble-engine.md)"
    common, _ = common_strategy(s.coef, gain_idle)
    # alignment is about goals, so it is measured at a neutral expectation of partners
    _, alignment = common_strategy(s.coef, neutral)
    s.alignment[live] = alignment
    return np.full(s.K, common, dtype=np.int64)


def form_joint_actions(s: ClusterState) -> None:
    """Propose joint actions, ask candidates, start those that gather enough partners."""
    c, f, types = s.coef, s.firms, s.types
    rep = reputation(s)
    idle = idle_members(s, rep)
    n_idle = s.reduce.count(idle, "firm")
    live = n_idle >= c.idle_firms_per_proposal
    s.alignment[~live] = np.nan  # too few idle members to propose anything: no goals to align
    if not live.any():
        return
    idle &= live[s.firm_cluster]  # the other clusters propose nothing this month
    own_share = own_cost_share(s)
    idle_idx = np.flatnonzero(idle)
    evidence, signal = s.outcomes_recent[:, 0] / s.outcomes_recent[:, 1], success_signal(s)
    cluster = s.firm_cluster[idle_idx]
    expect = expected_cooperation(c, rep[idle_idx], evidence[cluster], signal[cluster])
    gain = np.zeros((f.n, types.count))
    gain[idle_idx] = expected_gains(s, idle_idx, own_share, expect)
    neutral = expected_gains(s, idle_idx, own_share, c.alignment_reference_expectation)
    common = common_goals(s, gain[idle_idx], neutral, live)
    n_fac, n_prop = proposal_counts(s, idle, n_idle)
    if n_prop == 0:
        return
    seeds = choose_initiators(s, idle_idx, n_prop)
    props = make_proposals(s, seeds, np.arange(seeds.size) < n_fac, common, gain)
    cand_p, cand_f, cand_tr = candidates(s, props, idle, rep)
    if cand_f.size == 0:
        return
    joined = joins(s, props, cand_p, cand_f, cand_tr, own_share, evidence, signal)
    start_actions(s, props, cand_p[joined], cand_f[joined])
