"""The golden regression: with default coefficients, the monthly series are bit-identical to the
recorded fixture (tests/golden/). A refactor must pass this unchanged; a deliberate change of
behaviour regenerates the fixture in its own commit (tests/golden/make_golden.py)."""

from __future__ import annotations

import importlib.util
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


@pytest.mark.slow
def test_series_bit_identical_to_golden_fixture():
    expected = pd.read_parquet(GOLDEN / "series.parquet")
    actual = _load_maker().golden_frame()
    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected)
    for col in expected.columns:
        a, e = actual[col].to_numpy(), expected[col].to_numpy()
        same = (a == e) | np.isnan(a) & np.isnan(e) if a.dtype.kind == "f" else a == e
        if not same.all():
            bad = np.flatnonzero(~same)[0]
            row = expected.iloc[bad]
            pytest.fail(
                f"{col} differs first at case={row['case']} seed={row['seed']} month={row['month']}: "
                f"{a[bad]!r} != {e[bad]!r}"
            )
