"""Facilitation: how a cluster manager or BSO spends its limited monthly contacts.

One contact is a meeting with one firm. The facilitator picks whom to meet,
raises their motivation, builds trust between the firms it met in the same
month (a meeting), brokers latent ties among them, and invites outsiders and
dropped-out firms back (000 §Cluster managers; 004 §Cluster Development Agents).
"""

from __future__ import annotations

import numpy as np

from .state import DROPPED, OUTSIDE


def choose_contacts(model, n_contacts: int, reachable: np.ndarray) -> np.ndarray:
    """Pick up to ``n_contacts`` reachable firms, targeted by need when monitoring informs the facilitator.

    Without information the choice is uniform; with monitoring the facilitator
    favours members whose motivation is sagging and outsiders it can recruit
    (000 §Monitoring and Evaluation). Weighted sampling without replacement
    uses the Gumbel top-k trick, so the cost is O(n_firms).
    """
    idx = np.flatnonzero(reachable)
    if n_contacts <= 0 or idx.size == 0:
        return idx[:0]
    f = model.firms
    need = np.where(f.state[idx] == OUTSIDE, 0.6, 1.0 - f.motivation[idx])
    need = np.where(f.state[idx] == DROPPED, 0.4, need)
    q = model.information_quality
    weight = (1.0 - q) + q * 2.0 * need + 1e-9
    if n_contacts >= idx.size:
        return idx
    keys = np.log(weight) - np.log(-np.log(model.rng.random(idx.size)))
    return idx[np.argpartition(-keys, n_contacts - 1)[:n_contacts]]


def facilitate(model, contacts: np.ndarray, skill: float, mode_factor: float) -> None:
    """Apply one facilitator's contacts for this month."""
    if contacts.size == 0 or skill <= 0 or mode_factor <= 0:
        return
    f = model.firms
    effect = skill * mode_factor
    dropped = f.state[contacts] == DROPPED
    lift = np.where(dropped, 0.04, 0.12) * effect
    f.motivation[contacts] += lift * (1.0 - f.motivation[contacts])
    model.contacted[contacts] = True
    model.contact_effect[contacts] = np.maximum(model.contact_effect[contacts], effect)
    model.counters["contacts"] += int(contacts.size)
    if contacts.size >= 3:
        model.counters["meetings"] += 1
    # A meeting: trust grows on ties among firms met in the same month; latent ties are brokered.
    met = np.zeros(f.n, dtype=bool)
    met[contacts] = True
    ties = model.ties
    both = met[ties.u] & met[ties.v]
    if not both.any():
        return
    broker = both & ~ties.active & (model.rng.random(ties.n_ties) < 0.5 * effect)
    ties.active |= broker
    model.trust[broker] = model.trust_floor[broker]  # a brokered tie starts at the partners' propensity
    model.counters["ties_brokered"] += int(broker.sum())
    grow = both & ties.active
    model.trust[grow] += 0.05 * effect * (1.0 - model.trust[grow])
    model.tie_contact |= grow
