"""A funder's portfolio of cluster plans (docs/ODD.md, "Portfolios and the regional platform"; SF16, SF18).

CCPF's first phase supported 7 of 15 cluster plans (000 §The Compete Caribbean Cluster Program).
A portfolio file describes the plans: each is a heterogeneous cluster (an archetype's traits, or a
scenario file, with traits drawn in ranges) that proposes the same programme. The funder scores the
plans on standardised criteria it can observe before funding (prior cooperation, BSO capacity,
size, and plan quality seen with noise), funds them in score order while its budget and the number
allowed last, and every cluster is then simulated side by side for the horizon: funded plans run the
programme, the others stay approved but unfunded. A regional platform may link them
(``clustersim.processes.platform``).

Plan quality is the one criterion no real funder sees: here it is the plan's true stand-alone
effect, the paired difference in mean cooperation between the plan run funded and unfunded with the
same seed (an appraisal run). The funder sees it standardised, plus normal noise of
``plan_quality_noise_sd`` standard deviations: the noise is how poor the appraisal is. The same
appraisal runs say how well the selection did: the true effect of the funded set against the best
set an omniscient funder could have chosen under the same rules, and against a random choice.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .ensemble_run import BatchStepper, ensemble_groups
from .model import ClusterModel
from .parameters import BY_NAME
from .policy import committed_budget
from .processes import platform
from .scenario import Scenario, ScenarioError, load_scenario, name_or_file_name, preset_names, presets_dir
from .seeds import run_seed

#: Registry sections that describe a cluster rather than a programme: what a plan takes from its archetype.
TRAIT_SECTIONS = ("cluster", "network", "behaviour", "trust")
#: What a plan may draw in a range: its cluster traits, and the BSO it starts with (SF6).
BSO_TRAITS = ("bso_staff", "bso_untrained_competence", "bso_turnover_rate")
CRITERIA = ("prior_cooperation", "bso_capacity", "size", "plan_quality")
PORTFOLIO_KEYS = {
    "name": str,
    "description": str,
    "programme": str,
    "plans": int,
    "archetypes": dict,
    "clusters": list,
    "funded": int,
    "budget": float,
    "months": int,
    "replicates": int,
    "seed": int,
}
SELECTION_KEYS = (*CRITERIA, "plan_quality_noise_sd")
PLATFORM_KEYS = ("on", "intensity")
TABLES = ("portfolio", "traits", "selection", "platform")


@dataclass(frozen=True)
class PortfolioSpec:
    """A validated portfolio file."""

    name: str
    programme: Scenario
    bases: tuple[tuple[str, Scenario], ...]  # one (label, scenario) per plan, before trait draws
    funded: int
    budget: float
    months: int
    replicates: int
    seed: int
    traits: dict[str, tuple[float, float]] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    noise_sd: float = 1.0
    platform_on: bool = False
    platform_intensity: float = 1.0
    description: str = ""
    source: str = "<python>"

    @property
    def plans(self) -> int:
        return len(self.bases)

    def with_platform(self, on: bool) -> PortfolioSpec:
        from dataclasses import replace

        return replace(self, platform_on=on)


# ------------------------------------------------------------------ loading and validation
def _fail(src: str, key: str, allowed: str, got=None) -> ScenarioError:
    shown = "" if got is None else f" (got {got!r})"
    # repr() of an odd key (a newline, a quote) keeps the message on one line
    shown_key = key if key.isprintable() else repr(key)
    return ScenarioError(f"{src}: {shown_key}: {allowed}{shown}")


def _finite(value) -> bool:
    # math.isfinite overflows on a huge TOML integer; integers are always finite
    return not isinstance(value, float) or math.isfinite(value)


def _number(src, key, value, low=None, high=None, integer=False):
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or not _finite(value):
        raise _fail(src, key, "allowed: an integer" if integer else "allowed: a finite number", value)
    if (low is not None and value < low) or (high is not None and value > high):
        allowed = (
            f"{low} to {high}"
            if low is not None and high is not None
            else (f"{low} or more" if high is None else f"at most {high}")
        )
        raise _fail(src, key, f"allowed: {allowed}", value)
    return value


def cluster_traits(cluster: Scenario) -> dict[str, object]:
    """Every cluster trait of a scenario (its programme is ignored): a plan's cluster is wholly its
    archetype's or its cluster file's, whichever way the portfolio names it."""
    return {k: cluster[k] for k in cluster if k in BY_NAME and BY_NAME[k].section in TRAIT_SECTIONS and k != "months"}


def archetype_traits(name: str) -> dict[str, object]:
    """The cluster traits of an archetype preset."""
    return cluster_traits(load_scenario(name))


def resolve_portfolio(name_or_path: str | Path) -> Path:
    """A shipped portfolio's name (``ccpf_phase1``) or a path to a portfolio file."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text or Path(text).exists():
        return Path(text)
    return presets_dir().parent / "portfolios" / f"{text}.toml"


