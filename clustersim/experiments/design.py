"""Experiment files: a base scenario, factors, a design, replicates, outputs and a root seed.

An experiment file looks like::

    name = "delay_vs_funding"
    scenario = "funded_programme"      # base scenario: preset name or .toml path
    replicates = 10                    # runs per design point
    seed = 2024                        # root seed of every run
    outputs = ["final_cooperation", "final_trust"]
    baseline = "baseline"              # optional no-programme counterfactual (mix comparison)

    [design]
    method = "grid"                    # grid | lhs | sobol | morris | doses

    [fixed]                            # parameters held at a value in every run
    n_firms = 60

    [factors]
    disbursement_delay_months = { levels = [0, 12, 24] }
    grant_amount = { range = [100.0, 800.0] }     # sampled designs use ranges

A sampled design (lhs, sobol, morris) can take its factors from the parameter
registry instead of a list: every int and float parameter of
:data:`clustersim.parameters.PARAMETERS`, over its allowed range, except those
named in ``[exclude]``, each with the reason. Entries next to ``from`` only
narrow a factor's range::

    [factors]
    from = "registry"
    grant_amount = { range = [200.0, 800.0] }     # optional: narrower than the registry's range

    [exclude]
    months = "horizon: the analyst's choice of when to read the outcome"

A parameter added to the registry thereby becomes a factor without editing the
file, and one left out is left out on purpose, with the reason on record.

A ``doses`` design is one-factor-at-a-time: each factor runs over its own
``levels`` while every other factor stays at the base scenario's value, so it
has as many points as there are levels in all (not their product). It is for
dose-response curves; the figure's x axis is each level as a share of the
factor's ``reference`` (by default its value in the base scenario)::

    [design]
    method = "doses"
    common_seeds = true                # replicate r of every point runs the same seed

    [factors]
    budget_manager = { levels = [0.0, 144.0, 288.0, 576.0] }
    budget_leader_incentive = { levels = [0.0, 120.0, 240.0], reference = 240.0 }

Everything is validated before any run starts. Problems raise
:class:`clustersim.scenario.ScenarioError` with a one-line message naming the
file, the key and what is allowed; the CLI prints it and exits with status 2.

A plain Python function can stand in for the model (``model=`` in
:func:`load_experiment`, or ``model = "package.module:function"`` in the file).
It is called as ``model(params, seed)`` and returns a mapping of output values;
without a base scenario, ``params`` is a plain dict of the factor and fixed values
and factor names are free.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import parameters as registry
from ..metrics import SUMMARY_METRICS
from ..parameters import BY_NAME
from ..scenario import (
    Scenario,
    ScenarioError,
    check_consistency,
    check_name,
    load_scenario,
    name_or_file_name,
    presets_dir,
    validate_value,
)
from ..seeds import run_seed
from ..streams import DEFAULT_STREAMS, STREAMS
from .work import draws_reach, ref_draws_reach

METHODS = ("grid", "lhs", "sobol", "morris", "doses")
#: designs whose factors take listed levels (the others sample ranges)
LEVEL_METHODS = ("grid", "doses")
TOP_KEYS = (
    "name",
    "description",
    "scenario",
    "model",
    "replicates",
    "seed",
    "outputs",
    "baseline",
    "series",
    "streams",
    "design",
    "fixed",
    "factors",
    "exclude",
)
#: how a manifest names the agent-based model (the default sweep model)
DEFAULT_MODEL = "clustersim.ClusterModel"
#: ``[factors] from = REGISTRY``: every numeric registry parameter not in ``[exclude]`` is a factor
REGISTRY = "registry"
#: keys of the [design] table per method, with their defaults (None = required)
DESIGN_KEYS: dict[str, dict[str, object]] = {
    "grid": {},
    "doses": {"common_seeds": False},
    "lhs": {"samples": None},
    "sobol": {"n": None, "second_order": False},
    "morris": {"trajectories": None, "levels": 4},
}
DEFAULT_OUTPUTS = ("final_cooperation", "mean_cooperation", "final_trust", "dropouts", "revenue_index", "jobs_index")


@dataclass(frozen=True)
class Factor:
    """One experimental factor: a range (sampled designs) or a list of levels (grids)."""

    name: str
    kind: str  # int, float, bool, choice (scenario parameters) or "float" for plain functions
    low: float | None = None
    high: float | None = None
    levels: tuple = ()
    reference: float | None = None  # doses: the level that counts as 1 (x = level / reference)

    def sample_bounds(self) -> tuple[float, float]:
        """Bounds handed to the sampler. Integers get ``[low, high + 1)`` so flooring gives a uniform integer."""
        if self.kind == "int":
            return (float(self.low), float(self.high) + 1.0)
        return (float(self.low), float(self.high))

    def realise(self, x: float):
        """Map a sampled number to the parameter value the model sees."""
        if self.kind == "int":
            return int(min(math.floor(x), self.high))
        return float(x)

    def to_dict(self) -> dict:
        d: dict[str, object] = {"name": self.name, "kind": self.kind}
        if self.levels:
            d["levels"] = list(self.levels)
        else:
            d["range"] = [self.low, self.high]
        if self.reference is not None:
            d["reference"] = self.reference
        return d


@dataclass
class Design:
    """The design points of an experiment.

    ``points[i]`` is the dict of factor values of design point ``i``; ``matrix``
    is the sampler's raw numeric matrix (``None`` for grids), which Morris
    analysis needs to tell which factor moved between trajectory steps.
    """

    points: list[dict]
    matrix: np.ndarray | None

    def __len__(self) -> int:
        return len(self.points)


def default_streams(custom_model: bool) -> str:
    """The draws a run uses when nothing says which: ``DEFAULT_STREAMS`` for clustersim's model; a custom
    sweep model draws its own numbers, recorded as ``"legacy"`` (the draws option does not reach it)."""
    return "legacy" if custom_model else DEFAULT_STREAMS


@dataclass
class Experiment:
    """A validated experiment. Build it with :func:`load_experiment`."""

    name: str
    source: str
    factors: list[Factor]
    method: str
    settings: dict
    replicates: int = 1
    seed: int = 0
    outputs: tuple[str, ...] = DEFAULT_OUTPUTS
    description: str = ""
    scenario: Scenario | None = None  # base scenario, fixed values applied; None = plain function mode
    baseline: Scenario | None = None  # no-programme counterfactual for mix comparisons
    fixed: dict = field(default_factory=dict)
    model: Callable | None = None
    model_ref: str | None = None
    series: bool = False
    streams: str | None = None  # the model's draws, "legacy" or "counter" (clustersim.streams); None: the default
    exclude: dict = field(default_factory=dict)  # registry parameters left out of [factors], with the reason
    _design: Design | None = field(default=None, repr=False)
    _params: list | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # a custom model draws its own numbers: the model's draws option would be silently ignored
        custom = not (
            draws_reach(self.model) if self.model is not None else ref_draws_reach(self.model_ref, DEFAULT_MODEL)
        )
        if self.streams is None:
            self.streams = default_streams(custom)
        if self.streams != "legacy" and custom:
            raise ScenarioError(f"{self.source}: streams = {self.streams!r} needs the default model; allowed: 'legacy'")

    # ------------------------------------------------------------------ design
    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    def factor_table(self) -> dict[str, dict]:
        """The factors as an explicit ``[factors]`` table (``{name: {"range": [low, high]}}`` or levels).

        Handy to build a follow-up experiment on some of the factors with the same
        ranges, e.g. a Sobol' analysis of the factors a registry-wide Morris screening ranks highest.
        """
        return {f.name: ({"levels": list(f.levels)} if f.levels else {"range": [f.low, f.high]}) for f in self.factors}

    def problem(self) -> dict | None:
        """The SALib problem specification of the sampled factors (None for the level designs: grid, doses)."""
        if self.method in LEVEL_METHODS:
            return None
        return {
            "num_vars": len(self.factors),
            "names": self.factor_names,
            "bounds": [list(f.sample_bounds()) for f in self.factors],
        }

    def doses(self) -> list[tuple[str, object]]:
        """For a doses design, ``(factor varied, its level)`` of every design point, in point order."""
        if self.method != "doses":
            raise ValueError(f"{self.name}: a {self.method} design has no doses")
        return [(f.name, v) for f in self.factors for v in f.levels]

    def base_values(self) -> dict:
        """Every factor's value in the base scenario (after [fixed]): where a doses design holds it."""
        if self.scenario is None:
            return {}
        return {f.name: self.scenario[f.name] for f in self.factors}

    def design(self) -> Design:
        """The design points (computed once; a pure function of the experiment and its seed)."""
        if self._design is None:
            self._design = make_design(self)
        return self._design

    @property
    def n_points(self) -> int:
        return len(self.design())

    @property
    def baseline_point(self) -> int | None:
        """Design-point id of the baseline runs (one past the last design point), if any."""
        return self.n_points if self.baseline is not None else None

    @property
    def n_runs(self) -> int:
        return (self.n_points + (1 if self.baseline is not None else 0)) * self.replicates

    @property
    def group_size(self) -> int:
        """Rows per base sample in a Saltelli design (sobol), or per trajectory (morris)."""
        k = len(self.factors)
        if self.method == "sobol":
            return 2 * k + 2 if self.settings["second_order"] else k + 2
        if self.method == "morris":
            return k + 1
        return 1

    def run_seed(self, point_id: int, replicate: int) -> int:
        """Seed of one run: ``run_seed(seed, point_id, replicate)``, every run its own stream.

        With ``common_seeds = true`` (doses designs) replicate ``r`` of every point (and of the
        baseline) runs ``run_seed(seed, r)``, the seeds of ``clustersim run`` and ``compare``:
        common random numbers, so the points differ only by their factor values and the
        differences between doses are estimated far more precisely than their levels.
        """
        if self.settings.get("common_seeds"):
            return run_seed(self.seed, replicate)
        return run_seed(self.seed, point_id, replicate)

    def point_params(self) -> list:
        """Model input of every design point (plus the baseline): a Scenario, or a dict in plain-function mode.

        Every point is validated here, so an impossible combination (say more
        trained BSO staff than staff) fails before any run starts.
        """
        if self._params is None:
            out = []
            for pid, point in enumerate(self.design().points):
                if self.scenario is None:
                    out.append({**self.fixed, **point})
                    continue
                # each value is inside its validated range or level list; what is left to check is
                # the cross-parameter rules (e.g. trained BSO staff <= staff) for this combination
                params = {**self.scenario, **point}
                try:
                    check_consistency(f"{self.source}: design point {pid}", params)
                except ScenarioError as exc:
                    what = "levels" if self.method in LEVEL_METHODS else "ranges"
                    raise ScenarioError(f"{exc} (factor {what} of [factors] allow this combination)") from None
                s = self.scenario
                out.append(Scenario(params, s.name, s.description, s.source, s.chain, s.lesson))
            if self.baseline is not None:
                out.append(self.baseline)
            self._params = out
        return self._params

    def factor_values(self, point_id: int) -> dict:
        """Factor values of a design point (the baseline's own values for the baseline point)."""
        if point_id == self.baseline_point:
            return {f.name: self.baseline[f.name] for f in self.factors}
        return self.design().points[point_id]

    # ------------------------------------------------------------- provenance
    def spec(self) -> dict:
        """A JSON-able description of everything that determines the runs."""
        return {
            "name": self.name,
            "source": self.source,
            "description": self.description,
            "scenario": None
            if self.scenario is None
            else {"name": self.scenario.name, "source": self.scenario.source, "parameters": self.scenario.to_dict()},
            "baseline": None
            if self.baseline is None
            else {"name": self.baseline.name, "source": self.baseline.source, "parameters": self.baseline.to_dict()},
            "model": self.model_ref or (DEFAULT_MODEL if self.model is None else repr(self.model)),
            "fixed": dict(self.fixed),
            "factors": [f.to_dict() for f in self.factors],
            "design": {"method": self.method, **self.settings},
            "replicates": self.replicates,
            "seed": self.seed,
            "outputs": list(self.outputs),
            "series": self.series,
            "streams": self.streams,
            "exclude": dict(self.exclude),
        }

    def fingerprint(self) -> str:
        """Hash of what determines the runs (not the description or outputs): resume refuses a mismatch."""
        s = self.spec()
        key = {k: s[k] for k in ("scenario", "baseline", "model", "fixed", "factors", "design", "replicates", "seed")}
        key["series"] = s["series"]
        if s["streams"] != "legacy":  # keeps the fingerprints of folders written before the key existed
            key["streams"] = s["streams"]
        return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------- design generation
