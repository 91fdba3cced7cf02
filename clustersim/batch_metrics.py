"""Per-cluster metrics of an ensemble batch, from its concatenated firm and tie arrays.

The ensemble engine (docs/plans/ensemble-engine.md, §0 D2 and D4, §1, §4 step 6) holds K clusters in one set
of arrays: the firms of cluster k are ``layout.firm_ptr[k]:layout.firm_ptr[k + 1]``, its ties
``layout.tie_ptr[k]:layout.tie_ptr[k + 1]``, and a tie's ends ``u, v`` are *global* firm indices. Every
function here returns length-K arrays, one value per cluster, and reduces only through
``clustersim.segments`` (``np.bincount``, which adds in index order) or exact operations (counts,
maxima), so a cluster's value has the same bits alone (K = 1) and anywhere in any batch.

These are the metrics of ``clustersim.metrics.monthly_metrics`` that depend on the firm and tie arrays
alone, plus the economy totals behind its economy indices. Sums in index order differ from numpy's
pairwise ``.sum()``/``.mean()`` in the last bit, so the float means agree with ``monthly_metrics`` to
rounding, not bit for bit; counts and the giant component agree exactly.

Coefficients (``coef``'s attributes, and ``firms.exporter_threshold``) are Python scalars when they are the
same for the whole batch and length-K arrays when they differ, gathered per element by ``per_element``
(D4: ``x * c`` and ``x * c_vec[cl]`` are the same IEEE operation). An exponent is the exception:
``x ** c`` with a scalar ``c`` of 0.5, 2 or -1 is not the same operation as with an array (see
``per_element_array``), so exponents are always gathered into arrays.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .layout import Layout
from .metrics import NUMPY_LABELLING_MAX_FIRMS, component_labels
from .network import TieArrays
from .processes.rules import export_share
from .segments import LANE_MIN, _check_cluster_count, _divide_counts, segcount, segmax, segmean, segmean_rows, segsum
from .state import ACTIVE, DROPPED, MEMBER, OUTSIDE, FirmArrays

#: the firm states (OUTSIDE, MEMBER, ACTIVE, DROPPED are 0 .. 3)
N_STATES = 4
#: up to this many firms in a batch the firm metrics are reduced together (fewer numpy calls); above it one by
#: one (no stacked copies). Both give the same bits.
FUSED_MAX_FIRMS = 10_000

#: ``economy_totals``' keys, in its order
ECONOMY_KEYS = ("revenue", "exports", "jobs", "new_jobs", "women_new_jobs", "women_jobs", "managers", "women_managers")


def per_element(value, cl: np.ndarray):
    """A coefficient as seen by each element: a scalar as is, a per-cluster (K) array gathered by ``cl``.

    Keeping a batch-wide scalar a scalar leaves the K = 1 arithmetic untouched (plan, D4).
    """
    return value if np.ndim(value) == 0 else np.asarray(value)[cl]


def per_element_array(value, cl: np.ndarray, K: int) -> np.ndarray:
    """A coefficient gathered into one value per element, always a materialised array, even when uniform.

    For exponents: numpy (2.5) computes ``x ** 0.5``, ``x ** 2`` and ``x ** -1`` with a scalar (or
    stride-0) exponent as sqrt, square and reciprocal, which differ from the general ``pow`` in the last
    bit for about 5% of ``x``. A scalar exponent would therefore give a cluster other bits when its batch
    happens to share the value than when the exponent is a K-array; gathering it always takes ``pow``.
    """
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 0:  # the same materialised array, without np.broadcast_to (7 us) and a gather
        return np.full(cl.shape, value)
    return np.broadcast_to(value, (K,))[cl]


def _labels(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """A component label per firm of the whole (block-diagonal) batch graph, by the single-cluster rule.

    Below ``NUMPY_LABELLING_MAX_FIRMS`` firms numpy hooking (``metrics.component_labels``), above it
    scipy's ``connected_components``, as ``metrics._giant_component`` chooses by the size it labels.
    Labels differ between the two, the components (and so their sizes) do not.
    """
    if n <= NUMPY_LABELLING_MAX_FIRMS:
        return component_labels(u, v, n)
    graph = coo_matrix((np.ones(u.size), (u, v)), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)[1]


def component_sizes_batch(u: np.ndarray, v: np.ndarray, layout: Layout) -> np.ndarray:
    """The size of each firm's component (N, int64) in the graph with edges ``u``-``v`` (global firm ids).

    One labelling of the whole batch (plan, §2 "Metrics"): no edge crosses clusters, so a component lies
    within one cluster and its size is the same alone and in a batch. An edge between two clusters would
    merge them silently, so it is refused.
    """
    u, v = _within_clusters(u, v, layout)
    labels = _labels(u, v, int(layout.firm_ptr[-1]))
    return np.bincount(labels)[labels]


def _within_clusters(u: np.ndarray, v: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """``u``, ``v`` as int64, refused if an edge joins two clusters."""
    u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    firm_cl = layout.clusters("firm")
    if layout.K > 1 and not np.array_equal(firm_cl[u], firm_cl[v]):  # one cluster: nothing to cross
        raise ValueError("an edge joins firms of two clusters")
    return u, v


def giant_component_batch(u: np.ndarray, v: np.ndarray, layout: Layout) -> np.ndarray:
    """Share of each cluster's firms in its largest component (K), as ``metrics._giant_component`` per cluster.

    The per-cluster maximum of the firms' component sizes over ``n_k``: a cluster without edges gives
    ``1 / n_k`` by itself (every component is one firm), and a cluster without firms NaN. The same
    integer maximum divided by the same ``n_k`` as the single-cluster code, so the bits are the same.
    """
    n_k = layout.n_firms
    n = int(layout.firm_ptr[-1])
    if n_k.all() and (layout.K == 1 or n <= NUMPY_LABELLING_MAX_FIRMS):
        # Numpy hooking labels a component by its smallest firm, which lies in the component's cluster, so
        # each cluster's largest component is the largest label count over its own contiguous segment of
        # firms (with one cluster, whatever the labels): one exact integer maximum per segment, without
        # gathering a size for every firm (on tiny arrays the per-call overhead is the cost).
        u, v = _within_clusters(u, v, layout)
        label_counts = np.bincount(_labels(u, v, n), minlength=n)
        return np.maximum.reduceat(label_counts, layout.firm_ptr[:-1]) / n_k
    sizes = component_sizes_batch(u, v, layout)
    giant = np.full(layout.K, np.nan)
    np.divide(segmax(sizes, layout.clusters("firm"), layout.K, empty=0), n_k, out=giant, where=n_k > 0)
    return giant


def _firm_metrics(firms: FirmArrays, layout: Layout, month: int, coef) -> dict[str, np.ndarray]:
    """The firm-based metrics of ``monthly_metrics``: shares and means over each cluster's firms."""
    cl, K = layout.clusters("firm"), layout.K
    cooperating = (month - firms.last_contribution) <= per_element(coef.cooperation_window_months, cl)
    exporter = firms.export_readiness >= per_element(firms.exporter_threshold, cl)
    state = firms.state
    rows = [cooperating, firms.motivation, firms.disposition, firms.capability - firms.capability0, exporter]
    if cl.size <= FUSED_MAX_FIRMS:
        # tiny arrays, where per-call overhead is the cost: the five means in one bincount (segmean_rows has
        # segmean's bits) and the firms of each state counted in one (exact counts)
        means = segmean_rows(np.stack(rows), cl, K)
        in_state = np.bincount(cl * N_STATES + state, minlength=K * N_STATES).reshape(K, N_STATES)
        members, active = in_state[:, MEMBER] + in_state[:, ACTIVE], in_state[:, ACTIVE]
        outsiders, dropouts = in_state[:, OUTSIDE], in_state[:, DROPPED]
    else:  # at scale the per-element work is the cost: no stacked copies, and one cluster counts without ids
        means = [segmean(x, cl, K) for x in rows]
        members, active = segcount((state == MEMBER) | (state == ACTIVE), cl, K), segcount(state == ACTIVE, cl, K)
        outsiders, dropouts = segcount(state == OUTSIDE, cl, K), segcount(state == DROPPED, cl, K)
    return {
        "share_cooperating": means[0],
        "members": members,
        "active": active,
        "outsiders": outsiders,
        "dropouts": dropouts,
        "mean_motivation": means[1],
        "mean_disposition": means[2],
        "innovation_index": means[3],
        "export_share": means[4],
    }


