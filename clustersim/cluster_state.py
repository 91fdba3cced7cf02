"""Everything one run changes, in one object the processes are given (docs/architecture.md).

``ClusterState`` owns the arrays of K clusters (an ensemble; a single run is K = 1). Firms, ties and
BSO officers of all clusters are concatenated (``clustersim.layout``); every per-cluster quantity (the
ledger, the calendar, the association, the manager, the month's flags and tallies) is an array with
one entry per cluster. Processes (``clustersim.processes``) read and update it; the Mesa
``ClusterModel`` holds one with K = 1, and its agents are views of cluster 0. Nothing here imports a
process.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from types import SimpleNamespace

import numpy as np

from .coefficients import ACTION_TYPE_TABLE, ACTION_TYPES, action_type_key
from .joint_actions import ActionBook
from .layout import Layout
from .network import TrustNetwork
from .policy import CalendarArrays, Ledger
from .segments import Reducer
from .state import FirmArrays
from .streams import CounterDraws, LegacyDraws


def coefficient_namespace(params) -> SimpleNamespace:
    """Every registry value as an attribute (fast to read in the monthly step)."""
    return SimpleNamespace(**dict(params))


class CoefView:
    """The coefficients as some elements see them: a value the whole batch shares stays as it is (a Python
    scalar, so a single run computes exactly as before); a value that differs between clusters (a (K,) array
    in ``state.coef``) is gathered through each element's cluster (docs/plans/ensemble-engine.md, D4).

    Processes read per-cluster expressions from ``state.coef`` (scalars and (K,) arrays broadcast together)
    and per-element expressions from a view, ``state.coef_for("firm", index)``.
    """

    __slots__ = ("_coef", "_cluster")

    def __init__(self, coef: SimpleNamespace, cluster: np.ndarray) -> None:
        self._coef, self._cluster = coef, cluster

    def __getattr__(self, name: str):
        value = getattr(self._coef, name)
        if isinstance(value, np.ndarray):
            return value[self._cluster]
        return value


@dataclass(frozen=True)
class ActionTypes:
    """The per-type joint-action table as arrays indexed by type (registry section ``action_types``)."""

    multiplier: np.ndarray
    cost: np.ndarray
    min_participants: np.ndarray
    duration_months: np.ndarray
    cofinanced: np.ndarray
    success_threshold: np.ndarray
    revenue_gain: np.ndarray
    export_revenue_gain: np.ndarray
    capability_gain: np.ndarray
    export_readiness_gain: np.ndarray
    benefit_base: np.ndarray
    benefit_export_slope: np.ndarray
    benefit_size_slope: np.ndarray

    @classmethod
    def from_coefficients(cls, coef) -> ActionTypes:
        dtypes = {"int": np.int64, "bool": bool, "float": float}
        return cls(
            **{
                name: np.array([getattr(coef, action_type_key(k, name)) for k in ACTION_TYPES], dtype=dtypes[spec[0]])
                for name, spec in ACTION_TYPE_TABLE.items()
            }
        )

    @property
    def count(self) -> int:
        return int(self.multiplier.shape[-1])

    @property
    def varies(self) -> bool:
        """One table per cluster ((K, types) arrays, ``ensemble.concat_states``), not one for the batch."""
        return self.multiplier.ndim > 1

    def at(self, name: str, kind, cluster):
        """Field ``name`` of action type ``kind`` for elements of cluster ``cluster`` (the two broadcast
        together): the shared table's entry, or the element's own cluster's."""
        table = getattr(self, name)
        if table.ndim == 1:
            return table[kind]
        if cluster is None:
            raise ValueError(f"one action-type table per cluster: say whose {name!r} (cluster is None)")
        return table[cluster, kind]

    def rows(self, name: str, cluster=None) -> np.ndarray:
        """Field ``name`` as rows of types against elements of cluster ``cluster`` (per cluster if None):
        one shared row (1, types), or each element's cluster's row."""
        table = getattr(self, name)
        if table.ndim == 1:
            return table[None, :]
        return table if cluster is None else table[cluster]

    @classmethod
    def stack(cls, tables: Sequence[ActionTypes]) -> ActionTypes:
        """A batch's table: shared when every cluster's is the same (the arithmetic of a single run, bit for
        bit), otherwise one row per cluster."""
        first = tables[0]
        if all(np.array_equal(getattr(first, f.name), getattr(t, f.name)) for t in tables[1:] for f in fields(cls)):
            return copy.deepcopy(first)
        return cls(**{f.name: np.stack([getattr(t, f.name) for t in tables]) for f in fields(cls)})