def make_design(exp: Experiment) -> Design:
    """Generate the design points of ``exp`` (deterministic given the experiment's seed)."""
    if exp.method == "grid":
        combos = itertools.product(*(f.levels for f in exp.factors))
        return Design([dict(zip(exp.factor_names, c, strict=True)) for c in combos], None)
    if exp.method == "doses":
        # one factor at a time: its level, every other factor at the base scenario's value
        base = exp.base_values()
        return Design([{**base, name: level} for name, level in exp.doses()], None)
    problem = exp.problem()
    if exp.method == "sobol":
        from SALib.sample import sobol

        x = sobol.sample(problem, exp.settings["n"], calc_second_order=exp.settings["second_order"], seed=exp.seed)
    elif exp.method == "morris":
        from SALib.sample import morris

        x = morris.sample(problem, exp.settings["trajectories"], num_levels=exp.settings["levels"], seed=exp.seed)
    else:  # lhs
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=len(exp.factors), seed=np.random.default_rng(exp.seed)).random(exp.settings["samples"])
        lo, hi = np.array(problem["bounds"]).T
        x = lo + u * (hi - lo)
    points = [{f.name: f.realise(v) for f, v in zip(exp.factors, row, strict=True)} for row in x]
    return Design(points, np.asarray(x, dtype=float))


