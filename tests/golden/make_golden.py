"""Regenerate the golden monthly series (tests/golden/series.parquet).

Run only for a deliberate change of behaviour, in its own commit that says why:

    .venv/bin/python tests/golden/make_golden.py

A refactor must leave the file bit-identical (tests/test_golden.py).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clustersim import ClusterModel

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


def golden_frame() -> pd.DataFrame:
    frames = []
    for case, preset, overrides in CASES:
        for seed in SEEDS:
            df = ClusterModel(preset, seed=seed, **overrides).run().series().reset_index()
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

    out = HERE / "series.parquet"
    golden_frame().to_parquet(out, index=False)
    (HERE / "versions.json").write_text(json.dumps(versions(), indent=1) + "\n")
    print(f"wrote {out} and versions.json")
