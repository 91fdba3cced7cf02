"""The monthly random draws, behind one interface with two backends (docs/plans/ensemble-engine.md, D1, §3).

Every process draws through ``state.draws`` at a named **site** (``Site``), never from a generator
directly. A draw is addressed by the indices of the elements that need it (firms, ties, officer
slots, actions, or a content tuple such as (initiator, candidate, source)).

- ``LegacyDraws`` makes exactly the generator calls the model has always made, in the same order and
  under the same conditions, from the model's three ``numpy.random.Generator`` streams (the main one,
  BSO turnover and monitoring responses). The golden series and the registered designs rely on it.
  It ignores the addresses except for their number.
- ``CounterDraws`` hashes (run key, month, site, address) with the SplitMix64 finaliser (Steele,
  Lea and Flood 2014, "Fast splittable pseudorandom number generators", OOPSLA), the way
  ``jax.random`` makes vectorised programs reproducible: a draw depends on what it is for, not on
  how many draws came before it. A cluster's draws therefore do not depend on the other clusters
  of a batch, nor on conditional draws elsewhere in the month. Its numbers differ from the legacy
  stream's, so results agree with legacy runs in distribution, not bit for bit.

Initialisation is not routed here: it runs once per cluster, from the model's generator, in both
modes. ``CounterDraws`` takes its key from that generator after initialisation.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from scipy.special import pdtr, pdtrik

from .segments import topk_seg

#: SplitMix64's constants (Steele, Lea and Flood 2014): the golden gamma and the finaliser's multipliers
GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX_MULTIPLIER_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_MULTIPLIER_2 = np.uint64(0x94D049BB133111EB)
UINT64_MASK = (1 << 64) - 1
STREAMS = ("legacy", "counter")  # the two backends, by the name ClusterModel(streams=...) takes
#: the backend a run uses unless told otherwise (a custom sweep model draws its own numbers: "legacy" there)
DEFAULT_STREAMS = "legacy"
DOUBLE_UNIT = 2.0**-53  # a 53-bit mantissa: the top 53 bits of the hash give a double in [0, 1)
BELOW_ONE = 1.0 - DOUBLE_UNIT  # the largest double below 1: the top hash would round (2**53 - 0.5) / 2**53 up to 1


def _count(address) -> int:
    """How many draws an address asks for: an int ``n`` means the elements ``0 .. n - 1``."""
    return int(address) if np.ndim(address) == 0 else int(np.size(address))


class Site(IntEnum):
    """Where in the month a draw is made. The value enters the counter hash: never renumber a site."""

    TRAIN_PICK = 1  # calendar.train_firms: who is offered training (firm)
    TRAIN_SUBSET = 2  # calendar.train_firms: who gets the places the budget pays for (firm)
    HURRICANE = 3  # calendar.hurricane: capital loss (firm)
    TURNOVER = 4  # facilitation.bso_turnover (officer slot; own legacy stream)
    CONTACT_BSO = 5  # facilitation.choose_contacts for the BSO (firm)
    CONTACT_MANAGER = 6  # the same for the manager (firm)
    BROKER_LEADER = 7  # facilitation.hold_meeting after leader outreach (tie)
    BROKER_BSO = 8  # ... after BSO contacts (tie)
    BROKER_MANAGER = 9  # ... after the manager's contacts (tie)
    MEMBERSHIP = 10  # membership.update_membership (firm)
    PROPOSALS_FACILITATED = 11  # formation.proposal_counts, Poisson (cluster)
    PROPOSALS_SELF = 12  # formation.proposal_counts, Poisson (cluster)
    INITIATOR = 13  # formation.choose_initiators, Gumbel keys (firm)
    INITIATOR_ORDER = 14  # formation.choose_initiators, the order of the chosen (firm)
    MATCHMAKING = 15  # formation.candidates, firms a facilitator introduces (firm)
    FIRST_CALL = 16  # formation.candidates, which call a firm asked twice answers (initiator, firm, source)
    JOIN = 17  # formation.form_joint_actions, join decisions (initiator, firm, source)
    CONTRIBUTION = 18  # play.play_joint_actions (firm)
    SUCCESS = 19  # completion.complete_joint_actions (action)
    IMITATION_PICK = 20  # learning.imitate, who looks at a partner (firm)
    IMITATION_PARTNER = 21  # learning.imitate, which partner (firm)
    IMITATION_ADOPT = 22  # learning.adopt_if_better (firm)
    INFORMAL_CONTACT = 23  # trust.update_trust (tie)
    MONITORING = 24  # information.monitoring_responses (firm; own legacy stream)
    GROUP_SHUFFLE = 25  # plain_games.play_random_groups, the groups (firm)
    GROUP_CONTRIBUTION = 26  # plain_games.play_random_groups (firm)
    NEIGHBOURHOOD_CONTRIBUTION = 27  # plain_games.play_neighbourhoods (firm)
    PLAIN_LEARNER = 28  # plain_games._learners (firm)
    WELL_MIXED_PARTNER = 29  # plain_games.imitate_well_mixed (firm)
    NEIGHBOUR_PARTNER = 30  # plain_games.imitate_any_neighbour (firm)


#: The index space of each address level of a site, so that a batch can turn global indices into
#: local ones (``clustersim.layout``). ``None``: a level that is not an index (a source flag).
#: Action and cluster addresses are local already, and the caller names the cluster.
SITE_SPACES: dict[Site, tuple[str | None, ...]] = {
    **dict.fromkeys(
        (
            Site.TRAIN_PICK,
            Site.TRAIN_SUBSET,
            Site.HURRICANE,
            Site.CONTACT_BSO,
            Site.CONTACT_MANAGER,
            Site.MEMBERSHIP,
            Site.INITIATOR,
            Site.INITIATOR_ORDER,
            Site.MATCHMAKING,
            Site.CONTRIBUTION,
            Site.IMITATION_PICK,
            Site.IMITATION_PARTNER,
            Site.IMITATION_ADOPT,
            Site.MONITORING,
            Site.GROUP_SHUFFLE,
            Site.GROUP_CONTRIBUTION,
            Site.NEIGHBOURHOOD_CONTRIBUTION,
            Site.PLAIN_LEARNER,
            Site.WELL_MIXED_PARTNER,
            Site.NEIGHBOUR_PARTNER,
        ),
        ("firm",),
    ),
    **dict.fromkeys((Site.BROKER_LEADER, Site.BROKER_BSO, Site.BROKER_MANAGER, Site.INFORMAL_CONTACT), ("tie",)),
    Site.TURNOVER: ("officer",),
    Site.FIRST_CALL: ("firm", "firm", None),  # (initiator, candidate, asked over a tie or introduced)
    Site.JOIN: ("firm", "firm"),  # (initiator, candidate)
    Site.SUCCESS: ("action",),
    Site.PROPOSALS_FACILITATED: ("cluster",),
    Site.PROPOSALS_SELF: ("cluster",),
}


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (a bijection on uint64), in place on a uint64 array; wraps by design."""
    z ^= z >> np.uint64(30)
    z *= MIX_MULTIPLIER_1
    z ^= z >> np.uint64(27)
    z *= MIX_MULTIPLIER_2
    z ^= z >> np.uint64(31)
    return z


