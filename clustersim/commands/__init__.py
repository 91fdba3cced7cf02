"""Subcommands of the ``clustersim`` CLI: one module each, every module exposing ``register(subparsers)``.

Options shared by several subcommands are defined here once.
"""

from __future__ import annotations

from ..scenario import Scenario, ScenarioError, parse_assignment


def check_seed(seed: int) -> int:
    """Root seeds feed ``numpy.random.SeedSequence``, which needs a non-negative integer."""
    if seed < 0:
        raise ScenarioError(f"--seed {seed}: out of range; allowed: int >= 0")
    return seed


def add_set_option(parser, help: str = "override a parameter, e.g. --set disbursement_delay_months=12 (repeatable)"):
    """The repeatable ``--set KEY=VALUE`` option."""
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE", help=help)


def parse_sets(sets: list[str]) -> dict[str, object]:
    """``--set`` assignments as a dict (values read as TOML literals, validated when applied)."""
    return dict(parse_assignment(s) for s in sets)


def apply_sets(scenario: Scenario, sets: list[str]) -> Scenario:
    """``scenario`` with the ``--set`` overrides applied and validated (errors name ``--set``)."""
    overrides = parse_sets(sets)
    return scenario.replace(origin="--set", **overrides) if overrides else scenario