# ---------------------------------------------------------------------- loading and validation
def _err(origin: str, msg: str) -> ScenarioError:
    return ScenarioError(f"{origin}: {msg}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_int(origin: str, key: str, value, low: int, allowed: str | None = None) -> int:
    if not _is_int(value) or value < low:
        raise _err(origin, f"{key} = {value!r} is not allowed; allowed: {allowed or f'int >= {low}'}")
    return value


def _resolve_scenario_ref(ref: str, base_dir: Path | None) -> str:
    """A scenario reference relative to the experiment file, else a preset name."""
    if (ref.endswith(".toml") or "/" in ref) and base_dir is not None and not Path(ref).is_absolute():
        cand = base_dir / ref
        if cand.is_file():
            return str(cand)
    return ref


def _load_model(origin: str, ref: str) -> Callable:
    if not isinstance(ref, str) or ":" not in ref:
        raise _err(origin, f"model = {ref!r} is not allowed; allowed: 'package.module:function'")
    mod, _, attr = ref.partition(":")
    try:
        fn = getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError) as exc:
        raise _err(origin, f"model = {ref!r} cannot be imported ({exc}); allowed: 'package.module:function'") from None
    if not callable(fn):
        raise _err(origin, f"model = {ref!r} is not callable; allowed: a function model(params, seed) -> dict")
    return fn


