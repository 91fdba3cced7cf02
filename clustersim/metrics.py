"""Outputs on the source's three monitoring levels (000 §Monitoring and Evaluation), and per-run summaries.

Monthly metrics are computed from the model's arrays in one pass per month, so
the DataCollector's reporters only read a dict (cheap at any scale).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
from mesa import DataCollector
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .joint_actions import ACTION_TYPES, EXPORT
from .processes.economy import economy_totals
from .processes.information import classify as _classify
from .processes.information import openness_index
from .queries import cooperating
from .state import ACTIVE, DROPPED, MEMBER, OUTSIDE

#: name -> (level, meaning)
METRIC_INFO: dict[str, tuple[str, str]] = {
    # cluster organisation
    "contacts": ("organisation", "Firm contacts by the BSO and manager this month"),
    "meetings": ("organisation", "Meetings (three or more firms met) this month"),
    "services_delivered": ("organisation", "Services delivered so far (contacts, trainings, exchanges)"),
    "bso_capacity": ("organisation", "BSO capacity to foster collaboration, [0, 1]"),
    "bso_trained_staff": ("organisation", "Trained BSO officers in post"),
    "bso_officers_lost": ("organisation", "Trained BSO officers lost to turnover so far"),
    "money_disbursed": ("organisation", "Grant disbursed so far (k$)"),
    "programme_spend": ("organisation", "Programme money spent so far (k$)"),
    "association": ("organisation", "1 once the cluster association has formed (SF12)"),
    "association_cash": ("organisation", "The association's fee income not yet spent (k$)"),
    "manager_funded_share": (
        "organisation",
        "Share of the manager's salary paid this month (programme or association)",
    ),
    "cofinancing_left": ("organisation", "Co-financing line not yet spent (k$)"),
    # cluster actors
    "share_cooperating": ("actors", "Share of firms that contributed to a joint action in the last 6 months"),
    "contribution_rate": ("actors", "Share of this month's joint-action participants who contributed"),
    "mean_trust": ("actors", "Mean trust over active ties"),
    "trusted_tie_density": ("actors", "Density of the trusted-tie network"),
    "giant_component": ("actors", "Share of firms in the largest trusted-tie component"),
    "members": ("actors", "Firms that are members (incl. active)"),
    "active": ("actors", "Firms in a running joint action"),
    "outsiders": ("actors", "Firms outside the cluster organisation"),
    "dropouts": ("actors", "Firms that dropped out"),
    "priced_out_exits": ("actors", "Members who left because they could not pay their share of their goal, so far"),
    "mean_motivation": ("actors", "Mean motivation of all firms"),
    "mean_disposition": ("actors", "Mean learned disposition to contribute"),
    "alignment": ("actors", "Alignment of idle members' joint-action preferences (1 = all want the same)"),
    "joint_actions_running": ("actors", "Joint actions running"),
    "joint_actions_started": ("actors", "Joint actions started so far"),
    "joint_actions_completed": ("actors", "Joint actions completed successfully so far"),
    "joint_actions_failed": ("actors", "Joint actions that failed so far"),
    "reported_cooperation": ("actors", "Share cooperating as seen by monitoring (responding firms only)"),
    # economy and society
    "revenue_index": ("economy", "Total revenue against month 0 (=1), deseasonalised"),
    "reported_revenue_index": ("economy", "Revenue index as reported, with seasonality"),
    "exports_index": ("economy", "Total exports against month 0 (=1)"),
    "jobs_index": ("economy", "Employment against month 0 (=1)"),
    "jobs_created": ("economy", "Jobs created since month 0"),
    "women_share_jobs": ("economy", "Women's share of all jobs"),
    "women_share_new_jobs": ("economy", "Women's share of jobs created"),
    "women_share_management": ("economy", "Women's share of management positions"),
    "innovation_index": ("economy", "Mean capability gain since month 0"),
    "export_share": ("economy", "Share of firms exporting"),
}
MONTHLY_METRICS: tuple[str, ...] = tuple(METRIC_INFO)


#: Above this many firms the giant component is labelled by scipy: its sparse set-up no longer dominates, and on
#: sparse trusted networks of 10^5 firms the numpy hooking below needed up to log2(n) rounds (8-21 ms against
#: scipy's 7-10 ms a month, review of 2026-12-06), while at 60 firms it takes 40 us against 110-220 us.
NUMPY_LABELLING_MAX_FIRMS = 10_000


def component_labels(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """A component label (its smallest firm index) per firm, for the undirected edges ``u``-``v``.

    Hooking of label roots onto the smaller label plus pointer jumping (Shiloach & Vishkin 1982), in
    whole-array numpy steps: exact, and at cluster sizes several times cheaper than building a sparse
    matrix for ``scipy.sparse.csgraph.connected_components``. Terminates because labels only decrease.
    """
    labels = np.arange(n)
    # (a == b).all() is np.array_equal for two arrays of one shape, without its Python-level checks
    while True:
        lu, lv = labels[u], labels[v]
        if (lu == lv).all():
            return labels
        low = np.minimum(lu, lv)
        np.minimum.at(labels, lu, low)  # every label is a root here, so this hooks whole components
        np.minimum.at(labels, lv, low)
        while not ((jumped := labels[labels]) == labels).all():
            labels = jumped


def _scipy_component_sizes(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    order = np.argsort(u, kind="stable")  # build the CSR directly: cheaper than a COO conversion
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
    graph = csr_matrix((np.ones(u.size), v[order], indptr), shape=(n, n))
    return np.bincount(connected_components(graph, directed=False)[1])


def _giant_component(u: np.ndarray, v: np.ndarray, n: int) -> float:
    if u.size == 0:
        return 1.0 / n
    if n > NUMPY_LABELLING_MAX_FIRMS:
        return float(_scipy_component_sizes(u, v, n).max() / n)
    return float(np.bincount(component_labels(u, v, n)).max() / n)


def monthly_metrics(model) -> dict[str, float]:
    """All monthly metrics of ``model`` in its current state."""
    f, t, p = model.firms, model.ties, model.params
    n = f.n
    act = t.active
    tr = model.trust
    trusted = act & (tr >= p.trusted_threshold)
    state = model.state
    econ = economy_totals(state)
    base = model.baseline
    coop = cooperating(state)
    season = 1.0 + p.seasonality * math.sin(2 * math.pi * model.month / 12)
    # the tallies, money and governance metrics are read from the per-cluster state as a batch reads them
    from .batch_metrics import state_metrics  # batch_metrics imports this module

    held = {name: values.item() for name, values in state_metrics(state).items()}  # length 1: its number
    return {
        **held,
        "share_cooperating": float(coop.mean()),
        "mean_trust": float(tr[act].mean()) if act.any() else 0.0,
        "trusted_tie_density": float(trusted.sum() / max(n * (n - 1) / 2, 1)),
        "giant_component": _giant_component(t.u[trusted], t.v[trusted], n),
        "members": int(((f.state == MEMBER) | (f.state == ACTIVE)).sum()),
        "active": int((f.state == ACTIVE).sum()),
        "outsiders": int((f.state == OUTSIDE).sum()),
        "dropouts": int((f.state == DROPPED).sum()),
        "mean_motivation": float(f.motivation.mean()),
        "mean_disposition": float(f.disposition.mean()),
        "revenue_index": econ["revenue"] / base["revenue"],
        "reported_revenue_index": season * econ["revenue"] / base["revenue"],
        "exports_index": econ["exports"] / base["exports"] if base["exports"] > 0 else np.nan,
        "jobs_index": econ["jobs"] / base["jobs"],
        "jobs_created": econ["jobs"] - base["jobs"],
        "women_share_jobs": econ["women_jobs"] / econ["jobs"],
        "women_share_new_jobs": econ["women_new_jobs"] / econ["new_jobs"] if econ["new_jobs"] > 1e-9 else np.nan,
        "women_share_management": econ["women_managers"] / econ["managers"],
        "innovation_index": float((f.capability - f.capability0).mean()),
        "export_share": float(f.exporter.mean()),
    }


def model_baseline(state) -> dict[str, float]:
    """The month-0 economy totals of a single-cluster state, reduced in the state's mode."""
    if state.reduce.legacy:
        return economy_totals(state)
    from .batch_metrics import economy_totals_batch

    return {name: v[0].item() for name, v in economy_totals_batch(state.firms, state.coef, state.layout).items()}


