"""Formation of joint actions (docs/ODD.md, "Process overview": step 9; SF2, SF5, SF9-SF11).

Facilitators (the BSO and the manager) and self-organising firms propose joint actions; a proposal
has an initiator and a type; idle acquaintances of the initiator, plus firms a facilitator
introduces, decide whether to join; a proposal that gathers its type's minimum starts, one that
does not costs the initiator some motivation (000 §Success Factors; 004 §Cluster Development
Agents; 004 §The intervention logic).

Per-cluster quantities are (K,) arrays, gathered per firm with ``s.firm_cluster``. Each selection has
two forms: under the legacy draws (one cluster) the golden series' calls (a Poisson of one mean,
``argpartition``, ``np.unique`` over a permutation); otherwise per-cluster selections addressed by content
(``segments.topk_seg``, ``first_per_key``), so that a cluster selects the same alone and in any batch
(docs/plans/ensemble-engine.md, §2 and R3-R4).
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
    per_cluster,
    reputation,
    spread,
    success_signal,
)
from ..segments import first_per_key, rank_in_segment, seg_starts, topk_seg
from ..state import ACTIVE
from ..streams import Site
from .rules import (
    expected_cooperation,
    expected_gain,
    expected_return,
    goal_alignment,
    goal_alignments,
    most_preferred_type,
    most_preferred_types,
)


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
        idle &= s.face_to_face[s.firm_cluster] | f.digital_access | (rep >= s.per_firm(s.coef.trusted_threshold))
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


def proposal_counts(s: ClusterState, idle: np.ndarray, n_idle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poisson numbers of facilitated and self-organised proposals per cluster, capped by the idle members.

    Returns (facilitated proposals, all proposals), one each per cluster.
    """
    facilitated_rate, self_rate = proposal_rates(s, idle, n_idle)
    if s.reduce.legacy:  # the golden series' stream: one Poisson draw of one float mean each
        n_fac = np.array([s.draws.poisson(Site.PROPOSALS_FACILITATED, float(facilitated_rate[0]))])
        n_self = np.array([s.draws.poisson(Site.PROPOSALS_SELF, float(self_rate[0]))])
    else:
        sites = (Site.PROPOSALS_FACILITATED, Site.PROPOSALS_SELF)
        n_fac, n_self = s.draws.poissons(sites, (facilitated_rate, self_rate))
    n_prop = np.minimum(n_fac + n_self, n_idle // s.coef.idle_firms_per_proposal)
    return np.minimum(n_fac, n_prop), n_prop


def choose_initiators(s: ClusterState, idle_idx: np.ndarray, n_prop: np.ndarray) -> np.ndarray:
    """Initiators drawn without replacement, weighted by motivation (leaders weigh more); Gumbel top-k in each
    cluster, then put in random order (grouped by cluster)."""
    f, c = s.firms, s.coef_for("firm", idle_idx)
    weight = f.motivation[idle_idx] * (1.0 + c.leader_seed_weight * f.leader[idle_idx]) + 1e-9  # no log(0)
    keys = np.log(weight) - np.log(-np.log(s.draws.uniform(Site.INITIATOR, idle_idx)))
    if s.reduce.legacy:
        seeds = idle_idx[np.argpartition(-keys, n_prop[0] - 1)[: n_prop[0]]]
    else:
        seeds = idle_idx[topk_seg(keys, s.firm_cluster[idle_idx], s.K, n_prop)]  # idle_idx: in index order
    return seeds[s.draws.order(Site.INITIATOR_ORDER, seeds)]


def make_proposals(s: ClusterState, seeds: np.ndarray, facilitated: np.ndarray, common: np.ndarray, gain) -> Proposals:
    """Facilitators push their cluster's common strategy; self-organised groups follow the initiator's preference.

    A facilitated proposal is supported by the manager or the BSO: the chance that either gets it
    right, ``1 - (1 - manager skill)(1 - BSO capacity)``, in the initiator's cluster.
    """
    cluster = s.firm_cluster[seeds]
    kind = np.where(facilitated, common[cluster], gain[seeds].argmax(axis=1))
    manager_skill = np.where(manager_active(s), s.manager.skill, 0.0)
    support = 1.0 - (1.0 - manager_skill) * (1.0 - s.bso.capacity)
    facilitation = np.where(facilitated, support[cluster], 0.0)
    return Proposals(seeds, kind, facilitated, facilitation)


def matchmaking(s: ClusterState, props: Proposals, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Firms a facilitator introduces: in each cluster up to ``matchmaking_candidates_per_proposal`` per
    facilitated proposal, drawn from its eligible firms and dealt round-robin to its facilitated proposals.

    Returns (proposal index, firm) per introduction. Proposals are grouped by cluster.
    """
    fac_idx = props.facilitated.nonzero()[0]
    fac_cluster = s.firm_cluster[props.seeds[fac_idx]]
    n_fac = np.bincount(fac_cluster, minlength=s.K)
    pool = eligible.nonzero()[0]
    k = np.minimum(s.tally(pool), s.coef.matchmaking_candidates_per_proposal * n_fac)
    if not (k > 0).any():
        return pool[:0], pool[:0]
    extra = s.draws.sample(Site.MATCHMAKING, pool, int(k[0]) if s.reduce.legacy else k)
    extra_cluster = s.firm_cluster[extra]  # grouped by cluster, as the proposals are
    nth = rank_in_segment(extra_cluster, s.K)
    first_fac = seg_starts(fac_cluster, s.K)
    return fac_idx[first_fac[extra_cluster] + nth % n_fac[extra_cluster]], extra


def first_calls(s: ClusterState, props: Proposals, cand_p, cand_f, cand_src) -> np.ndarray:
    """Positions of the calls firms answer: a firm asked twice answers its first call, in random order.

    A call is addressed by its content (initiator, firm, source), never by its position in the list.
    The kept calls are sorted by firm.
    """
    address = (props.seeds[cand_p], cand_f, cand_src)
    if s.reduce.legacy:
        order = s.draws.order(Site.FIRST_CALL, *address)
        return order[np.unique(cand_f[order], return_index=True)[1]]
    first = s.draws.uniform(Site.FIRST_CALL, *address)
    return first_per_key(cand_f, first, s.layout.localise("firm", props.seeds[cand_p])[1])


def candidates(s: ClusterState, props: Proposals, idle: np.ndarray, rep: np.ndarray):
    """Who is asked: idle neighbours of each initiator over active ties, plus firms a facilitator
    introduces (matchmaking). A firm asked twice answers its first call, in random order.

    Returns (proposal index, firm, trust in the initiator) per candidate.
    """
    f, net = s.firms, s.network
    t = net.ties
    prop_of = np.full(f.n, -1, dtype=np.int64)
    prop_of[props.seeds] = np.arange(props.count)
    eligible = idle & (prop_of < 0)
    act = t.active
    a = act & (prop_of[t.u] >= 0) & eligible[t.v]
    b = act & (prop_of[t.v] >= 0) & eligible[t.u]
    extra_p, extra = matchmaking(s, props, eligible)
    cand_p = np.concatenate([prop_of[t.u[a]], prop_of[t.v[b]], extra_p])
    cand_f = np.concatenate([t.v[a], t.u[b], extra])
    cand_tr = np.concatenate([net.trust[a], net.trust[b], rep[props.seeds[extra_p]]])
    # 0: asked over a tie, 1: introduced by a facilitator
    cand_src = np.concatenate([np.zeros(cand_f.size - extra.size, dtype=np.int64), np.ones(extra.size, np.int64)])
    if cand_f.size == 0:
        return cand_p, cand_f, cand_tr
    keep = first_calls(s, props, cand_p, cand_f, cand_src)
    return cand_p[keep], cand_f[keep], cand_tr[keep]


def join_score(s: ClusterState, props: Proposals, cand_p, cand_f, cand_tr, own_share, evidence, signal):
    """Expected return, minus coordination costs, plus motivation and facilitation (SF9, SF11).

    Coordination costs buy nothing; a facilitator who breaks the work into doable parts removes a
    share ``facilitated_coordination_relief`` of them (004 §Cluster Development Agents).
    ``own_share`` is (K, types) and ``evidence``, ``signal`` are per cluster; one row or value serves
    every cluster. A candidate is in its proposal's cluster, so the coefficients are the candidates'.
    """
    c, f, types = s.coef_for("firm", cand_f), s.firms, s.types
    k_c = props.kind[cand_p]
    cluster = s.firm_cluster[cand_f]
    own_share = np.asarray(own_share)
    if own_share.ndim == 1:  # one row of shares for every cluster
        own_share = np.broadcast_to(own_share, (s.K, types.count))
    evidence, signal = per_cluster(s, evidence), per_cluster(s, signal)
    expect = expected_cooperation(c, cand_tr, spread(s, evidence, "firm", cand_f), spread(s, signal, "firm", cand_f))
    ret = expected_return(
        types,
        c,
        k_c,
        f.weights[cand_f, k_c],
        f.capability[cand_f],
        f.capital[cand_f],
        own_share[cluster, k_c],
        expect,
        cluster,
    )
    relief = 1.0 - c.facilitated_coordination_relief * (props.facilitation[cand_p] > 0)
    coordination = c.transaction_cost * relief / (types.at("cost", k_c, cluster) * c.joint_action_cost + 1e-9)  # no 0/0
    return (
        ret
        - coordination
        + c.trust_weight * (f.motivation[cand_f] - c.neutral_motivation)
        + c.facilitation_join_bonus * props.facilitation[cand_p]
    )


def joins(s: ClusterState, props: Proposals, cand_p, cand_f, cand_tr, own_share, evidence, signal) -> np.ndarray:
    """Which candidates join: a logistic chance in the join score, and only what they can pay for."""
    c = s.coef_for("firm", cand_f)
    score = join_score(s, props, cand_p, cand_f, cand_tr, own_share, evidence, signal)
    with np.errstate(over="ignore"):  # a steep slope overflows exp() to inf: a join chance of exactly 0
        join_chance = 1.0 / (1.0 + np.exp(-c.join_decision_slope * score))
    joined = s.draws.uniform(Site.JOIN, props.seeds[cand_p], cand_f) < join_chance
    # a firm joins only what it can pay its share of (SF5, SF11): small firms are priced out first
    # the month's shares read at the start of formation: nothing has been paid since
    share = np.broadcast_to(np.asarray(own_share), (s.K, s.types.count))  # one row may serve every cluster
    joined &= own_monthly_cost(s, props.kind[cand_p], s.firm_cluster[cand_f], share) <= liquidity(s)[cand_f]
    return joined


def start_actions(s: ClusterState, props: Proposals, cand_p: np.ndarray, cand_f: np.ndarray, asked=None) -> None:
    """Proposals that reach their type's minimum start; failed calls cost the initiator motivation.

    Only in the clusters that ``asked`` anyone (per cluster; None: every cluster made its calls): where
    nobody could be asked, the calls were never made.
    """
    f, types = s.firms, s.types
    size = np.bincount(cand_p, minlength=props.count) + 1
    seed_cluster = s.firm_cluster[props.seeds]
    called = np.ones(props.count, dtype=bool) if asked is None else asked[seed_cluster]
    start = called & (size >= types.at("min_participants", props.kind, seed_cluster))
    # a failed call for partners costs the initiator some motivation (coordination cost, SF11)
    failed = props.seeds[called & ~start]
    f.motivation[failed] *= s.per_firm(s.coef.failed_call_motivation_factor, failed)
    if not start.any():
        return
    go = start.nonzero()[0]
    kind = props.kind[go]
    start_month = np.full(go.size, s.month)
    end = s.month + types.at("duration_months", kind, seed_cluster[go])
    ids = s.actions.add(kind, start_month, end, size[go], props.facilitation[go], seed_cluster[go])
    action_of_prop = np.full(props.count, -1, dtype=np.int64)
    action_of_prop[go] = ids
    members = np.concatenate([props.seeds[go], cand_f[start[cand_p]]])
    f.action[members] = action_of_prop[np.concatenate([go, cand_p[start[cand_p]]])]
    f.state[members] = ACTIVE
    # each started action has one initiator, so counting initiators counts the actions of each cluster
    s.cumulative["started"] += s.tally(props.seeds[go])


def common_goals(s: ClusterState, gain_idle: np.ndarray, neutral: np.ndarray, idle_idx, live) -> np.ndarray:
    """Each cluster's common strategy (returned, per cluster) and the alignment of its live clusters' goals
    (stored)."""
    c = s.coef_for("firm", idle_idx)
    # alignment is about goals, so it is measured at a neutral expectation of partners
    if s.reduce.legacy:
        common, alignment = np.array([most_preferred_type(gain_idle)]), np.array([goal_alignment(c, neutral)])
    else:
        cluster = s.firm_cluster[idle_idx]
        common, alignment = most_preferred_types(gain_idle, cluster, s.K), goal_alignments(c, neutral, cluster, s.K)
    s.alignment[live] = alignment[live]
    return common


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
    if not live.all():
        idle &= live[s.firm_cluster]  # the other clusters propose nothing this month
    own_share = own_cost_share(s)
    idle_idx = idle.nonzero()[0]
    evidence, signal = s.outcomes_recent[:, 0] / s.outcomes_recent[:, 1], success_signal(s)
    evidence_each, signal_each = spread(s, evidence, "firm", idle_idx), spread(s, signal, "firm", idle_idx)
    expect = expected_cooperation(s.coef_for("firm", idle_idx), rep[idle_idx], evidence_each, signal_each)
    share = spread(s, own_share, "firm", idle_idx)  # each idle firm's row of its cluster's shares
    w, cap, capital = f.weights[idle_idx], f.capability[idle_idx], f.capital[idle_idx]
    # expected_gain works on (firms, types): each firm's coefficients as a column
    per_idle = s.coef_for("firm", idle_idx[:, None])
    gain = np.zeros((f.n, types.count))
    idle_cluster = s.firm_cluster[idle_idx]
    gain[idle_idx] = expected_gain(types, per_idle, w, cap, capital, share, expect, idle_cluster)
    reference = per_idle.alignment_reference_expectation
    neutral = expected_gain(types, per_idle, w, cap, capital, share, reference, idle_cluster)
    common = common_goals(s, gain[idle_idx], neutral, idle_idx, live)
    n_fac, n_prop = proposal_counts(s, idle, n_idle)
    if not (n_prop > 0).any():
        return
    seeds = choose_initiators(s, idle_idx, n_prop)
    seed_cluster = s.firm_cluster[seeds]
    facilitated = rank_in_segment(seed_cluster, s.K) < n_fac[seed_cluster]  # each cluster's first n_fac
    props = make_proposals(s, seeds, facilitated, common, gain)
    cand_p, cand_f, cand_tr = candidates(s, props, idle, rep)
    if cand_f.size == 0:
        return
    joined = joins(s, props, cand_p, cand_f, cand_tr, own_share, evidence, signal)
    start_actions(s, props, cand_p[joined], cand_f[joined], asked=s.tally(cand_f) > 0)