def _mix_int(value: int) -> int:
    """``mix64`` on one Python int (no array round trip: the per-draw overhead at small clusters)."""
    z = value & UINT64_MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & UINT64_MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & UINT64_MASK
    return z ^ (z >> 31)


def site_bases(keys: np.ndarray, month: int, site: int) -> np.ndarray:
    """Each cluster's starting hash for one site in one month: ``mix(key ^ mix(site * gamma + month + 1))``."""
    tag = _mix_int(site * 0x9E3779B97F4A7C15 + month + 1)
    return mix64(np.asarray(keys, dtype=np.uint64) ^ np.uint64(tag))


def fold_addresses(start: np.ndarray, *address: np.ndarray) -> np.ndarray:
    """Uniforms strictly inside (0, 1), one per address, from per-element starting hashes.

    Each address level is folded in as SplitMix64 folds its counter (``mix(h + (a + 1) * gamma)``), so
    distinct addresses give distinct hashes before the top 53 bits are taken.
    """
    h = np.array(start, dtype=np.uint64)  # a copy: folded in place (the caller's array may be shared)
    for level in address:
        h += (np.asarray(level).astype(np.uint64) + np.uint64(1)) * GOLDEN_GAMMA
        mix64(h)
    return np.minimum(((h >> np.uint64(11)).astype(np.float64) + 0.5) * DOUBLE_UNIT, BELOW_ONE)


