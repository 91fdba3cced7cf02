"""``clustersim portfolio``: a funder's portfolio of cluster plans, selection and a regional platform."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "portfolio",
        help="simulate a funder's portfolio of cluster plans: which to fund, which take off, a regional platform",
        description="Draw the plans of a portfolio file, let the funder score and fund them, and run every "
        "cluster side by side (funded plans run the programme, the others stay approved but unfunded).",
    )
    p.add_argument(
        "file", type=Path, metavar="FILE", help="a portfolio .toml, or a shipped portfolio's name (ccpf_phase1)"
    )
    p.add_argument("--replicates", type=int, default=None, help="override the file's replicates")
    p.add_argument(
        "--platform-effect",
        action="store_true",
        help="run every replicate with the regional platform on and off (paired) and report the difference",
    )
    p.add_argument("--out", type=Path, default=None, help="results folder (default results/portfolio-NAME)")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    p.set_defaults(func=portfolio)


def portfolio(args: argparse.Namespace) -> int:
    from ..portfolio import check_draws, load_portfolio, run_portfolio
    from ..results import atomic_folder, check_output_folder, free_default_folder
    from ..scenario import ScenarioError

    spec = load_portfolio(args.file)
    if args.replicates is not None and args.replicates < 1:
        raise ScenarioError(f"--replicates {args.replicates}: out of range; allowed: int >= 1")
    replicates = spec.replicates if args.replicates is None else args.replicates
    if replicates > spec.replicates:
        check_draws(spec, replicates)  # the file's own replicates were checked when it was read
    out = args.out if args.out is not None else free_default_folder(Path("results") / f"portfolio-{spec.name}")
    check_output_folder(out, args.force)  # refuse before simulating, not after
    arms = (True, False) if args.platform_effect else (spec.platform_on,)
    t0 = time.perf_counter()
    plans, kpis, series = run_portfolio(
        spec, replicates, arms, progress=lambda r: print(f"  replicate {r + 1}/{replicates} done", flush=True)
    )
    elapsed = time.perf_counter() - t0
    effect = platform_effect(kpis) if args.platform_effect else None
    with atomic_folder(out, force=args.force) as tmp:
        write_outputs(tmp, spec, replicates, arms, plans, kpis, series, effect, elapsed)
    print_summary(spec, replicates, kpis, effect, elapsed)
    print(f"wrote {out}/ (plans.csv, portfolio.csv, series.parquet, cooperation.png, manifest.json)")
    return 0


def platform_effect(kpis):
    """Paired differences, platform on minus off, per replicate: mean, standard error, z."""
    import numpy as np
    import pandas as pd

    on = kpis[kpis["platform"]].set_index("replicate")
    off = kpis[~kpis["platform"]].set_index("replicate")
    rows = []
    for k in ("mean_cooperation", "mean_cooperation_funded", "mean_cooperation_unfunded", "took_off"):
        d = (on[k] - off[k]).to_numpy(dtype=float)
        se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")
        rows.append(
            {
                "kpi": k,
                "difference": float(d.mean()),
                "se": se,
                "z": z_score(float(d.mean()), se),
                "replicates": d.size,
            }
        )
    return pd.DataFrame(rows)


def z_score(mean: float, se: float) -> float:
    """mean / se; with no spread at all, a non-zero difference is infinitely sure and a zero one is 0."""
    # a spread below rounding noise (identical differences) is no spread
    if se > 1e-12 * max(abs(mean), 1e-300):
        return mean / se
    if se >= 0:
        return math.copysign(math.inf, mean) if mean != 0 else 0.0
    return float("nan")  # one replicate: no standard error


def write_outputs(tmp, spec, replicates, arms, plans, kpis, series, effect, elapsed) -> None:
    from ..portfolio import CRITERIA
    from ..results import environment, package_versions, write_json
    from ..seeds import run_seed

    plans.to_csv(tmp / "plans.csv", index=False)
    kpis.to_csv(tmp / "portfolio.csv", index=False)
    series.to_parquet(tmp / "series.parquet", index=False)
    files = ["plans.csv", "portfolio.csv", "series.parquet", "cooperation.png", "manifest.json"]
    plot_cooperation(series, tmp / "cooperation.png", f"{spec.name}: {replicates} replicates")
    if effect is not None:
        effect.to_csv(tmp / "platform_effect.csv", index=False)
        files.append("platform_effect.csv")
    write_json(
        tmp / "manifest.json",
        {
            "kind": "portfolio",
            "portfolio": {"name": spec.name, "source": spec.source, "description": spec.description},
            "programme": {"name": spec.programme.name, "parameters": spec.programme.to_dict()},
            "plans": [{"label": label, "parameters": sc.to_dict()} for label, sc in spec.bases],
            "traits": {k: list(v) for k, v in spec.traits.items()},
            "selection": {"weights": spec.weights, "criteria": list(CRITERIA), "plan_quality_noise_sd": spec.noise_sd},
            "funded": spec.funded,
            "budget": spec.budget,
            "months": spec.months,
            "streams": "counter",  # the ensemble's per-cluster draws (clustersim.streams), whatever the default
            "platform": {"arms": list(arms), "intensity": spec.platform_intensity},
            "seeds": {
                "root_seed": spec.seed,
                "scheme": "replicate r: run_seed(root, r); plan i: run_seed(replicate, 1, i); traits: "
                "run_seed(replicate, 0); appraisal noise: run_seed(replicate, 2)",
                "replicate_seeds": [run_seed(spec.seed, r) for r in range(replicates)],
            },
            "replicates": replicates,
            "files": sorted(files),
            "timings": {"simulation_seconds": round(elapsed, 3)},
            "versions": package_versions(),
            "environment": environment(),
        },
    )


def plot_cooperation(series, path, title: str) -> None:
    """Mean share cooperating by month: funded and unfunded plans, with and without the platform."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..style import scenario_color

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, ((on, funded), g) in enumerate(series.groupby(["platform", "funded"])):
        mean = g.groupby("month")["share_cooperating"].mean()
        label = f"{'funded' if funded else 'approved, unfunded'}, platform {'on' if on else 'off'}"
        colour = scenario_color("funded" if funded else "unfunded", i)
        ax.plot(mean.index, mean.to_numpy(), label=label, color=colour, linestyle="-" if on else "--")
    ax.set_xlabel("month")
    ax.set_ylabel("share of firms cooperating")
    ax.set_title(f"{title}: mean over plans and replicates")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def print_summary(spec, replicates, kpis, effect, elapsed) -> None:
    from ..report import mean_ci

    print(f"{spec.name}: {spec.plans} plans, {spec.funded} fundable, {replicates} replicates in {elapsed:.1f} s")
    show = (
        "funded",
        "programme_cost",
        "mean_cooperation_funded",
        "mean_cooperation_unfunded",
        "took_off_funded",
        "took_off_unfunded",
        "takeoff_recall",
        "selection_efficiency",
    )
    for on, g in kpis.groupby("platform"):
        print(f"platform {'on' if on else 'off'} (mean and 95% interval over replicates):")
        for k in show:
            m, lo, hi = mean_ci(g[k].dropna())
            print(f"  {k:28s} {m:10.3f}  [{lo:.3f}, {hi:.3f}]")
    if effect is not None:
        print("platform effect, on minus off, paired by replicate:")
        print(effect.round(3).to_string(index=False))
