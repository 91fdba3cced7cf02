"""``clustersim run``: run a scenario with replicates; write series, summaries, a figure and a manifest."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..plots import plot_runs
from ..policy import PolicyCalendar
from ..report import summary_table, to_markdown
from ..results import atomic_folder, check_output_folder, environment, free_default_folder, package_versions, write_json
from ..runner import run_scenario
from ..scenario import load_scenario
from ..streams import DEFAULT_STREAMS, STREAMS
from . import add_set_option, apply_sets, check_seed


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run a scenario and write its series, summary, figure and manifest",
        description="Run SCENARIO (a preset name or a .toml path) with replicates.",
    )
    p.add_argument("scenario", help="preset name (see 'clustersim scenarios') or path to a .toml file")
    p.add_argument("--seed", type=int, default=0, help="root seed; replicate seeds derive from it (default 0)")
    p.add_argument("--replicates", type=int, default=10, help="number of replicates (default 10)")
    p.add_argument("--months", type=int, default=None, help="override the simulated horizon")
    add_set_option(p)
    p.add_argument(
        "--streams",
        choices=STREAMS,
        default=DEFAULT_STREAMS,
        help=f"random draws (default {DEFAULT_STREAMS}): counter (addressed draws, batched by the ensemble "
        "engine) or legacy (one generator in sequence, as results made before the engine)",
    )
    p.add_argument("--out", type=Path, default=None, help="output folder (default results/<scenario>)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..scenario import ScenarioError

    if args.replicates < 1:
        raise ScenarioError(f"--replicates {args.replicates}: out of range; allowed: int >= 1")
    scenario = apply_sets(load_scenario(args.scenario), args.sets)
    if args.months is not None:
        scenario = scenario.replace(origin="--months", months=args.months)
    check_seed(args.seed)
    out = args.out if args.out is not None else free_default_folder(Path("results") / scenario.name)
    check_output_folder(out, args.force)  # refuse before simulating, not after
    t0 = time.perf_counter()
    series, summary = run_scenario(scenario, seed=args.seed, replicates=args.replicates, streams=args.streams)
    elapsed = time.perf_counter() - t0
    table = summary_table(summary)
    cal = PolicyCalendar.from_scenario(scenario)
    with atomic_folder(out, force=args.force) as tmp:
        series.to_parquet(tmp / "series.parquet", index=False)
        series.to_csv(tmp / "series.csv", index=False)
        summary.to_parquet(tmp / "summary.parquet", index=False)
        summary.to_csv(tmp / "summary.csv", index=False)
        table.to_csv(tmp / "summary_table.csv")
        (tmp / "summary_table.md").write_text(to_markdown(table, f"{scenario.name}: {args.replicates} replicates"))
        plot_runs(
            {scenario.name: series},
            tmp / "figure.png",
            markers=cal.markers(),
            title=f"{scenario.name}: {args.replicates} replicates, root seed {args.seed}",
        )
        write_json(
            tmp / "manifest.json",
            {
                "kind": "scenario_run",
                "scenario": {
                    "name": scenario.name,
                    "source": scenario.source,
                    "extends_chain": list(scenario.chain),
                    "description": scenario.description,
                },
                "parameters": scenario.to_dict(),
                "overrides": args.sets,
                "seeds": {
                    "root_seed": args.seed,
                    "scheme": "numpy SeedSequence(root, spawn_key=(replicate,))",
                    "replicate_seeds": summary["seed"].tolist(),
                    "streams": args.streams,
                },
                "replicates": args.replicates,
                "months": scenario.months,
                "files": sorted(
                    [
                        "series.parquet",
                        "series.csv",
                        "summary.parquet",
                        "summary.csv",
                        "summary_table.csv",
                        "summary_table.md",
                        "figure.png",
                        "manifest.json",
                    ]
                ),
                "timings": {"simulation_seconds": round(elapsed, 3)},
                "versions": package_versions(),
                "environment": environment(),
            },
        )
    show = [
        "final_cooperation",
        "coop_at_programme_end",
        "coop_24m_after_end",
        "final_trust",
        "takeoff_month",
        "dropouts",
        "joint_actions_completed",
        "revenue_index",
        "exports_index",
        "jobs_index",
        "programme_cost",
        "cost_per_cooperating_firm",
    ]
    print(f"{scenario.name}: {args.replicates} replicates x {scenario.months} months in {elapsed:.1f} s")
    print(table.loc[[m for m in show if m in table.index]].round(3).to_string())
    if table.attrs.get("typology"):
        print(f"typology: {table.attrs['typology']}")
    print(f"wrote {out}/ (figure.png, summary_table.md, series.parquet/.csv, summary.csv, manifest.json)")
    return 0
