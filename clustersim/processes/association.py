"""The cluster association (docs/ODD.md, "Association"; SF12, SF14).

Members found a governance body once trust and joint action have held above registered thresholds
for some months (004 key principle 4: governance follows social capital). It collects a fee from
members who see value (they cooperated recently), co-pays the cluster manager (taking over as the
programme tapers out, or after an abrupt exit if it can), coordinates joint actions, and learns to
run the manager's role by doing it (000 §BSOs' future objectives; §Cluster Development as a
Long-Term Goal).
"""

from __future__ import annotations

from ..cluster_state import ClusterState
from ..queries import association_capability, association_trust_needed, cooperating


def found_or_collect(s: ClusterState) -> None:
    """Before it exists: count months above both thresholds. Once it exists: collect fees."""
    c, a, f, net = s.coef, s.association, s.firms, s.network
    coop = cooperating(s)
    if not a.formed:
        act = net.ties.active
        mean_trust = float(net.trust[act].mean()) if act.any() else 0.0
        above = mean_trust >= association_trust_needed(s) and coop.mean() >= c.association_cooperation_threshold
        a.months_above = a.months_above + 1 if above else 0
        if a.months_above >= c.association_formation_months:
            a.formed_month = s.month
        return
    payers = f.engaged & coop  # members who see value pay; the others stop paying
    fees = c.association_fee * float(payers.sum())
    f.payoff[payers] -= c.association_fee
    a.cash += fees
    a.fees_collected += fees
    a.paying_members = int(payers.sum())
    s.ledger.firm_fees += fees


def pay_manager(s: ClusterState, share_wanted: float) -> float:
    """Pay up to ``share_wanted`` of this month's salary, within its capability and cash; returns the share paid."""
    a = s.association
    salary = s.coef.manager_cost_per_month
    if not a.formed or share_wanted <= 0 or salary <= 0:
        return 0.0
    share = min(share_wanted, association_capability(s), a.cash / salary)
    if share <= 0:
        return 0.0
    a.cash -= share * salary
    a.manager_paid += share * salary
    a.copay_months += 1
    return share