def model_metrics(model) -> dict[str, float]:
    """This month's metrics of a model (an ensemble of one): the legacy reductions under the legacy draws,
    the batch ones otherwise, so that a counter-mode run's series equal its cluster's in any batch."""
    if model.state.reduce.legacy:
        return monthly_metrics(model)
    from .batch_metrics import monthly_values_batch

    values = monthly_values_batch(model.state, model.baseline)  # numbers at once: no copies needed
    return {name: values[name].item() for name in MONTHLY_METRICS}


class MetricsCollector(DataCollector):
    """Mesa's ``DataCollector`` for the monthly metrics, filled from the dict computed once a month.

    The metrics are plain numbers computed fresh each month, so the deep copy Mesa makes of every
    reporter's value to guard against shared mutable state has nothing to guard here; skipping it
    and the per-reporter dispatch saves a fifth of the monthly cost at cluster sizes. Everything that
    reads a ``DataCollector`` (``model_vars``, ``get_model_vars_dataframe``) works unchanged.
    """

    def __init__(self, model_reporters=None, **kwargs):
        super().__init__(model_reporters=model_reporters, **kwargs)
        self._metric_reporters = dict(self.model_reporters)

    def collects_metrics_only(self) -> bool:
        """Whether the collector still holds only the monthly metrics' reporters (nobody added or replaced one)."""
        return not (self.agent_reporters or self.agenttype_reporters or self.model_reporters != self._metric_reporters)

    def extend(self, values: dict[str, list], times: list) -> None:
        """Append several months at once, as that many ``collect`` calls would: ``values`` maps each metric
        to its monthly numbers, ``times`` the model time of each month."""
        if hasattr(self, "_collection_steps"):
            self._collection_steps.extend(times)
        for name, column in values.items():
            self.model_vars[name].extend(column)

    def collect(self, model) -> None:
        if not self.collects_metrics_only():
            super().collect(model)  # someone added or replaced a reporter: Mesa's full path
            return
        if hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)
        model_vars = self.model_vars
        for name, value in model.current.items():
            model_vars[name].append(value)