def portfolio_names() -> list[str]:
    """Names of the shipped portfolios, sorted."""
    return sorted(p.stem for p in (presets_dir().parent / "portfolios").glob("*.toml"))


def load_portfolio(path: str | Path) -> PortfolioSpec:
    """Read and validate a portfolio TOML file; any problem is a one-line :class:`ScenarioError`."""
    path = resolve_portfolio(path)
    src = str(path)
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ScenarioError(
            f"{src}: file not found; allowed: a portfolio .toml file or a shipped portfolio "
            f"({', '.join(portfolio_names())})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            f"{src}: cannot be read ({type(exc).__name__}); allowed: a UTF-8 portfolio .toml file"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{src}: not valid TOML: {exc}") from None
    for key in raw:
        if key not in TABLES:
            raise _fail(src, key, f"unknown table; allowed: {', '.join(TABLES)}")
        if not isinstance(raw[key], dict):
            raise _fail(src, key, f"allowed: a [{key}] table", raw[key])
    if "portfolio" not in raw:
        raise _fail(src, "portfolio", "missing table; allowed: a [portfolio] table with programme, plans, funded")
    p = raw["portfolio"]
    for key, value in p.items():
        if key not in PORTFOLIO_KEYS:
            raise _fail(src, f"portfolio.{key}", f"unknown key; allowed: {', '.join(PORTFOLIO_KEYS)}")
        want = PORTFOLIO_KEYS[key]
        if want is float:
            _number(src, f"portfolio.{key}", value, 0.0)
        elif want is int:  # the type here; each integer's own range where it is read below
            _number(src, f"portfolio.{key}", value, integer=True)
        elif not isinstance(value, want):
            raise _fail(src, f"portfolio.{key}", f"allowed: a {want.__name__}", value)
    programme = _programme(src, p)
    if not programme.plan_funded or programme.programme_months <= 0 or programme_cost(programme) <= 0:
        raise _fail(
            src,
            "portfolio.programme",
            f"allowed: a funded programme (plan_funded = true, programme_months > 0, a budget > 0); "
            f"{programme.name} has plan_funded = {str(programme.plan_funded).lower()}, "
            f"programme_months = {programme.programme_months}, budget = {programme_cost(programme):g}",
        )
    bases = _plan_bases(src, p, programme)
    if "plans" in p and p["plans"] != len(bases):
        raise _fail(src, "portfolio.plans", f"allowed: the number of plans listed ({len(bases)})", p["plans"])
    funded = _number(src, "portfolio.funded", p.get("funded", len(bases)), 0, len(bases), integer=True)
    months = _number(
        src, "portfolio.months", p.get("months", programme.months), 1, BY_NAME["months"].high, integer=True
    )
    if programme.programme_start_month >= months:
        raise _fail(
            src,
            "portfolio.months",
            f"allowed: more months than the programme's start month ({programme.programme_start_month}), "
            "or no plan is ever funded",
            months,
        )
    replicates = _number(src, "portfolio.replicates", p.get("replicates", 10), 1, 10_000, integer=True)
    budget = float(p.get("budget", funded * programme_cost(programme)))
    traits = _traits(src, raw.get("traits", {}))
    _check_trait_extremes(src, bases, traits)
    sel = raw.get("selection", {})
    for key in sel:
        if key not in SELECTION_KEYS:
            raise _fail(src, f"selection.{key}", f"unknown key; allowed: {', '.join(SELECTION_KEYS)}")
    weights = {c: float(_number(src, f"selection.{c}", sel.get(c, 1.0), -100.0, 100.0)) for c in CRITERIA}
    noise = float(_number(src, "selection.plan_quality_noise_sd", sel.get("plan_quality_noise_sd", 1.0), 0.0, 100.0))
    plat = raw.get("platform", {})
    for key in plat:
        if key not in PLATFORM_KEYS:
            raise _fail(src, f"platform.{key}", f"unknown key; allowed: {', '.join(PLATFORM_KEYS)}")
    if not isinstance(plat.get("on", False), bool):
        raise _fail(src, "platform.on", "allowed: true or false", plat["on"])
    intensity = float(_number(src, "platform.intensity", plat.get("intensity", 1.0), 0.0, 10.0))
    spec = PortfolioSpec(
        name=name_or_file_name(src, p.get("name"), path.stem, "portfolio.name"),
        programme=programme,
        bases=bases,
        funded=funded,
        budget=budget,
        months=months,
        replicates=replicates,
        seed=_number(src, "portfolio.seed", p.get("seed", 0), 0, 2**63 - 1, integer=True),
        traits=traits,
        weights=weights,
        noise_sd=noise,
        platform_on=plat.get("on", False),
        platform_intensity=intensity,
        description=str(p.get("description", "")),
        source=src,
    )
    check_draws(spec, replicates)
    return spec