def _tie_metrics(ties: TieArrays, trust: np.ndarray, layout: Layout, coef) -> dict[str, np.ndarray]:
    """The tie-based metrics of ``monthly_metrics``: mean trust, trusted-tie density, giant component."""
    cl, K = layout.clusters("tie"), layout.K
    active = ties.active
    trusted = active & (trust >= per_element(coef.trusted_threshold, cl))
    n_k = layout.n_firms
    return {
        "mean_trust": segmean(trust[active], cl[active], K, empty=0.0),
        "trusted_tie_density": segcount(trusted, cl, K) / np.maximum(n_k * (n_k - 1) / 2, 1),
        "giant_component": giant_component_batch(ties.u[trusted], ties.v[trusted], layout),
    }


def firm_tie_metrics_batch(
    firms: FirmArrays, ties: TieArrays, trust: np.ndarray, layout: Layout, month: int, coef
) -> dict[str, np.ndarray]:
    """Per cluster (length-K arrays), the metrics of ``monthly_metrics`` read from the firm and tie arrays.

    ``share_cooperating``, ``mean_trust``, ``trusted_tie_density``, ``giant_component``, ``members``,
    ``active``, ``outsiders``, ``dropouts`` (int64), ``mean_motivation``, ``mean_disposition``,
    ``innovation_index`` and ``export_share``, with the same definitions as ``monthly_metrics``. ``month``
    is the batch's one month (plan, D3). The rest of ``monthly_metrics`` needs per-cluster state that
    the firm and tie arrays do not hold (counters, ledger, association, manager, report, action book,
    the month-0 economy).
    """
    return {**_firm_metrics(firms, layout, month, coef), **_tie_metrics(ties, trust, layout, coef)}


