"""``clustersim sweep``: run an experiment file into a results folder (Parquet parts + manifest)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..results import free_default_folder


def register(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="run an experiment (parameter sweep, Sobol, Morris, mixes, dose-response) into a results folder",
        description="Run EXPERIMENT (a .toml file or a shipped experiment name) and store one row per run.",
    )
    p.add_argument("experiment", help="experiment .toml file (see experiments/) or a shipped experiment name")
    p.add_argument(
        "--executor",
        choices=("serial", "local", "dask"),
        default="local",
        help="where runs execute (default local: all cores)",
    )
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler address, e.g. tcp://10.0.0.1:8786 (implies --executor dask)",
    )
    p.add_argument(
        "--shard", default=None, metavar="i/n", help="run only shard i of n (0 <= i < n), e.g. for sbatch --array"
    )
    p.add_argument(
        "--resume", action="store_true", help="complete an interrupted sweep in --out, skipping finished runs"
    )
    p.add_argument("--force", action="store_true", help="replace an existing results folder")
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="runs per task (default: automatic). Under streams = \"counter\" a task's runs are stepped together "
        "by the ensemble engine; results never depend on N",
    )
    p.add_argument("--out", type=Path, default=None, help="results folder (default results/<experiment name>)")
    p.set_defaults(func=sweep)


def sweep(args: argparse.Namespace) -> int:
    from ..experiments import load_experiment, run_experiment

    exp = load_experiment(args.experiment)
    if args.batch_size is not None and args.batch_size < 1:
        print(f"clustersim sweep: --batch-size must be a whole number >= 1, not {args.batch_size}", file=sys.stderr)
        return 2
    executor = "dask" if args.scheduler else args.executor
    out = args.out
    if out is None:
        base = Path("results") / exp.name
        out = base if (args.resume or args.force) else free_default_folder(base)
    t0 = time.perf_counter()
    runs = run_experiment(
        exp,
        executor=executor,
        workers=args.workers,
        scheduler=args.scheduler,
        shard=args.shard,
        out=out,
        resume=args.resume,
        force=args.force,
        batch_runs=args.batch_size,
    )
    wall = time.perf_counter() - t0
    shard = f" (shard {args.shard})" if args.shard else ""
    print(f"{exp.name}{shard}: {len(runs)} runs in {out}/ after {wall:.1f} s ({exp.n_runs} in the whole experiment)")
    if len(runs) and not args.shard:
        print(f"next: clustersim analyze {out}")
    sys.stdout.flush()
    return 0