def programme_cost(scenario: Scenario) -> float:
    """What funding one plan commits: its programme budget, or the sum of its budget lines when the
    budget is left at 0 (the ledger's own rule, ``policy.committed_budget``)."""
    return committed_budget(scenario)


def check_draws(spec: PortfolioSpec, replicates: int) -> None:
    """Every plan of every replicate must be a valid scenario with its drawn traits together (two
    ranges can be valid at their ends one at a time and not jointly, e.g. mean degree and firms)."""
    for r in range(replicates):
        try:
            draw_plans(spec, run_seed(spec.seed, r))
        except ScenarioError as exc:
            raise ScenarioError(f"{spec.source}: traits: replicate {r}: {exc}") from None


def _programme(src: str, p: dict) -> Scenario:
    """The programme every plan runs: a preset name, or a path read relative to the portfolio file
    when it is not found as given."""
    ref = p.get("programme", "funded_programme")
    if ref not in preset_names() and not Path(ref).exists() and (Path(src).parent / ref).exists():
        ref = str(Path(src).parent / ref)
    try:
        return load_scenario(ref)
    except ScenarioError as exc:
        raise ScenarioError(f"{src}: portfolio.programme: {exc}") from None


def _with_traits(src: str, key: str, programme: Scenario, traits: dict) -> Scenario:
    try:
        return programme.replace(**traits)
    except ScenarioError as exc:
        raise ScenarioError(f"{src}: {key}: {exc}") from None


def _plan_bases(src: str, p: dict, programme: Scenario) -> tuple[tuple[str, Scenario], ...]:
    """One (label, scenario) per plan: the programme with an archetype's traits, or a listed cluster file."""
    if ("archetypes" in p) == ("clusters" in p):
        raise _fail(
            src, "portfolio.archetypes", "allowed: exactly one of archetypes = {name = count} or clusters = [files]"
        )
    out = []
    if "archetypes" in p:
        for name, count in p["archetypes"].items():
            if name not in preset_names():
                raise _fail(
                    src, f"portfolio.archetypes.{name}", f"unknown preset; allowed: {', '.join(preset_names())}"
                )
            _number(src, f"portfolio.archetypes.{name}", count, 0, 1000, integer=True)
            out += [
                (name, _with_traits(src, f"portfolio.archetypes.{name}", programme, archetype_traits(name)))
            ] * count
    else:
        base_dir = Path(src).parent
        for i, entry in enumerate(p["clusters"]):
            if not isinstance(entry, str):
                raise _fail(src, f"portfolio.clusters[{i}]", "allowed: a preset name or a .toml path", entry)
            ref = entry if entry in preset_names() else str(base_dir / entry)
            try:
                cluster = load_scenario(ref)
            except ScenarioError as exc:
                raise ScenarioError(f"{src}: portfolio.clusters[{i}]: {exc}") from None
            out.append(
                (Path(entry).stem, _with_traits(src, f"portfolio.clusters[{i}]", programme, cluster_traits(cluster)))
            )
    if len(out) < 1:
        raise _fail(src, "portfolio.archetypes", "allowed: at least one plan")
    return tuple(out)


