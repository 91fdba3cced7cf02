"""Analysis helpers for notebooks and scripts: what an intervention mix commits, side-by-side
comparison of custom mixes, replicate subsets of a sweep, and replicate-band figures.

The sweep machinery (designs, Sobol', Morris, the comparison table with cost per
additional cooperating firm and the Pareto mark) lives in
:mod:`clustersim.experiments`; this module adds what a policy analyst needs
around it:

- :func:`committed_budget` and :func:`budget_mix` price a mix by budget line, so
  mixes can be compared at equal *committed* budget while the runs report what
  was actually *spent* (a grant is only spent when firms co-finance joint actions);
- :func:`compare_policy_mixes` compares labelled :class:`~clustersim.Scenario`
  objects (not only presets) on common seeds against the no-programme baseline;
- :func:`replicate_subset` lets a sweep be analysed as if it had fewer replicates;
- :func:`plot_bands` draws replicate mean and band of one monthly metric.

Money is in k$, like every cost parameter of the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pandas as pd

from .experiments.design import load_experiment
from .experiments.mixes import comparison_table, run_on_common_seeds
from .plots import MARKER_STYLE, band
from .policy import PolicyCalendar
from .scenario import Scenario, ScenarioError, load_scenario
from .style import SERIES_LABELS, scenario_color

#: k$ per leader firm for a leader-firm programme (recruiting the firms, paying for their mentoring time
#: and first demonstration projects). An assumption of this module: the model simulates leaders'
#: commitment and mentoring but does not charge for them, so the price is added outside the model.
LEADER_FIRM_COST = 20.0

#: KPIs of a policy-mix comparison (per-run summary metrics)
MIX_KPIS = (
    "final_cooperation",
    "coop_at_programme_end",
    "coop_24m_after_end",
    "final_trust",
    "dropouts",
    "jobs_index",
    "exports_index",
    "revenue_index",
)

BUDGET_LINES = ("grant for joint actions", "cluster manager", "BSO training", "leader-firm programme")


def committed_budget(scenario: Scenario | str, leader_firm_cost: float = LEADER_FIRM_COST) -> dict[str, float]:
    """Money a scenario commits, in k$, by budget line, plus ``"total"``.

    Follows the model's money flows (:class:`clustersim.policy.Ledger`): grant
    tranches paid inside the programme go to the BSO's cluster account, which
    pays firm training and the grant share of joint actions ("grant for joint
    actions"); the funder pays the cluster manager's salary (from the first
    tranche to the programme's end) and BSO training directly. The leader-firm
    programme is priced at ``leader_firm_cost`` per leader firm (see
    :data:`LEADER_FIRM_COST`). These are commitments: grant money is spent only
    as firms contribute to joint actions, so a run may spend less.
    """
    sc = load_scenario(scenario)
    cal = PolicyCalendar.from_scenario(sc)
    grant = len(cal.disbursements) * sc.grant_amount / sc.grant_tranches
    manager = 0.0
    if sc.manager_present and cal.has_programme and cal.disbursements:
        manager = sc.manager_cost_per_month * (cal.programme_end - cal.disbursements[0])
    blocks = max(sc.bso_training_blocks, 1)
    bso = sc.bso_training_cost * sc.bso_training_staff * len(cal.training_blocks) / blocks
    leaders = float(sc.leader_firms) * leader_firm_cost
    lines = dict(zip(BUDGET_LINES, (grant, manager, bso, leaders), strict=True))
    lines["total"] = grant + manager + bso + leaders
    return lines


def budget_mix(
    base: Scenario | str, budget: float, name: str, leader_firm_cost: float = LEADER_FIRM_COST, **levers
) -> Scenario:
    """A mix that commits exactly ``budget`` k$: ``base`` with ``levers`` applied and the grant set to the rest.

    The cluster manager's salary, the BSO training and the leader-firm programme
    are paid first; the grant gets what they leave, else a :class:`ScenarioError`
    says which budget the mix needs. The returned scenario is named ``name``.
    """
    sc = load_scenario(base, **levers)
    origin = f"budget_mix {name!r}"
    cal = PolicyCalendar.from_scenario(sc)
    if not cal.has_programme:
        raise ScenarioError(f"{origin}: programme_months = 0 leaves nothing to fund; allowed: programme_months >= 1")
    first = cal.programme_start + sc.disbursement_delay_months
    paid = sum(1 for k in range(sc.grant_tranches) if first + k * sc.tranche_interval_months < cal.programme_end)
    if paid < sc.grant_tranches:
        raise ScenarioError(
            f"{origin}: only {paid} of {sc.grant_tranches} grant tranches fall inside the programme, so the grant "
            "cannot be committed in full; allowed: fewer tranches, a shorter delay or a longer programme"
        )
    salary = sc.manager_cost_per_month * (cal.programme_end - first) if sc.manager_present else 0.0
    lines = committed_budget(sc.replace(origin=origin, grant_amount=0.0), leader_firm_cost)
    grant = budget - salary - lines["BSO training"] - lines["leader-firm programme"]
    if grant <= 0:
        need = budget - grant
        raise ScenarioError(
            f"{origin}: budget = {budget:g} k$ leaves {grant:g} k$ for the grant after the cluster manager "
            f"({salary:g} k$), training and leader firms; allowed: budget > {need:g} k$ for this mix, or fewer levers"
        )
    mixed = sc.replace(origin=origin, grant_amount=float(grant))
    return Scenario(mixed.to_dict(), name=name, description=f"{sc.name} mix at {budget:g} k$", source=sc.source)


def compare_policy_mixes(
    mixes: Mapping[str, Scenario | str],
    baseline: Scenario | str = "baseline",
    replicates: int = 10,
    seed: int = 0,
    executor: str = "serial",
    workers: int | None = None,
    kpis: Sequence[str] = MIX_KPIS,
    cooperation: str = "final_cooperation",
    leader_firm_cost: float = LEADER_FIRM_COST,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare labelled mixes side by side against the no-programme ``baseline``, on common seeds.

    Every mix runs the replicate seeds ``run_seed(seed, replicate)`` (those of
    ``clustersim run`` and ``clustersim compare``), so differences between mixes
    are not seed noise. Returns the table of
    :func:`clustersim.experiments.mixes.comparison_table` (one row per mix,
    baseline last: KPI means with 95% intervals, ``cost_mean``, additional
    cooperating firms and cost per additional cooperating firm against the
    baseline, and the Pareto mark of cost against ``cooperation``) with a
    ``mix`` label and the committed budget by line. Cost is what was *spent*:
    the model's ``programme_cost`` plus the leader-firm programme.

    Returns ``(table, runs)``; ``runs`` has one row per run (``mix``,
    ``replicate``, ``seed``, every summary metric, ``spent``). The runs are not
    kept in ``table.attrs``: pandas compares attrs when combining frames, and
    a DataFrame there makes ``pd.concat`` of selections from the table fail.
    """
    if not mixes:
        raise ScenarioError("compare_policy_mixes: no mixes given; allowed: a mapping of label -> scenario")
    if not isinstance(replicates, int) or replicates < 1:
        raise ScenarioError(f"compare_policy_mixes: replicates = {replicates!r}; allowed: int >= 1")
    labels = list(mixes)
    if "baseline" in labels:
        raise ScenarioError("compare_policy_mixes: the label 'baseline' is reserved; allowed: another label")
    scenarios = [load_scenario(mixes[k]) for k in labels] + [load_scenario(baseline)]
    labels.append("baseline")
    runs = run_on_common_seeds(scenarios, replicates, seed, executor, workers)
    budgets = [committed_budget(sc, leader_firm_cost) for sc in scenarios]
    runs.insert(0, "mix", [labels[i] for i in runs["point_id"]])
    runs["leader_programme_cost"] = [budgets[i]["leader-firm programme"] for i in runs["point_id"]]
    runs["spent"] = runs["programme_cost"] + runs["leader_programme_cost"]
    n_firms = {i: float(sc.n_firms) for i, sc in enumerate(scenarios)}
    table = comparison_table(
        runs, dict(enumerate(labels)), len(scenarios) - 1, n_firms, kpis, cooperation, cost="spent"
    )
    for line in (*BUDGET_LINES, "total"):
        table[f"committed: {line}"] = [budgets[i][line] for i in table["point_id"]]
    return table, runs


def replicate_subset(results: pd.DataFrame, experiment, replicates: int | Sequence[int]):
    """``(runs, experiment)`` restricted to some replicates, to analyse a sweep as if it had fewer.

    ``replicates`` is a count (the first k replicates) or a list of replicate
    numbers. The returned experiment is a copy with ``replicates`` set to match,
    so :func:`clustersim.experiments.sobol_indices` and friends accept the pair,
    e.g. ``sobol_indices(*replicate_subset(runs, exp, 1))`` for one replicate.
    """
    exp = load_experiment(experiment)
    keep = list(range(replicates)) if isinstance(replicates, int) else list(replicates)
    bad = [r for r in keep if not 0 <= r < exp.replicates]
    if not keep or bad:
        raise ScenarioError(
            f"replicate_subset: replicates = {replicates!r}; allowed: a count or replicate numbers in 0..{exp.replicates - 1}"
        )
    sub = results[results["replicate"].isin(keep)].reset_index(drop=True)
    return sub, dataclasses.replace(exp, replicates=len(keep))


def plot_bands(
    runs: Mapping[str, pd.DataFrame],
    metric: str = "share_cooperating",
    colors: Mapping[str, str] | None = None,
    markers: Sequence[tuple[int, str]] = (),
    title: str = "",
    ylabel: str | None = None,
    low: float = 0.1,
    high: float = 0.9,
    ax=None,
):
    """Replicate mean (line) and ``low``-``high`` quantile band of ``metric`` per month, one per labelled run set.

    ``runs`` maps a label to a long series table (``month``, ``replicate``,
    metrics) as returned by :func:`clustersim.runner.run_scenario`. Colours come
    from ``colors`` or else :func:`clustersim.style.scenario_color` of the label,
    so presets keep their colour in every figure. ``markers`` are (month, event)
    pairs drawn as vertical lines, e.g. ``PolicyCalendar.from_scenario(s).markers()``.
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4.2))
    else:
        fig = ax.figure
    for i, (label, series) in enumerate(runs.items()):
        b = band(series, metric, low, high)
        color = (colors or {}).get(label) or scenario_color(label, i)
        n_rep = series["replicate"].nunique() if "replicate" in series else 1
        ax.plot(b.index, b["mean"], color=color, lw=2, label=f"{label} (mean of {n_rep})")
        if n_rep > 1:
            ax.fill_between(b.index, b["low"], b["high"], color=color, alpha=0.18, lw=0)
    seen: set[str] = set()
    for month, what in markers:
        ax.axvline(
            month,
            color="#555555",
            lw=0.8,
            ls=MARKER_STYLE.get(what, "--"),
            alpha=0.7,
            label=what if what not in seen else None,
        )
        seen.add(what)
    ax.set_xlabel("Month")
    ax.set_ylabel(ylabel or SERIES_LABELS.get(metric, metric))
    ax.set_title(title or SERIES_LABELS.get(metric, metric))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, title=f"Shaded: {low:.0%}-{high:.0%} of replicates", title_fontsize=8)
    return fig
