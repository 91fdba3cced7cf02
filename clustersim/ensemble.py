"""Many clusters in one state: concatenate single-cluster states (docs/plans/ensemble-engine.md, §1, §4 step 4).

``concat_states`` turns K single-cluster states (K = 1 each, counter-based draws, all at the same month)
into one ``ClusterState`` with K clusters that the same process functions step together: firms, ties
and BSO officer slots are concatenated in cluster order (each cluster's elements contiguous and in
their standalone order, plan R3), ids that point into them are offset, and every per-cluster quantity
becomes row k of a (K,) or (K, ...) array. ``cluster_view`` reads one cluster back out of a state, in
that cluster's own (local) indices, so that a cluster run alone and the same cluster inside a batch
can be compared bit for bit (the invariance harness, tests/test_ensemble.py).

Per-cluster coefficients are a later step (plan §1.7): for now the clusters of a batch must share
every coefficient the monthly step reads. They may differ only in the keys of ``INIT_ONLY``, which
shape a cluster's initial state or its calendar and ledger (both held per cluster) and are not read
by any monthly process (a test scans the processes for them).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import fields
from types import SimpleNamespace

import numpy as np

from .cluster_state import (
    DECISION_FIELDS,
    ActionTypes,
    Association,
    BSOStaff,
    ClusterState,
    FunderState,
    ManagerState,
    MonthActivity,
    _own_value,
)
from .joint_actions import ActionBook
from .layout import Layout
from .network import TieArrays, TrustNetwork
from .policy import NEVER, CalendarArrays, Ledger
from .segments import Reducer
from .state import FirmArrays
from .streams import CounterDraws

#: Coefficients the clusters of one batch may disagree on: they are read at initialisation only (the
#: firm population, the network, the BSO's and the manager's set-up), or they shape the per-cluster
#: calendar and ledger (``PolicyCalendar.from_scenario``, ``Ledger.from_scenarios``), or the length of
#: the output. Every other coefficient is read by the monthly step and must be equal across a batch.
INIT_ONLY = frozenset(
    {
        # horizon and size
        "months",
        "n_firms",
        # the firm population (processes/initialisation.py)
        "mean_firm_size",
        "size_heterogeneity",
        "size_score_spread",
        "capability_base",
        "capability_min",
        "capability_noise_sd",
        "capability_size_slope",
        "export_orientation",
        "export_score_noise_sd",
        "export_score_size_slope",
        "exporter_threshold",  # held by FirmArrays: one for the batch, or one per cluster
        "prior_cooperative_share",
        "prior_disposition_bonus",
        "prior_motivation_bonus",
        "prior_trust",
        "prior_trust_bonus",
        "trust_propensity_mean",
        "trust_propensity_sd",
        "initial_cooperativeness",
        "initial_cooperativeness_sd",
        "initial_member_share",
        "initial_motivation",
        "initial_motivation_sd",
        "female_owner_share",
        "female_job_share",
        "female_owner_job_share_bonus",
        "male_owner_job_share_gap",
        "digital_access_share",
        "revenue_per_employee",
        "revenue_capability_base",
        "revenue_capability_slope",
        "evidence_prior_successes",
        "evidence_prior_actions",
        # the network
        "network_kind",
        "mean_degree",
        "rewiring_prob",
        "latent_tie_share",
        # the BSO and the manager (held per cluster in BSOStaff and ManagerState)
        "bso_staff",
        "bso_training_staff",
        "bso_untrained_competence",
        "manager_present",
        "manager_skill",
        "manager_contacts_per_month",
        "manager_mode",
        # the calendar (CalendarArrays) and the ledger's allocations (Ledger)
        "programme_start_month",
        "programme_months",
        "plan_funded",
        "disbursement_delay_months",
        "promised_disbursement_delay_months",
        "tranche_interval_months",
        "bso_training_start_month",
        "bso_training_interval_months",
        "firm_training_month",
        "regional_exchange_interval_months",
        "pandemic_start_month",
        "pandemic_months",
        "hurricane_month",
        "programme_budget",
        "budget_manager",
        "budget_bso_training",
        "budget_firm_training",
        "budget_monitoring",
        "budget_regional_exchange",
        "budget_leader_incentive",
    }
)


#: the ClusterState fields concat_states and cluster_view handle (a new field must be added to both)
HANDLED_FIELDS = frozenset(
    {
        "coef",
        "coef_varies",
        "types",
        "layout",
        "reduce",
        "calendar",
        "ledger",
        "firms",
        "network",
        "bso",
        "manager",
        "activity",
        "draws",
        "association",
        "funder",
        "report",
        "programme_on",
        "face_to_face",
        "success_stories",
        "peer_stories",
        "outcomes_recent",
        "cumulative",
        "alignment",
        "contribution_rate",
        "information_quality",
        "monitoring_on",
        "actions",
        "typology_path",
        "month",
    }
)


def _check_inputs(states: Sequence[ClusterState]) -> None:
    if not states:
        raise ValueError("concat_states needs at least one state")
    for i, s in enumerate(states):
        if s.K != 1:
            raise ValueError(f"state {i} holds {s.K} clusters; concat_states takes single-cluster states (K = 1)")
        if not isinstance(s.draws, CounterDraws) or s.reduce.legacy:
            raise ValueError(
                f"state {i} uses legacy draws, which serve one cluster only: build every state with "
                "streams='counter' (ClusterModel(..., streams='counter'))"
            )
    months = [s.month for s in states]
    if len(set(months)) > 1:
        raise ValueError(f"the clusters of a batch step in lockstep: all states must be at one month, got {months}")
    draw_months = [s.draws.month for s in states]
    if any(m != months[0] for m in draw_months):
        raise ValueError(f"the states' draws are at months {draw_months}, their clocks at {months[0]}")


def _check_coefficients(states: Sequence[ClusterState]) -> None:
    """Refuse clusters that cannot share a batch: other coefficient names, or a different choice (a string
    coefficient) that the monthly step reads. Numbers may differ (the action-type table's among them)."""
    first = vars(states[0].coef)
    for i, s in enumerate(states[1:], start=1):
        other = vars(s.coef)
        if set(other) != set(first):
            raise ValueError(f"state {i} has other coefficient names than state 0: {sorted(set(other) ^ set(first))}")
        if other == first and all(type(other[key]) is type(value) for key, value in first.items()):
            continue  # every coefficient the same (NaN aside, which == never finds equal: checked below)
        for key, value in first.items():
            if key in INIT_ONLY or _same_value(value, other[key]):
                continue
            if isinstance(value, str) or isinstance(other[key], str):
                raise ValueError(
                    f"coefficient {key!r} differs between state 0 ({value!r}) and state {i} ({other[key]!r}): "
                    "a choice the monthly step reads must be the same across a batch"
                )


def batch_coefficients(states: Sequence[ClusterState]) -> SimpleNamespace:
    """The batch's coefficients: a value every cluster shares stays a Python scalar (so the processes
    compute exactly as for one cluster); a value that differs is a (K,) array, one per cluster, which the
    processes read per cluster or gather per element (``ClusterState.coef_for``; plan D4)."""
    names = vars(states[0].coef)
    out = {}
    for key, value in names.items():
        values = [getattr(s.coef, key) for s in states]
        if _all_same(values):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = np.array(values, dtype=object if isinstance(value, str) else None)
    return SimpleNamespace(**out)


def _all_same(values: list) -> bool:
    """``_same_value(values[0], v)`` for every ``v``. First the common case in C (every value equal to the
    first and of its type: ``list.count`` compares by identity, then ``==``), then value by value."""
    first = values[0]
    if values.count(first) == len(values) and all(type(v) is type(first) for v in values):
        return True
    return all(_same_value(first, v) for v in values[1:])


def _same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:  # both NaN
        return True
    return type(a) is type(b) and a == b


def _offsets(sizes: Sequence[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])


def _cat(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(a) for a in arrays], axis=0)


