"""The cluster association (docs/ODD.md, "Association"; SF12, SF14).

Members found a governance body once trust and joint action have held above registered thresholds
for some months (004 key principle 4: governance follows social capital). It collects a fee from
members who see value (they cooperated recently), co-pays the cluster manager (taking over as the
programme tapers out, or after an abrupt exit if it can), coordinates joint actions, and learns to
run the manager's role by doing it (000 §BSOs' future objectives; §Cluster Development as a
Long-Term Goal).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..queries import association_capability, association_trust_needed, cooperating


def found_or_collect(s: ClusterState) -> None:
    """Before it exists: count months above both thresholds. Once it exists: collect fees."""
    c, a, f, net = s.coef, s.association, s.firms, s.network
    coop = cooperating(s)
    forming = ~a.formed  # a cluster founds or collects in a month, never both
    if forming.any():
        mean_trust = s.reduce.mean(net.trust, "tie", where=net.ties.active, empty=0.0)
        above = (mean_trust >= association_trust_needed(s)) & (
            s.reduce.mean(coop, "firm") >= c.association_cooperation_threshold
        )
        a.months_above[:] = np.where(forming, np.where(above, a.months_above + 1, 0), a.months_above)
        founded = forming & (a.months_above >= c.association_formation_months)
        a.formed_month[:] = np.where(founded, s.month, a.formed_month)
    if forming.all():  # no association collects yet (its accounts would only gain 0.0)
        return
    payers = f.engaged & coop  # members who see value pay; the others stop paying
    if forming.any():
        payers &= s.per_firm(~forming)  # only where the association exists
    n_payers = s.tally(payers)
    fees = np.where(~forming, c.association_fee * n_payers, 0.0)
    f.payoff[payers] -= s.coef_for("firm", payers).association_fee
    a.cash += fees
    a.fees_collected += fees
    a.paying_members[:] = np.where(~forming, n_payers, a.paying_members)
    s.ledger.firm_fees += fees


def pay_manager(s: ClusterState, share_wanted: np.ndarray) -> np.ndarray:
    """Pay up to ``share_wanted`` of this month's salary, within its capability and cash; returns the share paid
    (none where the manager costs nothing)."""
    a = s.association
    salary = s.coef.manager_cost_per_month
    salaried = np.asarray(salary) > 0
    if not (salaried & a.formed & (share_wanted > 0)).any():  # nobody to pay: every account stays as it is
        return np.zeros(s.K)
    with np.errstate(divide="ignore", invalid="ignore"):  # an unsalaried cluster's share is discarded below
        share = np.minimum(np.minimum(share_wanted, association_capability(s)), a.cash / salary)
    paying = salaried & a.formed & (share_wanted > 0) & (share > 0)
    share = np.where(paying, share, 0.0)
    a.cash -= share * salary
    a.manager_paid += share * salary
    a.copay_months += paying
    return share
