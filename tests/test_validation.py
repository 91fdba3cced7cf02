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
def test_the_targets_file_is_the_only_home_of_thresholds():
    """No Check call in the code carries a number: the experiments name a target, the file holds its bar."""
    import ast

    import clustersim.validation as v

    tree = ast.parse(Path(v.__file__).read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Check"]
    assert len(calls) == len(checks())
    for call in calls:
        kws = {k.arg: k.value for k in call.keywords}
        assert "margin" not in kws and "band" not in kws
        assert isinstance(kws["target"], ast.Constant) and isinstance(kws["target"].value, str)
    used = {c.target for c in checks()}
    assert used == set(v.targets()), "every target has one check and every check a target"
    assert len(used) == len(checks())
    for t in v.targets().values():
        assert t.source and t.set_on and (t.threshold is not None) != (t.band is not None)


def test_a_bad_targets_file_is_a_one_line_error_naming_the_file_and_key(tmp_path, monkeypatch):
    import pytest

    import clustersim.validation as v
    from clustersim.scenario import ScenarioError

    bad = tmp_path / "targets.toml"
    bad.write_text('[target.x]\ncode = "SF1"\npattern = "p"\nsource = "s"\nset_on = 2026-01-01\ncomparison = "less"\n')
    monkeypatch.setattr(v, "targets_path", lambda: bad)
    v.targets.cache_clear()
    try:
        with pytest.raises(ScenarioError, match=r"^targets.toml: \[target.x\]: comparison 'less' not allowed; allowed"):
            v.targets()
    finally:
        v.targets.cache_clear()
