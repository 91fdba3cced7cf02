"""Comparing intervention mixes (or preset scenarios): KPIs with 95% intervals, cost, cost-effectiveness.

Cost-effectiveness is measured against the no-programme baseline: the extra
programme cost of a mix divided by the extra firms it has cooperating at the
end of the horizon. A mix is Pareto-efficient when no other mix is at least as
cheap and at least as cooperative, and strictly better on one of the two.

Budget mixes: a programme has one budget (``programme_budget``) split into the
named lines of :data:`clustersim.policy.LINES`. :func:`split_budget` builds a
mix as line allocations under one total, :func:`budget_lines` reads a
scenario's split, and :func:`compare_budget_mixes` runs labelled mixes on common
seeds and reports, beside the KPIs, what each line actually spent and what it
could not pay (what a line cannot pay does not happen).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..policy import LINE_KEYS, LINES, LedgerView, line_allocations
from ..posterior import SHIPPED_POSTERIOR, check_not_drawn, draw_parameter_sets, resolve_posterior
from ..report import mean_ci
from ..scenario import Scenario, ScenarioError, load_scenario
from ..seeds import run_seed
from ..streams import DEFAULT_STREAMS
from .design import default_streams, load_experiment
from .executors import execute
from .work import RunSpec, WithClusterOutputs, draws_reach

#: the KPIs of a comparison table (per-run summary metrics)
KPIS = ("final_cooperation", "coop_at_programme_end", "final_trust", "dropouts", "revenue_index", "jobs_index")
COOPERATION = "final_cooperation"
COST = "programme_cost"


def pareto_efficient(cost, benefit) -> np.ndarray:
    """Boolean mask of the points no other point dominates (lower or equal cost, higher or equal benefit)."""
    c, b = np.asarray(cost, dtype=float), np.asarray(benefit, dtype=float)
    keep = np.zeros(c.size, dtype=bool)
    for i in range(c.size):
        if np.isnan(c[i]) or np.isnan(b[i]):
            continue
        dominated = (c <= c[i]) & (b >= b[i]) & ((c < c[i]) | (b > b[i]))
        keep[i] = not dominated.any()
    return keep


def comparison_table(
    results: pd.DataFrame,
    labels: dict[int, str],
    baseline_point: int | None,
    n_firms: dict[int, float],
    kpis=KPIS,
    cooperation: str = COOPERATION,
    cost: str = COST,
) -> pd.DataFrame:
    """One row per design point (mix or scenario) with KPI means, 95% intervals and cost-effectiveness."""
    kpis = [k for k in dict.fromkeys([cooperation, *kpis]) if k in results.columns]
    rows = []
    for pid, g in results.groupby("point_id", sort=True):
        row = {"point_id": int(pid), "mix": labels.get(int(pid), f"point {pid}"), "baseline": pid == baseline_point}
        row["replicates"] = len(g)
        for k in kpis:
            m, lo, hi = mean_ci(g[k])
            row[f"{k}_mean"], row[f"{k}_low"], row[f"{k}_high"] = m, lo, hi
        m, lo, hi = mean_ci(g[cost])
        row["cost_mean"], row["cost_low"], row["cost_high"] = m, lo, hi
        row["n_firms"] = n_firms.get(int(pid), np.nan)
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    coop = table[f"{cooperation}_mean"]
    if baseline_point is not None and (table["point_id"] == baseline_point).any():
        base = table.loc[table["point_id"] == baseline_point].iloc[0]
        extra_firms = (coop - base[f"{cooperation}_mean"]) * table["n_firms"]
        extra_cost = table["cost_mean"] - base["cost_mean"]
        table["additional_cooperating_firms"] = extra_firms
        # no gain, no ratio: a mix that does not beat the baseline has no finite cost per firm gained
        table["cost_per_additional_cooperating_firm"] = np.where(extra_firms > 1e-9, extra_cost / extra_firms, np.nan)
    else:
        table["additional_cooperating_firms"] = np.nan
        table["cost_per_additional_cooperating_firm"] = np.nan
    mixes = ~table["baseline"].to_numpy()
    pareto = np.zeros(len(table), dtype=bool)
    pareto[mixes] = pareto_efficient(table.loc[mixes, "cost_mean"], coop[mixes])
    table["pareto"] = pareto
    table.attrs["cooperation"] = cooperation
    return table


def _mix_label(point: dict) -> str:
    return ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in point.items())


def compare_mixes(results: pd.DataFrame, experiment, kpis=KPIS, cooperation: str = COOPERATION) -> pd.DataFrame:
    """The intervention-mix comparison table of a sweep (each design point is a mix).

    Needs the experiment's ``baseline`` runs for the cost per additional
    cooperating firm; without them that column is NaN.
    """
    exp = load_experiment(experiment)
    labels = {pid: _mix_label(p) for pid, p in enumerate(exp.design().points)}
    n_firms = {}
    for pid in range(exp.n_points + (1 if exp.baseline is not None else 0)):
        if "n_firms" in exp.factor_names:
            n_firms[pid] = float(exp.factor_values(pid)["n_firms"])
        elif exp.scenario is not None:
            n_firms[pid] = float(exp.scenario["n_firms"])
    if exp.baseline is not None:
        labels[exp.baseline_point] = f"baseline ({exp.baseline.name})"
    return comparison_table(results, labels, exp.baseline_point, n_firms, kpis, cooperation)


def run_on_common_seeds(
    scenarios,
    replicates: int,
    seed: int,
    executor: str = "serial",
    workers: int | None = None,
    model=None,
    posterior=None,
    streams: str | None = None,
) -> pd.DataFrame:
    """Run every scenario on the same replicate seeds (``run_seed(seed, replicate)``, as ``clustersim run``).

    Returns one row per run with ``point_id`` (the scenario's position), ``replicate``, ``seed`` and the summary
    metrics, sorted by scenario and replicate. Common seeds make differences between scenarios not seed noise.
    ``model`` is a sweep model ``(scenario, seed) -> outputs`` (default: the agent-based model's summary).
    With a ``posterior`` (a table or path for :func:`clustersim.posterior.load_posterior`, or
    :data:`clustersim.posterior.SHIPPED_POSTERIOR`; ``None``: none), replicate ``r`` of every scenario also uses
    parameter draw ``r`` (:mod:`clustersim.posterior`), so the pairing covers parameter uncertainty too, and the
    rows carry the drawn values as ``posterior_<parameter>`` columns. A scenario that sets a drawn parameter to
    other than its registry default raises a one-line :class:`ScenarioError` before anything runs
    (:func:`clustersim.posterior.check_not_drawn`): the draw would silently replace the setting.
    ``streams`` chooses the draws (``clustersim.streams``; ``None``: :func:`default_streams`); counter-based draws
    keep the pairing closer, as a scenario's extra or missing draws do not shift the others.
    """
    if streams is None:
        streams = default_streams(not draws_reach(model))
    if not draws_reach(model) and streams != "legacy":
        raise ScenarioError(f"streams = {streams!r} needs the default model; allowed: 'legacy' with a custom model")
    seeds = [run_seed(seed, r) for r in range(replicates)]
    draws = [{}] * replicates
    post = resolve_posterior(posterior)
    if post is not None:
        for sc in scenarios:
            check_not_drawn(post, sc)
        draws = draw_parameter_sets(post, replicates, seed)
    specs = [
        RunSpec(i, r, seeds[r], sc.replace(origin="posterior", **draws[r]) if draws[r] else sc, streams)
        for i, sc in enumerate(scenarios)
        for r in range(replicates)
    ]
    rows: list[dict] = []
    execute(
        [specs[i : i + 8] for i in range(0, len(specs), 8)],
        lambda _i, res: rows.extend(res["rows"]),
        executor,
        workers,
        model=model,
    )
    runs = pd.DataFrame(rows).sort_values(["point_id", "replicate"]).reset_index(drop=True)
    runs.insert(2, "seed", [seeds[r] for r in runs["replicate"]])
    for j, k in enumerate(draws[0]):
        runs.insert(3 + j, f"posterior_{k}", [draws[r][k] for r in runs["replicate"]])
    return runs


def compare_scenarios(
    names,
    replicates: int = 10,
    seed: int = 0,
    months: int | None = None,
    executor: str = "serial",
    workers: int | None = None,
    kpis=KPIS,
    baseline: str = "baseline",
    return_runs: bool = False,
    posterior=SHIPPED_POSTERIOR,
    streams: str = DEFAULT_STREAMS,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Compare preset scenarios (or .toml paths) side by side, without an experiment file.

    Every scenario runs the same replicate seeds (``run_seed(seed, replicate)``,
    as ``clustersim run`` does), so differences are not seed noise. The
    ``baseline`` scenario is added if missing and is the reference for the cost
    per additional cooperating firm. Returns the table of :func:`comparison_table`
    with a ``scenario`` column, or ``(table, runs)`` with the per-run rows if ``return_runs``.
    ``posterior`` is as for :func:`run_on_common_seeds`: by default the shipped posterior, as for
    ``clustersim compare`` (a policy comparison carries parameter uncertainty); ``None`` for none. A scenario
    that sets a drawn parameter to other than its registry default then raises a one-line :class:`ScenarioError`.
    """
    if isinstance(names, str):
        names = [names]
    if not names:
        raise ScenarioError("compare: no scenarios given; allowed: one or more preset names or .toml paths")
    if not isinstance(replicates, int) or replicates < 1:
        raise ScenarioError(f"--replicates {replicates!r} is not allowed; allowed: int >= 1")
    names = list(dict.fromkeys(names))
    if baseline not in names:
        names.append(baseline)
    scenarios = [load_scenario(n) for n in names]
    if months is not None:
        scenarios = [s.replace(origin="--months", months=months) for s in scenarios]
    runs = run_on_common_seeds(scenarios, replicates, seed, executor, workers, posterior=posterior, streams=streams)
    runs.insert(0, "scenario", [names[i] for i in runs["point_id"]])
    labels = dict(enumerate(names))
    n_firms = {i: float(sc["n_firms"]) for i, sc in enumerate(scenarios)}
    table = comparison_table(runs, labels, names.index(baseline), n_firms, kpis)
    table = table.rename(columns={"mix": "scenario"})
    # what ran, for a record of it (a scenario file read again later may have changed); as JSON text, which
    # pandas copies with every operation on the frame at no cost, where a list of dicts is deep-copied
    runs.attrs["scenarios"] = json.dumps(
        [
            {"name": name, "source": sc.source, "extends_chain": list(sc.chain), "parameters": sc.to_dict()}
            for name, sc in zip(names, scenarios, strict=True)
        ]
    )
    return (table, runs) if return_runs else table


# ------------------------------------------------------------------------------------------ budget mixes
#: KPIs of a budget-mix comparison (per-run summary metrics)
BUDGET_KPIS = (
    "final_cooperation",
    "coop_at_programme_end",
    "coop_24m_after_end",
    "final_trust",
    "dropouts",
    "jobs_index",
    "exports_index",
    "association_formed",
    "association_manager_paid",
    "manager_months_unpaid",
    "budget_shortfall",
)


def budget_lines(scenario: Scenario | str) -> dict[str, float]:
    """A scenario's budget split in k$: one entry per line of :data:`clustersim.policy.LINES` (what the
    line may spend), ``"unallocated"`` (budget the lines leave) and ``"budget"`` (the programme's total).

    Nothing is allocated when there is no programme or the plan is never funded, as in the model's ledger.
    """
    sc = load_scenario(scenario)
    lines = line_allocations(sc)
    allocated = sum(lines.values())
    budget = float(sc.programme_budget) or allocated
    if sc.programme_months == 0 or not sc.plan_funded:
        budget = 0.0
    return {**lines, "unallocated": budget - allocated, "budget": budget}


def split_budget(
    base: Scenario | str,
    total: float,
    name: str,
    lines: Mapping[str, float] | None = None,
    rest: str | None = "cofinancing",
    **levers,
) -> Scenario:
    """One budget of ``total`` k$ split across lines: ``base`` with ``levers`` applied, ``programme_budget =
    total``, each line named in ``lines`` (names of :data:`clustersim.policy.LINES`) set to its k$, every other
    line 0, and what is left to the ``rest`` line (the co-financing grant by default; ``None`` leaves it
    unallocated). Raises a one-line :class:`ScenarioError` when the named lines exceed ``total``.
    """
    lines = dict(lines or {})
    origin = f"split_budget {name!r}"
    unknown = [k for k in lines if k not in LINES]
    if unknown or (rest is not None and rest not in LINES):
        bad = unknown[0] if unknown else rest
        raise ScenarioError(f"{origin}: unknown budget line {bad!r}; allowed: {', '.join(LINES)}")
    named = float(sum(lines.values()))
    if named > total + 1e-9:  # 1e-9: k$ rounding
        split = " + ".join(f"{k} {v:g}" for k, v in lines.items() if v)
        raise ScenarioError(
            f"{origin}: lines {split} = {named:g} k$ exceed the budget of {total:g} k$; allowed: lines summing to at most {total:g}"
        )
    alloc = dict.fromkeys(LINES, 0.0) | {k: float(v) for k, v in lines.items()}
    if rest is not None:
        alloc[rest] += max(float(total) - named, 0.0)
    sc = load_scenario(base, **levers)
    mixed = sc.replace(origin=origin, programme_budget=float(total), **{LINE_KEYS[k]: v for k, v in alloc.items()})
    return Scenario(mixed.to_dict(), name=name, description=f"{sc.name}: {total:g} k$ split by line", source=sc.source)


def ledger_outputs(model) -> dict[str, float]:
    """A finished run's money by line (``cluster_ledger_outputs`` of its one cluster)."""
    return cluster_ledger_outputs(model.state, 0, model.params)


def cluster_ledger_outputs(state, k: int, scenario) -> dict[str, float]:
    """Cluster ``k``'s money by line at the end of its run: ``allocated_<line>``, ``spent_<line>``,
    ``shortfall_<line>`` (k$ wanted but not paid), ``unspent`` (budget the programme did not spend),
    ``funder_paid``, and whether the cluster association formed (``association_formed``, 1 or 0)."""
    ledger = LedgerView(state.ledger, k)
    out: dict[str, float] = {}
    for line in LINES:
        out[f"allocated_{line}"] = ledger.allocation[line]
        out[f"spent_{line}"] = ledger.spent[line]
        out[f"shortfall_{line}"] = ledger.shortfall[line]
    out["budget"] = budget_lines(scenario)["budget"]
    out["unspent"] = out["budget"] - ledger.programme_cost
    out["funder_paid"] = ledger.funder_paid
    out["association_formed"] = float(state.association.formed[k])
    return out


#: Sweep model of :func:`compare_budget_mixes`: each run's summary plus :func:`cluster_ledger_outputs`
budget_model = WithClusterOutputs(cluster_ledger_outputs)


def compare_budget_mixes(
    mixes: Mapping[str, Scenario | str],
    baseline: Scenario | str = "baseline",
    replicates: int = 10,
    seed: int = 0,
    executor: str = "serial",
    workers: int | None = None,
    kpis: Sequence[str] = BUDGET_KPIS,
    cooperation: str = COOPERATION,
    posterior=SHIPPED_POSTERIOR,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare labelled budget mixes side by side against the no-programme ``baseline``, on common seeds.

    Every mix runs the replicate seeds ``run_seed(seed, replicate)`` (those of ``clustersim run``), so
    differences between mixes are not seed noise. Returns ``(table, runs)``. ``table`` is that of
    :func:`comparison_table` (one row per mix, baseline last: KPI means with 95% intervals, ``cost_mean`` =
    money the programme spent, additional cooperating firms and cost per additional cooperating firm against
    the baseline, the Pareto mark) plus, per line, ``allocated_<line>``, and the replicate means
    ``spent_<line>`` and ``shortfall_<line>``, and ``budget`` and ``unspent``. ``runs`` has one row per run
    (``mix``, ``replicate``, ``seed``, the drawn ``posterior_<parameter>`` values if any, every summary metric
    and :func:`ledger_outputs`).

    ``posterior`` defaults to :data:`clustersim.posterior.SHIPPED_POSTERIOR`: the shipped posterior
    (``calibration/ccpf_posterior.parquet``) if present, as for ``clustersim compare``; ``None`` runs the
    registry values without parameter uncertainty; a path or table (:func:`clustersim.posterior.load_posterior`)
    uses that posterior. With a posterior, replicate ``r`` of every mix (and of the baseline) also uses posterior
    parameter draw ``r``, so the intervals and :func:`clustersim.posterior.beat_matrix` on ``runs`` (``by="mix"``)
    carry parameter uncertainty as well as replicate noise. A mix that sets a drawn parameter to other than its
    registry default raises a one-line :class:`ScenarioError` (pass ``posterior=None`` to study that setting).
    """
    if not mixes:
        raise ScenarioError("compare_budget_mixes: no mixes given; allowed: a mapping of label -> scenario")
    if not isinstance(replicates, int) or replicates < 1:
        raise ScenarioError(f"compare_budget_mixes: replicates = {replicates!r}; allowed: int >= 1")
    labels = list(mixes)
    if "baseline" in labels:
        raise ScenarioError("compare_budget_mixes: the label 'baseline' is reserved; allowed: another label")
    scenarios = [load_scenario(mixes[k]) for k in labels] + [load_scenario(baseline)]
    labels.append("baseline")
    runs = run_on_common_seeds(scenarios, replicates, seed, executor, workers, model=budget_model, posterior=posterior)
    runs.insert(0, "mix", [labels[i] for i in runs["point_id"]])
    n_firms = {i: float(sc.n_firms) for i, sc in enumerate(scenarios)}
    table = comparison_table(runs, dict(enumerate(labels)), len(scenarios) - 1, n_firms, kpis, cooperation)
    money = [f"{what}_{line}" for what in ("allocated", "spent", "shortfall") for line in LINES]
    means = runs.groupby("point_id")[[*money, "budget", "unspent", "funder_paid"]].mean()
    return table.join(means, on="point_id"), runs
