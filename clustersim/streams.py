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

import math
from enum import IntEnum

import numpy as np
from scipy.special import pdtr, pdtrik

from .layout import SPACES
from .segments import smallest_first, topk_seg

#: SplitMix64's constants (Steele, Lea and Flood 2014): the golden gamma and the finaliser's multipliers
GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX_MULTIPLIER_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_MULTIPLIER_2 = np.uint64(0x94D049BB133111EB)
UINT64_MASK = (1 << 64) - 1
STREAMS = ("legacy", "counter")  # the two backends, by the name ClusterModel(streams=...) takes
#: the backend a run uses unless told otherwise (a custom sweep model draws its own numbers: "legacy" there)
DEFAULT_STREAMS = "counter"
DOUBLE_UNIT = 2.0**-53  # a 53-bit mantissa: the top 53 bits of the hash give a double in [0, 1)
BELOW_ONE = 1.0 - DOUBLE_UNIT  # the largest double below 1: the top hash would round (2**53 - 0.5) / 2**53 up to 1


def _is_count(address) -> bool:
    """Whether an address is a count ``n`` (the elements ``0 .. n - 1``) rather than an array of indices."""
    if isinstance(address, np.ndarray):  # the common case, without np.ndim's dispatch
        return address.ndim == 0
    if isinstance(address, int):  # a count as a Python int (an array's size): np.ndim's dispatch costs more
        return True
    return np.ndim(address) == 0


def _count(address) -> int:
    """How many draws an address asks for: an int ``n`` means the elements ``0 .. n - 1``."""
    if isinstance(address, np.ndarray):  # the common case, without np.ndim's dispatch
        return int(address) if address.ndim == 0 else address.size
    if isinstance(address, int):
        return address
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


def _uint64(value: int) -> np.ndarray:
    return np.array(value, dtype=np.uint64)


# The constants as 0-d arrays: numpy resolves a ufunc on a small array faster with a 0-d array operand
# than with a numpy scalar, and the monthly draws are many small arrays. Integer arithmetic: same bits.
_SHIFT_11, _SHIFT_27, _SHIFT_30, _SHIFT_31 = (_uint64(bits) for bits in (11, 27, 30, 31))
_GAMMA, _MULTIPLIER_1, _MULTIPLIER_2 = (_uint64(int(c)) for c in (GOLDEN_GAMMA, MIX_MULTIPLIER_1, MIX_MULTIPLIER_2))
_DOUBLE_UNIT, _HALF_DOUBLE_UNIT, _BELOW_ONE = np.array(DOUBLE_UNIT), np.array(DOUBLE_UNIT / 2), np.array(BELOW_ONE)


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (a bijection on uint64), in place on a uint64 array; wraps by design."""
    return _mix_in_place(z, np.empty_like(z))


def _mix_in_place(z: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """``mix64`` with its shifted copies written into ``scratch`` (same shape) instead of new arrays."""
    np.right_shift(z, _SHIFT_30, out=scratch)
    z ^= scratch
    z *= _MULTIPLIER_1
    np.right_shift(z, _SHIFT_27, out=scratch)
    z ^= scratch
    z *= _MULTIPLIER_2
    np.right_shift(z, _SHIFT_31, out=scratch)
    z ^= scratch
    return z


def _mix_int(value: int) -> int:
    """``mix64`` on one Python int (no array round trip: the per-draw overhead at small clusters)."""
    z = value & UINT64_MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & UINT64_MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & UINT64_MASK
    return z ^ (z >> 31)


def _site_tag(site: int, month: int) -> int:
    """``mix(site * gamma + month + 1)``: what a site and a month add to every cluster's key."""
    return _mix_int(int(site) * 0x9E3779B97F4A7C15 + month + 1)


def site_bases(keys: np.ndarray, month: int, site: int) -> np.ndarray:
    """Each cluster's starting hash for one site in one month: ``mix(key ^ mix(site * gamma + month + 1))``."""
    return mix64(np.asarray(keys, dtype=np.uint64) ^ np.uint64(_site_tag(site, month)))


