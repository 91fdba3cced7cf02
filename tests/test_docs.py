"""The docs stay true to the code.

docs/ODD.md: the generated tables match their sources (the registry, clustersim.switches); every
registry name is described; every identifier of every ```equation block is a registry name, a
``FirmArrays`` field, a symbol of the ODD's "Symbols in the equations" table or a maths function;
the schedule listed in "Process overview and scheduling" is the one the model runs; every process
module has its subsection; the budget section names every budget line. docs/architecture.md names the modules
and tests it describes. README.md lists every preset.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from clustersim import model as model_module
from clustersim.coefficients import ACTION_TYPE_PARAMS, ACTION_TYPE_TABLE, ACTION_TYPES
from clustersim.parameters import BY_NAME, PARAMETERS, markdown_table
from clustersim.policy import LINE_KEYS
from clustersim.scenario import load_scenario
from clustersim.state import FirmArrays
from clustersim.switches import markdown_table as switch_table

ROOT = Path(__file__).resolve().parent.parent
ODD_PATH = ROOT / "docs" / "ODD.md"
ARCHITECTURE_PATH = ROOT / "docs" / "architecture.md"
README_PATH = ROOT / "README.md"
PRESETS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
PROCESS_MODULES = sorted(p.stem for p in (ROOT / "clustersim" / "processes").glob("*.py") if p.stem != "__init__")

#: numpy / math names an equation may use besides the model's own names
MATH_NAMES = frozenset(
    {"np", "exp", "clip", "max", "min", "log", "mean", "sum", "maximum", "minimum", "where", "sqrt", "sin", "pi"}
    | {"abs", "round"}
)
#: the brief's minimum list of mechanisms with a switch (issue: "Mechanism switches")
REQUIRED_SWITCHES = frozenset(
    {
        "demonstration_effect",
        "leader_commitment",
        "leader_call_rate",
        "leader_story_bonus",
        "leader_mentoring",
        "informal_contact_chance",
        "reputation_weight",
        "facilitation_join_bonus",
        "facilitation_contribution_bonus",
        "success_facilitation_weight",
        "bso_success_support",
        "facilitation_conflict_damping",
        "facilitated_coordination_relief",
        "trusted_ties_online",
        "monitoring_burden",
        "targeting_strength",
        "disillusion_rate",
        "isolation_motivation_loss",
        "dropout_hazard",
        "dropout_base_motivation_factor",
        "failed_call_motivation_factor",
        "brokerage_chance",
        "meeting_trust_gain",
        "matchmaking_candidates_per_proposal",
        "success_trust_multiplier",
        "success_disposition_gain",
        "benefit_saturation",
        "bso_turnover_rate",
        "regional_exchange_gain",
        "join_neighbour_weight",
        "transaction_cost",
        "free_riding_temptation",
    }
)

EQUATION_BLOCK = re.compile(r"^```equation[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
# an identifier, but not the exponent letter of a number such as 1e-9
IDENTIFIER = re.compile(r"(?<![0-9.])[A-Za-z_][A-Za-z0-9_]*")
# lhs, an assignment operator (=, +=, -=, *=, /=; not ==, <=, >=, !=), rhs
EQUATION_LINE = re.compile(r"^(?P<lhs>[^=<>!]+?)\s*(?P<op>[-+*/]?=)(?!=)\s*(?P<rhs>\S.*)$")


def odd_text() -> str:
    return ODD_PATH.read_text()


def generated_block(text: str, name: str) -> str:
    begin, end = f"<!-- {name}:BEGIN -->", f"<!-- {name}:END -->"
    assert begin in text and end in text, f"docs/ODD.md lacks the {name} markers"
    return text.split(begin, 1)[1].split(end, 1)[0]


def without_generated_tables(text: str) -> str:
    for name in ("PARAMETERS", "SWITCHES"):
        text = text.replace(generated_block(text, name), "\n")
    return text


def section(text: str, heading: str) -> str:
    """The body of the section whose heading line starts with ``heading`` (up to the next heading of any level)."""
    match = re.search(rf"^#+ {re.escape(heading)}.*?$(.*?)(?=^#+ |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"docs/ODD.md has no section {heading!r}"
    return match.group(1)


def equation_blocks(text: str) -> list[str]:
    return EQUATION_BLOCK.findall(text)


def equation_lines(text: str) -> list[str]:
    return [line.strip() for block in equation_blocks(text) for line in block.splitlines() if line.strip()]


def glossary(text: str) -> set[str]:
    """Every backticked symbol in the first column of the "Symbols in the equations" table."""
    symbols: set[str] = set()
    for line in section(text, "Symbols in the equations").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or not cells or set(cells[0]) <= set("-: "):
            continue
        symbols.update(re.findall(r"`([^`]+)`", cells[0]))
    return symbols


def known_names(text: str) -> set[str]:
    return set(BY_NAME) | {f.name for f in fields(FirmArrays)} | glossary(text) | MATH_NAMES


def unknown_identifiers(equations: list[str], known: set[str]) -> dict[str, list[str]]:
    """Identifiers of ``equations`` that are not in ``known``: {identifier: [the lines using it]}."""
    unknown: dict[str, list[str]] = {}
    for line in equations:
        for name in IDENTIFIER.findall(line):
            if name not in known:
                unknown.setdefault(name, []).append(line)
    return unknown


def switch_rows(text: str) -> list[list[str]]:
    rows = []
    for line in generated_block(text, "SWITCHES").strip().splitlines()[2:]:  # skip header and rule
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


# ----------------------------------------------------------------------------------- generated tables
def test_odd_parameter_table_matches_the_registry():
    assert markdown_table() in odd_text(), "run: .venv/bin/python scripts/update_odd_table.py"


def test_odd_switch_table_matches_clustersim_switches():
    assert switch_table() in generated_block(odd_text(), "SWITCHES"), (
        "run: .venv/bin/python scripts/update_odd_table.py"
    )


def test_every_parameter_has_a_source_and_a_meaning():
    for p in PARAMETERS:
        assert p.meaning and p.source, p.name


# --------------------------------------------------------------------------------- registry coverage
def test_every_registry_name_appears_in_the_odd():
    text = odd_text()
    missing = [p.name for p in PARAMETERS if p.name not in text]
    assert not missing, f"registry names missing from docs/ODD.md: {missing}"


def test_every_registry_name_is_described_outside_the_generated_tables():
    """The generated table alone would pass the test above; the prose must name each entry too.

    A per-type entry ``<type>_<field>`` is described by its type and its field (section 7, action types).
    """
    prose = without_generated_tables(odd_text())
    per_type = {p.name for p in ACTION_TYPE_PARAMS}
    words = set(IDENTIFIER.findall(prose))
    missing = [p.name for p in PARAMETERS if p.name not in per_type and p.name not in words]
    missing += [f"type {t}" for t in ACTION_TYPES if f"`{t}`" not in prose]
    missing += [f"field {f}" for f in ACTION_TYPE_TABLE if f"`{f}`" not in prose]
    assert not missing, f"not described in docs/ODD.md outside the generated tables: {missing}"


# ----------------------------------------------------------------------------------------- equations
def test_the_odd_has_equation_blocks_of_assignments():
    text = odd_text()
    assert len(equation_blocks(text)) >= 30
    bad = [line for line in equation_lines(text) if not EQUATION_LINE.match(line)]
    assert not bad, f"equation lines not of the form `lhs = rhs` (or +=, -=, *=, /=): {bad}"


def test_every_equation_identifier_is_a_registry_name_a_firm_field_or_a_glossary_symbol():
    text = odd_text()
    unknown = unknown_identifiers(equation_lines(text), known_names(text))
    assert not unknown, (
        "identifiers in ```equation blocks of docs/ODD.md that are neither registry names, FirmArrays fields, "
        f"maths functions nor in 'Symbols in the equations': {unknown}"
    )


def test_the_identifier_check_can_fail():
    """Sanity check of the method: the same functions catch an unknown name, and not a known one."""
    text = odd_text()
    known = known_names(text)
    lines = equation_lines(text) + ["motivation += bogus_coefficient * (1 - motivation) + 1e-9"]
    assert unknown_identifiers(lines, known) == {"bogus_coefficient": [lines[-1]]}
    assert "trust_gain" in known and "motivation" in known and "signal" in known
    block = "text\n```equation\nx_undefined = exp(-disillusion_rate)\n```\n"
    assert unknown_identifiers(equation_lines(block), known) == {
        "x_undefined": ["x_undefined = exp(-disillusion_rate)"]
    }
    assert not EQUATION_LINE.match("motivation <= dropout_threshold")


def test_glossary_symbols_do_not_shadow_registry_names_or_firm_fields():
    text = odd_text()
    clash = glossary(text) & (set(BY_NAME) | {f.name for f in fields(FirmArrays)})
    assert not clash, f"glossary symbols that are already registry names or FirmArrays fields: {sorted(clash)}"


def test_every_glossary_symbol_is_used_in_an_equation():
    text = odd_text()
    used = {name for line in equation_lines(text) for name in IDENTIFIER.findall(line)}
    prose = without_generated_tables(text)
    unused = [s for s in glossary(text) if s not in used and prose.count(f"`{s}`") < 2]
    assert not unused, f"glossary symbols neither in an equation nor used in the text: {unused}"


# --------------------------------------------------------------------------------- mechanism switches
def test_every_switch_in_the_odd_is_a_registry_entry_with_a_valid_off_value():
    rows = switch_rows(odd_text())
    assert rows
    for row in rows:
        name, _, off = re.search(r"`([^`]+)`", row[1]).group(1).partition(" = ")
        assert name in BY_NAME, f"switch {name!r} is not a registry entry"
        value = {"true": True, "false": False}.get(off)
        if value is None:
            value = int(off) if BY_NAME[name].kind == "int" else float(off)
        load_scenario("baseline", **{name: value})  # validated like any scenario key
        assert re.fullmatch(r"SF\d+(, SF\d+)*", row[2]), row


def test_the_switch_table_names_real_process_modules_that_use_the_switch():
    """Each switch is read by a named process module, or by the shared rules/queries such a module calls."""
    for row in switch_rows(odd_text()):
        name = re.search(r"`([^`]+)`", row[1]).group(1).split(" = ")[0]
        modules = re.findall(r"[a-z_]+", row[3])
        assert modules and set(modules) <= set(PROCESS_MODULES), row
        paths = [ROOT / "clustersim" / "processes" / f"{m}.py" for m in modules]
        paths += [ROOT / "clustersim" / "processes" / "rules.py", ROOT / "clustersim" / "queries.py"]
        assert any(re.search(rf"\b{name}\b", p.read_text()) for p in paths), f"{name} is not used by {modules}"


def test_the_switch_table_has_the_required_mechanisms():
    names = {re.search(r"`([^`]+)`", row[1]).group(1).split(" = ")[0] for row in switch_rows(odd_text())}
    assert names >= REQUIRED_SWITCHES, f"missing switches: {sorted(REQUIRED_SWITCHES - names)}"


# ---------------------------------------------------------------------------------- schedule, modules
def _step_name(process) -> str:
    return f"{process.__module__.rsplit('.', 1)[-1]}.{process.__name__}"


def test_the_odd_schedule_is_the_model_schedule():
    listed = re.findall(r"^\d+\. `([a-z_]+\.[a-z_]+)`", generated_block(odd_text(), "SCHEDULE"), re.MULTILINE)
    assert listed == [_step_name(p) for p in model_module.PROJECTS.schedule]


@pytest.mark.parametrize("variant", [model_module.RANDOM_GROUPS, model_module.NEIGHBOURHOODS], ids=lambda v: v.name)
def test_the_odd_variant_table_is_the_model_variants(variant):
    table = generated_block(odd_text(), "VARIANTS")
    column = 1 if variant is model_module.RANDOM_GROUPS else 2
    assert f"(`{variant.name}`)" in table.splitlines()[1]
    projects = [_step_name(p) for p in model_module.PROJECTS.schedule]
    derived = list(projects)
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        step = cells[0].strip("`")
        replacement = cells[column]
        i = derived.index(step)
        if replacement == "removed":
            del derived[i]
        else:
            derived[i] = replacement.strip("`")
    assert derived == [_step_name(p) for p in variant.schedule]


def test_every_process_module_has_a_submodel_subsection():
    submodels = odd_text().split("## 7. Submodels", 1)[1].split("\n## ", 1)[0]
    headings = re.findall(r"^### .*$", submodels, re.MULTILINE)
    missing = [m for m in PROCESS_MODULES if not any(f"clustersim/processes/{m}.py" in h for h in headings)]
    assert not missing, f"process modules without a subsection citing them in docs/ODD.md: {missing}"


def test_the_odd_mentions_no_removed_code():
    text = without_generated_tables(odd_text())
    gone = [
        "_form_joint_actions",
        "joint_actions.MULTIPLIER",
        "BSO.UNTRAINED",
        "COOPERATION_WINDOW",
        "clustersim/facilitation.py",
    ]
    assert not [g for g in gone if g in text]


def test_architecture_names_existing_modules_and_tests():
    text = ARCHITECTURE_PATH.read_text()
    # a path after "Mesa's" is Mesa's own (benchmarks/global_benchmark.py)
    for path in re.findall(r"(?<!Mesa's )`((?:clustersim|tests|benchmarks|scripts)/[\w/]+\.py)`", text):
        assert (ROOT / path).is_file(), f"docs/architecture.md names {path}, which does not exist"
    for name in ("tests/test_architecture.py", "tests/test_golden.py", "tests/golden/", "--against"):
        assert name in text


def test_the_odd_budget_section_names_every_budget_line():
    body = section(odd_text(), "7.3 Budget and ledger")
    missing = [key for key in LINE_KEYS.values() if f"`{key}`" not in body]
    assert not missing, f"budget lines not described in docs/ODD.md, 'Budget and ledger': {missing}"


def test_the_readme_lists_every_preset():
    presets = README_PATH.read_text().split("### Presets", 1)[1].split("\n#", 1)[0]
    missing = [name for name in PRESETS if f"`{name}`" not in presets]
    assert not missing, f"presets missing from the README's preset table: {missing}"