@dataclass
class BSOStaff:
    """The business support organisations' officers: one competence in [0, 1] per staff slot, the slots of
    all clusters concatenated (``layout.officer_ptr``); the rest is per cluster (K,)."""

    competence: np.ndarray  # (officers,)
    untrained: np.ndarray  # competence of an untrained hire (bso_untrained_competence)
    trainees: np.ndarray  # int
    reduce: Reducer
    officers_lost: np.ndarray  # int
    contacts_this_month: np.ndarray  # int
    contacted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # firms met this month

    @property
    def officer_cluster(self) -> np.ndarray:
        return self.reduce.layout.clusters("officer")

    @property
    def slot(self) -> np.ndarray:
        """Each officer's slot within its own BSO (trainees are the first ``trainees`` slots)."""
        return self.reduce.layout.localise("officer", np.arange(self.competence.size))[1]

    @property
    def staff(self) -> np.ndarray:
        """Officer slots per cluster (read-only: the layout's sizes, computed once)."""
        return self.reduce.layout.sizes("officer")

    @property
    def trained(self) -> np.ndarray:
        # above the hiring level, with a rounding margin
        return self.competence > self.untrained[self.officer_cluster] + 1e-9

    @property
    def trained_staff(self) -> np.ndarray:
        return self.reduce.count(self.trained, "officer")

    @property
    def capacity(self) -> np.ndarray:
        """Capacity to foster collaboration: the officers' mean competence, in [0, 1] (0 without staff)."""
        return self.reduce.mean(self.competence, "officer", empty=0.0)


@dataclass
class ManagerState:
    """The cluster managers (UNIDO's Cluster Development Agents), per cluster; ``present`` is False where the
    scenario has none (its other entries are then unused)."""

    present: np.ndarray  # bool
    skill: np.ndarray
    contacts_per_month: np.ndarray  # int
    online: np.ndarray  # bool: manager_mode == "online"
    contacts_this_month: np.ndarray  # int
    funded_share: np.ndarray  # share of this month's salary someone paid (the programme, the association)
    months_unpaid: np.ndarray  # int: programme months in which nobody could pay the manager
    contacted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # firms met this month


@dataclass
class Association:
    """The cluster associations (governance bodies), once members found them (SF12, SF14); per cluster."""

    formed_month: np.ndarray  # int, -1 while not formed
    months_above: np.ndarray  # int: consecutive months above both founding thresholds
    cash: np.ndarray  # k$ from fees, not yet spent
    fees_collected: np.ndarray
    manager_paid: np.ndarray  # k$ of the manager's salary it paid
    copay_months: np.ndarray  # int: months it co-paid the manager (learning by doing)
    paying_members: np.ndarray  # int: this month

    @classmethod
    def none_formed(cls, K: int) -> Association:
        def ints():
            return np.zeros(K, dtype=np.int64)

        return cls(np.full(K, -1, dtype=np.int64), ints(), np.zeros(K), np.zeros(K), np.zeros(K), ints(), ints())

    @property
    def formed(self) -> np.ndarray:
        return self.formed_month >= 0

    def cluster(self, k: int) -> SimpleNamespace:
        """Cluster ``k``'s association as plain numbers (``formed_month`` None while not formed), for readers."""
        formed = bool(self.formed[k])
        return SimpleNamespace(
            formed=formed,
            formed_month=int(self.formed_month[k]) if formed else None,
            months_above=int(self.months_above[k]),
            cash=float(self.cash[k]),
            fees_collected=float(self.fees_collected[k]),
            manager_paid=float(self.manager_paid[k]),
            copay_months=int(self.copay_months[k]),
            paying_members=int(self.paying_members[k]),
        )


#: the columns of the funder's decision log (``FunderState.decisions``)
DECISION_FIELDS = (
    "cluster",
    "month",
    "tranche",
    "indicator",
    "milestone",
    "reported",
    "true",
    "responders",
    "released",
)


