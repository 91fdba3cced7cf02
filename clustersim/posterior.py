"""Parameter uncertainty for policy advice: draws from an ABC posterior (``clustersim calibrate``).

A comparison with a posterior runs replicate ``r`` of every scenario with the same parameter set (draw ``r``)
and the same seed, so differences between scenarios are paired over both the parameter uncertainty and the
replicate noise, and the share of pairs in which A beats B estimates the probability that A beats B.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .parameters import BY_NAME
from .scenario import ScenarioError

#: the posterior shipped with clustersim (calibration/ccpf.toml, full run): the default for comparisons
SHIPPED = "ccpf_posterior.parquet"
#: key of ``DataFrame.attrs`` under which :func:`load_posterior` keeps the posterior's name (its file name)
NAME_ATTR = "posterior_name"


class _ShippedPosterior:
    """Type of :data:`SHIPPED_POSTERIOR`."""

    def __repr__(self) -> str:
        return "SHIPPED_POSTERIOR"


#: default of the policy-comparison functions: the shipped posterior if present, else none (``None`` means none)
SHIPPED_POSTERIOR = _ShippedPosterior()


def shipped_posterior() -> Path | None:
    here = Path(__file__).resolve().parent
    for cand in (here / "_presets" / "calibration" / SHIPPED, here.parent / "calibration" / SHIPPED):
        if cand.is_file():
            return cand
    return None


def load_posterior(path: str | Path | pd.DataFrame) -> pd.DataFrame:
    """A posterior table: one column per registry parameter and a ``weight`` column (normalised here)."""
    if isinstance(path, pd.DataFrame):
        post, name = path.copy(), path.attrs.get(NAME_ATTR, "posterior")
    else:
        path = Path(path)
        if not path.is_file():
            raise ScenarioError(f"{path}: posterior file not found; allowed: a Parquet file from clustersim calibrate")
        try:
            post = pd.read_parquet(path)
        except Exception as err:  # pyarrow raises several types for a file that is not Parquet
            raise ScenarioError(f"{path.name}: not a Parquet posterior ({type(err).__name__})") from None
        name = path.name
    if "weight" not in post or post["weight"].lt(0).any() or not post["weight"].sum() > 0:
        raise ScenarioError(f"{name}: needs a non-negative 'weight' column with a positive sum")
    params = [c for c in post.columns if c != "weight"]
    for p in params:
        if p not in BY_NAME:
            raise ScenarioError(f"{name}: column {p!r} is not a registry parameter; allowed: registry names, weight")
    if not params:
        raise ScenarioError(f"{name}: no parameter columns")
    post["weight"] = post["weight"] / post["weight"].sum()
    post.attrs[NAME_ATTR] = name
    return post


def resolve_posterior(choice) -> pd.DataFrame | None:
    """The posterior a comparison uses: ``None`` for none, :data:`SHIPPED_POSTERIOR` for the shipped one (none
    if it is absent), else :func:`load_posterior` of a path or table."""
    if choice is None:
        return None
    if choice is SHIPPED_POSTERIOR:
        path = shipped_posterior()
        return None if path is None else load_posterior(path)
    return load_posterior(choice)


def check_not_drawn(post: pd.DataFrame, scenario, overrides=None) -> None:
    """Refuse a run in which a posterior draw would silently replace an explicit setting.

    A drawn parameter (a column of ``post``) is set explicitly when it is among ``overrides`` (keyword
    overrides, always explicit) or when ``scenario`` holds a value other than the registry default (the scenario
    does not record which keys its file set, so a file that sets a drawn parameter to its default passes, and the
    draw replaces it as it would the default). Raises a one-line :class:`ScenarioError`.
    """
    drawn = [c for c in post.columns if c != "weight"]
    source = post.attrs.get(NAME_ATTR, "posterior")
    overrides = dict(overrides or {})
    clash = [k for k in drawn if k in overrides]
    where, shown = "override", [f"{k} = {overrides[k]!r}" for k in clash]
    if not clash:
        changed = scenario.changed_from_defaults()
        clash = [k for k in drawn if k in changed]
        where = scenario.name
        shown = [f"{k} = {changed[k]!r} (registry default {BY_NAME[k].default!r})" for k in clash]
    if clash:
        verb = "is" if len(clash) == 1 else "are"
        raise ScenarioError(
            f"{where}: {', '.join(shown)} {verb} set explicitly and {verb} also drawn from the posterior {source}; "
            "allowed: drop the setting, or run without a posterior (posterior=None / --posterior none)"
        )


def draw_parameter_sets(post: pd.DataFrame, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` parameter sets resampled by weight, reproducibly from ``seed``."""
    rng = np.random.default_rng([seed, 0x9E3779B9])  # a stream apart from the replicate seeds
    picks = rng.choice(len(post), size=n, p=post["weight"].to_numpy())
    params = [c for c in post.columns if c != "weight"]
    return [{p: float(post.iloc[i][p]) for p in params} for i in picks]


def beat_probability(
    runs: pd.DataFrame, a: str, b: str, metric: str, larger_is_better: bool = True, by: str = "scenario"
) -> float:
    """Share of paired (draw, seed) replicates in which ``a`` beats ``b`` on ``metric`` (ties count half).

    ``by`` names the column labelling the arms (``scenario`` for :func:`compare_scenarios`, ``mix`` for
    budget mixes). Replicates pair by their ``replicate`` number, which fixes both the seed and the posterior draw.
    """
    x = runs[runs[by] == a].set_index("replicate")[metric].astype(float)
    y = runs[runs[by] == b].set_index("replicate")[metric].astype(float)
    diff = ((x - y) if larger_is_better else (y - x)).dropna()  # aligned on the replicate number
    return float(np.mean((diff > 0) + 0.5 * (diff == 0))) if diff.size else float("nan")


def beat_matrix(runs: pd.DataFrame, metric: str, by: str = "scenario", larger_is_better: bool = True) -> pd.DataFrame:
    """P(row beats column) on ``metric`` for every pair of arms in ``runs`` (diagonal NaN)."""
    arms = list(dict.fromkeys(runs[by]))
    table = pd.DataFrame(np.nan, index=pd.Index(arms, name=by), columns=arms)
    for a in arms:
        for b in arms:
            if a != b:
                table.loc[a, b] = beat_probability(runs, a, b, metric, larger_is_better, by)
    return table


#: Calibrated language for probabilities (IPCC AR5 guidance note, Mastrandrea et al. 2010, Table 1), most
#: specific first: the term for P is the first whose bound it meets. Terms for policy statements, not thresholds
#: of validation (those live in validation/targets.toml).
LIKELIHOOD_TERMS = (
    ("very likely", lambda p: p >= 0.9),
    ("likely", lambda p: p >= 0.66),
    ("very unlikely", lambda p: p <= 0.1),
    ("unlikely", lambda p: p <= 0.33),
    ("about as likely as not", lambda p: True),
)


def likelihood_term(p: float) -> str:
    """The calibrated-language term for a probability ``p`` (see :data:`LIKELIHOOD_TERMS`); NaN gives ''."""
    if p != p:
        return ""
    return next(term for term, holds in LIKELIHOOD_TERMS if holds(p))
