"""Trust (docs/ODD.md, "Process overview": steps 10 and 14; SF1, SF8).

Trust lives on ties (``TrustNetwork``). Co-players who both contribute build it logistically; a
free rider's partner loses some; ties without contact decay towards their floor, slowly once
strong; informal contact among engaged acquaintances keeps ties alive face to face; and
reputation spreads (000 §Success Factors; 004 §What are clusters).
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from ..queries import any_cluster, reputation
from ..streams import Site
from .rules import logistic_trust_growth


def play_channel(s: ClusterState) -> np.ndarray:
    """How much of a joint month reaches each tie: 1 face to face; online, ``online_effectiveness``
    between digitally connected partners, except that partners who already trust each other carry
    on at their trust (SF8; switch ``trusted_ties_online``)."""
    c, net = s.coef_for("tie"), s.network
    if s.face_to_face.all():
        return np.ones(net.ties.n_ties)
    dig = s.firms.digital_access
    t = net.ties
    channel = np.where(dig[t.u] & dig[t.v], c.online_effectiveness, 0.0)
    if any_cluster(s.coef.trusted_ties_online):  # a scalar the batch shares, or one per cluster
        trusted = (net.trust >= c.trusted_threshold) & c.trusted_ties_online
        channel[trusted] = np.maximum(channel[trusted], net.trust[trusted])
    return np.where(s.per_tie(s.face_to_face), 1.0, channel)


def trust_from_play(s: ClusterState, inside: np.ndarray, contributed: np.ndarray, damping: np.ndarray) -> None:
    """Trust among co-players: mutual contribution builds it (logistic, SF1), free riding erodes it.

    ``damping`` scales the erosion per tie (facilitated conflict resolution lowers it).
    """
    if not inside.any():
        return
    net = s.network
    t, tr = net.ties, net.trust
    both = inside & contributed[t.u] & contributed[t.v]
    one = inside & (contributed[t.u] ^ contributed[t.v])
    channel = play_channel(s)
    c = s.coef_for("tie", both)
    tr[both] += logistic_trust_growth(c, c.trust_gain * channel[both], tr[both])
    tr[one] -= s.per_tie(s.coef.trust_loss, one) * damping[one] * tr[one]
    net.contact |= inside & (channel > 0)


def update_trust(s: ClusterState) -> None:
    """Informal contact, decay of ties without contact, and reputation spreading."""
    c, net, f = s.coef_for("tie"), s.network, s.firms
    t, tr = net.ties, net.trust
    act = t.active
    if s.face_to_face.any():  # informal contact needs meetings
        engaged = f.engaged
        # drawn whatever the chance, so that the switch does not shift other draws
        meets = s.draws.uniform(Site.INFORMAL_CONTACT, t.n_ties) < c.informal_contact_chance
        informal = act & engaged[t.u] & engaged[t.v] & meets
        if not s.face_to_face.all():
            informal &= s.per_tie(s.face_to_face)
        net.contact |= informal
    idle = act & ~net.contact
    # strong ties decay slowly: once established, trust is robust (SF8)
    tr -= idle * (c.trust_decay * (1.0 - tr) * np.maximum(tr - net.floor, 0.0))
    spreading = np.asarray(s.coef.reputation_weight) > 0
    if spreading.any():
        rep = reputation(s)
        heard = act if spreading.all() else act & s.per_tie(spreading)
        weight = s.per_tie(s.coef.reputation_weight, heard)
        tr[heard] += weight * ((rep[t.u[heard]] + rep[t.v[heard]]) / 2 - tr[heard])
    tr.clip(0.0, 1.0, out=tr)  # np.clip without its wrapper's dispatch
