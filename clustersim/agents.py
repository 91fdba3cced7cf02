"""The cluster's actors as Mesa agents: firms, the business support organisation and the cluster manager.

Each is a readable view of the state the model owns (``model.state``), so that
``firm.motivation``, ``firm.trust_in(other)`` or ``model.bso.capacity`` work for inspection, tests
and the dashboard while the monthly step stays vectorised in ``clustersim.processes``.
"""

from __future__ import annotations

from mesa import Agent

from .processes import facilitation
from .queries import bso_proposal_rate, manager_active, manager_mode_factor, manager_proposal_rate
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
    exporter = property(lambda self: bool(self._a("export_readiness") >= self.model.firms.exporter_threshold))
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
        """Contributed to a joint action within the cooperation window (``cooperation_window_months``)."""
        window = self.model.state.coef.cooperation_window_months
        return self.model.month - int(self._a("last_contribution")) <= window

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
    ``bso_untrained_competence``. Capacity is the mean competence. Training blocks raise the
    trainees' competence with diminishing returns within a block (000 Tables 4-7; SF7). Trained
    officers leave at the turnover rate and are replaced by untrained hires (000 §BSOs' future
    objectives; SF6). A view of ``model.state.bso``; its monthly behaviour is
    ``clustersim.processes.facilitation.bso_month``.
    """

    def _staff(self):
        return self.model.state.bso

    competence = property(lambda self: self._staff().competence)
    staff = property(lambda self: int(self._staff().staff[0]))
    trained_staff = property(lambda self: int(self._staff().trained_staff[0]))
    capacity = property(
        lambda self: float(self._staff().capacity[0]), doc="Capacity to foster collaboration, in [0, 1]."
    )
    officers_lost = property(lambda self: int(self._staff().officers_lost[0]))
    contacts_this_month = property(lambda self: int(self._staff().contacts_this_month[0]))
    contacted = property(lambda self: self._staff().contacted)
    trainees = property(lambda self: int(self._staff().trainees[0]))

    proposal_rate = property(
        lambda self: float(bso_proposal_rate(self.model.state)[0]), doc="Expected proposals a month."
    )

    def step(self) -> None:
        facilitation.bso_month(self.model.state)


class ClusterManager(Agent):
    """A cluster manager (UNIDO's Cluster Development Agent).

    Works as far as someone pays: the programme from its manager line while it runs (from the first
    tranche if it waits for its money), the cluster association for what it can afford. Meets at most
    ``manager_contacts_per_month`` firms a month, face to face or online, raising motivation and trust,
    brokering ties, proposing joint actions broken into doable parts, and damping conflicts over free
    riding (000 §Cluster managers; 004 §Cluster Development Agents; SF9). A view of
    ``model.state.manager``; its monthly behaviour is ``clustersim.processes.facilitation.manager_month``.
    """

    def _mgr(self):
        return self.model.state.manager

    skill = property(lambda self: float(self._mgr().skill[0]))
    contacts_per_month = property(lambda self: int(self._mgr().contacts_per_month[0]))
    mode = property(lambda self: "online" if self._mgr().online[0] else "face_to_face")
    contacts_this_month = property(lambda self: int(self._mgr().contacts_this_month[0]))
    contacted = property(lambda self: self._mgr().contacted)
    funded_share = property(lambda self: float(self._mgr().funded_share[0]), doc="Share of this month's salary paid.")
    active = property(lambda self: bool(manager_active(self.model.state)[0]))
    mode_factor = property(lambda self: float(manager_mode_factor(self.model.state)[0]))
    proposal_rate = property(lambda self: float(manager_proposal_rate(self.model.state)[0]))

    def step(self) -> None:
        facilitation.manager_month(self.model.state)