def _economy_per_firm(firms: FirmArrays, coef, cl: np.ndarray, K: int) -> dict[str, np.ndarray]:
    """Each firm's terms of ``processes.economy.economy_totals``, with the same formulas in the same order.

    The one difference: the jobs exponent is always an array (``per_element_array``), so that a cluster
    whose ``jobs_elasticity`` is 0.5 gets the same bits in a uniform and in a mixed batch.
    """
    f = firms
    c = SimpleNamespace(
        export_share_slope=per_element(coef.export_share_slope, cl),
        export_share_onset=per_element(coef.export_share_onset, cl),
    )
    domestic = f.revenue0 * (1.0 - f.export_share0) * f.productivity * f.capital
    exports = f.revenue0 * export_share(c, f.export_readiness) * f.export_productivity * f.capital
    revenue = domestic + exports
    jobs = f.size * (revenue / f.revenue0) ** per_element_array(coef.jobs_elasticity, cl, K)
    new_jobs = np.maximum(jobs - f.size, 0.0)
    managers = 1.0 + f.size / per_element(coef.employees_per_manager, cl)  # the owner-manager plus hired managers
    women_managers = f.female_owner * 1.0 + (managers - 1.0) * f.female_job_share * per_element(
        coef.women_management_factor, cl
    )
    return {
        "revenue": revenue,
        "exports": exports,
        "jobs": jobs,
        "new_jobs": new_jobs,
        "women_new_jobs": new_jobs * f.female_job_share,
        "women_jobs": jobs * f.female_job_share,
        "managers": managers,
        "women_managers": women_managers,
    }


def economy_totals_batch(firms: FirmArrays, coef, layout: Layout) -> dict[str, np.ndarray]:
    """Per cluster (K), the revenue, exports, jobs and management positions of ``economy_totals``.

    The per-firm formulas are ``economy_totals``' own; only the sum changes, to ``segsum`` (bincount in
    index order: the same bits alone and in a batch, within rounding of numpy's pairwise ``.sum()``).
    """
    cl, K = layout.clusters("firm"), layout.K
    terms = _economy_per_firm(firms, coef, cl, K)
    return {key: segsum(terms[key], cl, K) for key in ECONOMY_KEYS}


def economy_indices(econ: dict[str, np.ndarray], base: dict[str, np.ndarray], month: int, coef):
    """The economy metrics of ``monthly_metrics`` from this month's and month 0's totals, per cluster."""
    return _indices(econ, base, _season(month, coef))