def _concat_firms(states: Sequence[ClusterState], action_offset: np.ndarray) -> FirmArrays:
    firms = [s.firms for s in states]
    thresholds = [f.exporter_threshold for f in firms]
    values = {}
    for name in firms[0].names():
        if name == "n":
            values[name] = sum(f.n for f in firms)
        elif name == "exporter_threshold":  # one for the batch when shared, else one per cluster
            shared = all(_same_value(thresholds[0], t) for t in thresholds[1:])
            values[name] = thresholds[0] if shared else np.array(thresholds, dtype=float)
        elif name == "action":  # ids into the concatenated action book
            values[name] = _cat(
                [np.where(f.action >= 0, f.action + action_offset[k], f.action) for k, f in enumerate(firms)]
            )
        else:
            values[name] = _cat([getattr(f, name) for f in firms])
    return FirmArrays(**values)


def _concat_network(states: Sequence[ClusterState], firm_offset: np.ndarray, tie_offset: np.ndarray) -> TrustNetwork:
    """The block-diagonal trust network. Each cluster's incident lists keep their order (the one ``build_ties``'s
    stable sort gives, which a global rebuild over the concatenated ties would give too)."""
    nets = [s.network for s in states]
    ties = [n.ties for n in nets]
    entry_offset = _offsets([t.incident_idx.size for t in ties])
    ptr = [t.incident_ptr[:-1] + entry_offset[k] for k, t in enumerate(ties)]
    tie_arrays = TieArrays(
        u=_cat([t.u + firm_offset[k] for k, t in enumerate(ties)]),
        v=_cat([t.v + firm_offset[k] for k, t in enumerate(ties)]),
        active=_cat([t.active for t in ties]),
        incident_ptr=_cat([*ptr, [entry_offset[-1]]]).astype(np.int64),
        incident_idx=_cat([t.incident_idx + tie_offset[k] for k, t in enumerate(ties)]),
        incident_other=_cat([t.incident_other + firm_offset[k] for k, t in enumerate(ties)]),
    )
    return TrustNetwork(
        tie_arrays,
        trust=_cat([n.trust for n in nets]),
        floor=_cat([n.floor for n in nets]),
        contact=_cat([n.contact for n in nets]),
    )