class RecordedRun:
    """``ClusterModel.run``'s months recorded and reduced at the end (``batch_metrics.MonthlyRecorder``),
    then handed to the model's ``DataCollector`` and ``current`` as month-by-month ``step()`` calls would have
    left them. It applies only where that gives the same numbers: counter draws, and the model's own
    collector with only the metrics' reporters; otherwise (and for no months) it leaves ``step()`` to collect.
    An interrupted run hands over the months recorded whole."""

    def __init__(self, model, months: int) -> None:
        collector = model.datacollector
        self.model = model
        self.applies = (
            months > 0
            and not model.state.reduce.legacy
            and isinstance(collector, MetricsCollector)
            and collector.collects_metrics_only()
        )
        self.months = months
        self.times: list = []

    def __enter__(self) -> RecordedRun:
        if self.applies:
            from .batch_metrics import MonthlyRecorder

            self.recorder = MonthlyRecorder(self.model.baseline, months=self.months)
            self.model._recording = self
        return self

    def month(self, model) -> None:
        """Record the month just stepped; its time first, so that an interrupted month is cut from both."""
        self.times.append(model.time)
        self.recorder.record(model.state)

    def __exit__(self, *exc) -> bool:
        if not self.applies:
            return False
        model = self.model
        model._recording = None
        if self.recorder.recorded_months():  # the months recorded whole (an interruption may cut the last)
            series = self.recorder.series(model.state)
            columns = {name: values[:, 0].tolist() for name, values in series.items()}
            model.datacollector.extend(columns, self.times[: len(columns["share_cooperating"])])
            model.current = {name: values[-1] for name, values in model.datacollector.model_vars.items()}
        return False


