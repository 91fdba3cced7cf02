"""Everything one run changes, in one object the processes are given (docs/architecture.md).

``ClusterState`` owns the arrays and the few per-cluster scalars. Processes
(``clustersim.processes``) read and update it; the Mesa ``ClusterModel`` holds
one, and its agents are views of it. Nothing here imports a process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from .coefficients import ACTION_TYPE_TABLE, ACTION_TYPES, action_type_key
from .joint_actions import ActionBook
from .network import TrustNetwork
from .policy import Ledger, PolicyCalendar
from .state import FirmArrays
from .streams import CounterDraws, LegacyDraws


def coefficient_namespace(params) -> SimpleNamespace:
    """Every registry value as an attribute (fast to read in the monthly step)."""
    return SimpleNamespace(**dict(params))


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
        return int(self.multiplier.size)


@dataclass
class BSOStaff:
    """The business support organisation's officers: one competence in [0, 1] per staff slot."""

    competence: np.ndarray
    untrained: float  # competence of an untrained hire (bso_untrained_competence)
    trainees: int
    officers_lost: int = 0
    contacts_this_month: int = 0
    contacted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def staff(self) -> int:
        return int(self.competence.size)

    @property
    def trained(self) -> np.ndarray:
        return self.competence > self.untrained + 1e-9  # above the hiring level, with a rounding margin

    @property
    def trained_staff(self) -> int:
        return int(self.trained.sum())

    @property
    def capacity(self) -> float:
        """Capacity to foster collaboration: the officers' mean competence, in [0, 1]."""
        return float(self.competence.mean()) if self.staff else 0.0


@dataclass
class ManagerState:
    """The cluster manager (UNIDO's Cluster Development Agent), if the scenario has one."""

    skill: float
    contacts_per_month: int
    mode: str  # "face_to_face" or "online"
    contacts_this_month: int = 0
    contacted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    funded_share: float = 0.0  # share of this month's salary someone paid (the programme, the association)
    months_unpaid: int = 0  # programme months in which nobody could pay the manager


@dataclass
class Association:
    """The cluster association (governance body), once members found it (SF12, SF14)."""

    formed_month: int | None = None
    months_above: int = 0  # consecutive months above both founding thresholds
    cash: float = 0.0  # k$ from fees, not yet spent
    fees_collected: float = 0.0
    manager_paid: float = 0.0  # k$ of the manager's salary it paid
    copay_months: int = 0  # months it co-paid the manager (learning by doing)
    paying_members: int = 0  # this month

    @property
    def formed(self) -> bool:
        return self.formed_month is not None


@dataclass
class FunderState:
    """The funder's tranche decisions (SF15): each records the report it saw and the truth behind it."""

    next_tranche: int = 0  # index into calendar.disbursements of the next tranche to release
    leader_incentive_paid: bool = False  # this month
    decisions: list = field(default_factory=list)  # dicts: month, tranche, indicator, reported, true, released


@dataclass
class MonthActivity:
    """What facilitators did this month: reset at the start of each month."""

    contacted: np.ndarray  # bool per firm: met by a facilitator
    contact_effect: np.ndarray  # strongest contact (skill x mode) per firm
    counters: dict[str, int]

    def reset(self) -> None:
        self.contacted[:] = False
        self.contact_effect[:] = 0.0
        for k in self.counters:
            self.counters[k] = 0


@dataclass
class ClusterState:
    """The state of one cluster (firms, trust network, joint actions, programme) and its random draws."""

    coef: SimpleNamespace
    types: ActionTypes
    calendar: PolicyCalendar
    ledger: Ledger
    firms: FirmArrays
    network: TrustNetwork
    bso: BSOStaff
    manager: ManagerState | None
    activity: MonthActivity
    draws: LegacyDraws | CounterDraws  # every monthly draw, by site (clustersim.streams)
    actions: ActionBook = field(default_factory=ActionBook.empty)
    association: Association = field(default_factory=Association)
    funder: FunderState = field(default_factory=FunderState)
    report: dict = field(default_factory=dict)  # the latest monitoring report (what responders said)
    typology_path: list = field(default_factory=list)  # (month, class) every 12 months (SF13)
    month: int = 0
    programme_on: bool = False
    face_to_face: bool = True
    success_stories: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per month
    # weighted stories from other clusters of a portfolio, per month (regional platform, SF18)
    peer_stories: np.ndarray = field(default_factory=lambda: np.zeros(0))
    outcomes_recent: list = field(default_factory=list)  # [successes, outcomes], decaying tally
    cumulative: dict = field(
        default_factory=lambda: {"services": 0, "started": 0, "succeeded": 0, "failed": 0, "contributions": 0}
    )
    alignment: float = np.nan
    contribution_rate: float = np.nan
    information_quality: float = 0.0
    monitoring_on: bool = False  # monitoring ran (and was paid for) this month

    @property
    def counters(self) -> dict[str, int]:
        return self.activity.counters

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
