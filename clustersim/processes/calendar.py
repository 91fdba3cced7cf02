"""Calendar and programme (docs/ODD.md, "Process overview": steps 1, 3, 4 and 18).

The month's conditions (is the programme running? can people meet face to face?) and the
scheduled events: grant tranches, BSO training blocks, regional exchanges, firm training and a
hurricane (000 Tables 4-7; 000 §Regional Ecosystem; 000 §The Environmental Dimension).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..streams import Site
from . import facilitation


def begin_month(s: ClusterState) -> None:
    """Set this month's conditions and clear last month's facilitation record."""
    s.programme_on = s.calendar.programme_active(s.month)
    s.face_to_face = not s.calendar.pandemic_active(s.month)
    s.activity.reset()
    s.network.contact[:] = False
    s.draws.at_month(s.month)


def train_bso_block(s: ClusterState) -> None:
    """One training block for the designated BSO trainees (SF7).

    Each block closes a share ``retention * (1 - exp(-intensity per block))`` of the trainees'
    competence gap: diminishing returns within a block, so spreading the same content over more
    blocks teaches more (000 Tables 4-7).
    """
    c, bso = s.coef, s.bso
    cost = c.bso_training_cost * bso.trainees / max(c.bso_training_blocks, 1)
    if not s.ledger.can_pay("bso_training", cost):
        s.ledger.shortfall["bso_training"] += cost  # a block not paid for is not held
        return
    s.ledger.pay("bso_training", cost)
    per_block = c.bso_training_intensity / max(c.bso_training_blocks, 1)
    gain = c.bso_training_retention * (1.0 - np.exp(-per_block))
    slots = slice(0, bso.trainees)
    bso.competence[slots] += (1.0 - bso.competence[slots]) * gain
    s.counters["services"] += bso.trainees


def regional_exchange(s: ClusterState) -> None:
    """Trained officers learn from peers in other islands' clusters (000 §Regional Ecosystem; SF18)."""
    bso = s.bso
    cost = s.coef.regional_exchange_cost
    if not s.ledger.can_pay("regional_exchange", cost):
        s.ledger.shortfall["regional_exchange"] += cost  # the visit does not happen
        return
    s.ledger.pay("regional_exchange", cost)
    bso.competence += s.coef.regional_exchange_gain * (1.0 - bso.competence) * bso.trained
    s.counters["services"] += 1


def train_firms(s: ClusterState) -> None:
    """Firm training for a random share of engaged firms, as far as its budget line pays (000 Table 6)."""
    c, f = s.coef, s.firms
    chosen = np.flatnonzero(f.engaged & (s.draws.uniform(Site.TRAIN_PICK, f.n) < c.firm_training_share))
    cost = c.firm_training_cost
    left = s.ledger.remaining("firm_training")
    affordable = chosen.size if cost * chosen.size <= left + 1e-9 else int(left // cost)  # 1e-9: k$ rounding
    if chosen.size > affordable:  # money for only some: a random subset, not the first on the ring
        s.ledger.shortfall["firm_training"] += (chosen.size - affordable) * cost
        chosen = chosen[s.draws.order(Site.TRAIN_SUBSET, chosen)][:affordable]
    s.ledger.pay("firm_training", chosen.size * cost)
    f.trained[chosen] = True
    f.capability[chosen] += c.firm_training_capability_gain * (1.0 - f.capability[chosen])
    f.trust_propensity[chosen] += c.firm_training_trust_gain * (1.0 - f.trust_propensity[chosen])
    f.disposition[chosen] += c.firm_training_disposition_gain * (1.0 - f.disposition[chosen])
    f.motivation[chosen] += c.firm_training_motivation_gain * (1.0 - f.motivation[chosen])
    s.counters["services"] += int(chosen.size)


def hurricane(s: ClusterState) -> None:
    """A hurricane destroys a share of each firm's capital, and with it some motivation."""
    c, f = s.coef, s.firms
    spread = c.hurricane_loss_dispersion
    severity = s.draws.uniform_between(Site.HURRICANE, 1.0 - spread, 1.0 + spread, f.n)
    loss = np.clip(c.hurricane_capital_loss * severity, 0.0, 1.0)
    f.capital *= 1.0 - loss
    f.motivation -= c.hurricane_motivation_loss * loss * f.motivation


def apply_events(s: ClusterState) -> None:
    """This month's scheduled events, in a fixed order."""
    m, cal = s.month, s.calendar
    if m in cal.training_blocks:
        train_bso_block(s)
    if m in cal.regional_exchanges:
        regional_exchange(s)
    if cal.firm_training == m:
        train_firms(s)
    if cal.hurricane == m:
        hurricane(s)


def pay_leader_incentives(s: ClusterState) -> None:
    """While its line lasts, the programme pays each leader firm an incentive for its commitment and
    for hosting its acquaintances (``facilitation.leader_outreach``)."""
    c = s.coef
    n_leaders = int(s.firms.leader.sum())
    cost = c.leader_incentive_per_month * n_leaders
    s.funder.leader_incentive_paid = (
        s.programme_on and n_leaders > 0 and cost > 0 and s.ledger.can_pay("leader_incentive", cost)
    )
    if s.funder.leader_incentive_paid:
        s.ledger.pay("leader_incentive", cost)
        facilitation.leader_outreach(s)


def end_month(s: ClusterState) -> None:
    """Tally the month's services and advance the clock."""
    s.cumulative["services"] += s.counters["services"]
    s.month += 1
    s.draws.at_month(s.month)
