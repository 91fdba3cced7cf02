"""Initialisation (docs/ODD.md, "Initialisation"): a heterogeneous population of firms on an
acquaintance network, a BSO and, if the scenario has one, a cluster manager.

The order of random draws is part of the model's definition: the golden fixture
(tests/golden/) pins it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..cluster_state import (
    COUNTERS,
    CUMULATIVE,
    ActionTypes,
    Association,
    BSOStaff,
    ClusterState,
    FunderState,
    ManagerState,
    MonthActivity,
    coefficient_namespace,
    zero_counts,
)
from ..layout import Layout
from ..network import TrustNetwork, acquaintance_edges, build_ties, cooperative_pairs
from ..policy import CalendarArrays, Ledger, PolicyCalendar
from ..segments import Reducer
from ..state import MEMBER, OUTSIDE, FirmArrays
from ..streams import STREAMS, CounterDraws, LegacyDraws
from .rules import benefit_weights, export_share


def disposition_projects(c, prior: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Learned dispositions to contribute, continuous in [0, 1] (the cluster model)."""
    n = prior.size
    return np.clip(
        rng.normal(c.initial_cooperativeness, c.initial_cooperativeness_sd, n) + c.prior_disposition_bonus * prior,
        0.0,
        1.0,
    )


def disposition_plain_game(c, prior: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pure cooperators (1) and defectors (0), as in the canonical public goods game."""
    return (rng.random(prior.size) < c.initial_cooperativeness).astype(float)


def size_scores(c, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Log-normal employees and a size score centred on the median firm (000 §Heterogeneity)."""
    sigma = c.size_heterogeneity
    log_median = np.log(c.mean_firm_size) - sigma**2 / 2  # the log-normal's median gives the stated mean
    size = np.maximum(1.0, np.exp(rng.normal(log_median, sigma, n)))
    size_rank = np.clip(c.size_score_median + c.size_score_spread * (np.log(size) - log_median), 0.0, 1.0)
    return size, size_rank


def initial_export_readiness(c, size_rank: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Export goals follow size; the cut makes exactly ``export_orientation`` of the firms exporters at start.

    000 "Heterogeneity among cluster members": larger firms aim to export, smaller ones serve the
    domestic market.
    """
    n = size_rank.size
    score = c.export_score_size_slope * (size_rank - c.size_score_median) + rng.normal(0, c.export_score_noise_sd, n)
    n_exp = int(round(c.export_orientation * n))
    if n_exp == 0:
        cut = score.max() + 1e-9  # nobody reaches the threshold
    elif n_exp >= n:
        cut = score.min()
    else:  # midway between the n_exp-th and (n_exp+1)-th highest score
        cut = (np.partition(score, n - n_exp - 1)[n - n_exp - 1] + np.partition(score, n - n_exp)[n - n_exp]) / 2
    return np.clip(c.exporter_threshold + score - cut, 0.0, 1.0)


def initial_attitudes(c, prior: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Trust propensity and motivation; experience of collaboration raises both (000 "Cultural
    attitude towards collaboration")."""
    n = prior.size
    trust_propensity = np.clip(
        rng.normal(c.trust_propensity_mean, c.trust_propensity_sd, n) + c.prior_trust_bonus * prior, 0.0, 1.0
    )
    motivation = np.clip(
        rng.normal(c.initial_motivation, c.initial_motivation_sd, n) + c.prior_motivation_bonus * prior, 0.0, 1.0
    )
    return trust_propensity, motivation


def initial_firms(c, types: ActionTypes, rng: np.random.Generator, draw_disposition: Callable) -> FirmArrays:
    """Draw a heterogeneous population of firms (ODD "Initialisation")."""
    n = c.n_firms
    size, size_rank = size_scores(c, n, rng)
    capability = np.clip(
        c.capability_base + c.capability_size_slope * size_rank + rng.normal(0, c.capability_noise_sd, n),
        c.capability_min,
        1.0,
    )
    export_readiness = initial_export_readiness(c, size_rank, rng)
    prior = rng.random(n) < c.prior_cooperative_share
    trust_propensity, motivation = initial_attitudes(c, prior, rng)
    leader = np.zeros(n, dtype=bool)
    if c.leader_firms:
        leader[np.argsort(-size)[: c.leader_firms]] = True
    member = (rng.random(n) < c.initial_member_share) | prior | leader
    state = np.where(member, MEMBER, OUTSIDE).astype(np.int8)
    disposition = draw_disposition(c, prior, rng)
    if c.leader_firms:
        motivation[leader] = np.maximum(motivation[leader], c.leader_commitment)
        disposition[leader] = np.maximum(disposition[leader], c.leader_commitment)
    female_owner = rng.random(n) < c.female_owner_share
    digital = rng.random(n) < c.digital_access_share
    revenue0 = size * c.revenue_per_employee * (c.revenue_capability_base + c.revenue_capability_slope * capability)
    fjs = np.clip(
        c.female_job_share + np.where(female_owner, c.female_owner_job_share_bonus, -c.male_owner_job_share_gap),
        0.0,
        1.0,
    )
    experience = np.zeros((n, types.count))
    return FirmArrays(
        n=n,
        size=size,
        size_rank=size_rank,
        capability=capability,
        capability0=capability.copy(),
        export_readiness=export_readiness,
        trust_propensity=trust_propensity,
        prior_collaboration=prior,
        motivation=motivation,
        motivation_base=motivation.copy(),
        disposition=disposition,
        state=state,
        female_owner=female_owner,
        digital_access=digital,
        leader=leader,
        revenue0=revenue0,
        export_share0=export_share(c, export_readiness),
        experience=experience,
        female_job_share=fjs,
        weights=benefit_weights(types, c, size_rank, export_readiness, experience),
        exporter_threshold=c.exporter_threshold,
        **_fresh_dynamic_state(n),
    )


def _fresh_dynamic_state(n: int) -> dict[str, np.ndarray]:
    """Variables every firm starts with at the same value."""
    return {
        "joined_later": np.zeros(n, dtype=bool),
        "trained": np.zeros(n, dtype=bool),
        "action": np.full(n, -1, dtype=np.int64),
        "last_contribution": np.full(n, -10_000, dtype=np.int64),  # "never": far beyond any window
        "action_contributions": np.zeros(n),
        "payoff": np.zeros(n),
        "productivity": np.ones(n),
        "export_productivity": np.ones(n),
        "capital": np.ones(n),
    }


def initial_network(c, firms: FirmArrays, rng: np.random.Generator) -> TrustNetwork:
    """The acquaintance network, with extra ties among former cooperative members and latent ties.

    Initial trust on a tie is its floor: the mean of the partners' propensities, or ``prior_trust``
    between former cooperative members (000 "Cultural attitude towards collaboration").
    """
    n = firms.n
    graph = acquaintance_edges(c.network_kind, n, c.mean_degree, c.rewiring_prob, rng)
    coop = np.flatnonzero(firms.prior_collaboration)
    ties = build_ties(graph, n, rng, c.latent_tie_share, extra_pairs=cooperative_pairs(coop, c.mean_degree, rng))
    prop = firms.trust_propensity
    floor = (prop[ties.u] + prop[ties.v]) / 2  # the pair's mean propensity
    both_prior = firms.prior_collaboration[ties.u] & firms.prior_collaboration[ties.v]
    floor = np.where(both_prior, np.maximum(floor, c.prior_trust), floor)
    trust = np.where(ties.active, floor, 0.0)
    return TrustNetwork(ties, trust, floor, np.zeros(ties.n_ties, dtype=bool))


def per_cluster(value, dtype=None, K: int = 1) -> np.ndarray:
    return np.full(K, value, dtype=dtype)


def initial_bso(c, reduce: Reducer) -> BSOStaff:
    """A BSO of ``bso_staff`` untrained officers, the first ``bso_training_staff`` of them its trainees."""
    return BSOStaff(
        competence=np.full(c.bso_staff, c.bso_untrained_competence),
        untrained=per_cluster(c.bso_untrained_competence, float),
        trainees=per_cluster(min(c.bso_training_staff, c.bso_staff), np.int64),
        reduce=reduce,
        officers_lost=per_cluster(0, np.int64),
        contacts_this_month=per_cluster(0, np.int64),
    )


def initial_manager(c) -> ManagerState:
    """The cluster manager as the scenario describes it (``present`` False if it has none)."""
    return ManagerState(
        present=per_cluster(bool(c.manager_present)),
        skill=per_cluster(c.manager_skill, float),
        contacts_per_month=per_cluster(c.manager_contacts_per_month, np.int64),
        online=per_cluster(c.manager_mode == "online"),
        contacts_this_month=per_cluster(0, np.int64),
        funded_share=per_cluster(0.0),
        months_unpaid=per_cluster(0, np.int64),
    )


def initial_state(
    params, rng: np.random.Generator, draw_disposition: Callable, streams: str = "legacy"
) -> ClusterState:
    """A new cluster at month 0, drawn from ``rng`` (the model's generator).

    ``streams`` chooses the monthly draws (``clustersim.streams``): ``"legacy"`` goes on drawing from
    ``rng``; ``"counter"`` hashes addresses under a key drawn from ``rng`` after initialisation.
    """
    if streams not in STREAMS:
        raise ValueError(f"streams must be one of {', '.join(STREAMS)}, not {streams!r}")
    c = coefficient_namespace(params)
    types = ActionTypes.from_coefficients(c)
    calendar = PolicyCalendar.from_scenario(params)
    rng_turnover = np.random.default_rng(rng.integers(2**63))
    rng_monitoring = np.random.default_rng(rng.integers(2**63))
    firms = initial_firms(c, types, rng, draw_disposition)
    network = initial_network(c, firms, rng)
    layout = Layout.single(firms.n, network.ties.n_ties, c.bso_staff)
    reduce = Reducer(layout, legacy=streams == "legacy")
    K = 1
    activity = MonthActivity(
        contacted=np.zeros(firms.n, dtype=bool), contact_effect=np.zeros(firms.n), counters=zero_counts(COUNTERS, K)
    )
    draws = LegacyDraws(rng, rng_turnover, rng_monitoring) if streams == "legacy" else CounterDraws.keyed_from(rng)
    return ClusterState(
        coef=c,
        types=types,
        layout=layout,
        reduce=reduce,
        calendar=CalendarArrays.stack([calendar]),
        ledger=Ledger.from_scenario(params),
        firms=firms,
        network=network,
        bso=initial_bso(c, reduce),
        manager=initial_manager(c),
        activity=activity,
        draws=draws,
        association=Association.none_formed(K),
        funder=FunderState.start(K),
        report={
            "responders": per_cluster(0, np.int64),
            "reported_cooperation": per_cluster(np.nan),
            "true_cooperation": per_cluster(np.nan),
        },
        programme_on=per_cluster(calendar.programme_active(0)),
        face_to_face=per_cluster(not calendar.pandemic_active(0)),
        # a fixed-size array, so reading the recent stories costs the same at any cluster size
        success_stories=np.zeros((K, c.months + 1)),
        peer_stories=np.zeros((K, c.months + 1)),
        outcomes_recent=np.array([[c.evidence_prior_successes, c.evidence_prior_actions]], dtype=float),
        cumulative=zero_counts(CUMULATIVE, K),
        alignment=per_cluster(np.nan),
        contribution_rate=per_cluster(np.nan),
        information_quality=per_cluster(0.0),
        monitoring_on=per_cluster(False),
    )
