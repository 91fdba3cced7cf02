"""Calibration by approximate Bayesian computation (ABC-SMC with pyabc), and out-of-sample predictions.

A calibration file (``calibration/*.toml``) names the uncertain coefficients (priors: uniform over their
registered ranges), the figures they are fitted to, and the figures held out to be *predicted* from the
posterior. pyabc's sequential Monte Carlo (Toni et al. 2009, J. R. Soc. Interface 6:187; Beaumont et al.
2009, Biometrika 96:983; Klinger, Rickert & Hasenauer 2018, Bioinformatics 34:3591) shrinks the tolerance
generation by generation; each particle's summary is the mean of ``replicates`` model runs.

Reproducible from the file's seed: pyabc draws from numpy's global generator, which is seeded here, and each
particle's model seeds are drawn from that generator. The sampler (``batch_abc.BatchSampler``) runs a batch of
candidates' models together and takes the same draws, in the same order, as pyabc's single-core sampler.
"""

from __future__ import annotations

import logging
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import SUMMARY_METRICS
from .parameters import BY_NAME
from .scenario import ScenarioError, load_scenario

SPEC_KEYS = {
    "name",
    "description",
    "scenario",
    "seed",
    "replicates",
    "population_size",
    "generations",
    "predictive_draws",
    "predictive_replicates",
    "credible_level",
    "parameters",
    "fit",
    "predict",
    "quick",
}
FIGURE_KEYS = {"metric", "value", "source", "scenario", "input", "note"}
RUN_KEYS = ("replicates", "population_size", "generations", "predictive_draws", "predictive_replicates")


@dataclass(frozen=True)
class Figure:
    """A figure from the sources: a summary output of a scenario, and its value."""

    name: str
    metric: str
    value: float
    source: str
    scenario: str
    input: str = ""  # non-empty: the figure echoes this model input, so it is not a prediction
    note: str = ""  # e.g. a default that was hand-set against this figure before


@dataclass(frozen=True)
class CalibrationSpec:
    name: str
    scenario: str
    seed: int
    parameters: tuple[str, ...]
    fit: tuple[Figure, ...]
    predict: tuple[Figure, ...]
    replicates: int = 2
    population_size: int = 200
    generations: int = 6
    predictive_draws: int = 100
    predictive_replicates: int = 2
    credible_level: float = 0.9
    parameters_why: str = ""
    description: str = ""
    quick: dict = field(default_factory=dict)

    def prior_bounds(self) -> dict[str, tuple[float, float]]:
        return {p: (float(BY_NAME[p].low), float(BY_NAME[p].high)) for p in self.parameters}

    def quick_version(self) -> CalibrationSpec:
        from dataclasses import replace

        return replace(self, **self.quick)


def _figures(path: Path, section: str, table, default_scenario: str) -> tuple[Figure, ...]:
    if not isinstance(table, dict) or not table:
        raise ScenarioError(f"{path.name}: [{section}] must hold at least one [{section}.<name>] table")
    out = []
    for name, entry in table.items():
        where = f"{path.name}: [{section}.{name}]"
        unknown = set(entry) - FIGURE_KEYS
        if unknown:
            raise ScenarioError(f"{where}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(FIGURE_KEYS))}")
        for key in ("metric", "value", "source"):
            if key not in entry:
                raise ScenarioError(f"{where}: missing key {key!r}")
        if entry["metric"] not in SUMMARY_METRICS:
            raise ScenarioError(f"{where}: metric {entry['metric']!r} is not a summary output; see clustersim describe")
        scenario = entry.get("scenario", default_scenario)
        load_scenario(scenario)  # a bad preset name is the usual one-line error
        extra = {k: str(entry[k]) for k in ("input", "note") if k in entry}
        out.append(Figure(name, entry["metric"], float(entry["value"]), entry["source"], scenario, **extra))
    return tuple(out)


def _parameters(path: Path, table) -> tuple[tuple[str, ...], str]:
    names = table.get("names") if isinstance(table, dict) else None
    if not isinstance(names, list) or not names:
        raise ScenarioError(f"{path.name}: [parameters] needs names = [registry names]")
    for p in names:
        spec = BY_NAME.get(p)
        if spec is None or spec.kind != "float":
            raise ScenarioError(f"{path.name}: [parameters] {p!r} is not a float registry entry")
    return tuple(names), str(table.get("why", ""))


