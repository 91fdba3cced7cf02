"""The golden regression: with default coefficients, the monthly series are bit-identical to the
recorded fixtures (tests/golden/), one per draw backend: the default counter-based draws and the legacy
stream. A refactor must pass this unchanged; a deliberate change of behaviour regenerates the fixtures
in its own commit (tests/golden/make_golden.py).

Bit-identity holds on the numpy release and the CPU SIMD targets that made the fixture
(tests/golden/versions.json). Another release may sum a mean in another order (numpy 2.5 did, moving
reported means by up to 7e-16 while the dynamics stayed identical), and so does the same release on a
CPU with another vector width (an AVX2 machine against the AVX-512 one that made the fixture: up to
4e-16 relative, no integer column moved). There float columns must agree to 1e-12, far below any change
of behaviour, and integer columns exactly."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def same_float_platform(versions_file: str) -> bool:
    """Same numpy minor release and same SIMD targets as the fixture (an older fixture records none)."""
    recorded = json.loads((GOLDEN / versions_file).read_text())
    same_numpy = recorded["numpy"].split(".")[:2] == np.__version__.split(".")[:2]
    simd = _load_maker().simd_targets()
    return same_numpy and simd != "unknown" and recorded.get("simd") == simd


#: Float tolerance when the fixture was made on another numpy release (see the module docstring).
ROUNDING_TOLERANCE = 1e-12


@pytest.mark.slow
@pytest.mark.parametrize("streams", ["counter", "legacy"])
def test_series_bit_identical_to_golden_fixture(streams):
    maker = _load_maker()
    series, versions_file = maker.FIXTURES[streams]
    expected = pd.read_parquet(GOLDEN / series)
    actual = maker.golden_frame(streams)
    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected)
    tol = 0.0 if same_float_platform(versions_file) else ROUNDING_TOLERANCE
    for col in expected.columns:
        a, e = actual[col].to_numpy(), expected[col].to_numpy()
        if a.dtype.kind == "f":
            same = (a == e) | (np.abs(a - e) <= tol * np.maximum(1.0, np.abs(e))) | np.isnan(a) & np.isnan(e)
        else:
            same = a == e
        if not same.all():
            bad = np.flatnonzero(~same)[0]
            row = expected.iloc[bad]
            pytest.fail(
                f"{col} differs first at case={row['case']} seed={row['seed']} month={row['month']}: "
                f"{a[bad]!r} != {e[bad]!r}"
            )