def _season(month: int, coef):
    """The seasonal factor on reported revenue in ``month`` (one value, or one per cluster)."""
    return 1.0 + coef.seasonality * np.sin(2 * np.pi * month / 12)  # 12 months a year


def _indices(econ: dict[str, np.ndarray], base: dict[str, np.ndarray], season):
    """``economy_indices`` with its seasonal factor given; ``econ`` per cluster (K) or per month (months, K)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        new_jobs = econ["new_jobs"]
        return {
            "revenue_index": econ["revenue"] / base["revenue"],
            "reported_revenue_index": season * econ["revenue"] / base["revenue"],
            "exports_index": np.where(base["exports"] > 0, econ["exports"] / base["exports"], np.nan),
            "jobs_index": econ["jobs"] / base["jobs"],
            "jobs_created": econ["jobs"] - base["jobs"],
            "women_share_jobs": econ["women_jobs"] / econ["jobs"],
            "women_share_new_jobs": np.where(new_jobs > 1e-9, econ["women_new_jobs"] / new_jobs, np.nan),
            "women_share_management": econ["women_managers"] / econ["managers"],
        }


def state_metrics(s) -> dict[str, np.ndarray]:
    """The metrics of ``monthly_metrics`` that the per-cluster state holds (tallies, money, governance)."""
    book, ledger = s.actions, s.ledger
    running = book.running[: book.count]
    return {
        "contacts": s.counters["contacts"],
        "meetings": s.counters["meetings"],
        "services_delivered": s.cumulative["services"],
        "bso_capacity": s.bso.capacity,
        "bso_trained_staff": s.bso.trained_staff,
        "bso_officers_lost": s.bso.officers_lost,
        "money_disbursed": ledger.disbursed,
        "programme_spend": ledger.programme_cost,
        "contribution_rate": s.contribution_rate,
        "alignment": s.alignment,
        "joint_actions_running": segcount(running, book.cluster[: book.count], s.K),
        "joint_actions_started": s.cumulative["started"],
        "joint_actions_completed": s.cumulative["succeeded"],
        "joint_actions_failed": s.cumulative["failed"],
        "priced_out_exits": s.cumulative["priced_out_exits"],
        "reported_cooperation": s.report["reported_cooperation"],
        "association": s.association.formed.astype(float),
        "association_cash": s.association.cash,
        "manager_funded_share": s.manager.funded_share,
        "cofinancing_left": ledger.remaining("cofinancing"),
    }


def monthly_metrics_batch(s, baseline: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every metric of ``monthly_metrics`` for each cluster of the state ``s`` (copies, length K), in its
    order; counts stay integers. ``baseline`` is ``economy_totals_batch`` at month 0."""
    from .metrics import MONTHLY_METRICS

    values = monthly_values_batch(s, baseline)
    return {name: np.array(values[name]) for name in MONTHLY_METRICS}


