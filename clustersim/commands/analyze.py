"""``clustersim analyze``: sensitivity indices, mix comparisons, tables and figures from a results folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse a sweep's results folder: indices, mixes or dose-response; tables (CSV, Markdown) and figures",
        description="Analyse RESULTS_DIR (written by clustersim sweep); the design is read from its manifest.",
    )
    p.add_argument("results_dir", type=Path, help="results folder written by clustersim sweep")
    p.add_argument("--out", type=Path, default=None, help="where tables and figures go (default RESULTS_DIR/_analysis)")
    p.add_argument("--force", action="store_true", help="replace an earlier analysis")
    p.set_defaults(func=analyze)


def analyze(args: argparse.Namespace) -> int:
    from ..experiments.analysis import analyze_folder

    headline, out, files = analyze_folder(args.results_dir, out=args.out, force=args.force)
    print(headline)
    pngs = sum(f.endswith(".png") for f in files)
    print(f"wrote {out}/ ({len(files)} files: {pngs} figures; tables as .csv and .md)")
    return 0