def counter_uniform(key: int, month: int, site: int, *address: np.ndarray) -> np.ndarray:
    """One cluster's uniforms: a hash of (key, month, site, address...)."""
    base = site_bases(np.array([key & UINT64_MASK], dtype=np.uint64), month, site)
    return fold_addresses(np.broadcast_to(base, np.shape(address[0])), *address)


def poisson_inverse_cdf(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The Poisson(lam) quantile of ``u``: the least k with P(X <= k) >= u (inverse transform).

    ``pdtrik`` inverts the regularised incomplete gamma function; the fix-ups make the result exact
    against ``pdtr`` where its continuous answer lands beside the integer.
    """
    u, lam = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(lam, dtype=float))
    if not (np.isfinite(lam) & (lam >= 0)).all():
        raise ValueError(f"a Poisson mean must be finite and >= 0, got {lam[~(np.isfinite(lam) & (lam >= 0))][:3]}")
    k = np.zeros(u.shape, dtype=np.int64)
    live = lam > 0
    if not live.any():
        return k
    uu, ll = u[live], lam[live]
    guess = np.maximum(np.ceil(np.nan_to_num(pdtrik(uu, ll), nan=0.0)), 0.0).astype(np.int64)
    for _ in range(64):  # each pass moves by one; pdtrik is off by at most one or two
        down = (guess > 0) & (pdtr(guess - 1, ll) >= uu)
        up = pdtr(guess, ll) < uu
        if not (down.any() or up.any()):
            break
        guess = guess - down + up
    else:
        raise ValueError("Poisson quantile did not converge: pdtrik's estimate was more than 64 away")
    k[live] = guess
    return k


class LegacyDraws:
    """Today's generator calls, one cluster only: the golden series' streams."""

    def __init__(self, rng: np.random.Generator, rng_turnover: np.random.Generator, rng_monitoring) -> None:
        self.rng = rng
        self.rng_turnover = rng_turnover  # BSO turnover: common random numbers across levers
        self.rng_monitoring = rng_monitoring  # monitoring responses: measuring never perturbs dynamics

    def at_month(self, month: int) -> None:
        """Nothing to do: a legacy stream's position is the number of draws made so far."""

    def _generator(self, site: Site) -> np.random.Generator:
        if site == Site.TURNOVER:
            return self.rng_turnover
        if site == Site.MONITORING:
            return self.rng_monitoring
        return self.rng

    def uniform(self, site: Site, *address: np.ndarray) -> np.ndarray:
        return self._generator(site).random(_count(address[0]))

    def uniform_between(self, site: Site, low: float, high: float, *address: np.ndarray) -> np.ndarray:
        return self._generator(site).uniform(low, high, _count(address[0]))

    def integers(self, site: Site, high: int, *address: np.ndarray) -> np.ndarray:
        return self._generator(site).integers(0, high, size=_count(address[0]))

    def poisson(self, site: Site, lam: float) -> int:
        return int(self._generator(site).poisson(lam))

    def order(self, site: Site, *address: np.ndarray) -> np.ndarray:
        """A random permutation of ``range(len(address))``."""
        return self._generator(site).permutation(_count(address[0]))

    def sample(self, site: Site, pool: np.ndarray, size: int) -> np.ndarray:
        """``size`` elements of ``pool`` without replacement, in random order."""
        return self._generator(site).choice(pool, size=size, replace=False)


class CounterDraws:
    """Counter-based draws (SplitMix64 hashes): addressed, not consumed.

    One key per cluster. With a ``layout`` (``clustersim.layout.Layout``) the processes pass global
    indices, and each is hashed under its cluster's key with its index *within* the cluster, so a
    cluster's draws are the same in any batch. Without one there is a single cluster (K = 1).
    """

    def __init__(self, keys, layout=None) -> None:
        # Python ints all the way: numpy would turn a list mixing ints above and below 2**63 into floats
        if isinstance(keys, np.ndarray):
            keys = keys.tolist()
        if not isinstance(keys, list | tuple):
            keys = [keys]
        keys = [int(k) & UINT64_MASK for k in keys]
        self.keys = np.array(keys, dtype=np.uint64)
        self.layout = layout
        if layout is None and self.keys.size != 1:
            raise ValueError(f"{self.keys.size} keys need a Layout saying where each cluster's elements are")
        if layout is not None and self.keys.size != layout.K:
            raise ValueError(f"one key per cluster: {self.keys.size} keys for {layout.K} clusters")
        self.month = 0

    @classmethod
    def keyed_from(cls, rng: np.random.Generator) -> CounterDraws:
        """Keyed by the run's generator once initialisation has drawn from it: one key per run seed."""
        return cls(int(rng.integers(2**63)))

    def at_month(self, month: int) -> None:
        self.month = int(month)

    def _localise(self, site: Site, address: tuple) -> tuple[np.ndarray, tuple]:
        """The cluster of each draw and its address in local indices."""
        if self.layout is None:
            return np.zeros(np.shape(address[0]), dtype=np.int64), address
        spaces = SITE_SPACES[site]
        if spaces[0] not in ("firm", "tie", "officer"):
            raise ValueError(f"site {site.name} is addressed by {spaces[0]}: pass its cluster explicitly")
        cluster, first = self.layout.localise(spaces[0], address[0])
        rest = tuple(
            self.layout.localise(space, level)[1] if space is not None else level
            for space, level in zip(spaces[1:], address[1:], strict=True)
        )
        return cluster, (first, *rest)

    def _draw(self, site: Site, address: tuple, cluster: np.ndarray | None = None):
        """``(uniforms, cluster of each, local addresses)``; ``cluster`` names those of local addresses."""
        address = tuple(np.arange(a) if np.ndim(a) == 0 else a for a in address)
        if self.layout is None and cluster is None:  # one cluster: its base, without a gather
            key = int(self.keys[0])
            base = _mix_int(key ^ _mix_int(int(site) * 0x9E3779B97F4A7C15 + self.month + 1))
            u = fold_addresses(np.full(np.shape(address[0]), base, dtype=np.uint64), *address)
            return u, None, address
        if cluster is None:
            cluster, address = self._localise(site, address)
        return fold_addresses(site_bases(self.keys, self.month, int(site))[cluster], *address), cluster, address

    def uniform(self, site: Site, *address: np.ndarray, cluster: np.ndarray | None = None) -> np.ndarray:
        """One uniform per address; ``cluster`` names the clusters of local (action, cluster) addresses."""
        return self._draw(site, address, cluster)[0]

    def uniform_between(self, site: Site, low: float, high: float, *address: np.ndarray) -> np.ndarray:
        return low + (high - low) * self.uniform(site, *address)

    def integers(self, site: Site, high: int, *address: np.ndarray) -> np.ndarray:
        return np.minimum(np.floor(self.uniform(site, *address) * high), high - 1).astype(np.int64)

    def poisson(self, site: Site, lam):
        """Poisson draws by inverse transform: one mean gives an int (K = 1), one mean per cluster an array."""
        K = int(self.keys.size)
        if np.ndim(lam) == 0 and self.layout is None:
            u = self.uniform(site, np.zeros(1, dtype=np.int64), cluster=np.zeros(1, dtype=np.int64))
            return int(poisson_inverse_cdf(u, lam)[0])
        lam = np.asarray(lam, dtype=float)
        if lam.ndim and lam.shape != (K,):
            raise ValueError(f"one Poisson mean per cluster: {lam.size} means for {K} clusters")
        u = self.uniform(site, np.zeros(K, dtype=np.int64), cluster=np.arange(K))
        return poisson_inverse_cdf(u, np.broadcast_to(lam, (K,)))

    def order(self, site: Site, *address: np.ndarray) -> np.ndarray:
        """A random permutation of the addresses: grouped by cluster, each cluster sorted by its hashes (stable)."""
        u, cluster, _ = self._draw(site, address)
        if cluster is None:
            return np.argsort(u, kind="stable")
        return np.lexsort((u, cluster))

    def sample(self, site: Site, pool: np.ndarray, size) -> np.ndarray:
        """In each cluster, the ``size`` (one int, or one per cluster) members of ``pool`` with the smallest
        hashes, grouped by cluster and in hash order; ties go to the lower index within the cluster."""
        u, cluster, local = self._draw(site, (pool,))
        if cluster is None:  # one cluster: ``size`` is one int, or a list of one
            return pool[np.argsort(u, kind="stable")[: int(np.asarray(size).reshape(-1)[0])]]
        return pool[topk_seg(-u, cluster, int(self.keys.size), size, local[0])]