def actions_of(state, k: int = 0) -> np.ndarray:
    """Book positions of cluster ``k``'s joint actions, in the order it started them."""
    book = state.actions
    return np.flatnonzero(book.cluster[: book.count] == k)


def joint_action_volume(state, k: int = 0) -> float:
    """The full cost (k$) committed by the joint actions started: participants x duration x monthly cost of
    the type, whoever pays it (SF5, SF11: a higher own share means fewer or smaller joint actions). Free riders'
    months count, and an action started near the horizon counts its months past it."""
    book, types, ids = state.actions, state.types, actions_of(state, k)
    months = book.end[ids] - book.start[ids]
    cost = state.per_cluster_coef("joint_action_cost", k)
    return float((book.size[ids] * months * types.at("cost", book.kind[ids], k)).sum() * cost)


TAKEOFF_LEVEL = 0.3  # share cooperating that marks take-off


def classify(cooperation: float, innovation: float, openness: float, coef=None) -> str:
    """Typology of clusters (SF13), with the registered thresholds (``processes.information.classify``)."""
    from .parameters import defaults

    c = coef if coef is not None else SimpleNamespace(**defaults())
    return str(_classify(c, cooperation, innovation, openness))


def typology_path(state, k: int = 0) -> list[tuple[int, str]]:
    """Cluster ``k``'s class every ``typology_interval_months`` (SF13), as (month, class)."""
    return [(month, str(classes[k])) for month, classes in state.typology_path if classes[k] is not None]


def run_summary(series, model) -> dict[str, float | str]:
    """Per-run indicators from the monthly series (a DataFrame) and the model's final state."""
    return cluster_summary({name: series[name].to_numpy() for name in series.columns}, model.state, 0)