def _traits(src: str, table: dict) -> dict[str, tuple[float, float]]:
    out = {}
    for key, rng in table.items():
        spec = BY_NAME.get(key)
        drawable = spec is not None and (spec.section in TRAIT_SECTIONS or key in BSO_TRAITS)
        if not drawable or spec.kind not in ("int", "float") or key == "months":
            raise _fail(
                src,
                f"traits.{key}",
                f"allowed: a numeric parameter of the sections {', '.join(TRAIT_SECTIONS)}, or {', '.join(BSO_TRAITS)}",
            )
        want = int if spec.kind == "int" else (int, float)
        if not (
            isinstance(rng, list)
            and len(rng) == 2
            and all(isinstance(v, want) and not isinstance(v, bool) and _finite(v) for v in rng)
        ):
            kind = "integers" if spec.kind == "int" else "finite numbers"
            raise _fail(src, f"traits.{key}", f"allowed: a range [low, high] of {kind}", rng)
        low, high = rng
        lo_ok = spec.low is None or low >= spec.low
        hi_ok = spec.high is None or high <= spec.high
        if not (low <= high and lo_ok and hi_ok):
            raise _fail(src, f"traits.{key}", f"allowed: low <= high within {spec.low} to {spec.high}", rng)
        out[key] = (low, high)
    return out


def _check_trait_extremes(src: str, bases, traits: dict[str, tuple[float, float]]) -> None:
    """Every plan must stay a valid scenario at both ends of every range (e.g. mean degree < firms)."""
    for key, (low, high) in traits.items():
        for label, base in dict(bases).items():
            for value in (low, high):
                try:
                    base.replace(**{key: int(value) if BY_NAME[key].kind == "int" else float(value)})
                except ScenarioError as exc:
                    raise ScenarioError(f"{src}: traits.{key}: at {value} the {label} plan is invalid: {exc}") from None


# ------------------------------------------------------------------ the funder's choice
def standardise(x: np.ndarray) -> np.ndarray:
    """z-scores across plans; a criterion on which all plans tie scores 0."""
    x = np.asarray(x, dtype=float)
    sd = x.std()
    return np.zeros_like(x) if sd < 1e-12 else (x - x.mean()) / sd


def select_plans(score: np.ndarray, cost: np.ndarray, budget: float, max_funded: int) -> np.ndarray:
    """Fund plans in descending score (ties: list order) while fewer than ``max_funded`` are funded;
    a plan that no longer fits the remaining budget is passed over for the next one that does."""
    chosen = np.zeros(len(score), dtype=bool)
    left = float(budget)
    for i in np.argsort(-np.asarray(score, dtype=float), kind="stable"):
        if chosen.sum() >= max_funded:
            break
        if cost[i] <= left + 1e-9:  # k$: a plan costing exactly what is left fits
            chosen[i] = True
            left -= cost[i]
    return chosen


def selection_efficiency(effect: np.ndarray, chosen: np.ndarray, best: np.ndarray) -> float:
    """(chosen - random) / (best - random) in total true effect; 1 = as good as an omniscient funder,
    0 = no better than chance. NaN when the best set is no better than chance."""
    k = int(chosen.sum())
    random_total = k * float(np.mean(effect))
    span = float(effect[best].sum()) - random_total
    return (float(effect[chosen].sum()) - random_total) / span if span > 1e-12 else math.nan


# ------------------------------------------------------------------ one replicate
@dataclass
class Plan:
    index: int
    label: str
    scenario: Scenario
    seed: int


def draw_plans(spec: PortfolioSpec, replicate_seed: int) -> list[Plan]:
    """The plans of one replicate: traits drawn uniformly in their ranges, one cluster seed each."""
    rng = np.random.default_rng(run_seed(replicate_seed, 0))
    plans = []
    for i, (label, base) in enumerate(spec.bases):
        drawn = {}
        for key, (low, high) in spec.traits.items():
            if BY_NAME[key].kind == "int":
                drawn[key] = int(rng.integers(int(low), int(high) + 1))
            else:
                drawn[key] = float(rng.uniform(low, high))
        try:
            scenario = base.replace(months=spec.months, **drawn)
        except ScenarioError as exc:
            raise ScenarioError(f"plan {i} ({label}) with {drawn}: {exc}") from None
        plans.append(Plan(i, label, scenario, run_seed(replicate_seed, 1, i)))
    return plans


