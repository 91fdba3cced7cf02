"""Firm state held as arrays the model owns (one entry per firm).

Mesa ``Firm`` agents are thin, readable views over these arrays; the monthly
step updates the arrays in bulk with numpy. Keeping state here (rather than on
100,000 Python objects) is what makes the step fast (docs/ODD.md, "Where state
lives").
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .joint_actions import benefit_weights

OUTSIDE, MEMBER, ACTIVE, DROPPED = 0, 1, 2, 3
STATE_NAMES = ("outside", "member", "active", "dropped")


@dataclass
class FirmArrays:
    """Every firm's state variables (see docs/ODD.md, "Entities and state variables")."""

    n: int
    size: np.ndarray  # employees at start
    size_rank: np.ndarray  # size score in [0, 1]: 0.5 median firm, 0 micro, 1 large
    capability: np.ndarray  # [0, 1]
    capability0: np.ndarray
    export_readiness: np.ndarray  # [0, 1]; exporter when >= 0.5
    trust_propensity: np.ndarray  # [0, 1]; low = individualistic
    prior_collaboration: np.ndarray  # bool
    motivation: np.ndarray  # [0, 1]
    motivation_base: np.ndarray  # the level motivation relaxes to
    disposition: np.ndarray  # [0, 1] learned disposition to contribute
    state: np.ndarray  # int8: OUTSIDE, MEMBER, ACTIVE, DROPPED
    joined_later: np.ndarray  # bool: became a member after month 0
    female_owner: np.ndarray  # bool
    digital_access: np.ndarray  # bool
    leader: np.ndarray  # bool
    trained: np.ndarray  # bool: received firm training
    action: np.ndarray  # int64: running joint action id, -1 if none
    last_contribution: np.ndarray  # month of last contribution (large negative if never)
    action_contributions: np.ndarray  # months contributed to the current joint action
    payoff: np.ndarray  # smoothed monthly payoff (k$), the basis of imitation
    revenue0: np.ndarray  # k$/month at start
    productivity: np.ndarray  # multiplier on domestic sales from successful joint actions
    export_productivity: np.ndarray  # multiplier on export sales from successful joint actions
    export_share0: np.ndarray  # share of revenue exported at start
    experience: np.ndarray  # (n, 5) successful joint actions of each type so far
    capital: np.ndarray  # [0, 1] share of productive capital intact
    female_job_share: np.ndarray  # share of women among the firm's staff and hires
    weights: np.ndarray  # (n, 5) benefit weights per action type

    @property
    def engaged(self) -> np.ndarray:
        return (self.state == MEMBER) | (self.state == ACTIVE)

    @property
    def exporter(self) -> np.ndarray:
        return self.export_readiness >= 0.5

    def refresh_weights(self) -> None:
        self.weights = benefit_weights(self.size_rank, self.export_readiness, self.experience)

    def names(self) -> list[str]:
        return [f.name for f in fields(self)]


def export_share(export_readiness: np.ndarray) -> np.ndarray:
    """Share of a firm's sales exported, rising with export readiness (none below 0.3)."""
    return 0.8 * np.clip(export_readiness - 0.3, 0.0, None)


def initial_firms(p, rng: np.random.Generator) -> FirmArrays:
    """Draw a heterogeneous population of firms (ODD "Initialisation")."""
    n = p.n_firms
    sigma = p.size_heterogeneity
    size = np.maximum(1.0, np.exp(rng.normal(np.log(p.mean_firm_size) - sigma**2 / 2, sigma, n)))
    # size score: 0.5 for a median firm, spread by the size dispersion itself, so that a
    # heterogeneous cluster holds firms with genuinely different needs (SF5)
    size_rank = np.clip(0.5 + 0.3 * (np.log(size) - (np.log(p.mean_firm_size) - sigma**2 / 2)), 0.0, 1.0)
    capability = np.clip(0.3 + 0.3 * size_rank + rng.normal(0, 0.1, n), 0.05, 1.0)
    # export goals follow size (000 "Heterogeneity among cluster members": larger firms aim to
    # export, smaller ones serve the domestic market); the threshold is set so that exactly
    # export_orientation of the firms export at start
    score = 1.2 * (size_rank - 0.5) + rng.normal(0, 0.1, n)
    n_exp = int(round(p.export_orientation * n))
    if n_exp == 0:
        cut = score.max() + 1e-9
    elif n_exp >= n:
        cut = score.min()
    else:
        cut = 0.5 * (np.partition(score, n - n_exp - 1)[n - n_exp - 1] + np.partition(score, n - n_exp)[n - n_exp])
    export_readiness = np.clip(0.5 + score - cut, 0.0, 1.0)
    prior = rng.random(n) < p.prior_cooperative_share
    # experience of collaboration makes firms readier to trust (000 "Cultural attitude towards collaboration")
    trust_propensity = np.clip(rng.normal(p.trust_propensity_mean, p.trust_propensity_sd, n) + 0.15 * prior, 0.0, 1.0)
    motivation = np.clip(rng.normal(p.initial_motivation, 0.1, n) + 0.15 * prior, 0.0, 1.0)
    leader = np.zeros(n, dtype=bool)
    if p.leader_firms:
        leader[np.argsort(-size)[: p.leader_firms]] = True
    member = (rng.random(n) < p.initial_member_share) | prior | leader
    state = np.where(member, MEMBER, OUTSIDE).astype(np.int8)
    if p.group_formation == "projects":
        disposition = np.clip(rng.normal(p.initial_cooperativeness, 0.15, n) + 0.1 * prior, 0.0, 1.0)
    else:  # plain game: pure cooperators and defectors
        disposition = (rng.random(n) < p.initial_cooperativeness).astype(float)
    if p.leader_firms:
        motivation[leader] = np.maximum(motivation[leader], p.leader_commitment)
        disposition[leader] = np.maximum(disposition[leader], p.leader_commitment)
    female_owner = rng.random(n) < p.female_owner_share
    digital = rng.random(n) < p.digital_access_share
    revenue0 = size * 4.0 * (0.7 + 0.6 * capability)
    fjs = np.clip(p.female_job_share + np.where(female_owner, 0.15, -0.05), 0.0, 1.0)
    f = FirmArrays(
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
        joined_later=np.zeros(n, dtype=bool),
        female_owner=female_owner,
        digital_access=digital,
        leader=leader,
        trained=np.zeros(n, dtype=bool),
        action=np.full(n, -1, dtype=np.int64),
        last_contribution=np.full(n, -10_000, dtype=np.int64),
        action_contributions=np.zeros(n),
        payoff=np.zeros(n),
        revenue0=revenue0,
        productivity=np.ones(n),
        export_productivity=np.ones(n),
        export_share0=export_share(export_readiness),
        experience=np.zeros((n, 5)),
        capital=np.ones(n),
        female_job_share=fjs,
        weights=np.zeros((n, 5)),
    )
    f.refresh_weights()
    return f
