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


def shipped_posterior() -> Path | None:
    here = Path(__file__).resolve().parent
    for cand in (here / "_presets" / "calibration" / SHIPPED, here.parent / "calibration" / SHIPPED):
        if cand.is_file():
            return cand
    return None


def load_posterior(path: str | Path | pd.DataFrame) -> pd.DataFrame:
    """A posterior table: one column per registry parameter and a ``weight`` column (normalised here)."""
    if isinstance(path, pd.DataFrame):
        post, name = path.copy(), "posterior"
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
    return post


def draw_parameter_sets(post: pd.DataFrame, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` parameter sets resampled by weight, reproducibly from ``seed``."""
    rng = np.random.default_rng([seed, 0x9E3779B9])  # a stream apart from the replicate seeds
    picks = rng.choice(len(post), size=n, p=post["weight"].to_numpy())
    params = [c for c in post.columns if c != "weight"]
    return [{p: float(post.iloc[i][p]) for p in params} for i in picks]


def beat_probability(runs: pd.DataFrame, a: str, b: str, metric: str, larger_is_better: bool = True) -> float:
    """Share of paired (draw, seed) replicates in which scenario ``a`` beats ``b`` on ``metric`` (ties half)."""
    x = runs[runs["scenario"] == a].sort_values("replicate")[metric].to_numpy(dtype=float)
    y = runs[runs["scenario"] == b].sort_values("replicate")[metric].to_numpy(dtype=float)
    diff = (x - y) if larger_is_better else (y - x)
    diff = diff[~np.isnan(diff)]
    return float(np.mean((diff > 0) + 0.5 * (diff == 0))) if diff.size else float("nan")
