"""``clustersim scenarios`` and ``clustersim describe``: list presets; show a resolved scenario."""

from __future__ import annotations

import argparse

from ..parameters import BY_NAME, SECTIONS, markdown_table
from ..scenario import load_scenario, preset_names
from . import add_set_option, apply_sets


def register(sub) -> None:
    p = sub.add_parser("scenarios", help="list the preset scenarios with one-line descriptions")
    p.set_defaults(func=list_presets)
    d = sub.add_parser("describe", help="print a scenario's fully resolved parameters")
    d.add_argument("scenario", nargs="?", default="baseline", help="preset name or path to a .toml file")
    add_set_option(d)
    d.add_argument("--markdown", action="store_true", help="print the parameter registry as a Markdown table")
    d.set_defaults(func=describe)


def _first_sentence(text: str) -> str:
    s = text.split(". ")[0].strip()
    return s if s.endswith(".") else s + "."


def list_presets(args: argparse.Namespace) -> int:
    names = preset_names()
    width = max(len(n) for n in names)
    for name in names:
        sc = load_scenario(name)
        print(f"{name:<{width}}  {_first_sentence(sc.description)}")
    return 0


def describe(args: argparse.Namespace) -> int:
    if args.markdown:
        print(markdown_table())
        return 0
    sc = load_scenario(args.scenario)
    sc = apply_sets(sc, args.sets)
    print(f"# {sc.name}  ({sc.source})")
    if len(sc.chain) > 1:
        print(f"# extends: {' -> '.join(sc.chain)}")
    print(f"# {sc.description}\n")
    changed = sc.changed_from_defaults()
    for section in SECTIONS:
        print(f"[{section}]")
        for name, value in sc.items():
            p = BY_NAME[name]
            if p.section != section:
                continue
            v = f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else value
            mark = "  # changed from default" if name in changed else ""
            print(f"{name} = {v}{mark}")
        print()
    return 0