def _parse_factor(origin: str, name: str, spec, method: str, scenario_mode: bool) -> Factor:
    where = f"[factors] {name}"
    if not isinstance(spec, Mapping):
        raise _err(
            origin,
            f"{where} = {spec!r} is not allowed; allowed: a table {{ range = [low, high] }} or {{ levels = [...] }}",
        )
    keys = ("levels", "reference") if method == "doses" else ("range", "levels")
    extra = set(spec) - set(keys) - {"range"}  # a range where levels are due gets its own message below
    if extra:
        raise _err(origin, f"unknown key '{sorted(extra)[0]}' in {where}; allowed keys: {', '.join(keys)}")
    p = BY_NAME.get(name) if scenario_mode else None
    if scenario_mode and p is None:
        import difflib

        close = difflib.get_close_matches(name, list(BY_NAME), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise _err(
            origin,
            f"unknown factor '{name}' in [factors]{hint}; allowed: a scenario parameter (see clustersim describe)",
        )
    kind = p.kind if p is not None else "float"
    if method == "doses" and kind in ("bool", "choice"):
        raise _err(
            origin,
            f"{where}: {kind} parameter cannot be a dose; allowed: int or float parameters (use a grid for {p.allowed()})",
        )
    if method in LEVEL_METHODS:
        design = "a grid" if method == "grid" else "a doses design"
        if "levels" not in spec or "range" in spec:
            raise _err(origin, f"{where}: {design} needs levels; allowed: {{ levels = [v1, v2, ...] }}")
        levels = spec["levels"]
        least = 2 if method == "doses" else 1
        if not isinstance(levels, list) or len(levels) < least:
            allowed = "a list of at least 2 levels (a dose-response)" if method == "doses" else "a non-empty list"
            raise _err(origin, f"{where}: levels = {levels!r} is not allowed; allowed: {allowed}")
        if scenario_mode:
            levels = [validate_value(f"{origin}: {where}", name, v) for v in levels]
        if len(set(map(repr, levels))) != len(levels):
            raise _err(origin, f"{where}: levels = {levels!r} repeat a value; allowed: distinct levels")
        reference = None
        if "reference" in spec:
            reference = spec["reference"]
            if not isinstance(reference, (int, float)) or isinstance(reference, bool) or not reference > 0:
                raise _err(
                    origin,
                    f"{where}: reference = {reference!r} is not allowed; allowed: a number > 0 (the level that counts as 1)",
                )
            reference = float(reference)
        return Factor(name, kind, levels=tuple(levels), reference=reference)
    if "range" not in spec or "levels" in spec:
        raise _err(origin, f"{where}: a {method} design needs a range; allowed: {{ range = [low, high] }}")
    if kind in ("bool", "choice"):
        raise _err(
            origin,
            f"{where}: {p.kind} parameter cannot be sampled by {method}; allowed: int or float parameters (use a grid for {p.allowed()})",
        )
    rng = spec["range"]
    if not (
        isinstance(rng, list)
        and len(rng) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng)
    ):
        raise _err(origin, f"{where}: range = {rng!r} is not allowed; allowed: [low, high] with two numbers")
    low, high = rng
    if scenario_mode:
        low = validate_value(f"{origin}: {where}", name, low)
        high = validate_value(f"{origin}: {where}", name, high)
    if not low < high:
        raise _err(origin, f"{where}: range = {rng!r} is empty; allowed: [low, high] with low < high")
    return Factor(name, kind, low=low, high=high)