def _concat_actions(states: Sequence[ClusterState]) -> ActionBook:
    """One book: each cluster's actions in its own order, with their cluster and their local number."""
    books = [s.actions for s in states]
    total = sum(b.count for b in books)
    out = ActionBook.empty(max(total, books[0].kind.size))
    for name in ActionBook.DTYPES:
        column = getattr(out, name)
        if name == "cluster":
            column[:total] = np.repeat(np.arange(len(books)), [b.count for b in books])
        else:
            column[:total] = _cat([getattr(b, name)[: b.count] for b in books])
    out.count = total
    return out


def _pad_columns(rows: Sequence[np.ndarray]) -> np.ndarray:
    """(1, width_k) story tallies as one (K, max width) array, padded with zeros."""
    width = max(r.shape[1] for r in rows)
    out = np.zeros((len(rows), width))
    for k, r in enumerate(rows):  # once per cluster at set-up
        out[k, : r.shape[1]] = r[0]
    return out


def _offset_firms(index: np.ndarray, offset: int) -> np.ndarray:
    return np.asarray(index, dtype=np.int64) + offset


def _concat_funder_log(states: Sequence[ClusterState]) -> list[dict]:
    """Every decision round of every cluster, its ``cluster`` column re-indexed, in the order of the months."""
    chunks = []
    for k, s in enumerate(states):
        for chunk in s.funder.log:
            moved = {name: np.array(chunk[name], copy=True) for name in DECISION_FIELDS}
            moved["cluster"] = np.asarray(chunk["cluster"], dtype=np.int64) + k
            chunks.append(moved)
    first_month = [int(c["month"][0]) if len(c["month"]) else -1 for c in chunks]
    return [chunks[i] for i in np.argsort(first_month, kind="stable")]


def _concat_typology(states: Sequence[ClusterState]) -> list:
    """One entry per month in which any cluster was classified; None for a cluster not classified then."""
    months = sorted({m for s in states for m, _ in s.typology_path})
    out = []
    for month in months:
        classes = np.full(len(states), None, dtype=object)
        for k, s in enumerate(states):  # once per cluster at set-up, not in the monthly step
            for m, cls in s.typology_path:
                if m == month:
                    classes[k] = cls[0]
        out.append((month, classes))
    return out


def _per_cluster(states: Sequence[ClusterState], read) -> np.ndarray:
    return _cat([read(s) for s in states])


