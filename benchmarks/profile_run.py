"""Where the time goes: a pyinstrument profile of clustersim runs.

Usage::

    .venv/bin/python benchmarks/profile_run.py                 # funded_programme (60 firms) x 20 runs
    .venv/bin/python benchmarks/profile_run.py --firms 10000   # one 10,000-firm run
    .venv/bin/python benchmarks/profile_run.py --firms 10000 --html /tmp/profile.html

Prints the call tree (construction and the monthly submodels) and a flat list of the functions
with the most time of their own. Needs pyinstrument (in the ``dev`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SCENARIO = "funded_programme"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2 (the project's convention)."""

    def error(self, message: str):
        print(f"profile_run.py: {message}; see --help", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--firms", type=int, default=None, help="n_firms override (default: the preset's 60)")
    ap.add_argument("--runs", type=int, default=None, help="runs to profile (default 20 small, 1 large)")
    ap.add_argument("--top", type=int, default=15, help="functions in the flat list (default 15)")
    ap.add_argument("--html", type=Path, default=None, help="also write pyinstrument's HTML view here (new file)")
    args = ap.parse_args(argv)
    if args.firms is not None and not 3 <= args.firms <= 200_000:
        print(f"profile_run.py: --firms = {args.firms} is out of range; allowed: int in 3..200000", file=sys.stderr)
        return 2
    if args.html is not None and args.html.exists():
        print(f"profile_run.py: {args.html}: --html file exists; allowed: a new file path", file=sys.stderr)
        return 2
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("profile_run.py: pyinstrument is not installed; allowed: pip install pyinstrument", file=sys.stderr)
        return 2
    import clustersim

    kw = {} if args.firms is None else {"n_firms": args.firms}
    runs = args.runs or (20 if (args.firms or 60) < 1000 else 1)
    clustersim.ClusterModel(SCENARIO, seed=0, **kw).run(6)  # warm-up: imports and first calls
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for seed in range(1, runs + 1):
        clustersim.ClusterModel(SCENARIO, seed=seed, **kw).run(120)
    session = profiler.stop()
    n = args.firms or 60
    print(f"{SCENARIO}, {n:,} firms x 120 months, {runs} run(s): {session.duration:.2f} s profiled\n")
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    print(f"functions with the most time of their own (top {args.top}):")
    for name, seconds in self_times(session.root_frame())[: args.top]:
        print(f"  {100 * seconds / session.duration:5.1f}%  {seconds / runs * 1000:8.2f} ms/run  {name}")
    if args.html is not None:
        args.html.write_text(profiler.output_html())
    return 0


def self_times(root) -> list[tuple[str, float]]:
    """Total self time per function over the whole call tree, largest first."""
    acc: dict[str, float] = {}
    stack = [root]
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if frame.is_synthetic:  # pyinstrument's "[self]"/"[await]" entries carry their parent's own time
            continue
        own = frame.total_self_time
        if own <= 0:
            continue
        key = f"{frame.function}  ({Path(frame.file_path or '?').name}:{frame.line_no})"
        acc[key] = acc.get(key, 0.0) + own
    return sorted(acc.items(), key=lambda kv: -kv[1])


if __name__ == "__main__":
    sys.exit(main())
