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
MULTIPLIER = np.array([3.0, 4.2, 3.6, 4.5, 3.5])  # r: pooled value per unit contributed
COST = np.array([0.4, 1.5, 1.0, 1.8, 0.3])  # k$ per participant-month
MIN_PARTICIPANTS = np.array([3, 4, 4, 3, 6])
DURATION = np.array([3, 12, 6, 12, 6])  # months
NEEDS_FUNDING = np.array([False, True, True, True, False])  # needs the grant to co-finance
SUCCESS_THRESHOLD = np.array([0.45, 0.6, 0.55, 0.6, 0.5])
REVENUE_GAIN = np.array([0.02, 0.06, 0.05, 0.04, 0.015])  # productivity gain on success, per unit benefit weight
CAPABILITY_GAIN = np.array([0.06, 0.04, 0.01, 0.02, 0.0])  # innovation: capability gain on success
EXPORT_GAIN = np.array([0.0, 0.0, 0.02, 0.25, 0.0])  # export readiness gain on success


def benefit_weights(size_rank: np.ndarray, export_readiness: np.ndarray) -> np.ndarray:
    """Benefit profile: who gains from each action type, shape (n_firms, 5).

    Knowledge sharing benefits small firms a little more; shared production facilities benefit
    small firms most; joint marketing favours domestic firms slightly; joint
    export benefits export-ready firms; lobbying is a thin public good for all
    (000 §Heterogeneity among cluster members; §Benefits of the Cluster Approach).
    """
    n = size_rank.size
    w = np.empty((n, 5))
    w[:, KNOWLEDGE] = 1.2 - 0.4 * size_rank
    w[:, PRODUCTION] = 1.5 - 1.0 * size_rank
    w[:, MARKETING] = 1.2 - 0.3 * export_readiness - 0.2 * size_rank
    w[:, EXPORT] = 0.15 + 1.5 * export_readiness
    w[:, LOBBYING] = 0.8
    return w


@dataclass
class ActionBook:
    """Arrays describing every joint action started in a run (grown by doubling)."""

    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray
    size: np.ndarray
    weight_sum: np.ndarray
    contributions: np.ndarray
    facilitated: np.ndarray
    running: np.ndarray
    succeeded: np.ndarray
    count: int = 0

    @classmethod
    def empty(cls, capacity: int = 64) -> ActionBook:
        z = np.zeros
        return cls(
            z(capacity, np.int64),
            z(capacity, np.int64),
            z(capacity, np.int64),
            z(capacity, np.int64),
            z(capacity),
            z(capacity),
            z(capacity, bool),
            z(capacity, bool),
            z(capacity, bool),
        )

    def add(self, kind, start, end, size, weight_sum, facilitated) -> np.ndarray:
        k = kind.size
        need = self.count + k
        if need > self.kind.size:
            cap = max(need, 2 * self.kind.size)
            for name in (
                "kind",
                "start",
                "end",
                "size",
                "weight_sum",
                "contributions",
                "facilitated",
                "running",
                "succeeded",
            ):
                old = getattr(self, name)
                new = np.zeros(cap, dtype=old.dtype)
                new[: old.size] = old
                setattr(self, name, new)
        ids = np.arange(self.count, need)
        self.kind[ids], self.start[ids], self.end[ids] = kind, start, end
        self.size[ids], self.weight_sum[ids], self.facilitated[ids] = size, weight_sum, facilitated
        self.contributions[ids] = 0.0
        self.running[ids] = True
        self.count = need
        return ids


def expected_gain(
    weights: np.ndarray,
    capability: np.ndarray,
    capital: np.ndarray,
    own_cost_share: np.ndarray,
    benefit_multiplier: float,
    cost_scale: float,
) -> np.ndarray:
    """Expected net monthly return of each action type for each firm, relative to its cost.

    A participant expects to get back its benefit-weighted share of the pooled
    value when everyone contributes (``r * w * (0.5 + capability)``), against
    its own cost share, made heavier by capital losses (a hurricane).
    Shape (n_firms, 5).
    """
    value = MULTIPLIER[None, :] * benefit_multiplier * weights * (0.5 + capability[:, None]) / MIN_PARTICIPANTS[None, :]
    own = own_cost_share[None, :] / np.maximum(capital[:, None], 0.2)
    return (value - own) * cost_scale


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
    z = 3.0 * (gain - gain.max(axis=1, keepdims=True))
    pref = np.exp(z)
    pref /= pref.sum(axis=1, keepdims=True)
    mean_pref = pref.mean(axis=0)
    alignment = 1.0 - 0.5 * float(np.abs(pref - mean_pref).sum(axis=1).mean())
    return int(np.argmax(np.bincount(np.argmax(gain, axis=1), minlength=gain.shape[1]))), alignment