def _registry_factors(origin: str, table: Mapping, exclude, method: str, scenario_mode: bool) -> tuple[list, dict]:
    """Factors of ``[factors] from = "registry"``: every numeric registry parameter not in ``[exclude]``.

    Each factor spans the parameter's allowed range unless ``[factors]`` narrows it.
    Returns the factors (in registry order) and the validated exclusions.
    """
    source = table["from"]
    if source != REGISTRY:
        raise _err(
            origin,
            f"[factors] from = {source!r} is not allowed; allowed: {REGISTRY!r} (every numeric parameter of the registry)",
        )
    if not scenario_mode:
        raise _err(
            origin,
            f"[factors] from = {REGISTRY!r} needs a base scenario; allowed: scenario = ... (or list the factors)",
        )
    if method in LEVEL_METHODS:
        design = "a grid" if method == "grid" else "a doses design"
        raise _err(
            origin,
            f"[factors] from = {REGISTRY!r} gives ranges, which {design} cannot use; allowed: method lhs, sobol or morris",
        )
    numeric = {p.name: p for p in registry.numeric_parameters()}
    if exclude is None:
        exclude = {}
    if not isinstance(exclude, Mapping):
        raise _err(origin, f'[exclude] = {exclude!r} is not allowed; allowed: a table of parameter = "reason"')
    for name, reason in exclude.items():
        if name not in numeric:
            import difflib

            if name in BY_NAME:
                why = f"{BY_NAME[name].kind} parameter '{name}' is never a factor"
            else:
                close = difflib.get_close_matches(name, list(numeric), n=1)
                why = f"unknown parameter '{name}'" + (f" (did you mean '{close[0]}'?)" if close else "")
            raise _err(
                origin,
                f"[exclude] {name}: {why}; allowed: an int or float parameter of the registry (see clustersim describe)",
            )
        if not isinstance(reason, str) or not reason.strip():
            raise _err(
                origin,
                f"[exclude] {name} = {reason!r} gives no reason; allowed: a non-empty string saying why it is not a factor",
            )
    factors_by_name = {}
    for name, spec in table.items():
        if name == "from":
            continue
        if name in exclude:
            raise _err(
                origin,
                f"[factors] {name} narrows the range of an excluded parameter; allowed: either [exclude] or [factors]",
            )
        if name not in numeric and name in BY_NAME:
            raise _err(
                origin,
                f"[factors] {name}: {BY_NAME[name].kind} parameter cannot be sampled by {method}; "
                f"allowed: a narrower {{ range = [low, high] }} of an int or float parameter",
            )
        factors_by_name[name] = _parse_factor(origin, name, spec, method, scenario_mode)
    factors = []
    for name, p in numeric.items():
        if name in exclude:
            continue
        if name in factors_by_name:
            factors.append(factors_by_name[name])
        elif p.low is None or p.high is None or not p.low < p.high:
            raise _err(
                origin,
                f"[factors] {name}: the registry gives no range ({p.allowed()}); "
                "allowed: a { range = [low, high] } in [factors] or an entry in [exclude]",
            )
        else:
            factors.append(Factor(name, p.kind, low=p.low, high=p.high))
    return factors, {k: " ".join(v.split()) for k, v in exclude.items()}