@dataclass
class FunderState:
    """The funder's tranche decisions (SF15), per cluster: each records the report it saw and the truth behind it."""

    next_tranche: np.ndarray  # int: index into the calendar's disbursements of the next tranche to release
    leader_incentive_paid: np.ndarray  # bool: this month
    log: list = field(default_factory=list)  # one dict of equal-length arrays (DECISION_FIELDS) per decision round

    @classmethod
    def start(cls, K: int) -> FunderState:
        return cls(np.zeros(K, dtype=np.int64), np.zeros(K, dtype=bool))

    def decisions_of(self, k: int) -> list[dict]:
        """Cluster ``k``'s decisions in order, one dict each (without the cluster column)."""
        out = []
        for chunk in self.log:
            for i in np.flatnonzero(chunk["cluster"] == k):
                row = {name: chunk[name][i] for name in DECISION_FIELDS if name != "cluster"}
                out.append(
                    {name: value.item() if isinstance(value, np.generic) else value for name, value in row.items()}
                )
        return out


@dataclass
class MonthActivity:
    """What facilitators did this month: reset at the start of each month."""

    contacted: np.ndarray  # bool per firm: met by a facilitator
    contact_effect: np.ndarray  # strongest contact (skill x mode) per firm
    counters: dict[str, np.ndarray]  # int per cluster

    def reset(self) -> None:
        self.contacted[:] = False
        self.contact_effect[:] = 0.0
        for counts in self.counters.values():
            counts[:] = 0


#: the monthly tallies of facilitation, and the running totals of services and joint actions
COUNTERS = ("contacts", "meetings", "services", "ties_brokered")
CUMULATIVE = ("services", "started", "succeeded", "failed", "contributions", "priced_out_exits")


def zero_counts(names, K: int) -> dict[str, np.ndarray]:
    return {name: np.zeros(K, dtype=np.int64) for name in names}


