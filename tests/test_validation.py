"""`clustersim validate`: the quick suite passes, and its checks can fail."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np

from clustersim.cli import main
from clustersim.validation import Check, checks, evaluate, run_validation

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


def test_breaking_trust_gains_makes_the_trust_checks_fail():
    def trust_checks(c: Check) -> bool:
        return c.code in ("SF1", "SF12") or c.pattern.startswith("A pandemic stalls")

    intact, _ = run_validation(replicates=10, quick=True, workers=2, only=trust_checks)
    broken, _ = run_validation(replicates=10, quick=True, workers=2, only=trust_checks, overrides={"trust_gain": 0.0})
    known = set(KNOWN) | {"Trust builds slowly from an individualistic start"}
    assert all(r.passed for r in intact if r.check.pattern not in known)
    failed = {r.check.pattern for r in broken if not r.passed}
    assert "Prior collaboration builds trust faster" in failed
    assert "A pandemic stalls trust building" in failed


def test_margin_and_band_checks_fail_on_the_wrong_side():
    c = checks()[0]
    assert not evaluate(c, np.full(10, -0.1) + np.linspace(0, 0.01, 10), quick=False).passed
    assert evaluate(c, np.full(10, 0.5) + np.linspace(0, 0.01, 10), quick=False).passed
    band = next(x for x in checks() if x.band is not None)
    assert not evaluate(band, np.full(10, band.band[1] + 10.0), quick=True).passed


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