def _parse_design(origin: str, data) -> tuple[str, dict]:
    if not isinstance(data, Mapping):
        raise _err(origin, f"[design] = {data!r} is not allowed; allowed: a table with method = {' | '.join(METHODS)}")
    method = data.get("method")
    if method not in METHODS:
        raise _err(origin, f"[design] method = {method!r} is not allowed; allowed: one of {', '.join(METHODS)}")
    keys = DESIGN_KEYS[method]
    for key in data:
        if key != "method" and key not in keys:
            allowed = ", ".join(["method", *keys])
            raise _err(origin, f"unknown key '{key}' in [design] for method {method!r}; allowed keys: {allowed}")
    settings: dict[str, object] = {}
    for key, default in keys.items():
        if key not in data and default is None:
            raise _err(origin, f"[design] {key} is missing; allowed: {_design_allowed(method, key)}")
        settings[key] = data.get(key, default)
    if method == "sobol":
        n = settings["n"]
        if not _is_int(n) or n < 2 or n & (n - 1):
            raise _err(origin, f"[design] n = {n!r} is not allowed; allowed: {_design_allowed(method, 'n')}")
        if not isinstance(settings["second_order"], bool):
            raise _err(
                origin, f"[design] second_order = {settings['second_order']!r} is not allowed; allowed: true or false"
            )
    elif method == "morris":
        _check_int(
            origin, "[design] trajectories", settings["trajectories"], 2, _design_allowed(method, "trajectories")
        )
        lv = settings["levels"]
        if not _is_int(lv) or lv < 2 or lv % 2:
            raise _err(origin, f"[design] levels = {lv!r} is not allowed; allowed: {_design_allowed(method, 'levels')}")
    elif method == "lhs":
        _check_int(origin, "[design] samples", settings["samples"], 2, _design_allowed(method, "samples"))
    elif method == "doses" and not isinstance(settings["common_seeds"], bool):
        raise _err(
            origin, f"[design] common_seeds = {settings['common_seeds']!r} is not allowed; allowed: true or false"
        )
    return method, settings