def concat_states(states: Sequence[ClusterState]) -> ClusterState:
    """One state holding the clusters of ``states`` (single clusters, counter-based draws, one month).

    The inputs are not modified, and the result shares no array with them.
    """
    states = list(states)
    unknown = {f.name for f in fields(ClusterState)} ^ HANDLED_FIELDS
    if unknown:
        raise NotImplementedError(f"concat_states does not know how to join the ClusterState fields {sorted(unknown)}")
    _check_inputs(states)
    _check_coefficients(states)
    n_firms = [s.firms.n for s in states]
    n_ties = [s.network.ties.n_ties for s in states]
    n_officers = [s.bso.competence.size for s in states]
    firm_offset, tie_offset = _offsets(n_firms), _offsets(n_ties)
    action_offset = _offsets([s.actions.count for s in states])
    layout = Layout.from_sizes(n_firms, n_ties, n_officers)
    reduce = Reducer(layout, legacy=False)
    draws = CounterDraws([int(s.draws.keys[0]) for s in states], layout)
    draws.at_month(states[0].month)

    def cat(read):
        return _per_cluster(states, read)

    def contacted(read):
        return _cat([_offset_firms(read(s), firm_offset[k]) for k, s in enumerate(states)])

    ledger = Ledger(**{f.name: cat(lambda s, n=f.name: getattr(s.ledger, n)) for f in fields(Ledger)})
    bso = BSOStaff(
        competence=cat(lambda s: s.bso.competence),
        untrained=cat(lambda s: s.bso.untrained),
        trainees=cat(lambda s: s.bso.trainees),
        reduce=reduce,
        officers_lost=cat(lambda s: s.bso.officers_lost),
        contacts_this_month=cat(lambda s: s.bso.contacts_this_month),
        contacted=contacted(lambda s: s.bso.contacted),
    )
    manager = ManagerState(
        **{
            f.name: cat(lambda s, n=f.name: getattr(s.manager, n))
            for f in fields(ManagerState)
            if f.name != "contacted"
        },
        contacted=contacted(lambda s: s.manager.contacted),
    )
    counters = states[0].activity.counters
    activity = MonthActivity(
        contacted=cat(lambda s: s.activity.contacted),
        contact_effect=cat(lambda s: s.activity.contact_effect),
        counters={name: cat(lambda s, n=name: s.activity.counters[n]) for name in counters},
    )
    association = Association(
        **{f.name: cat(lambda s, n=f.name: getattr(s.association, n)) for f in fields(Association)}
    )
    funder = FunderState(
        next_tranche=cat(lambda s: s.funder.next_tranche),
        leader_incentive_paid=cat(lambda s: s.funder.leader_incentive_paid),
        log=_concat_funder_log(states),
    )
    first = states[0]
    return ClusterState(
        coef=(coef := batch_coefficients(states)),
        coef_varies=any(isinstance(v, np.ndarray) for v in vars(coef).values()),
        types=ActionTypes.stack([s.types for s in states]),
        layout=layout,
        reduce=reduce,
        calendar=CalendarArrays.stack([s.calendar.clusters[0] for s in states]),
        ledger=ledger,
        firms=_concat_firms(states, action_offset),
        network=_concat_network(states, firm_offset, tie_offset),
        bso=bso,
        manager=manager,
        activity=activity,
        draws=draws,
        association=association,
        funder=funder,
        report={name: cat(lambda s, n=name: s.report[n]) for name in first.report},
        programme_on=cat(lambda s: s.programme_on),
        face_to_face=cat(lambda s: s.face_to_face),
        success_stories=_pad_columns([s.success_stories for s in states]),
        peer_stories=_pad_columns([s.peer_stories for s in states]),
        outcomes_recent=cat(lambda s: s.outcomes_recent),
        cumulative={name: cat(lambda s, n=name: s.cumulative[n]) for name in first.cumulative},
        alignment=cat(lambda s: s.alignment),
        contribution_rate=cat(lambda s: s.contribution_rate),
        information_quality=cat(lambda s: s.information_quality),
        monitoring_on=cat(lambda s: s.monitoring_on),
        actions=_concat_actions(states),
        typology_path=_concat_typology(states),
        month=first.month,
    )