def cluster_summary(s: dict[str, np.ndarray], state, k: int) -> dict[str, float | str]:
    """Per-run indicators of cluster ``k`` of ``state`` from its monthly series ``s`` (metric -> array by month)."""
    coop = np.asarray(s["share_cooperating"], dtype=float)
    months = len(coop) - 1
    cal = state.calendar.clusters[k]
    above = np.flatnonzero(coop >= TAKEOFF_LEVEL)
    takeoff = float(above[0]) if above.size else math.nan
    end = cal.programme_end if cal.has_programme else math.nan

    def at(month):
        return float(coop[int(month)]) if not math.isnan(month) and 0 <= month <= months else math.nan

    coop_end = at(end)

    def at_end(metric: str) -> float:
        if math.isnan(end) or end > months:
            return math.nan
        return float(s[metric][int(end)])

    def last(metric: str) -> float:
        return float(s[metric][-1])

    coop_after = at(end + 24) if not math.isnan(end) else math.nan
    final = float(coop[-1])
    innovation = last("innovation_index")
    openness = float(openness_index(state)[k])
    ledger = state.ledger.cluster(k)
    cost = ledger.programme_cost
    assoc, decisions, path = state.association.cluster(k), state.funder.decisions_of(k), typology_path(state, k)
    n_coop = final * state.layout.n_firms[k]
    book, ids = state.actions, actions_of(state, k)
    kinds, starts = book.kind[ids], book.start[ids]
    exp_done = ~book.running[ids] & (kinds == EXPORT)
    reported = np.asarray(s["reported_cooperation"], dtype=float)
    observed = ~np.isnan(reported)
    trust, motivation, dropouts = (np.asarray(s[m], dtype=float) for m in ("mean_trust", "mean_motivation", "dropouts"))
    alignment, capacity = np.asarray(s["alignment"], dtype=float), np.asarray(s["bso_capacity"], dtype=float)
    first = {
        f"first_{name}_month": float(starts[kinds == kind].min()) if (kinds == kind).any() else math.nan
        for kind, name in enumerate(ACTION_TYPES)
    }
    return {
        "takeoff_month": takeoff,
        "final_cooperation": final,
        "peak_cooperation": float(coop.max()),
        "mean_cooperation": float(coop[1:].mean()) if months else final,
        "coop_at_programme_end": coop_end,
        "coop_24m_after_end": coop_after,
        "sustainability": coop_after / coop_end
        if coop_end and coop_end > 0 and not math.isnan(coop_after)
        else math.nan,
        "final_trust": float(trust[-1]),
        "trust_gain_24m": float(trust[min(24, months)] - trust[0]),
        "final_motivation": float(motivation[-1]),
        "min_motivation_36m": float(motivation[: min(36, months) + 1].min()),
        "dropouts": float(dropouts[-1]),
        "peak_dropouts": float(dropouts.max()),
        "priced_out_exits": last("priced_out_exits"),
        "joint_actions_started": last("joint_actions_started"),
        "joint_actions_completed": last("joint_actions_completed"),
        "joint_actions_failed": last("joint_actions_failed"),
        "mean_alignment": float(np.nanmean(alignment)) if (~np.isnan(alignment)).any() else math.nan,
        "programme_cost": cost,
        "firm_cofunding": ledger.firm_own_contributions,
        "joint_action_volume": joint_action_volume(state, k),
        "cost_per_cooperating_firm": cost / n_coop if n_coop > 0 else math.nan,
        "firm_fees": ledger.firm_fees,
        "budget_shortfall": float(sum(ledger.shortfall.values())),
        "manager_months_unpaid": float(state.manager.months_unpaid[k]),
        "association_formed_month": float(assoc.formed_month) if assoc.formed else math.nan,
        "association_fees": assoc.fees_collected,
        "association_manager_paid": assoc.manager_paid,
        "tranches_withheld": float(len({d["tranche"] for d in decisions if not d["released"]})),
        "tranches_withheld_above_milestone": float(
            len({d["tranche"] for d in decisions if not d["released"] and d["true"] >= d["milestone"]})
        ),
        "typology_transitions": float(sum(a != b for (_, a), (_, b) in zip(path, path[1:], strict=False))),
        "revenue_index_at_programme_end": at_end("revenue_index"),
        "exports_index_at_programme_end": at_end("exports_index"),
        "jobs_index_at_programme_end": at_end("jobs_index"),
        **{name: last(name) for name in ("revenue_index", "exports_index", "jobs_index", "jobs_created")},
        **{name: last(name) for name in ("women_share_jobs", "women_share_new_jobs", "women_share_management")},
        "innovation_index": innovation,
        "openness_index": openness,
        "bso_capacity_mean": float(capacity[1:].mean()) if months else float(capacity[0]),
        "export_action_success_rate": (float(book.succeeded[ids][exp_done].mean()) if exp_done.any() else math.nan),
        "reported_cooperation_bias": (
            float((reported[observed] - coop[observed]).mean()) if observed.any() else math.nan
        ),
        **first,
        "typology": classify(final, innovation, openness, state.coef_of(k)),
        "typology_path": ">".join(cls for _, cls in path),
    }