def load_spec(path: str | Path) -> CalibrationSpec:
    """Read and check a calibration file; problems are one-line errors naming the file and key."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: calibration file not found; allowed: a calibration .toml file (calibration/ccpf.toml)")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path.name}: not valid TOML ({err})") from None
    unknown = set(data) - SPEC_KEYS
    if unknown:
        raise ScenarioError(f"{path.name}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(SPEC_KEYS))}")
    scenario = data.get("scenario", "funded_programme")
    load_scenario(scenario)
    names, why = _parameters(path, data.get("parameters"))
    runs = {k: data[k] for k in RUN_KEYS if k in data}
    quick = data.get("quick", {})
    for k, v in [*runs.items(), *quick.items()]:
        if k not in RUN_KEYS or not isinstance(v, int) or v < 1:
            raise ScenarioError(f"{path.name}: {k!r} must be a positive integer among {', '.join(RUN_KEYS)}")
    return CalibrationSpec(
        name=str(data.get("name", path.stem)),
        scenario=scenario,
        seed=int(data.get("seed", 0)),
        parameters=names,
        parameters_why=why,
        fit=_figures(path, "fit", data.get("fit"), scenario),
        predict=_figures(path, "predict", data.get("predict"), scenario),
        credible_level=float(data.get("credible_level", 0.9)),
        description=str(data.get("description", "")),
        quick=quick,
        **runs,
    )


def simulate_figures(figures, params: dict, seeds) -> dict[str, float]:
    """Mean of each figure's summary output over runs with ``seeds`` (one run per seed and scenario)."""
    return simulate_figures_of(figures, [(params, seeds)])[0]


def simulate_figures_of(figures, requests) -> list[dict[str, float]]:
    """``simulate_figures(figures, params, seeds)`` for each ``(params, seeds)`` of ``requests``, with all
    their runs in one call, so that runs that can share an ensemble batch step together. Each run is as it
    would be alone (counter draws), so each answer is the same whatever else was asked with it."""
    from .runner import run_summaries

    by_scenario: dict[str, list[Figure]] = {}
    for fig in figures:
        by_scenario.setdefault(fig.scenario, []).append(fig)
    scenarios, seeds, slices = [], [], []
    for params, request_seeds in requests:
        request_seeds = [int(s) for s in request_seeds]
        for name in by_scenario:
            slices.append(slice(len(seeds), len(seeds) + len(request_seeds)))
            scenarios += [load_scenario(name, **params)] * len(request_seeds)
            seeds += request_seeds
    summaries = run_summaries(scenarios, seeds)
    out: list[dict[str, float]] = []
    blocks = iter(slices)
    for _ in requests:
        figures_out: dict[str, float] = {}
        for figs in by_scenario.values():
            rows = summaries[next(blocks)]
            for fig in figs:
                values = np.array([r[fig.metric] for r in rows], dtype=float)
                figures_out[fig.name] = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
        out.append(figures_out)
    return out


def relative_distance(fit: tuple[Figure, ...]):
    """Distance between simulated and observed figures, each relative to its observed value (so that
    +40% revenue and +23% exports weigh alike): the root of the summed squared relative errors."""
    scale = {f.name: abs(f.value) if f.value else 1.0 for f in fit}

    def distance(x: dict, x0: dict) -> float:
        terms = [((x[k] - x0[k]) / scale[k]) ** 2 for k in scale]
        total = float(np.sum(terms))
        return total**0.5 if math.isfinite(total) else math.inf

    return distance


