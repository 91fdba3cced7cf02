"""Tables of per-run summaries: replicate mean with a 95% interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .metrics import SUMMARY_METRICS


def mean_ci(x, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t ``level`` interval of the mean of ``x`` (NaNs dropped), clipped to the observed range."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (np.nan, np.nan, np.nan)
    m = float(x.mean())
    if x.size < 2:
        return (m, np.nan, np.nan)
    h = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    # a mean cannot lie outside the observed values (e.g. a negative count of dropouts); but the computed mean
    # of equal values can round a last bit beyond them, and the interval must still contain it
    return (m, min(m, max(m - h, float(x.min()))), max(m, min(m + h, float(x.max()))))


def summary_table(summary: pd.DataFrame, metrics=SUMMARY_METRICS) -> pd.DataFrame:
    """One row per metric: mean, 95% interval, and replicates with a value."""
    rows = []
    for m in metrics:
        if m not in summary:
            continue
        mean, lo, hi = mean_ci(summary[m])
        rows.append({"metric": m, "mean": mean, "ci95_low": lo, "ci95_high": hi, "n": int(summary[m].notna().sum())})
    out = pd.DataFrame(rows).set_index("metric")
    if "typology" in summary:
        counts = summary["typology"].value_counts()
        out.attrs["typology"] = ", ".join(f"{k}: {v}" for k, v in counts.items())
    return out


def to_markdown(table: pd.DataFrame, title: str = "") -> str:
    """A plain Markdown table (no optional dependencies)."""
    lines = [f"## {title}", ""] if title else []
    lines += ["| metric | mean | 95% interval | n |", "|---|---:|---:|---:|"]
    for metric, r in table.iterrows():
        ci = "" if np.isnan(r["ci95_low"]) else f"{r['ci95_low']:.4g} to {r['ci95_high']:.4g}"
        mean = "n/a" if np.isnan(r["mean"]) else f"{r['mean']:.4g}"
        lines.append(f"| {metric} | {mean} | {ci} | {int(r['n'])} |")
    if table.attrs.get("typology"):
        lines += ["", f"Typology of replicates: {table.attrs['typology']}"]
    return "\n".join(lines) + "\n"