#: every site number, 0 up to the largest ``Site``, as uint64: the rows of ``month_bases``
_SITE_NUMBERS = np.arange(max(Site) + 1, dtype=np.uint64)


def month_bases(keys: np.ndarray, month: int) -> np.ndarray:
    """``site_bases`` of every site number at once, shape (sites, K): row ``site`` is
    ``site_bases(keys, month, site)``, by the same wrapping uint64 arithmetic (``site * gamma + month + 1``
    taken modulo 2**64, as ``_mix_int`` takes it), in a fixed number of array steps for the whole month."""
    tags = _gamma_multiple(_SITE_NUMBERS)
    tags += np.uint64((month + 1) & UINT64_MASK)
    mix64(tags)
    return mix64(np.asarray(keys, dtype=np.uint64)[None, :] ^ tags[:, None])


def fold_addresses(start: np.ndarray, *address: np.ndarray) -> np.ndarray:
    """Uniforms strictly inside (0, 1), one per address, from per-element starting hashes.

    Each address level is folded in as SplitMix64 folds its counter (``mix(h + (a + 1) * gamma)``), so
    distinct addresses give distinct hashes before the top 53 bits are taken.
    """
    h = np.array(start, dtype=np.uint64)  # a copy: folded in place (the caller's array may be shared)
    return _to_unit(_fold_levels(h, address, np.empty_like(h)))


def _gamma_multiple(level) -> np.ndarray:
    """``level * gamma`` in uint64 (wrapping), cast as ``astype(np.uint64)`` casts (negatives wrap too)."""
    return np.multiply(level, _GAMMA, dtype=np.uint64, casting="unsafe")


def _fold_levels(h: np.ndarray, levels, scratch: np.ndarray) -> np.ndarray:
    """Folds each level into the uint64 hashes ``h`` in place. ``h + (a + 1) * gamma`` is computed as
    ``h + a * gamma + gamma``: the same sum modulo 2**64."""
    for level in levels:
        h += _gamma_multiple(level)
        h += _GAMMA
        _mix_in_place(h, scratch)
    return h


def _to_unit(h: np.ndarray) -> np.ndarray:
    """The top 53 bits of each hash as a double strictly inside (0, 1): ``(x + 0.5) * 2**-53`` with
    ``x = h >> 11``, computed as ``x * 2**-53 + 2**-54``. Scaling by a power of two is exact and commutes
    with rounding (no subnormals here), so both give the same bits; this form needs no integer-to-float
    copy. ``h`` is overwritten."""
    h >>= _SHIFT_11
    u = np.multiply(h, _DOUBLE_UNIT)
    u += _HALF_DOUBLE_UNIT
    return np.minimum(u, _BELOW_ONE, out=u)


#: ``arange(n) * gamma`` by n (uint64, read-only): the first level of a draw addressed by a count ``n``,
#: the most common address (every firm, tie or officer of a single run)
_ARANGE_GAMMA: dict[int, np.ndarray] = {}


def _arange_gamma(n: int) -> np.ndarray:
    multiples = _ARANGE_GAMMA.get(n)
    if multiples is None:
        if len(_ARANGE_GAMMA) >= 32:  # many sizes in one process (a sweep over n_firms): start afresh
            _ARANGE_GAMMA.clear()
        multiples = _ARANGE_GAMMA[n] = _gamma_multiple(np.arange(n, dtype=np.int64))
        multiples.flags.writeable = False
    return multiples


def _fold_from_base(base: int, address: tuple) -> np.ndarray:
    """``fold_addresses`` with one starting hash ``base`` (a Python int) shared by every address: the
    first level's ``base + (a + 1) * gamma`` is ``a * gamma + (base + gamma)``, one array step (or a cached
    one for an int address), and no array of starting hashes is built."""
    first = address[0]
    offset = _uint64((base + int(GOLDEN_GAMMA)) & UINT64_MASK)
    if not isinstance(first, int | np.integer) and np.ndim(first) == 0:  # a 0-d array, or a float count
        first = int(first) if np.asarray(first).dtype.kind in "biu" else np.arange(first)
    if isinstance(first, int | np.integer):  # a count n: the elements 0 .. n - 1
        h = _arange_gamma(int(first)) + offset
    else:
        h = _gamma_multiple(first)
        h += offset
    scratch = np.empty_like(h)
    _mix_in_place(h, scratch)
    return _to_unit(_fold_levels(h, address[1:], scratch))


