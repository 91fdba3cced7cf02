"""Regenerate the golden monthly series: one fixture per draw backend (clustersim.streams).

- ``series.parquet`` (with ``versions.json``): the default counter-based draws, what every run uses unless
  told otherwise.
- ``series_legacy.parquet`` (with ``versions_legacy.json``): the legacy generator stream, which reproduces
  results recorded before the ensemble engine (old results folders resume on it, and the registered
  confirmatory designs were run on it).

Run only for a deliberate change of behaviour, in its own commit that says why:

    .venv/bin/python tests/golden/make_golden.py [counter|legacy]   # default: both

A refactor must leave both files bit-identical (tests/test_golden.py).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clustersim import ClusterModel
from clustersim.streams import STREAMS

HERE = Path(__file__).resolve().parent
# six presets that between them switch on every lever and shock, plus the two plain-game variants
CASES: tuple[tuple[str, str, dict], ...] = (
    ("funded_programme", "funded_programme", {}),
    ("delayed_funding", "delayed_funding", {}),
    ("pandemic_shock", "pandemic_shock", {}),
    ("leader_firms", "leader_firms", {}),
    ("bso_turnover", "bso_turnover", {}),
    ("export_consortia", "export_consortia", {"hurricane_capital_loss": 0.3}),
    ("random_groups", "baseline", {"group_formation": "random_groups", "network_kind": "ring", "months": 60}),
    ("neighbourhoods", "baseline", {"group_formation": "neighbourhoods", "months": 60}),
)
SEEDS = (0, 1, 2)
#: each backend's fixture and the versions file recording what its last bits depend on
FIXTURES = {"counter": ("series.parquet", "versions.json"), "legacy": ("series_legacy.parquet", "versions_legacy.json")}


def golden_frame(streams: str) -> pd.DataFrame:
    frames = []
    for case, preset, overrides in CASES:
        for seed in SEEDS:
            df = ClusterModel(preset, seed=seed, streams=streams, **overrides).run().series().reset_index()
            df.insert(0, "seed", seed)
            df.insert(0, "case", case)
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def simd_targets() -> str:
    """numpy's dispatched SIMD targets on this CPU (e.g. ``X86_V3``): a sum's last bit depends on the vector
    width numpy picks, so the same numpy release rounds means differently on AVX2 and AVX-512 machines."""
    try:  # numpy's private module: where it has moved, say so, and the comparison falls back to the tolerance
        from numpy._core import _multiarray_umath as umath

        features, dispatch = umath.__cpu_features__, umath.__cpu_dispatch__
    except (ImportError, AttributeError):
        return "unknown"
    return " ".join(t for t in dispatch if features.get(t))


def versions() -> dict[str, str]:
    """The packages, and the CPU's SIMD targets, that the fixture's floating-point last bits depend on."""
    import platform
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        **{p: version(p) for p in ("numpy", "pandas", "scipy", "networkx", "mesa")},
        "simd": simd_targets(),
    }


if __name__ == "__main__":
    import json
    import sys

    chosen = sys.argv[1:] or list(FIXTURES)
    if any(s not in STREAMS for s in chosen):
        sys.exit(f"make_golden.py: {chosen!r} is not valid; allowed: any of {', '.join(STREAMS)}")
    for streams in chosen:
        series, versions_file = FIXTURES[streams]
        golden_frame(streams).to_parquet(HERE / series, index=False)
        (HERE / versions_file).write_text(json.dumps(versions(), indent=1) + "\n")
        print(f"wrote {HERE / series} and {versions_file}")