def _funded(plan: Plan, funded: bool) -> Scenario:
    return plan.scenario if funded else plan.scenario.replace(plan_funded=False)


def mean_cooperation(model: ClusterModel) -> float:
    return float(np.mean(model.datacollector.model_vars["share_cooperating"]))


@dataclass
class ClusterRun:
    """What the portfolio reads from one cluster's run: its summary, its monthly series (month 0 included) and
    its BSO's capacity at the end."""

    summary: dict
    series: pd.DataFrame
    bso_capacity: float

    @property
    def mean_cooperation(self) -> float:
        """The mean share cooperating over every month, month 0 included (``mean_cooperation`` of a model)."""
        return float(np.mean(self.series["share_cooperating"].to_numpy()))


def run_clusters(scenarios: list[Scenario], seeds: list[int], months: int, platform_intensity: float = 0.0):
    """Each cluster run for ``months``, those that can share an ensemble batch together (each equals its run
    alone under counter draws); with ``platform_intensity`` > 0 the regional platform links all of them after
    every month, in the order given (``platform.exchange``)."""
    groups = ensemble_groups(scenarios)
    batches = [BatchStepper.start([scenarios[i] for i in g], [seeds[i] for i in g]) for g in groups]
    order = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups])  # each batch cluster's position
    for _ in range(months):
        for batch in batches:
            batch.step()
        if platform_intensity > 0:
            platform.exchange([b.state for b in batches], platform_intensity, order)
    out: list = [None] * len(scenarios)
    for g, batch in zip(groups, batches, strict=True):
        run = batch.result()
        for k, (i, summary) in enumerate(zip(g, run.summaries(), strict=True)):
            out[i] = ClusterRun(summary, run.series_of(k), float(run.state.bso.capacity[k]))
    return out


def appraise(plans: list[Plan], months: int) -> tuple[np.ndarray, np.ndarray]:
    """Each plan run alone, funded and unfunded with its seed: the true effect on mean cooperation,
    and whether it takes off when funded."""
    runs = run_clusters(
        [_funded(p, funded) for funded in (True, False) for p in plans], [p.seed for p in plans] * 2, months
    )
    effect, takes_off = np.zeros(len(plans)), np.zeros(len(plans), dtype=bool)
    for p, with_money, without in zip(plans, runs[: len(plans)], runs[len(plans) :], strict=True):
        effect[p.index] = with_money.mean_cooperation - without.mean_cooperation
        takes_off[p.index] = not math.isnan(with_money.summary["takeoff_month"])
    return effect, takes_off


def run_side_by_side(spec: PortfolioSpec, plans: list[Plan], funded: np.ndarray, platform_on: bool) -> list[ClusterRun]:
    """All clusters stepped month by month together; the platform, if on, after each month."""
    scenarios = [_funded(p, bool(funded[p.index])) for p in plans]
    intensity = spec.platform_intensity if platform_on else 0.0
    return run_clusters(scenarios, [p.seed for p in plans], spec.months, intensity)


@dataclass
class Selection:
    """The funder's decision in one replicate, and what an omniscient funder would have done."""

    plans: list[Plan]
    criteria: dict[str, np.ndarray]
    score: np.ndarray
    funded: np.ndarray
    best: np.ndarray
    effect: np.ndarray
    takes_off: np.ndarray


def select(spec: PortfolioSpec, replicate_seed: int) -> Selection:
    """Draw the plans, appraise them, score what the funder can see at month 0, and choose."""
    plans = draw_plans(spec, replicate_seed)
    effect, takes_off = appraise(plans, spec.months)
    seen = {c: [] for c in CRITERIA[:3]}
    for p in plans:
        probe = ClusterModel(p.scenario, seed=p.seed)
        seen["prior_cooperation"].append(float(probe.firms.prior_collaboration.mean()))
        seen["bso_capacity"].append(probe.bso.capacity)
        seen["size"].append(float(probe.firms.n))
    criteria = {c: np.array(v) for c, v in seen.items()}
    noise = np.random.default_rng(run_seed(replicate_seed, 2)).normal(0.0, spec.noise_sd, len(plans))
    criteria["plan_quality"] = standardise(effect) + noise
    score = sum(spec.weights[c] * standardise(criteria[c]) for c in CRITERIA)
    cost = np.array([programme_cost(p.scenario) for p in plans])
    funded = select_plans(score, cost, spec.budget, spec.funded)
    best = select_plans(effect, cost, spec.budget, spec.funded)
    return Selection(plans, criteria, score, funded, best, effect, takes_off)