#: Per-run summary outputs, declared once: name -> (unit, meaning). ``run_summary`` returns exactly
#: these (plus the categorical ``typology``), and sweeps, analyses and docs read this table.
SUMMARY_INFO: dict[str, tuple[str, str]] = {
    "takeoff_month": ("month", f"First month in which the share cooperating reaches {TAKEOFF_LEVEL}"),
    "final_cooperation": ("share", "Share of firms cooperating at the horizon"),
    "peak_cooperation": ("share", "Highest monthly share cooperating"),
    "mean_cooperation": ("share", "Mean monthly share cooperating over the run"),
    "coop_at_programme_end": ("share", "Share cooperating in the month the programme ends"),
    "coop_24m_after_end": ("share", "Share cooperating 24 months after the programme ends (NaN if the horizon ends sooner)"),
    "sustainability": ("ratio", "Cooperation 24 months after the programme over cooperation at its end (SF14)"),
    "final_trust": ("trust", "Mean trust over active ties at the horizon"),
    "trust_gain_24m": ("trust", "Rise in mean trust over the first 24 months (SF1)"),
    "final_motivation": ("motivation", "Mean motivation at the horizon"),
    "min_motivation_36m": ("motivation", "Lowest mean motivation in the first 36 months (SF3, SF4)"),
    "dropouts": ("firms", "Firms dropped out at the horizon"),
    "peak_dropouts": ("firms", "Most firms dropped out at once"),
    "priced_out_exits": ("firms", "Exits of members who could not pay their share of their goal, over the run"),
    "joint_actions_started": ("actions", "Joint actions started over the run"),
    "joint_actions_completed": ("actions", "Joint actions completed successfully over the run"),
    "joint_actions_failed": ("actions", "Joint actions that failed over the run"),
    "mean_alignment": ("index", "Mean alignment of idle members' preferences (SF5)"),
    "firm_cofunding": ("k$", "Firms' own money spent on joint actions (co-funding and unfunded actions)"),
    "joint_action_volume": ("k$", "Full cost of the joint actions started, whoever pays: participants x months x cost"),
    "programme_cost": ("k$", "Programme money actually spent"),
    "cost_per_cooperating_firm": ("k$/firm", "Programme cost per firm cooperating at the horizon"),
    "firm_fees": ("k$", "Membership fees firms paid to the cluster association"),
    "budget_shortfall": ("k$", "Services wanted but not delivered for lack of money on their line (or no line)"),
    "manager_months_unpaid": ("months", "Programme months in which nobody could pay the cluster manager"),
    "association_formed_month": ("month", "Month the cluster association formed (SF12)"),
    "association_fees": ("k$", "Fees the association collected"),
    "association_manager_paid": ("k$", "Manager's salary the association paid (SF14)"),
    "tranches_withheld": ("tranches", "Conditional tranches withheld at least once (SF15)"),
    "tranches_withheld_above_milestone": (
        "tranches",
        "Tranches withheld at least once while the true share cooperating met the milestone",
    ),
    "typology_transitions": ("transitions", "Changes of class in the yearly typology path (SF13)"),
    "revenue_index_at_programme_end": ("index", "Revenue against month 0 when the programme ends"),
    "exports_index_at_programme_end": ("index", "Exports against month 0 when the programme ends"),
    "jobs_index_at_programme_end": ("index", "Employment against month 0 when the programme ends"),
    "revenue_index": ("index", "Revenue against month 0 at the horizon"),
    "exports_index": ("index", "Exports against month 0 at the horizon"),
    "jobs_index": ("index", "Employment against month 0 at the horizon"),
    "jobs_created": ("jobs", "Jobs created since month 0"),
    "women_share_jobs": ("share", "Women's share of all jobs at the horizon"),
    "women_share_new_jobs": ("share", "Women's share of jobs created"),
    "women_share_management": ("share", "Women's share of management positions"),
    "innovation_index": ("capability", "Mean capability gain since month 0"),
    "openness_index": ("share", "Mean of the exporter share and the share of firms that joined later"),
    "bso_capacity_mean": ("capacity", "Mean BSO capacity over the run (SF6, SF7)"),
    "export_action_success_rate": ("share", "Share of finished joint export actions that succeeded"),
    "reported_cooperation_bias": ("share", "Mean reported minus true share cooperating (SF15)"),
    **{
        f"first_{name}_month": ("month", f"Month the first {name.replace('_', ' ')} action started")
        for name in ACTION_TYPES
    },
}
SUMMARY_METRICS: tuple[str, ...] = tuple(SUMMARY_INFO)
#: categorical summaries (strings): the final class and the yearly path, e.g. "rising>rising>innovative"
CATEGORICAL_SUMMARY: tuple[str, ...] = ("typology", "typology_path")
