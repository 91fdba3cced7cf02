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