def run_abc(spec: CalibrationSpec, db_path: Path, sampler: str = "batch"):
    """ABC-SMC on the fitted figures; returns pyabc's ``History``. Candidate particles are evaluated in
    batches whose runs step together (``batch_abc.BatchSampler``), or, with ``sampler="single"``, one at a
    time by pyabc's ``SingleCoreSampler``: the same posterior, draw for draw (benchmarks/run.py times both)."""
    import pyabc

    from .batch_abc import BatchSampler, deferred

    if sampler not in ("batch", "single"):
        raise ValueError(f"sampler = {sampler!r}; allowed: 'batch', 'single'")
    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("pyabc").setLevel(logging.WARNING)
    np.random.seed(spec.seed)  # pyabc samples from numpy's global generator

    def evaluate(requests):
        return simulate_figures_of(spec.fit, requests)

    def model(theta):
        seeds = np.random.randint(0, 2**31 - 1, size=spec.replicates)
        request = ({p: float(theta[p]) for p in spec.parameters}, seeds)
        return deferred(request, lambda r: evaluate([r])[0])

    prior = pyabc.Distribution(**{p: pyabc.RV("uniform", lo, hi - lo) for p, (lo, hi) in spec.prior_bounds().items()})
    abc = pyabc.ABCSMC(
        model,
        prior,
        relative_distance(spec.fit),
        population_size=spec.population_size,
        # check_max_eval: the batch sampler honours max_eval too (none is set here: no least acceptance rate)
        sampler=BatchSampler(evaluate) if sampler == "batch" else pyabc.sampler.SingleCoreSampler(check_max_eval=True),
    )
    abc.new(f"sqlite:///{db_path}", {f.name: f.value for f in spec.fit})
    return abc.run(max_nr_populations=spec.generations)


def posterior(history) -> pd.DataFrame:
    """The last generation's particles with their normalised weights."""
    df, w = history.get_distribution(m=0, t=history.max_t)
    out = df.reset_index(drop=True)
    out["weight"] = np.asarray(w, dtype=float) / float(np.sum(w))
    return out


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    cdf = np.cumsum(w[order]) / np.sum(w)
    return float(np.interp(q, cdf, x[order]))


def credible_intervals(post: pd.DataFrame, spec: CalibrationSpec) -> pd.DataFrame:
    """Weighted posterior mean and central credible interval of each parameter, beside its prior range."""
    tail = (1.0 - spec.credible_level) / 2
    w = post["weight"].to_numpy()
    rows = []
    for p, (lo, hi) in spec.prior_bounds().items():
        x = post[p].to_numpy(dtype=float)
        rows.append(
            {
                "parameter": p,
                "prior_low": lo,
                "prior_high": hi,
                "default": float(BY_NAME[p].default),
                "posterior_mean": float(np.sum(w * x)),
                "ci_low": weighted_quantile(x, w, tail),
                "ci_high": weighted_quantile(x, w, 1.0 - tail),
            }
        )
    return pd.DataFrame(rows)


def diagnostics(history, post: pd.DataFrame) -> pd.DataFrame:
    """Per generation: tolerance, particles, simulations and acceptance rate; ESS of the last one."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].copy()
    pops["acceptance_rate"] = pops["particles"] / pops["samples"]
    w = post["weight"].to_numpy()
    pops["effective_sample_size"] = np.nan
    pops.loc[pops["t"] == pops["t"].max(), "effective_sample_size"] = float(1.0 / np.sum(w**2))
    return pops[["t", "epsilon", "particles", "samples", "acceptance_rate", "effective_sample_size"]]


def predictions(spec: CalibrationSpec, post: pd.DataFrame) -> pd.DataFrame:
    """Posterior predictive check of every figure (fitted and held out): draws from the posterior, each
    run ``predictive_replicates`` times; a hit when the figure lies in the central predictive interval."""
    rng = np.random.default_rng(spec.seed)
    picks = rng.choice(len(post), size=spec.predictive_draws, p=post["weight"].to_numpy())
    figures = (*spec.fit, *spec.predict)
    requests = [
        ({p: float(post.loc[i, p]) for p in spec.parameters}, rng.integers(0, 2**31 - 1, size=spec.predictive_replicates))
        for i in picks
    ]
    draws = simulate_figures_of(figures, requests)  # every draw's runs at once
    tail = (1.0 - spec.credible_level) / 2
    rows = []
    for fig in figures:
        x = np.array([d[fig.name] for d in draws], dtype=float)
        x = x[np.isfinite(x)]
        low, high = (np.quantile(x, [tail, 1.0 - tail]) if x.size else (math.nan, math.nan))
        role = "fitted" if fig in spec.fit else ("input echo" if fig.input else "held out")
        rows.append(
            {
                "figure": fig.name,
                "role": role,
                "scenario": fig.scenario,
                "metric": fig.metric,
                "target": fig.value,
                "predicted_mean": float(x.mean()) if x.size else math.nan,
                "low": float(low),
                "high": float(high),
                "hit": bool(low <= fig.value <= high),
                "source": fig.source,
                "input": fig.input,
                "note": fig.note,
            }
        )
    return pd.DataFrame(rows)