def _design_allowed(method: str, key: str) -> str:
    return {
        ("sobol", "n"): "a power of two >= 2 (base samples N)",
        ("morris", "trajectories"): "int >= 2",
        ("morris", "levels"): "an even int >= 2",
        ("lhs", "samples"): "int >= 2",
    }.get((method, key), "see docs/experiments.md")


def experiment_from_dict(
    data: Mapping, origin: str = "<python>", model: Callable | None = None, base_dir=None
) -> Experiment:
    """Validate a parsed experiment (a TOML table or a Python dict) and return an :class:`Experiment`."""
    for key in data:
        if key not in TOP_KEYS:
            import difflib

            close = difflib.get_close_matches(key, TOP_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise _err(origin, f"unknown key '{key}' at the top level{hint}; allowed keys: {', '.join(TOP_KEYS)}")
    for key in ("name", "description", "scenario", "baseline", "model"):
        if key in data and not isinstance(data[key], str):
            raise _err(origin, f"{key} = {data[key]!r} has the wrong type; allowed: a string")
    if "series" in data and not isinstance(data["series"], bool):
        raise _err(origin, f"series = {data['series']!r} has the wrong type; allowed: true or false")
    if "streams" in data and data["streams"] not in STREAMS:
        raise _err(origin, f"streams = {data['streams']!r} is not valid; allowed: {', '.join(map(repr, STREAMS))}")
    model_ref = None
    if "model" in data:
        if model is not None:
            raise _err(origin, "model is given twice (file and argument); allowed: one of them")
        model_ref = data["model"]
        model = _load_model(origin, model_ref)
    elif model is not None:
        model_ref = f"{getattr(model, '__module__', '?')}:{getattr(model, '__qualname__', repr(model))}"
    if data.get("streams", "legacy") != "legacy" and not draws_reach(model):
        raise _err(origin, "streams = 'counter' needs the default model; allowed: drop 'streams' or 'model'")
    # plain-function mode: a model and no base scenario
    scenario_mode = not (model is not None and "scenario" not in data)
    scenario = None
    if scenario_mode:
        ref = _resolve_scenario_ref(data.get("scenario", "baseline"), base_dir)
        try:
            scenario = load_scenario(ref)
        except ScenarioError as exc:
            raise _err(origin, f"scenario = {data.get('scenario', 'baseline')!r}: {exc}") from None
    replicates = _check_int(origin, "replicates", data.get("replicates", 1), 1)
    seed = _check_int(origin, "seed", data.get("seed", 0), 0, "int >= 0")
    if "design" not in data:
        raise _err(origin, f"[design] is missing; allowed: a table with method = one of {', '.join(METHODS)}")
    method, settings = _parse_design(origin, data["design"])
    if method == "doses" and not scenario_mode:
        raise _err(
            origin,
            "method 'doses' holds every other factor at the base scenario's value; allowed: a base scenario = ...",
        )
    fixed = data.get("fixed", {})
    if not isinstance(fixed, Mapping):
        raise _err(origin, f"[fixed] = {fixed!r} is not allowed; allowed: a table of parameter = value")
    fixed = dict(fixed)
    if scenario_mode:
        fixed = {k: validate_value(f"{origin}: [fixed]", k, v) for k, v in fixed.items()}
        scenario = scenario.replace(origin=f"{origin}: [fixed]", **fixed)
    factors_raw = data.get("factors")
    if not isinstance(factors_raw, Mapping) or not factors_raw:
        raise _err(
            origin,
            "[factors] is missing or empty; allowed: a table of parameter = { range = [...] } or { levels = [...] }",
        )
    exclude: dict = {}
    if "from" in factors_raw:
        factors, exclude = _registry_factors(origin, factors_raw, data.get("exclude"), method, scenario_mode)
    elif "exclude" in data:
        raise _err(origin, f"[exclude] needs [factors] from = {REGISTRY!r}; allowed: [exclude] with a registry design")
    else:
        factors = [_parse_factor(origin, k, v, method, scenario_mode) for k, v in factors_raw.items()]
    both = set(fixed) & {f.name for f in factors}
    if both:
        hint = " (a registry factor held fixed goes into [exclude] with the reason)" if "from" in factors_raw else ""
        raise _err(origin, f"'{sorted(both)[0]}' is both in [fixed] and [factors]{hint}; allowed: one of them")
    if method in ("sobol", "morris") and len(factors) < 2:
        raise _err(origin, f"[factors] has {len(factors)} factor; allowed: at least 2 for a {method} design")
    outputs = data.get("outputs", list(DEFAULT_OUTPUTS) if scenario_mode and model is None else None)
    if not isinstance(outputs, list) or not outputs or not all(isinstance(o, str) for o in outputs):
        raise _err(origin, f"outputs = {outputs!r} is not allowed; allowed: a non-empty list of output names")
    for o in outputs:  # analyze names a figure file after each output
        check_name(origin, o, key="outputs", names="a figure file")
    if scenario_mode and model is None:
        for o in outputs:
            if o not in SUMMARY_METRICS:
                raise _err(origin, f"outputs: unknown output {o!r}; allowed: {', '.join(SUMMARY_METRICS)}")
    baseline = None
    if "baseline" in data:
        if not scenario_mode:
            raise _err(origin, "baseline needs a base scenario; allowed: baseline with scenario = ...")
        try:
            baseline = load_scenario(_resolve_scenario_ref(data["baseline"], base_dir)).replace(
                origin=f"{origin}: [fixed]", **fixed
            )
        except ScenarioError as exc:
            raise _err(origin, f"baseline = {data['baseline']!r}: {exc}") from None
    name = name_or_file_name(origin, data.get("name"), Path(origin).stem if origin.endswith(".toml") else "experiment")
    exp = Experiment(
        name=name,
        source=origin,
        factors=factors,
        method=method,
        settings=settings,
        replicates=replicates,
        seed=seed,
        outputs=tuple(outputs),
        description=" ".join(data.get("description", "").split()),
        scenario=scenario,
        baseline=baseline,
        fixed=fixed,
        model=model,
        model_ref=model_ref,
        series=data.get("series", False),
        streams=data.get("streams"),
        exclude=exclude,
    )
    exp.point_params()  # validate every design point now, before any output exists
    return exp


def experiments_dir() -> Path:
    """Folder of the shipped experiment files."""
    here = Path(__file__).resolve().parent.parent
    for cand in (here / "_presets" / "experiments", here.parent / "experiments"):
        if cand.is_dir():
            return cand
    return presets_dir().parent / "experiments"


def load_experiment(source: str | Path | Mapping | Experiment, model: Callable | None = None) -> Experiment:
    """Load and validate an experiment from a TOML path, a shipped name, or a dict.

    ``model`` replaces the agent-based model by a plain function
    ``model(params, seed) -> dict`` (see the module docstring).
    Raises :class:`ScenarioError` with a one-line message on any problem.
    """
    if isinstance(source, Experiment):
        return source
    if isinstance(source, Mapping):
        return experiment_from_dict(source, "<python>", model)
    s = str(source)
    path = Path(s)
    if not s.endswith(".toml") and "/" not in s and not path.is_file():
        shipped = experiments_dir() / f"{s}.toml"
        if not shipped.is_file():
            names = ", ".join(sorted(p.stem for p in experiments_dir().glob("*.toml")))
            raise ScenarioError(f"{s}: no such experiment; allowed: one of {names} or a path to a .toml file")
        path = shipped
    origin = str(path)
    if not path.is_file():
        problem = "a folder, not a file" if path.is_dir() else "file not found"
        raise ScenarioError(f"{origin}: {problem}; allowed: a path to an experiment .toml file")
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{origin}: not valid TOML ({exc}); allowed: a TOML experiment file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{origin}: cannot be read ({exc})") from None
    return experiment_from_dict(data, origin, model, base_dir=path.parent)
