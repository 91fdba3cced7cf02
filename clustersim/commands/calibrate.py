"""``clustersim calibrate``: ABC-SMC calibration and out-of-sample predictions (optional extra ``calibrate``)."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path

from ..experiments.analysis import markdown_table
from ..results import atomic_folder, check_output_folder, environment, free_default_folder, package_versions, write_json
from ..scenario import ScenarioError


def default_spec() -> Path:
    here = Path(__file__).resolve().parent.parent
    for cand in (here / "_presets" / "calibration" / "ccpf.toml", here.parent / "calibration" / "ccpf.toml"):
        if cand.is_file():
            return cand
    raise ScenarioError("calibration file 'calibration/ccpf.toml' not found next to the clustersim package")


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit uncertain coefficients by ABC-SMC and predict held-out figures",
        description="Approximate Bayesian computation (pyabc, ABC-SMC) of the coefficients a calibration file "
        "names, fitted to some of the sources' figures; the others are predicted from the posterior with "
        "predictive intervals. Needs the optional extra: pip install 'clustersim[calibrate]'.",
    )
    p.add_argument("file", nargs="?", type=Path, default=None, help="calibration file (default calibration/ccpf.toml)")
    p.add_argument("--quick", action="store_true", help="the file's [quick] settings: a small smoke run for CI")
    p.add_argument("--out", type=Path, default=None, help="output folder (default results/calibration)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.set_defaults(func=calibrate)


def _plot_marginals(post, spec, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bounds = spec.prior_bounds()
    fig, axes = plt.subplots(1, len(bounds), figsize=(3.2 * len(bounds), 2.8), squeeze=False)
    for ax, (p, (lo, hi)) in zip(axes[0], bounds.items(), strict=True):
        ax.hist(post[p], bins=20, range=(lo, hi), weights=post["weight"], color="#4c72b0")
        ax.axhline(1.0 / 20, color="grey", lw=1, ls="--", label="prior")
        ax.set_title(p, fontsize=8)
        ax.set_xlim(lo, hi)
    axes[0][0].set_ylabel("posterior weight per bin")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "marginals.png", dpi=110)
    plt.close(fig)


def _report(spec, intervals, diag, preds, elapsed: float, quick: bool) -> str:
    held = preds[preds["role"] == "held out"]
    lines = [
        f"# Calibration: {spec.name}",
        "",
        f"Regenerate with `clustersim calibrate{' --quick' if quick else ''}` ({elapsed:.0f} s). {spec.description}",
        "",
        f"**Held-out figures: {int(held['hit'].sum())} of {len(held)} inside their "
        f"{spec.credible_level:.0%} predictive interval.** Input echoes are listed but are not predictions.",
        "",
        f"Parameters ({spec.parameters_why}); priors uniform over their registered ranges:",
        "",
        markdown_table(intervals, digits=3),
        "",
        "## Diagnostics",
        "",
        markdown_table(diag, digits=3),
        "",
        "![marginals](marginals.png)",
        "",
        "## Posterior predictive check",
        "",
        markdown_table(preds.drop(columns=["source"]), digits=3),
        "",
    ]
    return "\n".join(lines)


def calibrate(args: argparse.Namespace) -> int:
    from .. import calibration as cal

    spec = cal.load_spec(args.file or default_spec())
    if args.quick:
        spec = spec.quick_version()
    try:
        import pyabc  # noqa: F401
    except ImportError:
        raise ScenarioError("calibrate needs pyabc: pip install 'clustersim[calibrate]'") from None
    out = args.out if args.out is not None else free_default_folder(Path("results") / "calibration")
    check_output_folder(out, args.force)
    t0 = time.perf_counter()
    print(f"calibrating {len(spec.parameters)} parameters, {spec.generations} generations...", file=sys.stderr)
    with atomic_folder(out, force=args.force) as tmp:
        history = cal.run_abc(spec, tmp / "abc.db")
        post = cal.posterior(history)
        intervals = cal.credible_intervals(post, spec)
        diag = cal.diagnostics(history, post)
        preds = cal.predictions(spec, post)
        elapsed = time.perf_counter() - t0
        post.to_parquet(tmp / "posterior.parquet", index=False)
        intervals.to_csv(tmp / "intervals.csv", index=False)
        diag.to_csv(tmp / "diagnostics.csv", index=False)
        preds.to_csv(tmp / "predictions.csv", index=False)
        _plot_marginals(post, spec, tmp)
        (tmp / "calibration.md").write_text(_report(spec, intervals, diag, preds, elapsed, args.quick))
        write_json(
            tmp / "manifest.json",
            {
                "spec": {k: v for k, v in asdict(spec).items() if k != "quick"},
                "quick": args.quick,
                "elapsed_seconds": round(elapsed, 1),
                "versions": package_versions(),
                "environment": environment(),
            },
        )
    print(intervals.to_string(index=False))
    print(preds[["figure", "role", "target", "predicted_mean", "low", "high", "hit"]].to_string(index=False))
    print(f"calibration written to {out} ({elapsed:.0f} s)")
    return 0
