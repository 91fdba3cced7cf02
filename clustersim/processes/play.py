"""Play (docs/ODD.md, "Process overview": step 10; SF9, SF11).

Each running joint action is a public goods game this month: each participant contributes its
cost share or free-rides; pooled contributions are multiplied by the type's multiplier and shared
by benefit weight. The grant co-finances contributions to funded types while the account holds
cash (004 §The intervention logic; 000 §The Compete Caribbean Cluster Program).

A joint action's players all belong to one cluster, so per-cluster values reach a player through
its own cluster (``s.firm_cluster``), and per-cluster totals are the state's reductions over firms.
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..queries import any_cluster, cofinanced, cofinancing_envelope, liquidity, manager_active, own_cost_share, spread
from ..streams import Site
from .rules import contribution_probability
from .trust import trust_from_play


def spread_over_firms(s: ClusterState, players: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A per-player array as a per-firm one (zero, or False, for the other firms)."""
    out = np.zeros(s.firms.n, dtype=values.dtype)
    out[players] = values
    return out


def sum_over_players(s: ClusterState, players: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-cluster sum of a per-player array, through the state's reducer.

    Spread over the firms so that the reducer sees each player's cluster; ``players`` is in firm order, so
    the legacy reducer sums exactly ``values``, in the same order, as the single-cluster code did.
    """
    playing = np.zeros(s.firms.n, dtype=bool)
    playing[players] = True
    return s.reduce.sum(spread_over_firms(s, players, values), "firm", where=playing)


def co_player_ties(s: ClusterState, players: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group id per firm (-1 if not playing) and the ties whose two ends play in the same group."""
    t = s.network.ties
    gid = np.full(s.firms.n, -1, dtype=np.int64)
    gid[players] = group
    return gid, (gid[t.u] >= 0) & (gid[t.u] == gid[t.v])


def trust_in_co_players(s: ClusterState, players: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Each player's mean trust over active ties inside its group (its propensity if none)."""
    f = s.firms
    return s.network.mean_trust_of(inside, f.n, f.trust_propensity)[players]


def contribution_chance(s: ClusterState, players, group, inside, private_return) -> np.ndarray:
    """The decision rule (rules.contribution_probability) plus the facilitation bonus of the action."""
    c, f = s.coef_for("firm", players), s.firms
    prob = contribution_probability(
        c, f.disposition[players], trust_in_co_players(s, players, inside), f.motivation[players], private_return
    )
    return (prob + c.facilitation_contribution_bonus * s.actions.facilitated[group]).clip(0.0, 1.0)


def grant_cover(s: ClusterState, players, contrib, funded, unit_cost, own) -> np.ndarray:
    """Pay the grant's share of funded contributions from each cluster's account; returns each player's
    own share after the payment (a shortfall falls on the firm).

    Only clusters with a funded player ask the account for money (a cluster without one leaves its
    account, and its rounding residue, untouched).
    """
    c = s.coef_for("firm", players)
    grant_due = np.where(contrib & funded, (1.0 - c.cofunding_share) * unit_cost, 0.0)
    need = sum_over_players(s, players, grant_due)
    asking = s.reduce.any(spread_over_firms(s, players, funded), "firm")
    if any_cluster(s.coef.cofinancing_paced):
        # a spending plan pays at most this month's envelope; what it rations falls on the firms
        envelope = cofinancing_envelope(s)
        s.ledger.record_shortfall("cofinancing", np.maximum(need - envelope, 0.0), asking)
        need_paid = np.minimum(need, envelope)
    else:
        need_paid = need
    paid = s.ledger.pay("cofinancing", need_paid, where=asking)
    cover = np.divide(paid, need, out=np.ones(s.K), where=need > 0)
    s.ledger.cofinancing_cover[need > 0] = cover[need > 0]
    cover = cover[s.firm_cluster[players]]
    return np.where(funded, c.cofunding_share + (1.0 - c.cofunding_share) * (1.0 - cover), own)


def settle_payoffs(s: ClusterState, players, group, contrib, own_paid, unit_cost, r, w, wsum) -> None:
    """Each player's share of its group's multiplied pot, minus what it paid and coordination costs (in the
    clusters that have them); payoffs of clusters where nobody plays only decay, as when no cluster plays."""
    c, f, book = s.coef_for("firm", players), s.firms, s.actions
    monthly_payoff = np.zeros(f.n)
    pot = np.bincount(group, weights=contrib * unit_cost[group], minlength=r.size) * r
    share = pot[group] * w / np.maximum(wsum[group], 1e-9)
    monthly_payoff[players] = share - own_paid
    costly = c.transaction_cost > 0  # per player where the clusters' costs differ
    if any_cluster(costly):  # a Python bool where the batch shares the cost (np.any's dispatch costs 10 us)
        relief = 1.0 - c.facilitated_coordination_relief * (book.facilitated[group] > 0)
        # a player of a cluster without coordination costs keeps its payoff (x - 0.0 is x, bit for bit)
        monthly_payoff[players] -= np.where(costly, c.transaction_cost * relief, 0.0)
    decayed = s.per_firm(s.coef.payoff_memory) * f.payoff
    in_play = s.tally(players) > 0  # the players are the firms in an action (f.action >= 0)
    # where nobody plays payoffs only decay, as in the early return (decayed + 0.0 would turn -0.0 into +0.0)
    if in_play.all():
        f.payoff = decayed + monthly_payoff
    else:
        f.payoff = np.where(in_play[s.firm_cluster], decayed + monthly_payoff, decayed)


def record_contributions(s: ClusterState, players, group, contrib) -> np.ndarray:
    """Book the month's contributions (firms, actions, per-cluster tallies); returns who contributed, per firm."""
    f, book = s.firms, s.actions
    f.last_contribution[players[contrib]] = s.month
    contributed = spread_over_firms(s, players, contrib)
    s.cumulative["contributions"] += s.reduce.count(contributed, "firm")
    playing = spread_over_firms(s, players, np.ones(players.size, dtype=bool))
    s.contribution_rate[:] = s.reduce.mean(contributed, "firm", where=playing)  # nan where nobody plays
    f.action_contributions[players[contrib]] += 1.0
    book.contributions[: book.count] += np.bincount(group, weights=contrib.astype(float), minlength=book.count)[
        : book.count
    ]
    return contributed


def play_joint_actions(s: ClusterState) -> None:
    """Contribute or free-ride in every running joint action; payoffs, ledger, trust."""
    c, f, net, book = s.coef, s.firms, s.network, s.actions
    players = (f.action >= 0).nonzero()[0]  # np.flatnonzero without its wrapper (3 us a call)
    if players.size == 0:
        s.contribution_rate[:] = np.nan
        f.payoff *= s.per_firm(c.payoff_memory)
        return
    group = f.action[players]
    kinds = book.kind[: book.count]
    per_action = s.coef_for("action")
    action_cluster = book.cluster[: book.count]
    r = s.types.at("multiplier", kinds, action_cluster) * per_action.benefit_multiplier
    unit_cost = s.types.at("cost", kinds, action_cluster) * per_action.joint_action_cost
    kind, cluster = book.kind[group], s.firm_cluster[players]
    w = f.weights[players, kind]
    wsum = np.bincount(group, weights=w, minlength=r.size)
    funding = cofinanced(s)
    funded = funding[cluster, kind]
    own = own_cost_share(s, funding)[cluster, kind]
    gid, same = co_player_ties(s, players, group)
    net.activate(same & ~net.ties.active)  # working together creates a tie
    inside = same & net.ties.active
    private_return = r[group] * w / np.maximum(wsum[group], 1e-9) / np.maximum(own, 1e-9)  # 1e-9: no 0/0
    prob = contribution_chance(s, players, group, inside, private_return)
    contrib = s.draws.uniform(Site.CONTRIBUTION, players) < prob
    # a participant who cannot pay its own share this month free-rides whatever it intends
    contrib &= own * unit_cost[group] <= liquidity(s)[players]
    if funded.any():
        own = grant_cover(s, players, contrib, funded, unit_cost[group], own)
    own_paid = contrib * unit_cost[group] * own
    s.ledger.firm_own_contributions += sum_over_players(s, players, own_paid)
    settle_payoffs(s, players, group, contrib, own_paid, unit_cost, r, w, wsum)
    contributed = record_contributions(s, players, group, contrib)
    # an active manager's facilitation damps the conflicts free riding causes
    facilitated = book.facilitated[np.maximum(gid[net.ties.u], 0)]
    damping = 1.0 - s.per_tie(c.facilitation_conflict_damping) * facilitated * spread(s, manager_active(s), "tie")
    trust_from_play(s, inside, contributed, damping)