@dataclass
class ClusterState:
    """The state of K clusters (firms, trust network, joint actions, programmes) and their random draws.

    ``month`` is shared: the clusters step in lockstep. Per-cluster entries are (K,) arrays, except the
    story tallies, (K, months + 1), and ``outcomes_recent``, (K, 2): [successes, outcomes].
    """

    coef: SimpleNamespace
    types: ActionTypes
    layout: Layout
    reduce: Reducer
    calendar: CalendarArrays
    ledger: Ledger
    firms: FirmArrays
    network: TrustNetwork
    bso: BSOStaff
    manager: ManagerState
    activity: MonthActivity
    draws: LegacyDraws | CounterDraws  # every monthly draw, by site (clustersim.streams)
    association: Association
    funder: FunderState
    report: dict  # the latest monitoring report (what responders said), each entry per cluster
    programme_on: np.ndarray  # bool
    face_to_face: np.ndarray  # bool
    success_stories: np.ndarray  # (K, months + 1)
    # weighted stories from other clusters of a portfolio, per month (regional platform, SF18)
    peer_stories: np.ndarray  # (K, months + 1)
    outcomes_recent: np.ndarray  # (K, 2): [successes, outcomes], a decaying tally
    cumulative: dict[str, np.ndarray]
    alignment: np.ndarray
    contribution_rate: np.ndarray
    information_quality: np.ndarray
    monitoring_on: np.ndarray  # bool: monitoring ran (and was paid for) this month
    actions: ActionBook = field(default_factory=ActionBook.empty)
    typology_path: list = field(default_factory=list)  # (month, class per cluster) every 12 months (SF13)
    month: int = 0
    coef_varies: bool = False  # some coefficient is a (K,) array (ensemble.batch_coefficients sets it)

    @property
    def K(self) -> int:
        return self.layout.K

    @property
    def firm_cluster(self) -> np.ndarray:
        return self.layout.clusters("firm")

    @property
    def tie_cluster(self) -> np.ndarray:
        return self.layout.clusters("tie")

    @property
    def counters(self) -> dict[str, np.ndarray]:
        return self.activity.counters

    def replace_network(self, network: TrustNetwork) -> None:
        """Swap in another trust network for this single cluster (hand-built states in tests); the layout's
        tie offsets follow it."""
        if self.K != 1:
            raise ValueError("replace_network serves a single cluster")
        self.network = network
        self.layout = Layout.single(self.firms.n, network.ties.n_ties, self.bso.competence.size)
        self.reduce = self.bso.reduce = Reducer(self.layout, self.reduce.legacy)

    def tally(self, which: np.ndarray, space: str = "firm") -> np.ndarray:
        """How many elements of ``space`` each cluster has among ``which`` (a mask, or indices): exact counts."""
        which = np.asarray(which)
        if which.dtype == bool:
            return self.reduce.count(which, space)
        layout = self.layout
        if layout.K == 1 and which.ndim == 1:  # one cluster: it has every index (an exact count, no gather)
            return np.array([which.size], dtype=np.int64)
        return np.bincount(layout.clusters(space)[which], minlength=layout.K).astype(np.int64, copy=False)

    def per_firm(self, value, index=None):
        """A per-cluster value as the firms see it (all, or those ``index`` selects): a scalar the batch
        shares stays as it is, one value per cluster is gathered through each firm's cluster."""
        if not isinstance(value, np.ndarray) or value.ndim == 0:
            return value
        return self._per_element(value, self.layout.clusters("firm"), index)

    def per_tie(self, value, index=None):
        """A per-cluster value as the ties see it (all, or those ``index`` selects); see ``per_firm``."""
        if not isinstance(value, np.ndarray) or value.ndim == 0:
            return value
        return self._per_element(value, self.layout.clusters("tie"), index)

    @staticmethod
    def _per_element(value: np.ndarray, cluster: np.ndarray, index) -> np.ndarray:
        """``value[cluster]`` or ``value[cluster[index]]``. With one cluster (``value`` of length 1) and all
        elements or a full-length mask, ``value.repeat`` builds the same fresh array without gathering
        through the cluster array (elementwise: the same bits; 5x cheaper at 30,000 firms)."""
        if value.shape == (1,):
            if index is None:
                return value.repeat(cluster.size)
            if isinstance(index, np.ndarray) and index.dtype == bool and index.shape == cluster.shape:
                return value.repeat(np.count_nonzero(index))
        return value[cluster if index is None else cluster[index]]

    def coef_for(self, space: str, index=None) -> CoefView:
        """The coefficients as the elements of ``space`` see them (``"firm"``, ``"tie"``, ``"officer"``,
        ``"action"``, ``"cluster"``), all of them or those ``index`` selects."""
        if not self.coef_varies:  # every value a scalar (a single run): the namespace itself, no gathers
            return self.coef
        if space == "action":
            cluster = self.actions.cluster[: self.actions.count] if index is None else self.actions.cluster[index]
        elif space == "cluster":
            cluster = np.arange(self.K) if index is None else np.asarray(index)
        else:
            cluster = self.layout.clusters(space)
            cluster = cluster if index is None else cluster[index]
        return CoefView(self.coef, cluster)

    def per_cluster_coef(self, name: str, k: int):
        """Cluster ``k``'s value of one coefficient."""
        return _own_value(getattr(self.coef, name), k)

    def coef_of(self, k: int) -> SimpleNamespace:
        """Cluster ``k``'s own coefficients, every value a scalar (for readers of one cluster)."""
        return SimpleNamespace(**{name: _own_value(v, k) for name, v in vars(self.coef).items()})

    # the legacy backend's generators, by their old names (tests replace them to force a draw)
    rng = property(lambda self: self._legacy("rng"), lambda self, g: self._legacy("rng", g))
    rng_turnover = property(lambda self: self._legacy("rng_turnover"), lambda self, g: self._legacy("rng_turnover", g))
    rng_monitoring = property(
        lambda self: self._legacy("rng_monitoring"), lambda self, g: self._legacy("rng_monitoring", g)
    )

    def _legacy(self, name: str, generator=None):
        """A legacy generator by name (or replace it); counter-based draws have none to read or replace."""
        if not isinstance(self.draws, LegacyDraws):
            raise AttributeError(f"{name}: this run uses counter-based draws, which have no generator")
        if generator is not None:
            setattr(self.draws, name, generator)
        return getattr(self.draws, name)


def _own_value(value, k: int):
    """Cluster ``k``'s entry of a per-cluster coefficient as a Python value. A start-only text setting that
    differs across a batch (``manager_mode``, ``network_kind``) is an object array of ``str``, which has no
    ``item``."""
    if not isinstance(value, np.ndarray):
        return value
    own = value[k]
    return own.item() if isinstance(own, np.generic) else own
