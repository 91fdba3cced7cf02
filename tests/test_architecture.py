"""The house rules of issue 10, checked by reading the code (ast), so they cannot drift:

- every number a rule uses is a registry entry: the behavioural modules hold no numeric literal
  beyond a short, commented allow-list (each entry counted, so a new one fails);
- no process module imports ``clustersim.model`` (processes sit below the model);
- no process writes attributes of the model; processes get a ``ClusterState``;
- no function in a process module is longer than about 60 lines.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "clustersim"
PROCESS_MODULES = sorted((PKG / "processes").glob("*.py"))
# the behavioural code: the processes plus the state they work on and the Mesa face
SCANNED = [
    *PROCESS_MODULES,
    *(
        PKG / f"{name}.py"
        for name in ("queries", "cluster_state", "model", "agents", "state", "joint_actions", "policy")
    ),
]

# 0, 1 and -1 are structural everywhere (empty, one, "none" index). Anything else is listed here
# with its file, how many times it may appear, and why it is not a coefficient.
ALLOWED: dict[tuple[str, float], tuple[int, str]] = {
    ("facilitation.py", 1e-9): (1, "keeps log() of a zero targeting weight finite"),
    ("formation.py", 1e-9): (2, "keeps log() of a zero weight and 0/0 of a zero-cost action finite"),
    ("play.py", 1e-9): (3, "keeps divisions by an empty group's weight or a zero own share finite"),
    ("initialisation.py", 1e-9): (1, "puts the export cut just above the top score when nobody exports"),
    ("cluster_state.py", 1e-9): (1, "rounding margin when telling trained from untrained officers"),
    ("initialisation.py", 2): (6, "mean of a pair (/2), sigma**2/2 of the log-normal median, 2**63 seed range"),
    ("initialisation.py", 63): (2, "2**63: the range of child seeds for the turnover and monitoring streams"),
    ("initialisation.py", 10_000): (1, "-10_000: 'never contributed', far beyond any cooperation window"),
    ("trust.py", 2): (1, "mean reputation of a tie's two ends"),
    ("calendar.py", 1e-9): (1, "rounding margin on k$ sums when a budget line just covers a training"),
    ("funder.py", 1e-9): (1, "rounding margin on k$ sums: a gap below it is no gap"),
    ("policy.py", 1e-9): (2, "rounding margins on k$ sums: a line just covers a payment; a cash residue is spent"),
    ("policy.py", 16): (1, "a speed threshold, not a mechanism: up to 16 clusters the ledger totals use Python's sum()"),
    ("information.py", 2): (1, "openness is the mean of two shares"),
    ("platform.py", 2): (2, "a peer needs a second cluster: portfolios of fewer than two exchange nothing"),
    ("rules.py", 0.5): (
        2,
        "total-variation distance is half the L1 distance (a definition); MIDPOINT_TRUST, the trust at which "
        "trust_gain is the growth rate by trust_logistic_scale's own definition (4 * 0.5 * 0.5 = 1)",
    ),
    ("rules.py", 50): (2, "clip inside exp(): at |x| = 50 the Fermi probability is already 0 or 1"),
    ("state.py", 2): (1, "state code ACTIVE"),
    ("state.py", 3): (1, "state code DROPPED"),
    ("joint_actions.py", 64): (1, "initial capacity of the action book (grows by doubling)"),
    ("joint_actions.py", 2): (1, "the action book grows by doubling"),
}


def _numeric_literals(path: Path) -> Counter:
    found: Counter = Counter()
    for node in ast.walk(ast.parse(path.read_text())):
        numeric = isinstance(node, ast.Constant) and isinstance(node.value, int | float)
        if numeric and not isinstance(node.value, bool) and node.value not in (0, 1, -1):
            found[node.value] += 1
    return found


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: p.name)
def test_no_numeric_literal_outside_the_allow_list(path):
    extra = []
    for value, count in _numeric_literals(path).items():
        allowed, _why = ALLOWED.get((path.name, value), (0, ""))
        if count > allowed:
            extra.append(f"{value!r} x{count} (allowed {allowed})")
    assert not extra, (
        f"{path.name}: numeric literals not in the registry: {', '.join(extra)}. Register the coefficient "
        "in clustersim/coefficients.py (section, meaning, range, unit, source), or, if it is structural, "
        "add it to ALLOWED here with the reason."
    )


def test_allow_list_entries_are_used():
    """A stale allow-list entry would let a new literal in unnoticed."""
    by_name = {p.name: _numeric_literals(p) for p in SCANNED}
    stale = [key for key, (count, _) in ALLOWED.items() if by_name.get(key[0], Counter())[key[1]] != count]
    assert not stale, f"allow-list counts no longer match the code: {stale}"


def test_the_scan_catches_a_new_literal(tmp_path):
    """Sanity check of the method: a rule with a bare 0.25 is caught."""
    bad = tmp_path / "membership.py"
    bad.write_text("def drop(m):\n    return m < 0.25\n")
    assert _numeric_literals(bad) == Counter({0.25: 1})


def _imports(path: Path) -> set[str]:
    """Absolute names a module imports (relative imports resolved against its package)."""
    package = "clustersim.processes" if path.parent.name == "processes" else "clustersim"
    parent = package.rsplit(".", 1)[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                root = package if node.level == 1 else parent
                base = f"{root}.{base}" if base else root
                names.update(f"{base}.{a.name}" for a in node.names)
            names.add(base)
    return names


@pytest.mark.parametrize("path", PROCESS_MODULES, ids=lambda p: p.name)
def test_process_modules_do_not_import_the_model(path):
    bad = {n for n in _imports(path) if n == "clustersim.model" or n.startswith("clustersim.model.")}
    bad |= {n for n in _imports(path) if n in ("clustersim.agents", "clustersim.metrics")}
    assert not bad, f"{path.name} imports {sorted(bad)}: processes sit below the model and its agents"


def test_queries_and_state_do_not_import_processes():
    for name in ("queries", "cluster_state", "state", "network", "policy", "joint_actions", "coefficients"):
        imported = _imports(PKG / f"{name}.py")
        assert not {n for n in imported if "processes" in n or n.startswith("clustersim.model")}, name


@pytest.mark.parametrize("path", PROCESS_MODULES, ids=lambda p: p.name)
def test_processes_do_not_write_model_attributes(path):
    """A process records its effects on the state it is given, never on a model object."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            target = node.value
            assert not (isinstance(target, ast.Name) and target.id in ("model", "m", "self")), (
                f"{path.name}:{node.lineno} writes {ast.unparse(node)}"
            )
        if isinstance(node, ast.arg):
            assert node.arg != "model", f"{path.name}:{node.lineno}: a process takes the state, not the model"


@pytest.mark.parametrize("path", PROCESS_MODULES, ids=lambda p: p.name)
def test_process_functions_are_small(path):
    long = [
        f"{n.name} ({n.end_lineno - n.lineno + 1} lines)"
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.FunctionDef) and n.end_lineno - n.lineno + 1 > 60
    ]
    assert not long, f"{path.name}: split {long}"


def test_model_module_is_the_mesa_face_only():
    assert len((PKG / "model.py").read_text().splitlines()) <= 250


def test_importing_clustersim_does_not_load_the_experiments_package():
    """The experiments package (scipy.stats, SALib) loads on first use of its exports, not with the model."""
    import subprocess
    import sys

    code = (
        "import sys, clustersim\n"
        "assert 'clustersim.experiments' not in sys.modules and 'scipy.stats' not in sys.modules\n"
        "assert {'compare_scenarios', 'load_experiment', 'run_experiment'} <= set(dir(clustersim))\n"
        "from clustersim import run_experiment\n"
        "assert run_experiment.__module__ == 'clustersim.experiments.runner'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