def counter_uniform(key: int, month: int, site: int, *address: np.ndarray) -> np.ndarray:
    """One cluster's uniforms: a hash of (key, month, site, address...)."""
    base = site_bases(np.array([key & UINT64_MASK], dtype=np.uint64), month, site)
    return fold_addresses(np.broadcast_to(base, np.shape(address[0])), *address)


#: offsets of ``guess - 1`` and ``guess`` as two rows: both fix-up tests of a pass in one ``pdtr`` call
_BELOW_AND_AT = np.array([[-1], [0]], dtype=np.int64)


def poisson_inverse_cdf(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The Poisson(lam) quantile of ``u``: the least k with P(X <= k) >= u (inverse transform).

    ``pdtrik`` inverts the regularised incomplete gamma function; the fix-ups make the result exact
    against ``pdtr`` where its continuous answer lands beside the integer.
    """
    u, lam = np.asarray(u, dtype=float), np.asarray(lam, dtype=float)
    if u.shape != lam.shape:
        u, lam = np.broadcast_arrays(u, lam)
    if not (np.isfinite(lam) & (lam >= 0)).all():
        raise ValueError(f"a Poisson mean must be finite and >= 0, got {lam[~(np.isfinite(lam) & (lam >= 0))][:3]}")
    live = lam > 0
    if live.all() and u.ndim == 1:  # every mean positive (the monthly proposals): no gathers or scatter
        return _positive_quantiles(u, lam)
    k = np.zeros(u.shape, dtype=np.int64)
    if live.any():
        k[live] = _positive_quantiles(u[live], lam[live])
    return k


def _positive_quantiles(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``poisson_inverse_cdf`` of 1-d ``u`` and ``lam > 0``: ``pdtrik``'s estimate, rounded up, then moved one
    step at a time until ``pdtr`` says it is the least k with P(X <= k) >= u. Each pass asks ``pdtr`` about
    ``guess - 1`` and ``guess`` at once (the same values, elementwise, as two calls)."""
    estimate = pdtrik(u, lam)
    if not np.isfinite(estimate).all():  # nan_to_num leaves finite values as they are: only call it when needed
        estimate = np.nan_to_num(estimate, nan=0.0)
    guess = np.maximum(np.ceil(estimate), 0.0).astype(np.int64)
    for _ in range(64):  # each pass moves by one; pdtrik is off by at most one or two
        below, at = pdtr(guess + _BELOW_AND_AT, lam)
        down = (guess > 0) & (below >= u)
        up = at < u
        if not (down | up).any():
            return guess
        guess = guess - down + up
    raise ValueError("Poisson quantile did not converge: pdtrik's estimate was more than 64 away")


def _poisson_quantile(u: float, lam: float) -> int:
    """``poisson_inverse_cdf`` of one ``u`` and one ``lam``, step for step on scalars (the same scipy
    functions on the same doubles, so the same answer), without the array set-up around one value."""
    if not (math.isfinite(lam) and lam >= 0):
        raise ValueError(f"a Poisson mean must be finite and >= 0, got {[lam]}")
    if lam == 0:
        return 0
    estimate = float(pdtrik(u, lam))
    if not math.isfinite(estimate):  # nan_to_num's conversions of the array path: defer to it
        return int(poisson_inverse_cdf(np.array([u]), np.array([lam]))[0])
    guess = int(max(math.ceil(estimate), 0))
    for _ in range(64):  # each pass moves by one; pdtrik is off by at most one or two
        down = guess > 0 and pdtr(float(guess - 1), lam) >= u
        up = pdtr(float(guess), lam) < u
        if not (down or up):
            return guess
        guess = guess - down + up
    raise ValueError("Poisson quantile did not converge: pdtrik's estimate was more than 64 away")


class LegacyDraws:
    """Today's generator calls, one cluster only: the golden series' streams."""

    #: a draw is the stream's next numbers, one per address: drawing for fewer elements shifts later draws
    addressed = False

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

    def poissons(self, sites: tuple[Site, ...], lams) -> list[int]:
        """One Poisson draw per site, in order."""
        return [self.poisson(site, lam) for site, lam in zip(sites, lams, strict=True)]

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

    #: a draw depends on its address only: drawing for some elements gives them what drawing for all would
    addressed = True

    def __init__(self, keys, layout=None) -> None:
        # Python ints all the way: numpy would turn a list mixing ints above and below 2**63 into floats
        if isinstance(keys, np.ndarray):
            keys = keys.tolist()
        if not isinstance(keys, list | tuple):
            keys = [keys]
        keys = [int(k) & UINT64_MASK for k in keys]
        self.keys = np.array(keys, dtype=np.uint64)
        self._key = keys[0]  # a single cluster's key as a Python int, for its hash without array steps
        self.layout = layout
        self._space_steps: dict[str, np.ndarray] = {}  # by index space: ``_steps``
        self._bases, self._bases_month = None, None  # this month's ``month_bases`` (``_site_bases``)
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

    def _site_bases(self, site: Site) -> np.ndarray:
        """``site_bases`` of every cluster for ``site`` this month (a read-only row): the month's table of all
        sites is built at its first batch draw, so a draw no longer pays a dozen small array steps for it.
        Keyed on the month itself, which callers may also set directly."""
        if self._bases_month != self.month:
            self._bases = month_bases(self.keys, self.month)
            self._bases.flags.writeable = False
            self._bases_month = self.month
        return self._bases[int(site)]

    def _steps(self, space: str) -> np.ndarray:
        """``(local index + 1) * gamma`` of every element of ``space`` (uint64, read-only): the counter step
        that folds an element's local address into a hash, gathered instead of computed (the layout of a
        batch never changes). Wrapping addition is associative, so adding it at once gives the same hash
        as adding ``a * gamma`` and then ``gamma``."""
        steps = self._space_steps.get(space)
        if steps is None:
            steps = self._space_steps[space] = _gamma_multiple(self.layout.local(space)) + _GAMMA
            steps.flags.writeable = False
        return steps

    def _level(self, space: str, level) -> tuple[np.ndarray, np.ndarray]:
        """``(cluster, counter step)`` of each address of one level in ``space``, as global indices or a
        count. A count of every element takes the cached arrays whole, without gathering them."""
        if _is_count(level):
            n = int(level)
            if n == self.layout.pointers(space)[-1]:
                return self.layout.clusters(space), self._steps(space)
            level = np.arange(n)
        return self.layout.clusters(space)[level], self._steps(space)[level]

    def _draw(self, site: Site, address: tuple, cluster: np.ndarray | None = None):
        """``(uniforms, cluster of each)``; ``cluster`` names those of local addresses.

        A single cluster (no layout, no ``cluster``) returns ``None`` for the clusters: its callers need none.
        """
        if self.layout is None and cluster is None:  # one cluster: its base, without a gather
            base = self._single_base(site)
            if len(address) > 1:  # an int beyond the first level also means 0 .. n - 1
                address = (address[0], *(np.arange(a) if np.ndim(a) == 0 else a for a in address[1:]))
            return _fold_from_base(base, address), None
        bases = self._site_bases(site)
        if cluster is not None:  # local addresses (actions, clusters) of named clusters
            address = tuple(np.arange(a) if np.ndim(a) == 0 else a for a in address)
            h = bases[cluster]  # a gather: a fresh array, folded in place
            return _to_unit(_fold_levels(h, address, np.empty_like(h))), cluster
        spaces = SITE_SPACES[site]
        if spaces[0] not in SPACES:
            raise ValueError(f"site {site.name} is addressed by {spaces[0]}: pass its cluster explicitly")
        cluster, step = self._level(spaces[0], address[0])
        h = bases[cluster]
        h += step
        scratch = np.empty_like(h)
        _mix_in_place(h, scratch)
        for space, level in zip(spaces[1:], address[1:], strict=True):
            if space is None:  # not an index (a source flag): its own value is the address
                _fold_levels(h, (np.arange(level) if _is_count(level) else level,), scratch)
                continue
            h += self._level(space, level)[1]
            _mix_in_place(h, scratch)
        return _to_unit(h), cluster

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
        if self.layout is None and np.size(lam) == 1:  # one cluster: its one uniform and quantile as scalars
            k = _poisson_quantile(self._first_uniform(site), float(np.asarray(lam, dtype=float).reshape(-1)[0]))
            return k if np.ndim(lam) == 0 else np.array([k], dtype=np.int64).reshape(np.shape(lam))
        lam = np.asarray(lam, dtype=float)
        if lam.ndim and lam.shape != (K,):
            raise ValueError(f"one Poisson mean per cluster: {lam.size} means for {K} clusters")
        # one mean per cluster as it is (np.broadcast_to costs 7 us: a share of the draw itself)
        return poisson_inverse_cdf(self._first_uniforms(site), lam if lam.shape == (K,) else np.broadcast_to(lam, (K,)))

    def poissons(self, sites: tuple[Site, ...], lams) -> list:
        """``[self.poisson(site, lam) for site, lam in zip(sites, lams)]``. With one mean per cluster at each
        site (a batch), the uniforms of every site are folded together and their quantiles found in one
        ``poisson_inverse_cdf`` call: elementwise, so the same numbers, in a third of the array steps."""
        means = [np.asarray(lam, dtype=float) for lam in lams]
        K = int(self.keys.size)
        if self.layout is None or len(means) != len(sites) or any(m.shape != (K,) for m in means):
            return [self.poisson(site, lam) for site, lam in zip(sites, lams, strict=True)]
        self._site_bases(sites[0])  # this month's table of every site's bases
        h = self._bases[[int(site) for site in sites]].ravel() + _GAMMA  # address 0 of each: a fresh array
        u = _to_unit(_mix_in_place(h, np.empty_like(h)))
        return list(poisson_inverse_cdf(u, np.concatenate(means)).reshape(len(sites), K))

    def _single_base(self, site: Site) -> int:
        """A single cluster's ``site_bases`` this month, as a Python int (no array steps)."""
        return _mix_int(self._key ^ _site_tag(site, self.month))

    def _first_uniform(self, site: Site) -> float:
        """A single cluster's uniform at address 0 of ``site``, as ``uniform(site, 1)[0]`` gives it, in Python
        ints and floats: ``(x + 0.5) * 2**-53`` is computed as ``_to_unit`` computes it, in the same doubles."""
        top = _mix_int(self._single_base(site) + 0x9E3779B97F4A7C15) >> 11
        return min(top * DOUBLE_UNIT + DOUBLE_UNIT / 2, BELOW_ONE)

    def _first_uniforms(self, site: Site) -> np.ndarray:
        """Each cluster's uniform at address 0 of ``site`` (``uniform(site, zeros(K), cluster=arange(K))``):
        its site base folded with the counter step of address 0, which is ``gamma``."""
        h = self._site_bases(site) + _GAMMA  # a fresh array, folded in place
        return _to_unit(_mix_in_place(h, np.empty_like(h)))

    def order(self, site: Site, *address: np.ndarray) -> np.ndarray:
        """A random permutation of the addresses: grouped by cluster, each cluster sorted by its hashes (stable)."""
        u, cluster = self._draw(site, address)
        if cluster is None:
            return np.argsort(u, kind="stable")
        return np.lexsort((u, cluster))

    def sample(self, site: Site, pool: np.ndarray, size) -> np.ndarray:
        """In each cluster, the ``size`` (one int, or one per cluster) members of ``pool`` with the smallest
        hashes, grouped by cluster and in hash order; ties go to the lower index within the cluster."""
        u, cluster = self._draw(site, (pool,))
        if cluster is None:  # one cluster: ``size`` is one int, or a list of one
            take = int(np.asarray(size).reshape(-1)[0])
            return pool[smallest_first(u, take) if take >= 0 else np.argsort(u, kind="stable")[:take]]
        local = self.layout.local(SITE_SPACES[site][0])[pool]
        return pool[topk_seg(-u, cluster, int(self.keys.size), size, local)]
