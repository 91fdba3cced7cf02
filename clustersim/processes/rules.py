"""Pure rules over arrays, shared by several processes. Each takes the coefficient namespace ``c``
(registry names) and cites its source; each has a unit test on hand-built arrays
(tests/test_processes.py). docs/ODD.md, "Submodels", gives the equations."""

from __future__ import annotations

import numpy as np

from ..segments import segmean, segmean_rows


def benefit_weights(types, c, size_rank: np.ndarray, export_readiness: np.ndarray, experience: np.ndarray, cluster=None):
    """Benefit profile: who gains from each action type, shape (n_firms, types).

    ``w_k = base_k + export_slope_k * readiness + size_slope_k * size_score``, divided by
    ``1 + benefit_saturation * experience_k``: small firms gain most from shared production,
    export-ready firms from joint export, and returns to repeating one type saturate (000
    §Heterogeneity among cluster members; §Benefits of the Cluster Approach). ``c`` holds one value for
    all firms or one per firm (a view of the firms), which applies to the firm's row; ``cluster`` gives
    each firm's cluster where the clusters of a batch have their own action-type tables.
    """
    saturation = np.reshape(c.benefit_saturation, (-1, 1))  # a column: one row of types per firm
    w = (
        types.rows("benefit_base", cluster)
        + export_readiness[:, None] * types.rows("benefit_export_slope", cluster)
        + size_rank[:, None] * types.rows("benefit_size_slope", cluster)
    )
    w /= 1.0 + saturation * experience
    return w


def expected_cooperation(c, trust, evidence: float, signal: float):
    """How much a firm expects its partners to contribute, in [0, 1] (SF2, SF12).

    A weighted sum of trust in the partners, evidence on how joint actions turned out lately and
    visible success stories (000 §Success Factors).
    """
    return np.clip(
        c.expectation_trust_weight * trust
        + c.expectation_evidence_weight * evidence
        + c.expectation_demonstration_weight * c.demonstration_effect * signal,
        0.0,
        1.0,
    )


def expected_return(types, c, kind, weight, capability, capital, own_share, expect, cluster=None):
    """Expected net return per unit of cost of joining an action of type ``kind`` (element-wise).

    Value ``r_k * benefit_multiplier * w * (offset + capability)``, discounted by the expected
    cooperation compounded over the action's duration in units of the risk horizon: long, costly
    actions expose a firm to free riding for longer (004 §The intervention logic). Cost is the
    firm's own share, heavier after capital losses (floored at ``capital_floor``). ``cluster`` (broadcast
    with ``kind``) picks each element's own action-type table where a batch's clusters have their own.
    """
    value = (
        types.at("multiplier", kind, cluster)
        * c.benefit_multiplier
        * weight
        * (c.return_capability_offset + capability)
        * expect ** (types.at("duration_months", kind, cluster) / c.risk_horizon_months)
    )
    return value - own_share / np.maximum(capital, c.capital_floor)


def expected_gain(types, c, weights, capability, capital, own_cost_share, expect, cluster=None) -> np.ndarray:
    """Expected net monthly gain of each action type for each firm, shape (n, types).

    ``own_cost_share`` is one row of shares per type for every firm, or one row per firm (its cluster's);
    ``cluster``, each firm's cluster, picks its own action-type table where a batch's clusters have their own.
    """
    kinds = np.arange(types.count)[None, :]
    ret = expected_return(
        types,
        c,
        kinds,
        weights,
        capability[:, None],
        capital[:, None],
        np.atleast_2d(own_cost_share),
        np.asarray(expect, dtype=float).reshape(-1, 1),
        None if cluster is None else np.asarray(cluster)[:, None],
    )
    return types.rows("cost", cluster) * ret


def goal_type(types, weights: np.ndarray, cluster=None) -> np.ndarray:
    """The action type each firm wants most, its goal: the largest return per k$ when partners cooperate
    fully, ``multiplier_k * w_k`` (``expected_return`` at full expected cooperation, less the factors it
    shares across types, the firm's capability and ``benefit_multiplier``). What the type costs, or the
    firm's share of it, does not enter: whether the firm can pay for its goal is a separate question.

    Larger firms aim to export while smaller ones focus on the domestic market (000 §Heterogeneity among
    cluster members); the benefit weights carry that, so a firm's goal follows its size, export readiness
    and experience. ``cluster`` gives each firm's cluster where a batch's clusters have their own tables.
    """
    return (types.rows("multiplier", cluster) * weights).argmax(axis=1)


def contribution_probability(c, disposition, trust_in_partners, motivation, private_return) -> np.ndarray:
    """Probability that each participant contributes this month (004 §The intervention logic).

    The learned disposition is the anchor; trust in co-players and motivation move it (times
    ``trust_weight``; 0 gives the plain game); the free-riding temptation bites when the private
    return of contributing is below one (000 §Success Factors).
    """
    social = c.trust_weight * (
        c.contribution_trust_slope * (trust_in_partners - c.contribution_trust_reference)
        + c.contribution_motivation_slope * (motivation - c.neutral_motivation)
    )
    temptation = c.free_riding_temptation * np.clip(1.0 - private_return, 0.0, 1.0)
    return np.clip(disposition + social - temptation, 0.0, 1.0)


