"""``clustersim compare``: a quick side-by-side of preset scenarios, without an experiment file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..streams import DEFAULT_STREAMS, STREAMS


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
    p.add_argument(
        "--posterior",
        default=None,
        help="parameter draws for each replicate: a posterior Parquet from clustersim calibrate, or 'none' "
        "(default: the shipped calibration/ccpf_posterior.parquet, if present); a SCENARIO that sets a drawn "
        "parameter to other than its default is refused (exit 2)",
    )
    p.add_argument(
        "--streams",
        choices=STREAMS,
        default=DEFAULT_STREAMS,
        help=f"random draws (default {DEFAULT_STREAMS}): counter (addressed draws, batched by the ensemble "
        "engine) or legacy (one generator in sequence, as results made before the engine)",
    )
    p.add_argument("--out", type=Path, default=None, help="also write comparison.csv/.md and figures here")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    p.set_defaults(func=compare)


def compare(args: argparse.Namespace) -> int:
    from ..experiments import compare_scenarios
    from ..experiments.analysis import markdown_table
    from ..experiments.mixes import KPIS
    from ..results import atomic_folder, check_output_folder, write_json
    from . import check_seed

    check_seed(args.seed)
    post, post_name = _posterior(args.posterior)
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
        posterior=post,
        streams=args.streams,
    )
    show = ["scenario"]
    for k in ("final_cooperation", "final_trust", "dropouts", "revenue_index"):
        show += [f"{k}_mean", f"{k}_low", f"{k}_high"]
    show += ["cost_mean", "additional_cooperating_firms", "cost_per_additional_cooperating_firm"]
    print(
        f"{len(table)} scenarios x {args.replicates} replicates, root seed {args.seed}, {args.streams} draws"
        " (mean and 95% interval)"
    )
    print(table[show].round(3).to_string(index=False))
    beats = beat_table(runs, list(dict.fromkeys(args.scenarios)))
    if post is not None:
        print(f"parameter uncertainty: {post_name}, one posterior draw per replicate (paired across scenarios)")
    if len(beats):
        print(
            "probability that the first scenario beats each other one (over replicates"
            + (" and posterior draws)" if post is not None else ")")
        )
        print(beats.round(3).to_string(index=False))
    if args.out is not None:
        from ..experiments import plots

        with atomic_folder(args.out, force=args.force) as tmp:
            plain = table.drop(columns=[]).copy()
            plain.attrs = {}
            plain.to_csv(tmp / "comparison.csv", index=False)
            (tmp / "comparison.md").write_text(markdown_table(plain, "Scenario comparison"))
            runs.assign(streams=args.streams).to_csv(tmp / "runs.csv", index=False)  # which draws made these runs
            beats.to_csv(tmp / "beats.csv", index=False)
            plots.plot_cost_cooperation(table, tmp / "cost_cooperation.png")
            plots.plot_kpi_distributions(runs, table, list(KPIS[:4]), tmp / "kpi_distributions.png")
            files = sorted([*(path.name for path in tmp.iterdir()), "manifest.json"])
            write_json(tmp / "manifest.json", _manifest(args, runs, post_name, files))
        print(f"wrote {args.out}/ ({', '.join(files)})")
    return 0


def _manifest(args: argparse.Namespace, runs, posterior_name: str, files: list[str]) -> dict:
    """What the comparison ran: each scenario (the baseline included) with its parameters, the seeds, the
    posterior, the draws and the package versions, as ``clustersim run``'s manifest records a run."""
    from ..results import environment, package_versions

    names = list(runs["scenario"].drop_duplicates())
    ran = {entry["name"]: entry for entry in json.loads(runs.attrs["scenarios"])}  # as they ran, --months applied
    scenarios = [ran[name] for name in names]
    first = runs[runs["scenario"] == names[0]].sort_values("replicate")
    return {
        "kind": "scenario_comparison",
        "scenarios": scenarios,
        "seeds": {
            "root_seed": args.seed,
            "scheme": "numpy SeedSequence(root, spawn_key=(replicate,)), the same for every scenario",
            "replicate_seeds": [int(x) for x in first["seed"]],
            "streams": args.streams,
        },
        "posterior": posterior_name,
        "replicates": args.replicates,
        "months": args.months,
        "files": files,
        "versions": package_versions(),
        "environment": environment(),
    }


#: KPIs for "A beats B", and whether larger is better
BEAT_KPIS = (("final_cooperation", True), ("coop_24m_after_end", True), ("revenue_index", True), ("dropouts", False))


def beat_table(runs, names: list[str]):
    """P(first scenario beats each other one) on each KPI, over paired replicates (and posterior draws)."""
    import pandas as pd

    from ..posterior import beat_probability

    rows = []
    for other in names[1:]:
        row = {"scenario": names[0], "versus": other}
        for metric, larger in BEAT_KPIS:
            if metric in runs:
                row[f"P(better {metric})"] = beat_probability(runs, names[0], other, metric, larger)
        rows.append(row)
    return pd.DataFrame(rows)


def _posterior(choice):
    """The posterior for the comparison: a path, 'none', or (default) the shipped one if present."""
    from ..posterior import NAME_ATTR, SHIPPED_POSTERIOR, resolve_posterior

    if choice is not None and str(choice).lower() == "none":
        return None, "none"
    post = resolve_posterior(Path(choice) if choice is not None else SHIPPED_POSTERIOR)
    return post, ("none" if post is None else post.attrs[NAME_ATTR])
