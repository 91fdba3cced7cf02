"""The plain public goods game, a limit case kept apart from the cluster model (docs/ODD.md,
"Limit cases"; Santos, Santos & Pacheco 2008).

Two variants: random groups re-drawn each month (well mixed), and every firm playing the game
centred on itself and on each neighbour (network reciprocity). They reuse the cluster model's
decision, trust and imitation rules, but not its projects, funding or facilitation, and the
model runs them as their own schedules (clustersim.model.VARIANTS).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..network import random_incident_partner
from ..queries import per_cluster
from ..streams import Site
from .learning import adopt_if_better, leader_floor
from .play import co_player_ties, trust_in_co_players
from .rules import contribution_probability
from .trust import trust_from_play


def shuffle_into_groups(s: ClusterState, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut each cluster's shuffled firms (``order``: grouped by cluster, shuffled within) into groups of
    ``game_group_size``: ``(players, group, groups per cluster)``. A cluster has ``max(1, n // size)`` groups; the
    firms left over sit the month out (all firms play in one group when there are fewer than ``size``)."""
    size = per_cluster(s, s.coef.game_group_size, dtype=np.int64)
    n_groups = np.maximum(1, s.layout.sizes("firm") // size)
    cluster = s.firm_cluster[order]
    rank = np.arange(order.size) - s.layout.firm_ptr[cluster]  # place in its cluster's shuffle
    keep = rank < (n_groups * size)[cluster]
    players, cluster, rank = order[keep], cluster[keep], rank[keep]
    first_group = np.cumsum(n_groups) - n_groups
    return players, first_group[cluster] + rank // size[cluster], n_groups


def play_random_groups(s: ClusterState) -> None:
    """Firms are shuffled into groups of ``game_group_size`` within their cluster each month and play one round."""
    f, net = s.firms, s.network
    players, group, n_groups = shuffle_into_groups(s, s.draws.order(Site.GROUP_SHUFFLE, f.n))
    total = int(n_groups.sum())
    r = np.repeat(per_cluster(s, s.coef.game_multiplier), n_groups)  # each group's multiplier, its cluster's
    wsum = np.bincount(group, minlength=total).astype(float)
    _, same = co_player_ties(s, players, group)
    inside = same & net.ties.active
    private_return = r[group] / wsum[group]
    prob = contribution_probability(
        s.coef_for("firm", players),
        f.disposition[players],
        trust_in_co_players(s, players, inside),
        f.motivation[players],
        private_return,
    )
    contrib = s.draws.uniform(Site.GROUP_CONTRIBUTION, players) < prob
    pot = np.bincount(group, weights=contrib * 1.0, minlength=total) * r  # unit cost 1
    monthly_payoff = np.zeros(f.n)
    monthly_payoff[players] = pot[group] / wsum[group] - contrib
    f.payoff = s.per_firm(s.coef.payoff_memory) * f.payoff + monthly_payoff
    f.last_contribution[players[contrib]] = s.month
    s.cumulative["contributions"] += s.tally(players[contrib])
    s.contribution_rate[:] = s.tally(players[contrib]) / s.tally(players)  # exact counts: np.mean's bits
    contributed = np.zeros(f.n, dtype=bool)
    contributed[players] = contrib
    trust_from_play(s, inside, contributed, np.ones(net.ties.n_ties))


def play_neighbourhoods(s: ClusterState) -> None:
    """Every firm plays the game centred on itself and one centred on each neighbour; a fresh round
    each month (the canonical game has no memory)."""
    f, net = s.firms, s.network
    multiplier = s.per_firm(s.coef.game_multiplier)
    t = net.ties
    act = t.active
    u, v = t.u[act], t.v[act]
    n = f.n
    deg = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    trust_in = net.mean_trust_of(act, n, f.trust_propensity)
    group_size = deg + 1.0  # a firm and its neighbours
    prob = contribution_probability(s.coef_for("firm"), f.disposition, trust_in, f.motivation, multiplier / group_size)
    contrib = s.draws.uniform(Site.NEIGHBOURHOOD_CONTRIBUTION, n) < prob
    x = contrib.astype(float)
    contributors = x + np.bincount(u, weights=x[v], minlength=n) + np.bincount(v, weights=x[u], minlength=n)
    share = multiplier * contributors / group_size  # each member's share of the game centred at i
    received = share + np.bincount(u, weights=share[v], minlength=n) + np.bincount(v, weights=share[u], minlength=n)
    f.payoff = received - x * group_size
    f.last_contribution[contrib] = s.month
    s.contribution_rate[:] = s.reduce.mean(x, "firm")
    s.cumulative["contributions"] += s.tally(contrib)


def _learners(s: ClusterState) -> np.ndarray:
    """This month's learners: any firm, each with chance ``imitation_rate`` (none drawn when it is 0 in every
    cluster; a uniform is never below a rate of 0)."""
    if np.all(np.asarray(s.coef.imitation_rate) <= 0):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(s.draws.uniform(Site.PLAIN_LEARNER, s.firms.n) < s.coef_for("firm").imitation_rate)


def imitate_well_mixed(s: ClusterState) -> None:
    """Any firm may copy any other (random groups)."""
    learners = _learners(s)
    if learners.size == 0:
        return
    if s.K == 1:  # one population size: the legacy stream's call as it always was
        partner = s.draws.integers(Site.WELL_MIXED_PARTNER, s.firms.n, learners)
    else:  # anyone in the learner's own cluster
        cluster = s.firm_cluster[learners]
        local = s.draws.integers(Site.WELL_MIXED_PARTNER, s.layout.sizes("firm")[cluster], learners)
        partner = local + s.layout.firm_ptr[cluster]
    ok = partner != learners
    adopt_if_better(s, learners[ok], partner[ok])
    leader_floor(s, learners)


def imitate_any_neighbour(s: ClusterState) -> None:
    """Any firm may copy a neighbour over an active tie (neighbourhood games)."""
    learners = _learners(s)
    if learners.size == 0:
        return
    uniform = s.draws.uniform(Site.NEIGHBOUR_PARTNER, learners)
    tie, partner = random_incident_partner(s.network.ties, learners, uniform)
    ok = (tie >= 0) & s.network.ties.active[np.maximum(tie, 0)]
    adopt_if_better(s, learners[ok], partner[ok])
    leader_floor(s, learners)