def _local_members(index: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The entries of a list of global firm ids that fall in [lo, hi), as local ids, in their order."""
    index = np.asarray(index, dtype=np.int64)
    return index[(index >= lo) & (index < hi)] - lo


def _trimmed(row: np.ndarray) -> np.ndarray:
    """A story row without its trailing zero columns (a batch pads rows to the widest horizon)."""
    nonzero = np.flatnonzero(row)
    return row[: nonzero[-1] + 1] if nonzero.size else row[:0]


def cluster_view(state: ClusterState, k: int) -> dict[str, np.ndarray]:
    """Cluster ``k`` of ``state`` in its own indices: what it would be as a single-cluster state.

    Per-firm, per-tie and per-officer arrays are the cluster's slices; ids into them (tie ends, incident
    lists, contacted firms) are local; a firm's action is the action's local number, and the book's rows
    are the cluster's actions ordered by local number. Per-cluster values are row ``k``. Padding that
    depends on the batch is removed (``NEVER`` in the calendar, trailing zero columns of the story
    tallies). Derived quantities (capacity, layout) are left out: they follow from what is here.
    """
    if not 0 <= k < state.K:
        raise IndexError(f"cluster {k} of a state with {state.K} clusters")
    lay = state.layout
    f0, f1 = int(lay.firm_ptr[k]), int(lay.firm_ptr[k + 1])
    t0, t1 = int(lay.tie_ptr[k]), int(lay.tie_ptr[k + 1])
    o0, o1 = int(lay.officer_ptr[k]), int(lay.officer_ptr[k + 1])
    out: dict[str, np.ndarray] = {"month": np.asarray(state.month)}

    f, book = state.firms, state.actions
    for name in f.names():
        if name == "n":
            out["firms.n"] = np.asarray(f1 - f0)
        elif name == "exporter_threshold":
            out["firms.exporter_threshold"] = np.asarray(_own_value(f.exporter_threshold, k))
        elif name == "action":
            action = f.action[f0:f1]
            out["firms.action"] = np.where(action >= 0, book.local[np.maximum(action, 0)], action)
        else:
            out[f"firms.{name}"] = getattr(f, name)[f0:f1]

    net, ties = state.network, state.network.ties
    e0, e1 = int(ties.incident_ptr[f0]), int(ties.incident_ptr[f1])
    out["ties.u"] = ties.u[t0:t1] - f0
    out["ties.v"] = ties.v[t0:t1] - f0
    out["ties.active"] = ties.active[t0:t1]
    out["ties.incident_ptr"] = ties.incident_ptr[f0 : f1 + 1] - e0
    out["ties.incident_idx"] = ties.incident_idx[e0:e1] - t0
    out["ties.incident_other"] = ties.incident_other[e0:e1] - f0
    for name in ("trust", "floor", "contact"):
        out[f"network.{name}"] = getattr(net, name)[t0:t1]

    act = state.activity
    out["activity.contacted"] = act.contacted[f0:f1]
    out["activity.contact_effect"] = act.contact_effect[f0:f1]
    for name, counts in act.counters.items():
        out[f"counters.{name}"] = counts[k]

    bso = state.bso
    out["bso.competence"] = bso.competence[o0:o1]
    for name in ("untrained", "trainees", "officers_lost", "contacts_this_month"):
        out[f"bso.{name}"] = getattr(bso, name)[k]
    out["bso.contacted"] = _local_members(bso.contacted, f0, f1)
    for fld in fields(ManagerState):
        value = getattr(state.manager, fld.name)
        out[f"manager.{fld.name}"] = _local_members(value, f0, f1) if fld.name == "contacted" else value[k]

    for fld in fields(Association):
        out[f"association.{fld.name}"] = getattr(state.association, fld.name)[k]
    for fld in fields(Ledger):
        out[f"ledger.{fld.name}"] = getattr(state.ledger, fld.name)[k]
    cal = state.calendar
    for fld in fields(CalendarArrays):
        if fld.name != "clusters":
            row = np.asarray(getattr(cal, fld.name)[k])
            out[f"calendar.{fld.name}"] = row[row != NEVER] if row.ndim and fld.name != "pandemic" else row

    out["funder.next_tranche"] = state.funder.next_tranche[k]
    out["funder.leader_incentive_paid"] = state.funder.leader_incentive_paid[k]
    decisions = [
        {name: np.asarray(chunk[name])[np.asarray(chunk["cluster"]) == k] for name in DECISION_FIELDS}
        for chunk in state.funder.log
    ]
    for name in DECISION_FIELDS:
        if name != "cluster":
            column = _cat([d[name] for d in decisions]) if decisions else np.zeros(0)
            out[f"funder.log.{name}"] = column if column.size else np.zeros(0)  # no decision: one empty array

    for name, values in state.report.items():
        out[f"report.{name}"] = values[k]
    for name in ("programme_on", "face_to_face", "alignment", "contribution_rate", "information_quality"):
        out[name] = getattr(state, name)[k]
    out["monitoring_on"] = state.monitoring_on[k]
    out["success_stories"] = _trimmed(state.success_stories[k])
    out["peer_stories"] = _trimmed(state.peer_stories[k])
    out["outcomes_recent"] = state.outcomes_recent[k]
    for name, values in state.cumulative.items():
        out[f"cumulative.{name}"] = values[k]

    rows = np.flatnonzero(book.cluster[: book.count] == k)
    rows = rows[np.argsort(book.local[rows], kind="stable")]
    out["actions.count"] = np.asarray(rows.size)
    for name in ActionBook.DTYPES:
        if name != "cluster":
            out[f"actions.{name}"] = getattr(book, name)[rows]

    path = [(m, classes[k]) for m, classes in state.typology_path if classes[k] is not None]
    out["typology.months"] = np.array([m for m, _ in path], dtype=np.int64)
    out["typology.classes"] = np.array([cls for _, cls in path], dtype=object)
    out["draws.key"] = np.asarray(state.draws.keys[k])
    out["draws.month"] = np.asarray(state.draws.month)
    return {name: np.asarray(value) for name, value in out.items()}
