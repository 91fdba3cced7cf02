"""Play (docs/ODD.md, "Process overview": step 10; SF9, SF11).

Each running joint action is a public goods game this month: each participant contributes its
cost share or free-rides; pooled contributions are multiplied by the type's multiplier and shared
by benefit weight. The grant co-finances contributions to funded types while the account holds
cash (004 §The intervention logic; 000 §The Compete Caribbean Cluster Program).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..queries import cofinanced, liquidity, manager_active, own_cost_share
from ..streams import Site
from .rules import contribution_probability
from .trust import trust_from_play


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
    c, f = s.coef, s.firms
    prob = contribution_probability(
        c, f.disposition[players], trust_in_co_players(s, players, inside), f.motivation[players], private_return
    )
    return np.clip(prob + c.facilitation_contribution_bonus * s.actions.facilitated[group], 0.0, 1.0)


def grant_cover(s: ClusterState, contrib, funded, unit_cost, own) -> np.ndarray:
    """Pay the grant's share of funded contributions from the cluster account; returns each player's
    own share after the payment (a shortfall falls on the firm)."""
    c = s.coef
    grant_due = np.where(contrib & funded, (1.0 - c.cofunding_share) * unit_cost, 0.0)
    need = float(grant_due.sum())
    paid = s.ledger.pay("cofinancing", need)
    cover = paid / need if need > 0 else 1.0
    return np.where(funded, c.cofunding_share + (1.0 - c.cofunding_share) * (1.0 - cover), own)


def play_joint_actions(s: ClusterState) -> None:
    """Contribute or free-ride in every running joint action; payoffs, ledger, trust."""
    c, f, net, book = s.coef, s.firms, s.network, s.actions
    monthly_payoff = np.zeros(f.n)
    players = np.flatnonzero(f.action >= 0)
    if players.size == 0:
        s.contribution_rate = np.nan
        f.payoff *= c.payoff_memory
        return
    group = f.action[players]
    kinds = book.kind[: book.count]
    r = s.types.multiplier[kinds] * c.benefit_multiplier
    unit_cost = s.types.cost[kinds] * c.joint_action_cost
    n_groups = r.size
    kind = book.kind[group]
    w = f.weights[players, kind]
    wsum = np.bincount(group, weights=w, minlength=n_groups)
    funded = cofinanced(s)[kind]
    own = own_cost_share(s)[kind]
    gid, same = co_player_ties(s, players, group)
    net.activate(same & ~net.ties.active)  # working together creates a tie
    inside = same & net.ties.active
    private_return = r[group] * w / np.maximum(wsum[group], 1e-9) / np.maximum(own, 1e-9)  # 1e-9: no 0/0
    prob = contribution_chance(s, players, group, inside, private_return)
    contrib = s.draws.uniform(Site.CONTRIBUTION, players) < prob
    # a participant who cannot pay its own share this month free-rides whatever it intends
    contrib &= own * unit_cost[group] <= liquidity(s)[players]
    if funded.any():
        own = grant_cover(s, contrib, funded, unit_cost[group], own)
    own_paid = contrib * unit_cost[group] * own
    s.ledger.firm_own_contributions += float(own_paid.sum())
    pot = np.bincount(group, weights=contrib * unit_cost[group], minlength=n_groups) * r
    share = pot[group] * w / np.maximum(wsum[group], 1e-9)
    monthly_payoff[players] = share - own_paid
    if c.transaction_cost > 0:
        relief = 1.0 - c.facilitated_coordination_relief * (book.facilitated[group] > 0)
        monthly_payoff[players] -= c.transaction_cost * relief
    f.payoff = c.payoff_memory * f.payoff + monthly_payoff
    f.last_contribution[players[contrib]] = s.month
    s.cumulative["contributions"] += int(contrib.sum())
    s.contribution_rate = float(contrib.mean())
    f.action_contributions[players[contrib]] += 1.0
    book.contributions[: book.count] += np.bincount(group, weights=contrib.astype(float), minlength=book.count)[
        : book.count
    ]
    contributed = np.zeros(f.n, dtype=bool)
    contributed[players] = contrib
    # an active manager's facilitation damps the conflicts free riding causes
    damping = 1.0 - c.facilitation_conflict_damping * book.facilitated[np.maximum(gid[net.ties.u], 0)] * manager_active(
        s
    )
    trust_from_play(s, inside, contributed, damping)
