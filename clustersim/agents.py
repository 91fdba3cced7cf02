"""The cluster's actors as Mesa agents: firms, the business support organisation and the cluster manager.

A :class:`Firm` is a readable view of one row of the model's firm arrays, so
that ``firm.motivation`` or ``firm.trust_in(other)`` work for inspection,
tests and the dashboard while the monthly step stays vectorised. The BSO and
the cluster manager are few, so their behaviour is written out here directly.
"""

from __future__ import annotations

import numpy as np
from mesa import Agent

from .facilitation import choose_contacts, facilitate
from .state import STATE_NAMES


class Firm(Agent):
    """A cluster firm (ODD: "Firms"). State lives in ``model.firms`` at row ``index``."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index

    def _a(self, name: str):
        return getattr(self.model.firms, name)[self.index]

    size = property(lambda self: float(self._a("size")), doc="Employees at start.")
    capability = property(lambda self: float(self._a("capability")))
    export_readiness = property(lambda self: float(self._a("export_readiness")))
    exporter = property(lambda self: bool(self._a("export_readiness") >= 0.5))
    trust_propensity = property(lambda self: float(self._a("trust_propensity")))
    prior_collaboration = property(lambda self: bool(self._a("prior_collaboration")))
    motivation = property(lambda self: float(self._a("motivation")))
    disposition = property(lambda self: float(self._a("disposition")), doc="Learned disposition to contribute.")
    female_owner = property(lambda self: bool(self._a("female_owner")))
    digital_access = property(lambda self: bool(self._a("digital_access")))
    leader = property(lambda self: bool(self._a("leader")))
    joint_action = property(lambda self: int(self._a("action")), doc="Running joint action id, or -1.")

    @property
    def state(self) -> str:
        """Membership state: outside, member, active (in a joint action) or dropped."""
        return STATE_NAMES[int(self._a("state"))]

    @property
    def cooperating(self) -> bool:
        """Contributed to a joint action in the last six months."""
        return self.model.month - int(self._a("last_contribution")) <= 6

    def ties(self) -> dict[int, float]:
        """Active trust ties of this firm: ``{other firm index: trust}``."""
        t = self.model.ties
        lo, hi = t.incident_ptr[self.index], t.incident_ptr[self.index + 1]
        idx, other = t.incident_idx[lo:hi], t.incident_other[lo:hi]
        keep = t.active[idx]
        return dict(zip(other[keep].tolist(), self.model.trust[idx[keep]].tolist(), strict=False))

    def trust_in(self, other: Firm | int) -> float:
        """Trust on the tie to ``other`` (0 when there is no active tie)."""
        j = other.index if isinstance(other, Firm) else int(other)
        return self.ties().get(j, 0.0)

    def __repr__(self) -> str:
        return f"Firm({self.index}, {self.state}, motivation={self.motivation:.2f})"


class BSO(Agent):
    """A business support organisation: a small staff whose trained officers give it capacity.

    Each staff slot holds a competence in [0, 1]; an untrained officer has
    ``UNTRAINED``. Capacity is the mean competence. Training blocks raise the
    trainees' competence with diminishing returns within a block, so that the
    same content spread over blocks with practice in between teaches more
    (000 Tables 4-7; SF7). Trained officers leave at the turnover rate and are
    replaced by untrained hires (000 §BSOs' future objectives; SF6).
    """

    UNTRAINED = 0.25
    RETENTION = 0.6  # share of a block's content retained (consolidated by practice)

    def __init__(self, model, staff: int):
        super().__init__(model)
        self.competence = np.full(staff, self.UNTRAINED)
        self.trainees = min(model.params.bso_training_staff, staff)
        self.officers_lost = 0
        self.contacts_this_month = 0
        self.contacted: np.ndarray = np.zeros(0, dtype=np.int64)

    @property
    def staff(self) -> int:
        return int(self.competence.size)

    @property
    def trained_staff(self) -> int:
        return int((self.competence > self.UNTRAINED + 1e-9).sum())

    @property
    def capacity(self) -> float:
        """Capacity to foster collaboration, in [0, 1]."""
        return float(self.competence.mean()) if self.staff else 0.0

    def train_block(self) -> None:
        """One training block for the designated trainees."""
        p = self.model.params
        per_block = p.bso_training_intensity / max(p.bso_training_blocks, 1)
        gain = self.RETENTION * (1.0 - np.exp(-per_block))
        slots = slice(0, self.trainees)
        self.competence[slots] += (1.0 - self.competence[slots]) * gain
        self.model.ledger.pay_direct(
            "spent_bso_training", p.bso_training_cost * self.trainees / max(p.bso_training_blocks, 1)
        )
        self.model.counters["services"] += self.trainees

    def regional_exchange(self) -> None:
        """Seeing other islands' clusters: officers learn from peers (000 §Regional Ecosystem; SF18)."""
        self.competence += 0.1 * (1.0 - self.competence) * (self.competence > self.UNTRAINED + 1e-9)
        self.model.counters["services"] += 1

    def turnover(self) -> None:
        leave = self.model.rng_turnover.random(self.staff) < self.model.params.bso_turnover_rate
        lost_trained = leave & (self.competence > self.UNTRAINED + 1e-9)
        self.officers_lost += int(lost_trained.sum())
        self.competence[leave] = self.UNTRAINED

    def step(self) -> None:
        """Monthly: turnover, then meetings and matchmaking while the programme runs."""
        m = self.model
        if self.staff == 0:
            return
        self.turnover()
        self.contacts_this_month = 0
        self.contacted = np.zeros(0, dtype=np.int64)
        if not m.programme_on:
            return
        mode = 1.0 if m.face_to_face else m.params.online_effectiveness
        n = int(round(3 * self.staff * self.capacity))
        reachable = m.reachable()
        contacts = choose_contacts(m, n, reachable)
        facilitate(m, contacts, skill=0.6 * self.capacity, mode_factor=mode)
        self.contacted = contacts
        self.contacts_this_month = int(contacts.size)
        m.counters["services"] += int(contacts.size)

    @property
    def proposal_rate(self) -> float:
        """Expected joint-action proposals the BSO brokers per month."""
        if self.staff == 0 or not self.model.programme_on:
            return 0.0
        return 0.4 * self.staff * self.capacity


class ClusterManager(Agent):
    """A cluster manager (UNIDO's Cluster Development Agent).

    Hired once the grant's first tranche arrives, for the programme's duration, and paid by the
    funder directly. Meets
    a limited number of firms each month, face to face or online, raising
    motivation and trust, brokering ties, proposing joint actions broken into
    doable parts, and damping conflicts over free riding (000 §Cluster
    managers; 004 §Cluster Development Agents; SF9).
    """

    def __init__(self, model, skill: float, contacts_per_month: int, mode: str):
        super().__init__(model)
        self.skill = skill
        self.contacts_per_month = contacts_per_month
        self.mode = mode
        self.contacts_this_month = 0
        self.contacted: np.ndarray = np.zeros(0, dtype=np.int64)

    @property
    def active(self) -> bool:
        m = self.model
        return m.programme_on and m.ledger.disbursed > 0

    @property
    def mode_factor(self) -> float:
        m = self.model
        online = self.mode == "online" or not m.face_to_face
        return m.params.online_effectiveness if online else 1.0

    @property
    def proposal_rate(self) -> float:
        return 0.15 * self.contacts_per_month * self.skill * self.mode_factor if self.active else 0.0

    def step(self) -> None:
        m = self.model
        self.contacts_this_month = 0
        self.contacted = np.zeros(0, dtype=np.int64)
        if not self.active:
            return
        m.ledger.pay_direct("spent_manager", m.params.manager_cost_per_month)
        online = self.mode == "online" or not m.face_to_face
        reachable = m.reachable(online=online)
        contacts = choose_contacts(m, self.contacts_per_month, reachable)
        facilitate(m, contacts, skill=self.skill, mode_factor=self.mode_factor)
        self.contacted = contacts
        self.contacts_this_month = int(contacts.size)
        m.counters["services"] += int(contacts.size)