def success_probability(c, completion, capability, facilitation, threshold) -> np.ndarray:
    """Chance that a finished joint action succeeds: logistic in its delivered effort (SF12).

    Effort is the share of contributions made, credited more for capable participants, plus
    facilitation and BSO support (000 §Success Factors; 004 §Cluster Development Agents).
    """
    effort = (
        completion * (c.success_completion_weight + c.success_capability_weight * capability)
        + c.success_facilitation_weight * facilitation
    )
    return 1.0 / (1.0 + np.exp(-c.success_slope * (effort - threshold)))


#: The trust at which ``trust_gain`` is the growth rate when ``trust_logistic_scale`` is 4 (4 * 0.5 * 0.5 = 1):
#: the flat form grows every tie at that tie's rate, so switching reinforcement off keeps the midpoint rate.
MIDPOINT_TRUST = 0.5


def logistic_trust_growth(c, rate, trust) -> np.ndarray:
    """Logistic trust growth: trust begets trust, so it builds slowly from a low start (SF1; Ostrom 1998).

    ``rate * scale * (w * (T + seed) + (1 - w) * 0.5) * (1 - T)`` with ``w = trust_self_reinforcement``; with
    scale 4, ``rate`` is the growth at T = 0.5. At w = 1 (the default) it is the logistic form exactly; at
    w = 0 growth no longer depends on the trust already there (the knock-out of SF1).
    """
    w = c.trust_self_reinforcement
    level = w * (trust + c.trust_growth_seed) + (1.0 - w) * MIDPOINT_TRUST
    return rate * c.trust_logistic_scale * level * (1.0 - trust)


def fermi_adoption(selection_intensity: float, payoff_difference) -> np.ndarray:
    """Chance of copying a peer with a higher payoff (Fermi rule; Szabo & Toke 1998; Santos et al. 2008)."""
    # the clip only keeps exp() finite; at |x| = 50 the chance is already 0 or 1 to double precision
    return 1.0 / (1.0 + np.exp(-np.clip(selection_intensity * payoff_difference, -50, 50)))


TOTAL_VARIATION_PER_L1 = 0.5  # total variation is half the L1 distance


def preferences(c, g: np.ndarray) -> np.ndarray:
    """Each firm's preferences over action types, a softmax of its expected gains ``g`` (types x firms)
    with sharpness ``preference_sharpness``."""
    pref = np.exp(c.preference_sharpness * (g - np.maximum.reduce(g)))
    pref /= np.add.reduce(pref)
    return pref


def most_preferred_type(gain: np.ndarray) -> int:
    """The cluster's common strategy (SF5): the action type that most firms (rows of ``gain``) expect to gain
    most from; ties to the lower type."""
    return int(np.argmax(np.bincount(np.argmax(gain, axis=1), minlength=gain.shape[1])))


def goal_alignment(c, gain: np.ndarray) -> float:
    """How aligned the firms' goals are (SF5): one minus the mean total-variation distance between each firm's
    preferences (``preferences``, a softmax of its expected gains) and the cluster's mean preferences; 1 when
    all want the same (000 §Heterogeneity among cluster members)."""
    g = np.ascontiguousarray(gain.T)  # action types as rows: reductions become sums of contiguous rows
    pref = preferences(c, g)
    dist = np.add.reduce(np.abs(pref - pref.mean(axis=1, keepdims=True)))
    return 1.0 - TOTAL_VARIATION_PER_L1 * float(dist.mean())


def most_preferred_types(gain: np.ndarray, cluster: np.ndarray, K: int) -> np.ndarray:
    """``most_preferred_type`` of each cluster of an ensemble, from the firms' ``gain`` of cluster ``cluster``
    (type 0 for a cluster without firms)."""
    n_types = gain.shape[1]
    votes = np.bincount(cluster * n_types + gain.argmax(axis=1), minlength=K * n_types)
    return votes.reshape(K, n_types).argmax(axis=1)


def goal_alignments(c, gain: np.ndarray, cluster: np.ndarray, K: int) -> np.ndarray:
    """``goal_alignment`` of each cluster (NaN for a cluster without firms), with per-cluster (batch) means."""
    pref = preferences(c, np.ascontiguousarray(gain.T))
    dist = np.add.reduce(np.abs(pref - segmean_rows(pref, cluster, K)[:, cluster]))
    return 1.0 - TOTAL_VARIATION_PER_L1 * segmean(dist, cluster, K)


def export_share(c, export_readiness: np.ndarray) -> np.ndarray:
    """Share of a firm's sales exported, rising with export readiness above the onset."""
    return c.export_share_slope * np.clip(export_readiness - c.export_share_onset, 0.0, None)