def monthly_values_batch(s, baseline: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``monthly_metrics_batch`` without the copies, in no particular order: some values are the state's
    own arrays, to be read at once (``metrics.model_metrics`` turns them into numbers)."""
    econ = economy_totals_batch(s.firms, s.coef, s.layout)
    return {
        **state_metrics(s),
        **firm_tie_metrics_batch(s.firms, s.network.ties, s.network.trust, s.layout, s.month, s.coef),
        **economy_indices(econ, baseline, s.month, s.coef),
    }


#: the firm arrays the monthly metrics read that the processes change: copied every month
CHANGING_FIRM_FLOATS = (
    "motivation",
    "disposition",
    "capability",
    "export_readiness",
    "productivity",
    "export_productivity",
    "capital",
)
#: firm arrays the shipped processes never change, recorded all the same: copying them each month costs less
#: than checking that a process of one's own did not change them (female_owner as 0.0 or 1.0)
FIXED_FIRM_FIELDS = ("size", "revenue0", "export_share0", "capability0", "female_owner", "female_job_share")
RECORDED_FIRM_FLOATS = CHANGING_FIRM_FLOATS + FIXED_FIRM_FIELDS
#: the coefficients the block reduction reads without recording them: kept once and compared every month, so
#: that a process of one's own that changes one cannot rewrite months already recorded (the months before the
#: change are reduced first, under what held for them)
FIXED_COEFFICIENTS = (
    "export_share_slope",
    "export_share_onset",
    "jobs_elasticity",
    "employees_per_manager",
    "women_management_factor",
)
#: the recorded months of one block take about this many bytes at most, the reduction's working memory
#: included (``month_bytes``)
RECORD_MAX_BYTES = 32 * 2**20
#: above this many firms in a batch each month is reduced as it comes: there the elements, not the calls,
#: are the cost. In-process A/B pairs: blocks 0.95x at 256 clusters of 60 firms (15,360), even at 30,000
#: firms, 1.1x at 100,000
RECORD_MAX_FIRMS = 20_000


def _holds_large_cluster(layout: Layout) -> bool:
    """Whether a cluster has ``segments.LANE_MIN`` firms or tie slots: its sums may then be added in lanes,
    which the block reductions (one bincount over months and clusters) do not do, so its months are
    reduced one by one, by the functions that do."""
    return bool(layout.sizes("firm").max(initial=0) >= LANE_MIN or layout.sizes("tie").max(initial=0) >= LANE_MIN)


class MonthlyRecorder:
    """Every month's metrics of a batch run to its horizon, computed in blocks of months.

    At cluster sizes a month's metrics are a hundred numpy calls on arrays of a few hundred elements, so
    their cost is the calls. A month is therefore recorded (copies of the firm and tie values the metrics
    read, the per-cluster state metrics) and a block of months is reduced with one call per metric over the
    bins ``month * K + cluster``: ``np.bincount`` still adds each bin's elements one by one in index order,
    so every value has the bits ``monthly_metrics_batch`` gives it month by month (tests/test_batch_metrics.py
    checks it). A block is reduced once it holds ``max_bytes`` (bounding the memory), or ``months`` (the
    horizon, when the caller knows it), or when what the reduction reads unrecorded changes (a process of
    one's own that changes firm sizes or a coefficient, say). Above ``RECORD_MAX_FIRMS`` firms each month is
    reduced as it comes.
    """

    def __init__(self, baseline: dict[str, np.ndarray], max_bytes: int | None = None, months: int | None = None):
        self.baseline = baseline
        self.max_bytes = RECORD_MAX_BYTES if max_bytes is None else max_bytes
        self.months = months
        self.blocks: list[dict[str, np.ndarray]] = []  # metric -> (months, K), in month order
        self._months: list[int] = []
        self._state_rows: list[dict[str, np.ndarray]] = []
        self._seasons: list = []
        self._buffers = None  # (floats (months, fields, firms), state, cooperating, exporter, trusted, active, trust)
        self._fixed = None  # (coefficients, ties, layout) the pending months were recorded under

    def record(self, s) -> None:
        """This month's metrics of ``s`` (what they read is copied: the processes change it in place)."""
        if s.layout.firm_ptr[-1] > RECORD_MAX_FIRMS or _holds_large_cluster(s.layout):
            self._flush()
            row = monthly_metrics_batch(s, self.baseline)
            self.blocks.append({name: value[None] for name, value in row.items()})
            return
        if self._fixed is None or not _same_fixed(self._fixed, s):
            self._flush()
            if self._fixed is not None and self._fixed[2] is not s.layout:  # another network: other sizes
                self._buffers = None
            self._fixed = _fixed_inputs(s)
        if self._buffers is None:
            self._buffers = self._allocate(s)
        floats, state, cooperating, exporter, trusted, active, trust = self._buffers
        t, f, cl, coef = len(self._months), s.firms, s.layout.clusters("firm"), s.coef
        for i, name in enumerate(RECORDED_FIRM_FLOATS):
            floats[t, i] = getattr(f, name)
        state[t] = f.state
        np.less_equal(s.month - f.last_contribution, per_element(coef.cooperation_window_months, cl), out=cooperating[t])
        np.greater_equal(f.export_readiness, per_element(f.exporter_threshold, cl), out=exporter[t])
        active[t], trust[t] = s.network.ties.active, s.network.trust
        np.greater_equal(trust[t], per_element(coef.trusted_threshold, s.layout.clusters("tie")), out=trusted[t])
        trusted[t] &= active[t]
        row = {name: np.array(value) for name, value in state_metrics(s).items()}
        season = _season(s.month, coef)
        # the month counts as recorded once all of it is: an interruption above leaves it out whole
        self._state_rows.append(row)
        self._seasons.append(season)
        self._months.append(s.month)
        if len(self._months) == floats.shape[0]:
            self._flush()

    def _allocate(self, s):
        n, n_ties = s.firms.n, s.network.trust.size
        months = max(1, self.max_bytes // month_bytes(n, n_ties))
        if self.months is not None:
            months = max(1, min(months, self.months))
        return (
            np.empty((months, len(RECORDED_FIRM_FLOATS), n)),
            np.empty((months, n), dtype=s.firms.state.dtype),
            np.empty((months, n), dtype=bool),
            np.empty((months, n), dtype=bool),
            np.empty((months, n_ties), dtype=bool),
            np.empty((months, n_ties), dtype=bool),
            np.empty((months, n_ties)),
        )

    def recorded_months(self) -> int:
        """How many months have been recorded so far, reduced or pending."""
        return sum(len(next(iter(block.values()))) for block in self.blocks) + len(self._months)

    def series(self, s) -> dict[str, np.ndarray]:
        """Every metric of ``metrics.MONTHLY_METRICS`` as (months recorded, K), in their order (new arrays)."""
        from .metrics import MONTHLY_METRICS

        self._flush()
        if len(self.blocks) == 1:
            return {name: self.blocks[0][name].copy() for name in MONTHLY_METRICS}
        return {name: np.concatenate([block[name] for block in self.blocks]) for name in MONTHLY_METRICS}

    def _flush(self) -> None:
        """Reduce the pending months into a block, under the layout, ties and coefficients they were recorded
        under; they stay pending until the block is stored."""
        T = len(self._months)
        if not T:
            return
        floats, state, cooperating, exporter, trusted, active, trust = (buffer[:T] for buffer in self._buffers)
        coef, ties, layout = self._fixed
        block = {name: np.stack([row[name] for row in self._state_rows]) for name in self._state_rows[0]}
        firms = SimpleNamespace(**{name: floats[:, i] for i, name in enumerate(RECORDED_FIRM_FLOATS)})
        block.update(_firm_metrics_block(firms, state, cooperating, exporter, layout))
        block.update(_tie_metrics_block(ties, trusted, active, trust, layout))
        econ = _economy_totals_block(firms, coef, layout, T)
        season = np.array(self._seasons)
        block.update(_indices(econ, self.baseline, season[:, None] if season.ndim == 1 else season))
        self.blocks.append(block)
        self._months, self._state_rows, self._seasons = [], [], []


def month_bytes(n_firms: int, n_ties: int) -> int:
    """About what one recorded month costs until its block is reduced: the buffers (13 float64 firm fields, the
    state and two masks per firm; two masks and trust per tie), the reduction's per-firm working arrays (about
    16 float64 each), and the labelling's (about 80 bytes a tie, counted as if every tie were trusted)."""
    return (8 * len(RECORDED_FIRM_FLOATS) + 3 + 8 * 16) * n_firms + (2 + 8 + 80) * n_ties


def _fixed_inputs(s):
    """What the block reduction reads without recording it each month: a copy of the coefficients of
    ``FIXED_COEFFICIENTS``, the tie arrays and the layout. The tie ends are never written in place (they are
    read-only arrays); a new network is a new ``TieArrays``."""
    coefficients = {name: copy.deepcopy(getattr(s.coef, name)) for name in FIXED_COEFFICIENTS}
    return SimpleNamespace(**coefficients), s.network.ties, s.layout


def _same_fixed(fixed, s) -> bool:
    """Whether ``s`` still has the coefficients, ties and layout ``fixed`` was taken from (asked every month;
    NaN counts as equal to NaN)."""
    coef_then, ties_then, layout_then = fixed
    if s.network.ties is not ties_then or s.layout is not layout_then:
        return False
    for name in FIXED_COEFFICIENTS:
        now, then = getattr(s.coef, name), getattr(coef_then, name)
        if type(now) is type(then) and type(now) in (float, int):
            if now != then and not (now != now and then != then):
                return False
        elif not np.array_equal(now, then, equal_nan=True):
            return False
    return True


def _block_bins(cl: np.ndarray, K: int, months: int) -> np.ndarray:
    """The bin ``month * K + cluster`` of every element of a (months, elements) block."""
    return np.arange(months)[:, None] * K + cl


def _firm_metrics_block(firms, state, cooperating, exporter, layout: Layout) -> dict[str, np.ndarray]:
    """``_firm_metrics`` of every month of a block, each (months, K). A float row's bin adds its elements in
    index order, as ``segmean_rows`` does; a mean of booleans is its exact count over the cluster's firms."""
    cl, K, T = layout.clusters("firm"), layout.K, state.shape[0]
    counts = _check_cluster_count(np.bincount(cl, minlength=K), K)
    bins = _block_bins(cl, K, T)
    flat_bins = bins.ravel()

    def mean(values):
        totals = np.bincount(flat_bins, weights=values.ravel(), minlength=T * K).reshape(T, K)
        return _divide_counts(totals, counts, np.nan)

    def share(mask):
        return _divide_counts(np.bincount(bins[mask], minlength=T * K).reshape(T, K).astype(np.float64), counts, np.nan)

    in_state = np.bincount((bins * N_STATES + state).ravel(), minlength=T * K * N_STATES).reshape(T, K, N_STATES)
    return {
        "share_cooperating": share(cooperating),
        "members": in_state[..., MEMBER] + in_state[..., ACTIVE],
        "active": in_state[..., ACTIVE],
        "outsiders": in_state[..., OUTSIDE],
        "dropouts": in_state[..., DROPPED],
        "mean_motivation": mean(firms.motivation),
        "mean_disposition": mean(firms.disposition),
        "innovation_index": mean(firms.capability - firms.capability0),
        "export_share": share(exporter),
    }


def _tie_metrics_block(ties: TieArrays, trusted: np.ndarray, active: np.ndarray, trust: np.ndarray, layout: Layout):
    """``_tie_metrics`` of every month of a block, each (months, K); ``trusted``, ``active`` and ``trust`` are
    (months, ties). A cluster's mean trust adds its active ties in index order, as ``segmean`` does."""
    K, T = layout.K, trusted.shape[0]
    n_k = layout.n_firms
    bins = _block_bins(layout.clusters("tie"), K, T)
    active_bins = bins[active]
    trust_total = np.bincount(active_bins, weights=trust[active], minlength=T * K).reshape(T, K)
    active_count = np.bincount(active_bins, minlength=T * K).reshape(T, K)
    mean_trust = _divide_counts(trust_total, active_count, 0.0)  # no active ties: 0, as segmean(..., empty=0.0)
    trusted_count = np.bincount(bins[trusted], minlength=T * K).reshape(T, K)
    return {
        "mean_trust": mean_trust,
        "trusted_tie_density": trusted_count / np.maximum(n_k * (n_k - 1) / 2, 1),
        "giant_component": _giant_component_block(ties, trusted, layout),
    }


def _giant_component_block(ties: TieArrays, trusted: np.ndarray, layout: Layout) -> np.ndarray:
    """``giant_component_batch`` of every month of a block, (months, K): one labelling of the graph whose
    month m holds that month's trusted ties between copies ``m * N + firm`` of the firms. No edge crosses
    a month or a cluster, so every component lies in one cluster's month, and its size is exact."""
    T, n = trusted.shape[0], int(layout.firm_ptr[-1])
    u, v = _within_clusters(ties.u, ties.v, layout)
    month, tie = np.nonzero(trusted)
    offset = month * n
    labels = _labels(u[tie] + offset, v[tie] + offset, T * n)
    sizes = np.bincount(labels, minlength=T * n)[labels]
    n_k = layout.n_firms
    giant = np.full((T, layout.K), np.nan)
    maxima = segmax(sizes, _block_bins(layout.clusters("firm"), layout.K, T).ravel(), T * layout.K, empty=0)
    np.divide(maxima.reshape(T, layout.K), n_k, out=giant, where=n_k > 0)
    return giant


def _economy_totals_block(firms, coef, layout: Layout, months: int) -> dict[str, np.ndarray]:
    """``economy_totals_batch`` of every month of a block, each (months, K)."""
    cl, K = layout.clusters("firm"), layout.K
    terms = _economy_per_firm(firms, coef, cl, K)
    bins = _block_bins(cl, K, months).ravel()
    return {
        key: np.bincount(bins, weights=terms[key].ravel(), minlength=months * K)
        .reshape(months, K)
        .astype(np.float64, copy=False)
        for key in ECONOMY_KEYS
    }
