"""Calendar and programme (docs/ODD.md, "Process overview": steps 1, 3, 4 and 18).

The month's conditions (is the programme running? can people meet face to face?) and the
scheduled events: grant tranches, BSO training blocks, regional exchanges, firm training and a
hurricane (000 Tables 4-7; 000 §Regional Ecosystem; 000 §The Environmental Dimension).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..queries import waiting_for_first_tranche
from ..segments import rank_in_segment
from ..streams import Site
from . import facilitation


def begin_month(s: ClusterState) -> None:
    """Set this month's conditions and clear last month's facilitation record."""
    s.programme_on[:] = s.calendar.programme_active(s.month)
    s.face_to_face[:] = ~s.calendar.pandemic_active(s.month)
    s.activity.reset()
    s.network.contact[:] = False
    s.draws.at_month(s.month)


def everywhere(s: ClusterState, due: np.ndarray | None) -> np.ndarray:
    """The clusters an event runs in: all of them unless told (an event applied by hand, as in the tests)."""
    return np.ones(s.K, dtype=bool) if due is None else due


def train_bso_block(s: ClusterState, due: np.ndarray | None = None) -> None:
    """One training block for the designated BSO trainees (SF7), in the clusters where one is ``due``.

    Each block closes a share ``retention * (1 - exp(-intensity per block))`` of the trainees'
    competence gap: diminishing returns within a block, so spreading the same content over more
    blocks teaches more (000 Tables 4-7).
    """
    due = everywhere(s, due)
    c, bso = s.coef, s.bso
    blocks = np.maximum(c.bso_training_blocks, 1)
    cost = c.bso_training_cost * bso.trainees / blocks
    paid = due & s.ledger.can_pay("bso_training", cost)
    s.ledger.record_shortfall("bso_training", cost, due & ~paid)  # a block not paid for is not held
    s.ledger.pay("bso_training", cost, where=paid)
    per_block = c.bso_training_intensity / blocks
    gain = c.bso_training_retention * (1.0 - np.exp(-per_block))  # per cluster (or shared)
    trainee = paid[bso.officer_cluster] & (bso.slot < bso.trainees[bso.officer_cluster])
    gain = gain if np.ndim(gain) == 0 else gain[bso.officer_cluster[trainee]]
    bso.competence[trainee] += (1.0 - bso.competence[trainee]) * gain
    s.counters["services"] += np.where(paid, bso.trainees, 0)


def regional_exchange(s: ClusterState, due: np.ndarray | None = None) -> None:
    """Trained officers learn from peers in other islands' clusters (000 §Regional Ecosystem; SF18)."""
    due = everywhere(s, due)
    bso = s.bso
    cost = s.coef.regional_exchange_cost
    paid = due & s.ledger.can_pay("regional_exchange", cost)
    s.ledger.record_shortfall("regional_exchange", cost, due & ~paid)  # the visit does not happen
    s.ledger.pay("regional_exchange", cost, where=paid)
    learn = paid[bso.officer_cluster]
    gain = s.coef_for("officer", learn).regional_exchange_gain
    bso.competence[learn] += gain * (1.0 - bso.competence[learn]) * bso.trained[learn]
    s.counters["services"] += paid


