"""Typed joint actions (SF10) and their formation, monthly play and completion.

Every running joint action is a repeated public goods game among its
participants: each month each participant contributes its cost share or
free-rides; the pooled contributions are multiplied by the action's benefit
multiplier ``r`` and shared according to the action's benefit profile. At the
end an action succeeds with a probability that rises with the share of
contributions made, the participants' capability and facilitation (SF9, SF12).

All per-firm work is vectorised over arrays; Python loops run only over the
five action types.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Sources: 000 §Benefits of the Cluster Approach (knowledge sharing; common
# activities in production: testing, standards, joint import; joint marketing;
# joint internationalization; lobbying); 004 §Collective efficiency.
ACTION_TYPES = ("knowledge_sharing", "production", "joint_marketing", "joint_export", "lobbying")
KNOWLEDGE, PRODUCTION, MARKETING, EXPORT, LOBBYING = range(5)

#                                    know  prod  mkt   exp   lobby
MULTIPLIER = np.array([3.0, 4.2, 3.2, 4.5, 3.5])  # r: pooled value per unit contributed
COST = np.array([0.4, 1.5, 1.0, 1.8, 0.3])  # k$ per participant-month
MIN_PARTICIPANTS = np.array([3, 4, 4, 3, 6])
DURATION = np.array([3, 12, 6, 12, 6])  # months
NEEDS_FUNDING = np.array([True, True, True, True, False])  # needs the grant to co-finance
SUCCESS_THRESHOLD = np.array([0.45, 0.6, 0.55, 0.8, 0.5])
REVENUE_GAIN = np.array([0.02, 0.05, 0.05, 0.0, 0.015])  # domestic-sales productivity gain on success, per unit weight
EXPORT_REVENUE_GAIN = np.array([0.01, 0.02, 0.0, 0.08, 0.0])  # export-sales productivity gain on success
CAPABILITY_GAIN = np.array([0.06, 0.04, 0.01, 0.02, 0.0])  # innovation: capability gain on success
EXPORT_GAIN = np.array([0.0, 0.0, 0.02, 0.25, 0.0])  # export readiness gain on success


SATURATION = 0.3  # each success of a type lowers a firm's further benefit from that type


def benefit_weights(
    size_rank: np.ndarray, export_readiness: np.ndarray, experience: np.ndarray | None = None
) -> np.ndarray:
    """Benefit profile: who gains from each action type, shape (n_firms, 5).

    Knowledge sharing benefits small firms a little more; shared production facilities benefit
    small firms most; joint marketing favours domestic firms slightly; joint
    export benefits export-ready firms; lobbying is a thin public good for all
    (000 §Heterogeneity among cluster members; §Benefits of the Cluster Approach).
    Returns saturate: a firm that has already succeeded at a type of action
    gains less from the next one (``1 / (1 + SATURATION * experience)``), so
    maturing clusters move on to other joint actions.
    """
    n = size_rank.size
    w = np.empty((n, 5))
    w[:, KNOWLEDGE] = 1.2 - 0.4 * size_rank
    w[:, PRODUCTION] = 1.5 - 1.0 * size_rank
    w[:, MARKETING] = 1.2 - 0.3 * export_readiness - 0.2 * size_rank
    w[:, EXPORT] = 0.15 + 1.5 * export_readiness
    w[:, LOBBYING] = 0.8
    if experience is not None:
        w /= 1.0 + SATURATION * experience
    return w


@dataclass
class ActionBook:
    """Arrays describing every joint action started in a run (grown by doubling)."""

    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray
    size: np.ndarray
    contributions: np.ndarray
    facilitated: np.ndarray  # facilitation level in [0, 1] (0 = self-organised)
    running: np.ndarray
    succeeded: np.ndarray
    count: int = 0

    DTYPES = {
        "kind": np.int64,
        "start": np.int64,
        "end": np.int64,
        "size": np.int64,
        "contributions": float,
        "facilitated": float,
        "running": bool,
        "succeeded": bool,
    }

    @classmethod
    def empty(cls, capacity: int = 64) -> ActionBook:
        return cls(**{name: np.zeros(capacity, dtype=dt) for name, dt in cls.DTYPES.items()})

    def add(self, kind, start, end, size, facilitated) -> np.ndarray:
        k = kind.size
        need = self.count + k
        if need > self.kind.size:
            cap = max(need, 2 * self.kind.size)
            for name in self.DTYPES:
                old = getattr(self, name)
                new = np.zeros(cap, dtype=old.dtype)
                new[: old.size] = old
                setattr(self, name, new)
        ids = np.arange(self.count, need)
        self.kind[ids], self.start[ids], self.end[ids] = kind, start, end
        self.size[ids], self.facilitated[ids] = size, facilitated
        self.contributions[ids] = 0.0
        self.running[ids] = True
        self.count = need
        return ids


RISK_HORIZON = 6.0  # months over which a firm's expectation of partners' cooperation compounds once


def expected_cooperation(trust, evidence: float, signal: float, demonstration_effect: float):
    """How much a firm expects its partners to contribute, in [0, 1].

    Half from trust in the partners, the rest from evidence on how joint actions
    have turned out lately and from visible success stories (SF2, SF12).
    """
    return np.clip(0.5 * trust + 0.3 * evidence + 0.2 * demonstration_effect * signal, 0.0, 1.0)


def expected_return(kind, weight, capability, capital, own_share, expect, benefit_multiplier: float):
    """Expected net return per unit of cost of joining an action of type ``kind`` (element-wise).

    The value is the benefit-weighted share of the pooled contributions,
    ``r * w * (0.5 + capability)``, discounted by the expected cooperation of
    partners compounded over the action's duration: long, costly actions
    expose a firm to free riding for longer, so they need more trust than a
    three-month knowledge exchange (004 §The intervention logic). The cost is
    the firm's own share, made heavier by capital losses (a hurricane).
    """
    value = (
        MULTIPLIER[kind] * benefit_multiplier * weight * (0.5 + capability) * expect ** (DURATION[kind] / RISK_HORIZON)
    )
    return value - own_share / np.maximum(capital, 0.2)


def expected_gain(weights, capability, capital, own_cost_share, expect, benefit_multiplier: float) -> np.ndarray:
    """Expected net monthly gain (k$ per unit cost scale) of each action type for each firm, shape (n, 5)."""
    kinds = np.arange(5)[None, :]
    ret = expected_return(
        kinds,
        weights,
        capability[:, None],
        capital[:, None],
        own_cost_share[None, :],
        np.asarray(expect, dtype=float).reshape(-1, 1),
        benefit_multiplier,
    )
    return COST[None, :] * ret


def contribution_probability(
    disposition: np.ndarray,
    trust_in_partners: np.ndarray,
    motivation: np.ndarray,
    private_return: np.ndarray,
    trust_weight: float,
    free_riding_temptation: float,
) -> np.ndarray:
    """Probability that each participant contributes this month.

    The learned disposition is the anchor. Trust in co-participants and
    motivation raise it (weighted by ``trust_weight``; 0 gives the plain game).
    The free-riding temptation weighs how much of the benefit accrues to
    others: it bites when the private return of contributing is below one
    (004 §The intervention logic; 000 §Success Factors).
    """
    social = trust_weight * (0.8 * (trust_in_partners - 0.35) + 0.4 * (motivation - 0.5))
    temptation = free_riding_temptation * np.clip(1.0 - private_return, 0.0, 1.0)
    return np.clip(disposition + social - temptation, 0.0, 1.0)


def success_probability(
    completion: np.ndarray, capability: np.ndarray, facilitation: np.ndarray, threshold: np.ndarray
) -> np.ndarray:
    """Chance that a finished joint action succeeds (logistic in its delivered effort)."""
    effort = completion * (0.55 + 0.45 * capability) + 0.15 * facilitation
    return 1.0 / (1.0 + np.exp(-12.0 * (effort - threshold)))


def common_strategy(gain: np.ndarray) -> tuple[int, float]:
    """The action type most firms prefer, and how aligned the firms' preferences are.

    Each firm's preferences are a softmax over its expected gains. Alignment is
    one minus the mean total-variation distance between a firm's preferences
    and the cluster's mean preferences: 1 when all firms want the same things,
    lower when exporters and domestic-only firms pull apart (000
    §Heterogeneity among cluster members; SF5).
    """
    g = np.ascontiguousarray(gain.T)  # action types as rows: reductions become sums of 5 contiguous rows
    pref = np.exp(3.0 * (g - np.maximum.reduce(g)))
    pref /= np.add.reduce(pref)
    dist = np.add.reduce(np.abs(pref - pref.mean(axis=1, keepdims=True)))
    alignment = 1.0 - 0.5 * float(dist.mean())
    return int(np.argmax(np.bincount(np.argmax(g, axis=0), minlength=g.shape[0]))), alignment
