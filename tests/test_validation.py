"""`clustersim validate`: the quick suite passes, and its checks can fail."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np

from clustersim.cli import main
from clustersim.validation import Result, checks, classify, evaluate, run_mutations, targets

KNOWN = tomllib.loads((Path(__file__).resolve().parent / "validation_known_failures.toml").read_text())["quick"]


def test_quick_validation_fails_exactly_the_known_checks_and_writes_the_report(tmp_path, capsys):
    """Every check passes but those listed, with their measurements, in validation_known_failures.toml."""
    out = tmp_path / "val"
    code = main(["validate", "--quick", "--out", str(out), "--workers", "2"])
    printed = capsys.readouterr().out
    report = json.loads((out / "validation.json").read_text())
    failed = {c["pattern"] for c in report["checks"] if not c["passed"]}
    assert failed == set(KNOWN), f"new failures: {failed - set(KNOWN)}; recovered: {set(KNOWN) - failed}\n{printed}"
    assert code == (1 if KNOWN else 0)
    assert report["total"] == len(checks()) and report["passed"] == report["total"] - len(KNOWN)
    for name in ("validation.md", "stylized_facts.png", "limit_cases.png", "magnitudes.png", "limit_curves.csv"):
        assert (out / name).stat().st_size > 0
    codes = {c["code"] for c in report["checks"]}
    assert {f"SF{i}" for i in range(1, 19)} - {"SF16"} <= codes | {"SF16"}
    assert "checks pass" in printed


def test_known_failures_name_real_checks():
    patterns = {c.pattern: c.code for c in checks()}
    for pattern, entry in KNOWN.items():
        assert patterns.get(pattern) == entry["code"], pattern
        assert entry["measured"] and entry["why"]


#: A fast subset of checks whose mutations CI runs (the full set: `clustersim validate --mutations`).
MUTATION_SUBSET = (
    "sf1_prior_collaboration_builds_trust",
    "sf6_turnover_drains_bso_capacity",
    "sf9_manager_keeps_group_together",
    "sf11_free_riding_temptation_obstructs",
    "sf16_ccpf_revenue",
)


def test_the_ci_subset_of_checks_catches_its_mutations():
    rows = run_mutations(replicates=10, workers=2, only=lambda c: c.target in MUTATION_SUBSET)
    assert {r["pattern"] for r in rows} == {t.pattern for k, t in targets().items() if k in MUTATION_SUBSET}
    assert all(r["intact_passed"] for r in rows), [r for r in rows if not r["intact_passed"]]
    missed = [(r["pattern"], r["mutation"]) for r in rows if not r["caught"]]
    assert not missed, missed


def test_every_check_names_a_mutation_and_every_stylized_fact_a_knockout():
    for c in checks():
        assert c.frozen.mutations, c.target
        if c.group == "stylized fact":
            assert c.frozen.knockout and c.frozen.knockout_mechanism, c.target
        if c.group == "magnitude":
            assert c.frozen.provenance in ("calibrated", "input echo"), c.target


def _result(check, mean, low, passed):
    return Result(check, mean, low, mean + (mean - low), 10, passed, check.expected())


def test_the_classification_is_computed_from_the_knockout_run():
    sf = next(c for c in checks() if c.group == "stylized fact" and c.margin is not None)
    intact = _result(sf, 2 * sf.margin + 0.1, sf.margin + 0.05, True)
    assert classify(sf, intact, _result(sf, 2 * sf.margin + 0.1, sf.margin + 0.01, True)) == "emergent"
    assert classify(sf, intact, _result(sf, sf.margin / 2 + 1e-3, 1e-4, False)) == "partly emergent"
    assert classify(sf, intact, _result(sf, 0.0, -0.02, False)) == "assumed"
    assert classify(sf, _result(sf, 0.0, -0.02, False), None) == "not reproduced"
    game = next(c for c in checks() if c.group == "limit case")
    assert classify(game, _result(game, 0.0, 0.0, True), None) == "theory"
    slow = next(c for c in checks() if c.target == "sf1_trust_builds_slowly")  # a "less" check
    slow_intact = Result(slow, 0.01, 0.0, 0.02, 10, True, slow.expected())
    assert classify(slow, slow_intact, Result(slow, 0.03, 0.02, 0.04, 10, True, slow.expected())) == "emergent"
    assert classify(slow, slow_intact, Result(slow, 0.049, 0.042, 0.056, 10, False, slow.expected())) == "assumed"
    levers_off = next(c for c in checks() if c.target == "sf13_levers_off_stays_sluggish")
    assert classify(levers_off, _result(levers_off, 0.0, 0.0, True), None) == "verification"
    revenue = targets()["sf16_ccpf_revenue"]
    mag = next(c for c in checks() if c.target == revenue.id)
    assert classify(mag, _result(mag, 1.4, 1.3, True), None) == "calibrated"


def test_margin_and_band_checks_fail_on_the_wrong_side():
    c = checks()[0]
    assert not evaluate(c, np.full(10, -0.1) + np.linspace(0, 0.01, 10), quick=False).passed
    assert evaluate(c, np.full(10, 0.5) + np.linspace(0, 0.01, 10), quick=False).passed
    band = next(x for x in checks() if x.band is not None)
    assert not evaluate(band, np.full(10, band.band[1] + 10.0)).passed


# ---------------------------------------------------------------------------- frozen targets (issue 13)
#: Numbers a check's value may hold: months, as the month argument of ``at``/``_at`` or ``tail_mean``.
MONTH_CALLS = {"at", "_at", "tail_mean"}
#: evaluate() may compare with 0 (an effect of the right sign); the interval level 0.95 is the report's.
EVALUATE_NUMBERS = {0, 0.95}


def numbers_outside_months(tree) -> list:
    """Numeric literals in the ``value`` of every Check call that are not a month argument."""
    import ast

    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Check"]
    bad = []
    for call in calls:
        value = call.args[4] if len(call.args) > 4 else {k.arg: k.value for k in call.keywords}["value"]
        months = set()
        for node in ast.walk(value):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", "")
                if name in MONTH_CALLS:
                    months |= {id(a) for a in node.args[1:] if isinstance(a, ast.Constant)}
        for node in ast.walk(value):
            is_number = isinstance(node, ast.Constant) and isinstance(node.value, int | float)
            if is_number and not isinstance(node.value, bool) and id(node) not in months:
                bad.append((call.lineno, node.value))
    return bad


def test_the_targets_file_is_the_only_home_of_thresholds():
    """No check's value or pass rule carries a bar: the experiments name a target, the file holds its
    metric, comparison and threshold."""
    import ast

    import clustersim.validation as v

    tree = ast.parse(Path(v.__file__).read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Check"]
    assert len(calls) == len(checks())
    for call in calls:
        kws = {k.arg: k.value for k in call.keywords}
        assert not {"margin", "band", "threshold", "metric"} & set(kws)
        assert isinstance(kws["target"], ast.Constant) and isinstance(kws["target"].value, str)
        # group, code, pattern, arms, value: no metric or threshold among the positional arguments
        assert len(call.args) == 5 and isinstance(call.args[3], ast.Dict)
    assert numbers_outside_months(tree) == [], "a number in a check's value is a threshold in code"
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name in ("evaluate", "classify")):
        numbers = {n.value for n in ast.walk(fn) if isinstance(n, ast.Constant) and isinstance(n.value, int | float)}
        assert numbers <= EVALUATE_NUMBERS, (fn.name, numbers - EVALUATE_NUMBERS)
    used = {c.target for c in checks()}
    assert used == set(v.targets()), "every target has one check and every check a target"
    assert len(used) == len(checks())
    for t in v.targets().values():
        assert t.source and t.set_on and t.metric and (t.threshold is not None) != (t.band is not None)


def test_the_threshold_scan_catches_a_bar_written_into_a_value():
    """The scan above can fail: a value that subtracts a bar (the old SF1 'gain minus 0.05') is caught,
    a month argument is not."""
    import ast

    hidden = 'Check("g", "SF1", "p", {"a": FP}, lambda r: 0.05 - r["a"].at("mean_trust", 12), target="t")'
    assert numbers_outside_months(ast.parse(hidden)) == [(1, 0.05)]
    months = 'Check("g", "SF1", "p", {"a": FP}, lambda r: r["a"].at("mean_trust", 12), target="t")'
    assert numbers_outside_months(ast.parse(months)) == []


def test_limit_cases_and_magnitudes_carry_their_provenance():
    for c in checks():
        if c.group == "limit case":
            assert c.frozen.provenance in ("theory", "verification"), c.target
        elif c.group == "magnitude":
            assert c.frozen.provenance in ("calibrated", "input echo"), c.target
        else:
            assert not c.frozen.provenance, c.target


def test_a_less_check_passes_only_below_its_ceiling():
    slow = next(c for c in checks() if c.target == "sf1_trust_builds_slowly")
    assert slow.ceiling == 0.05 and slow.margin is None
    assert evaluate(slow, np.full(10, 0.01) + np.linspace(0, 0.001, 10)).passed
    assert not evaluate(slow, np.full(10, 0.049) + np.linspace(-0.02, 0.02, 10)).passed  # interval reaches 0.05


def test_a_bad_targets_file_is_a_one_line_error_naming_the_file_and_key(tmp_path, monkeypatch):
    import pytest

    import clustersim.validation as v
    from clustersim.scenario import ScenarioError

    bad = tmp_path / "targets.toml"
    bad.write_text('[target.x]\ncode = "SF1"\npattern = "p"\nmetric = "m"\nsource = "s"\nset_on = 2026-01-01\ncomparison = "more"\n')
    monkeypatch.setattr(v, "targets_path", lambda: bad)
    v.targets.cache_clear()
    try:
        with pytest.raises(ScenarioError, match=r"^targets.toml: \[target.x\]: comparison 'more' not allowed; allowed"):
            v.targets()
    finally:
        v.targets.cache_clear()


def test_verification_fails_on_a_switch_that_changes_nothing_or_a_failing_unit_test(tmp_path):
    from clustersim.commands.validate import run_unit_tests, verification_failures

    bad = tmp_path / "test_rules.py"
    bad.write_text("def test_holds():\n    assert 1 + 1 == 2\n\n\ndef test_breaks():\n    assert 1 + 1 == 3\n")
    unit = run_unit_tests(bad)
    assert unit["ran"] and unit["passed"] == 1 and unit["failed"] == ["test_breaks"]
    inert = {"switch": "trust_gain = 0.0", "outputs_changed": []}
    acting = {"switch": "dropout_hazard = 0.0", "outputs_changed": ["share_cooperating"]}
    assert verification_failures([acting], {"failed": []}) == []
    empty = tmp_path / "test_nothing.py"
    empty.write_text("import pytest\n\n\n@pytest.mark.skip\ndef test_skipped():\n    pass\n")
    assert verification_failures([acting], run_unit_tests(empty)) == ["no unit test ran (none collected, or all skipped)"]
    assert verification_failures([inert, acting], unit) == [
        "switch trust_gain = 0.0 changes no output",
        "unit test test_breaks fails",
    ]
