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
from ..streams import Site
from .learning import adopt_if_better, leader_floor
from .play import co_player_ties, trust_in_co_players
from .rules import contribution_probability
from .trust import trust_from_play


def play_random_groups(s: ClusterState) -> None:
    """Firms are shuffled into groups of ``game_group_size`` each month and play one round."""
    assert s.K == 1, "K = 1 until the ensemble step 5h (docs/plans/ensemble-engine.md): groups per cluster"
    c, f, net = s.coef, s.firms, s.network
    players = s.draws.order(Site.GROUP_SHUFFLE, f.n)
    n_groups = max(1, f.n // c.game_group_size)
    players = players[: n_groups * c.game_group_size]
    group = np.arange(players.size) // c.game_group_size
    r = np.full(n_groups, c.game_multiplier)
    wsum = np.bincount(group, minlength=n_groups).astype(float)
    _, same = co_player_ties(s, players, group)
    inside = same & net.ties.active
    private_return = r[group] / wsum[group]
    prob = contribution_probability(
        c, f.disposition[players], trust_in_co_players(s, players, inside), f.motivation[players], private_return
    )
    contrib = s.draws.uniform(Site.GROUP_CONTRIBUTION, players) < prob
    pot = np.bincount(group, weights=contrib * 1.0, minlength=n_groups) * r  # unit cost 1
    monthly_payoff = np.zeros(f.n)
    monthly_payoff[players] = pot[group] / wsum[group] - contrib
    f.payoff = c.payoff_memory * f.payoff + monthly_payoff
    f.last_contribution[players[contrib]] = s.month
    s.cumulative["contributions"] += s.tally(players[contrib])
    s.contribution_rate[:] = contrib.mean()  # K = 1 (above)
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
    assert s.K == 1, "K = 1 until the ensemble step 5h (docs/plans/ensemble-engine.md): partners per cluster"
    learners = _learners(s)
    if learners.size == 0:
        return
    partner = s.draws.integers(Site.WELL_MIXED_PARTNER, s.firms.n, learners)
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
