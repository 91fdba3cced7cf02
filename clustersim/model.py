"""The cluster model: one step is one month (docs/ODD.md, "Process overview and scheduling").

``ClusterModel`` is the Mesa face: it owns the state (``ClusterState``), the agents that view it,
the ``DataCollector`` and the schedule. Every rule lives in a process module
(``clustersim.processes``); the step runs the variant's schedule in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from mesa import Model

from . import queries
from .agents import BSO, ClusterManager, Firm
from .cluster_state import ClusterState
from .metrics import MONTHLY_METRICS, MetricsCollector, RecordedRun, model_baseline, model_metrics
from .network import to_networkx
from .processes import (
    association,
    calendar,
    completion,
    economy,
    facilitation,
    formation,
    funder,
    information,
    learning,
    membership,
    motivation,
    plain_games,
    play,
    trust,
)
from .processes.initialisation import disposition_plain_game, disposition_projects, initial_state
from .scenario import Scenario, load_scenario
from .streams import DEFAULT_STREAMS

Process = Callable[[ClusterState], None]


@dataclass(frozen=True)
class Variant:
    """A model variant: its schedule of processes and how it draws initial dispositions."""

    name: str
    initial_disposition: Callable
    schedule: tuple[Process, ...]


#: The cluster model's month, in the order of docs/ODD.md, "Process overview and scheduling".
PROJECTS = Variant(
    "projects",
    disposition_projects,
    (
        calendar.begin_month,  # 1. programme running? face to face? clear last month's contacts
        funder.release_tranches,  # 2. due tranches paid, conditional ones on last month's report (SF15)
        calendar.apply_events,  # 3. BSO training, regional exchange, firm training, hurricane (paid by lines)
        calendar.pay_leader_incentives,  # 4. leader incentives while their line lasts
        information.update_information,  # 5. paid monitoring informs targeting (SF15)
        facilitation.bso_month,  # 6. BSO turnover, meetings and matchmaking (SF6, SF7)
        facilitation.manager_month,  # 7. the manager, as far as the programme or association pays (SF9)
        membership.update_membership,  # 8. join, drop out, return (SF2, SF3)
        formation.form_joint_actions,  # 9. proposals, candidates, affordable join decisions (SF5, SF10, SF11)
        play.play_joint_actions,  # 10. public goods games, co-financing, trust from play (SF1)
        completion.complete_joint_actions,  # 11. success or failure and their consequences (SF12)
        learning.imitate,  # 12. payoff-biased imitation of dispositions
        learning.mentor,  # 13. leaders mentor small neighbours (SF5)
        trust.update_trust,  # 14. informal contact, decay, reputation (SF8)
        association.found_or_collect,  # 15. members found the association; it collects fees (SF12, SF14)
        motivation.update_motivation,  # 16. relaxation, expectation gap, demonstration, burdens (SF3, SF4)
        economy.recover_capital,  # 17. capital rebuilt after a hurricane
        calendar.end_month,  # 18. services tallied, clock advanced
        information.report_monitoring,  # 19. responders report the month (the funder reads it next month)
        information.classify_yearly,  # 20. typology every 12 months (SF13)
    ),
)


def _swap(schedule: tuple[Process, ...], changes: dict[Process, Process | None]) -> tuple[Process, ...]:
    return tuple(changes.get(p, p) for p in schedule if changes.get(p, p) is not None)


# the plain games have no programme money and no governance: the funder and association steps go
PROGRAMME_ONLY: dict[Process, None] = {
    funder.release_tranches: None,
    calendar.pay_leader_incentives: None,
    association.found_or_collect: None,
}

#: Limit cases: the plain public goods game in random groups and in neighbourhoods (Santos et al. 2008)
RANDOM_GROUPS = Variant(
    "random_groups",
    disposition_plain_game,
    _swap(
        PROJECTS.schedule,
        {
            formation.form_joint_actions: None,
            play.play_joint_actions: plain_games.play_random_groups,
            completion.complete_joint_actions: None,
            learning.imitate: plain_games.imitate_well_mixed,
            **PROGRAMME_ONLY,
        },
    ),
)
NEIGHBOURHOODS = Variant(
    "neighbourhoods",
    disposition_plain_game,
    _swap(
        PROJECTS.schedule,
        {
            formation.form_joint_actions: None,
            play.play_joint_actions: plain_games.play_neighbourhoods,
            completion.complete_joint_actions: None,
            learning.imitate: plain_games.imitate_any_neighbour,
            **PROGRAMME_ONLY,
        },
    ),
)
VARIANTS: dict[str, Variant] = {v.name: v for v in (PROJECTS, RANDOM_GROUPS, NEIGHBOURHOODS)}

# read-only views of cluster 0 of the state (a model is an ensemble of one), so that ``model.ledger`` or
# ``model.alignment`` read as before: plain numbers, dicts by name, the cluster's own calendar
_STATE_VIEWS = {
    "firms": lambda s: s.firms,
    "actions": lambda s: s.actions,
    "types": lambda s: s.types,
    "month": lambda s: s.month,
    "ledger": lambda s: s.ledger.cluster(0),
    "calendar": lambda s: s.calendar.clusters[0],
    "association": lambda s: s.association.cluster(0),
    "counters": lambda s: {name: int(v[0]) for name, v in s.counters.items()},
    "cumulative": lambda s: {name: int(v[0]) for name, v in s.cumulative.items()},
    "alignment": lambda s: float(s.alignment[0]),
    "contribution_rate": lambda s: float(s.contribution_rate[0]),
    "information_quality": lambda s: float(s.information_quality[0]),
    "programme_on": lambda s: bool(s.programme_on[0]),
    "face_to_face": lambda s: bool(s.face_to_face[0]),
    "success_stories": lambda s: s.success_stories[0],
    "outcomes_recent": lambda s: s.outcomes_recent[0].tolist(),
    "rng_turnover": lambda s: s.rng_turnover,
    "rng_monitoring": lambda s: s.rng_monitoring,
}


def _read_metric(name: str, model: ClusterModel):
    return model.current[name]


class ClusterModel(Model):
    """Cooperation in a business cluster under a policy programme.

    Args:
        scenario: a preset name, a TOML path or a :class:`~clustersim.scenario.Scenario`.
        seed: integer seed for the model's ``rng`` (all randomness flows from it).
        rng: alternatively a ``numpy.random.Generator`` or seed-like.
        streams: the monthly random draws (``clustersim.streams``; default ``DEFAULT_STREAMS``):
            ``"counter"`` addresses each draw by (run key, month, site, element), so a run gives the same
            numbers alone or in an ensemble batch; ``"legacy"`` draws from the model's generator in
            sequence, as results recorded before the ensemble engine were made.
        **overrides: parameter overrides, validated like scenario keys.
    """

    def __init__(
        self, scenario: str | Scenario = "baseline", *, seed=None, rng=None, streams=DEFAULT_STREAMS, **overrides
    ):
        params = load_scenario(scenario, **overrides)
        if seed is not None and rng is not None:
            raise ValueError("pass either seed or rng, not both")
        super().__init__(rng=seed if seed is not None else rng)
        self.params = params
        self.variant = VARIANTS[params.group_formation]
        self.schedule = self.variant.schedule
        self.state = initial_state(params, self.rng, self.variant.initial_disposition, streams)
        self.bso = BSO(self)
        self.manager = ClusterManager(self) if self.state.manager.present[0] else None
        self.firm_agents = Firm.create_agents(self, self.state.firms.n, index=list(range(self.state.firms.n)))
        self.baseline = model_baseline(self.state)
        information.report_monitoring(self.state)
        information.classify_yearly(self.state)
        self.current: dict[str, float] = {}
        self._recording = None  # while ``run`` records the months for one reduction at its end
        self.datacollector = MetricsCollector(
            model_reporters={name: partial(_read_metric, name) for name in MONTHLY_METRICS}
        )
        self._collect()

    # ------------------------------------------------------------------ views
    ties = property(lambda self: self.state.network.ties, doc="The tie arrays (``TieArrays``).")
    trust = property(lambda self: self.state.network.trust, doc="Trust on each tie (in place).")
    trust_floor = property(lambda self: self.state.network.floor)
    tie_contact = property(lambda self: self.state.network.contact)
    contacted = property(lambda self: self.state.activity.contacted)
    contact_effect = property(lambda self: self.state.activity.contact_effect)

    @property
    def network(self):
        """A networkx view of the active trust ties (weights = trust), for inspection and drawing."""
        return to_networkx(self.ties, self.trust, self.firms.n)

    def reachable(self, online: bool = False) -> np.ndarray:
        """Firms a facilitator can meet: anyone, or only digitally connected firms online."""
        return queries.reachable(self.state, online)

    def cooperating(self) -> np.ndarray:
        return queries.cooperating(self.state)

    def success_signal(self) -> float:
        """Visibility of recent success stories, in [0, 1) (SF2 demonstration effect)."""
        return float(queries.success_signal(self.state)[0])

    def _collect(self) -> None:
        self.current = model_metrics(self)
        self.datacollector.collect(self)

    # --------------------------------------------------------------------- step
    def step(self) -> None:
        """Advance one month: run the schedule (docs/ODD.md, "Process overview and scheduling")."""
        state = self.state
        for process in self.schedule:
            process(state)
        self._collect() if self._recording is None else self._recording.month(self)

    def run(self, months: int | None = None) -> ClusterModel:
        """Run ``months`` steps (default: the horizon), metrics reduced at the end (``metrics.RecordedRun``)."""
        n_months = self.params.months if months is None else months
        with RecordedRun(self, n_months):
            for _ in range(n_months):
                self.step()
        return self

    # ----------------------------------------------------------- outputs
    def series(self):
        """The monthly series as a pandas DataFrame indexed by month."""
        df = self.datacollector.get_model_vars_dataframe()
        df.index.name = "month"
        return df

    def summary(self) -> dict[str, float | str]:
        """Per-run summary indicators (docs/ODD.md, "Outputs")."""
        from .metrics import run_summary

        return run_summary(self.series(), self)


for _name, _view in _STATE_VIEWS.items():
    setattr(ClusterModel, _name, property(lambda self, v=_view: v(self.state), doc=f"``{_name}`` of cluster 0"))
