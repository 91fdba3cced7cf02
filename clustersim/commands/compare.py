"""``clustersim compare``: a quick side-by-side of preset scenarios, without an experiment file."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="compare scenarios side by side: KPIs with 95%% intervals, cost per additional cooperating firm",
        description="Run each SCENARIO with the same replicate seeds and compare them with the no-programme baseline.",
    )
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="preset names or .toml paths")
    p.add_argument("--replicates", type=int, default=10, help="replicates per scenario (default 10)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--months", type=int, default=None, help="override the simulated horizon")
    p.add_argument("--executor", choices=("serial", "local", "dask"), default="local", help="where runs execute")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--out", type=Path, default=None, help="also write comparison.csv/.md and figures here")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    p.set_defaults(func=compare)


def compare(args: argparse.Namespace) -> int:
    from ..experiments import compare_scenarios
    from ..experiments.analysis import markdown_table
    from ..experiments.mixes import KPIS
    from ..results import atomic_folder, check_output_folder
    from . import check_seed

    check_seed(args.seed)
    if args.out is not None:
        check_output_folder(args.out, args.force)  # fail before running, not after
    table, runs = compare_scenarios(
        args.scenarios,
        replicates=args.replicates,
        seed=args.seed,
        months=args.months,
        executor=args.executor,
        workers=args.workers,
        return_runs=True,
    )
    show = ["scenario"]
    for k in ("final_cooperation", "final_trust", "dropouts", "revenue_index"):
        show += [f"{k}_mean", f"{k}_low", f"{k}_high"]
    show += ["cost_mean", "additional_cooperating_firms", "cost_per_additional_cooperating_firm"]
    print(f"{len(table)} scenarios x {args.replicates} replicates, root seed {args.seed} (mean and 95% interval)")
    print(table[show].round(3).to_string(index=False))
    if args.out is not None:
        from ..experiments import plots

        with atomic_folder(args.out, force=args.force) as tmp:
            plain = table.drop(columns=[]).copy()
            plain.attrs = {}
            plain.to_csv(tmp / "comparison.csv", index=False)
            (tmp / "comparison.md").write_text(markdown_table(plain, "Scenario comparison"))
            runs.to_csv(tmp / "runs.csv", index=False)
            plots.plot_cost_cooperation(table, tmp / "cost_cooperation.png")
            plots.plot_kpi_distributions(runs, table, list(KPIS[:4]), tmp / "kpi_distributions.png")
        print(f"wrote {args.out}/ (comparison.csv/.md, runs.csv, cost_cooperation.png, kpi_distributions.png)")
    return 0
