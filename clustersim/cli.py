"""The ``clustersim`` command line.

Each subcommand lives in its own module under :mod:`clustersim.commands` and
exposes ``register(subparsers)``. Input problems (a bad scenario or experiment
file, an occupied output folder) print one line and exit with status 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from . import __version__, commands
from .results import OutputExistsError
from .scenario import ScenarioError, one_line

INPUT_ERRORS = (ScenarioError, OutputExistsError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clustersim",
        description="Agent-based simulation of cooperation in business clusters under policy programmes.",
    )
    parser.add_argument("--version", action="version", version=f"clustersim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except INPUT_ERRORS as exc:
        print(f"clustersim: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("clustersim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return 0
    except OSError as exc:  # e.g. an output folder that cannot be created
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"clustersim: error: {one_line(where + (exc.strerror or str(exc)))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