def affordable_places(s: ClusterState, wanted: np.ndarray) -> np.ndarray:
    """Firm-training places the line pays for in each cluster: all ``wanted``, or as many as are left (all
    of them where training costs nothing)."""
    cost = s.coef.firm_training_cost
    left = s.ledger.remaining("firm_training")
    charged = np.asarray(cost) > 0
    if not charged.any():
        return wanted
    all_paid = (cost * wanted <= left + 1e-9) | ~charged  # 1e-9: k$ rounding
    divisor = np.where(charged, cost, 1.0)  # a free training's cluster divides by 1, and keeps all it wants
    return np.where(all_paid, wanted, (left // divisor).astype(np.int64))


def train_firms(s: ClusterState, due: np.ndarray | None = None) -> None:
    """Firm training for a random share of engaged firms, as far as its budget line pays (000 Table 6)."""
    due = everywhere(s, due)
    f = s.firms
    share = s.coef_for("firm").firm_training_share
    offered = f.engaged & s.per_firm(due) & (s.draws.uniform(Site.TRAIN_PICK, f.n) < share)
    chosen = np.flatnonzero(offered)
    wanted = s.tally(chosen)
    affordable = affordable_places(s, wanted)
    cost = s.coef.firm_training_cost
    if (wanted > affordable).any():  # money for only some: a random subset, not the first on the ring
        short = wanted > affordable
        s.ledger.record_shortfall("firm_training", (wanted - affordable) * cost, short)
        chosen = chosen[s.draws.order(Site.TRAIN_SUBSET, chosen)]
        chosen = chosen[rank_in_segment(s.firm_cluster[chosen], s.K) < affordable[s.firm_cluster[chosen]]]
    s.ledger.pay("firm_training", s.tally(chosen) * cost, where=due)
    f.trained[chosen] = True
    c = s.coef_for("firm", chosen)
    f.capability[chosen] += c.firm_training_capability_gain * (1.0 - f.capability[chosen])
    f.trust_propensity[chosen] += c.firm_training_trust_gain * (1.0 - f.trust_propensity[chosen])
    f.disposition[chosen] += c.firm_training_disposition_gain * (1.0 - f.disposition[chosen])
    f.motivation[chosen] += c.firm_training_motivation_gain * (1.0 - f.motivation[chosen])
    s.counters["services"] += s.tally(chosen)


def hurricane(s: ClusterState, due: np.ndarray | None = None) -> None:
    """A hurricane destroys a share of each firm's capital, and with it some motivation."""
    due = everywhere(s, due)
    c, f = s.coef_for("firm"), s.firms
    spread = c.hurricane_loss_dispersion
    severity = s.draws.uniform_between(Site.HURRICANE, 1.0 - spread, 1.0 + spread, f.n)
    loss = np.where(s.per_firm(due), np.clip(c.hurricane_capital_loss * severity, 0.0, 1.0), 0.0)
    f.capital *= 1.0 - loss
    f.motivation -= c.hurricane_motivation_loss * loss * f.motivation


def apply_events(s: ClusterState) -> None:
    """This month's scheduled events, in a fixed order; each runs only in the clusters it is due in."""
    m, cal = s.month, s.calendar
    for event, due in (
        (train_bso_block, cal.falls_in(cal.training_blocks, m)),
        (regional_exchange, cal.falls_in(cal.regional_exchanges, m)),
        (train_firms, cal.firm_training == m),
        (hurricane, cal.hurricane == m),
    ):
        if due.any():
            event(s, due)


def pay_leader_incentives(s: ClusterState) -> None:
    """While its line lasts, the programme pays each leader firm an incentive for its commitment and
    for hosting its acquaintances (``facilitation.leader_outreach``)."""
    c = s.coef
    n_leaders = s.tally(s.firms.leader)
    cost = c.leader_incentive_per_month * n_leaders
    # a programme that waits for its money pays no incentive before its first tranche
    offered = s.programme_on & (n_leaders > 0) & (cost > 0) & ~waiting_for_first_tranche(s)
    # (the line is asked only where an incentive is on offer: asking changes nothing)
    paid = offered & s.ledger.can_pay("leader_incentive", cost) if offered.any() else offered
    s.funder.leader_incentive_paid[:] = paid
    if paid.any():
        s.ledger.pay("leader_incentive", cost, where=paid)
        facilitation.leader_outreach(s, paid)


def end_month(s: ClusterState) -> None:
    """Tally the month's services and advance the clock."""
    s.cumulative["services"] += s.counters["services"]
    s.month += 1
    s.draws.at_month(s.month)