def outcomes(spec: PortfolioSpec, sel: Selection, replicate: int, platform_on: bool):
    """Run the selection side by side; returns (plans table, KPIs, monthly series)."""
    runs = run_side_by_side(spec, sel.plans, sel.funded, platform_on)
    rows, series = [], []
    for p, m in zip(sel.plans, runs, strict=True):
        summ = m.summary
        i = p.index
        rows.append(
            {
                "replicate": replicate,
                "platform": platform_on,
                "plan": i,
                "archetype": p.label,
                "seed": p.seed,
                **{f"trait_{k}": p.scenario[k] for k in spec.traits},
                **{f"criterion_{c}": float(sel.criteria[c][i]) for c in CRITERIA},
                "score": float(sel.score[i]),
                "funded": bool(sel.funded[i]),
                "true_effect": float(sel.effect[i]),
                "takes_off_if_funded": bool(sel.takes_off[i]),
                "took_off": not math.isnan(summ["takeoff_month"]),
                "mean_cooperation": m.mean_cooperation,
                "final_cooperation": summ["final_cooperation"],
                "programme_cost": summ["programme_cost"],
                "bso_capacity_end": m.bso_capacity,
            }
        )
        df = m.series[["share_cooperating", "bso_capacity"]].reset_index()
        df.insert(0, "funded", bool(sel.funded[i]))
        df.insert(0, "plan", i)
        df.insert(0, "platform", platform_on)
        df.insert(0, "replicate", replicate)
        series.append(df)
    plan_df = pd.DataFrame(rows)
    kpis = {"platform": platform_on, **portfolio_kpis(plan_df, sel)}
    return plan_df, kpis, pd.concat(series, ignore_index=True)


def portfolio_kpis(plans: pd.DataFrame, sel: Selection) -> dict[str, float]:
    """The funder's view of one replicate."""
    effect, funded, best, takes_off = sel.effect, sel.funded, sel.best, sel.takes_off
    f = plans["funded"].to_numpy()
    took = plans["took_off"].to_numpy()
    return {
        "replicate": int(plans["replicate"].iloc[0]),
        "plans": len(plans),
        "funded": int(f.sum()),
        "programme_cost": float(plans["programme_cost"].sum()),
        "mean_cooperation": float(plans["mean_cooperation"].mean()),
        "mean_cooperation_funded": float(plans.loc[f, "mean_cooperation"].mean()) if f.any() else math.nan,
        "mean_cooperation_unfunded": float(plans.loc[~f, "mean_cooperation"].mean()) if (~f).any() else math.nan,
        "took_off": int(took.sum()),
        "took_off_funded": int((took & f).sum()),
        "took_off_unfunded": int((took & ~f).sum()),
        # of the plans that would take off if funded, the share the funder chose
        "takeoff_recall": float((funded & takes_off).sum() / takes_off.sum()) if takes_off.any() else math.nan,
        "true_effect_funded": float(effect[funded].sum()),
        "true_effect_best": float(effect[best].sum()),
        "selection_efficiency": selection_efficiency(effect, funded, best),
    }


def run_portfolio(spec: PortfolioSpec, replicates: int | None = None, platform_arms=None, progress=None):
    """Every replicate of a portfolio: (plans, kpis, series) tables. Replicate ``r`` uses seed
    ``run_seed(spec.seed, r)`` whatever else runs; ``platform_arms`` (default: the file's setting)
    runs the same selection with the platform on and off, paired."""
    arms = (spec.platform_on,) if platform_arms is None else tuple(platform_arms)
    plans, kpis, series = [], [], []
    for r in range(spec.replicates if replicates is None else replicates):
        sel = select(spec, run_seed(spec.seed, r))
        for on in arms:
            p, k, s = outcomes(spec, sel, r, on)
            plans.append(p)
            kpis.append(k)
            series.append(s)
        if progress is not None:
            progress(r)
    return pd.concat(plans, ignore_index=True), pd.DataFrame(kpis), pd.concat(series, ignore_index=True)
