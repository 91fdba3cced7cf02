"""``clustersim validate``: the pattern-oriented validation report."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from ..results import atomic_folder, environment, free_default_folder, package_versions, write_json
from ..scenario import ScenarioError
from ..switches import SWITCHES, verify_all
from ..validation import CLASSES, HEADLINE, NOT_EXPRESSIBLE, limit_curves, run_mutations, run_validation
from . import add_set_option, check_seed, parse_sets

FULL_REPLICATES, QUICK_REPLICATES = 30, 10


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="run the validation suite and write a report",
        description="Check the model against the stylized facts, limit cases of theory, and "
        "programme outcome magnitudes. Exits 1 if any check fails.",
    )
    p.add_argument(
        "--replicates",
        type=int,
        default=None,
        help=f"replicates per arm (default {FULL_REPLICATES}; {QUICK_REPLICATES} with --quick)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="fewer replicates; the same frozen thresholds and 95%% intervals",
    )
    p.add_argument(
        "--mutations",
        action="store_true",
        help="also run every check under each of its mutations (validation/targets.toml) and report which "
        "checks caught theirs",
    )
    p.add_argument("--seed", type=int, default=20260101, help="root seed")
    add_set_option(p, "override a parameter in every scenario arm (e.g. trust_gain=0 to break a mechanism)")
    p.add_argument("--workers", type=int, default=None, help="processes to use (default: all cores)")
    p.add_argument("--out", type=Path, default=None, help="report folder (default results/validation)")
    p.add_argument("--force", action="store_true", help="replace a non-empty report folder")
    p.set_defaults(func=validate)


def _fmt(x: float) -> str:
    return (
        "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.3f}" if abs(x) < 100 else f"{x:.0f}"
    )


def headline(results) -> str:
    """Counts by classification; the headline counts emergent and partly emergent patterns only."""
    counts = {k: sum(r.classification == k for r in results) for k in CLASSES}
    patterns = sum(r.check.group == "stylized fact" for r in results)
    lead = sum(counts[k] for k in HEADLINE)
    rest = ", ".join(f"{counts[k]} {k}" for k in CLASSES if counts[k] and k not in HEADLINE)
    return (
        f"{lead} of {patterns} stylized-fact checks are reproduced as emergent ({counts['emergent']}) or partly "
        f"emergent ({counts['partly emergent']}); the other stylized-fact checks and the other kinds: {rest}."
    )


def _validation_rows(results, group: str) -> list[str]:
    lines = [
        "| code | pattern | metric | expected | measured (interval) | n | result | knocked out | knock-out (interval) "
        "| class |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in (x for x in results if x.check.group == group):
        c, k = r.check, r.knockout
        ko = f"{_fmt(k.mean)} ({_fmt(k.low)} to {_fmt(k.high)})" if k is not None else ""
        lines.append(
            f"| {c.code} | {c.pattern} | {c.metric} | {r.expected} | {_fmt(r.mean)} ({_fmt(r.low)} to "
            f"{_fmt(r.high)}) | {r.n} | {'pass' if r.passed else '**FAIL**'} | {c.frozen.knockout_mechanism} | {ko} "
            f"| {r.classification} |"
        )
    return lines + [""]


#: The unit tests of the process modules: each rule on a tiny hand-built state (docs/ODD.md section 7).
UNIT_TESTS = "tests/test_processes.py"


def run_unit_tests(path: Path | None = None) -> dict:
    """Run the process modules' unit tests (a source checkout ships them; an installed package does not).
    Returns counts and the failing tests' names; ``ran`` is False when they are not available."""
    import subprocess
    import tempfile
    import xml.etree.ElementTree as ET

    # a source checkout beside the package, else the working folder (a non-editable install run from a checkout)
    candidates = [path] if path else [Path(__file__).resolve().parents[2] / UNIT_TESTS, Path.cwd() / UNIT_TESTS]
    path = next((p for p in candidates if p.is_file()), candidates[0])
    try:
        import pytest  # noqa: F401
    except ImportError:
        return {"ran": False, "why": "pytest is not installed", "file": str(path.name)}
    if not path.is_file():
        return {"ran": False, "why": f"{UNIT_TESTS} ships with the source, not the package", "file": UNIT_TESTS}
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "junit.xml"
        # -o addopts= and no PYTEST_ADDOPTS: a stray -k or -m must not deselect the tests into a vacuous pass
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", f"--junitxml={xml}"]
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
        proc = subprocess.run([*cmd, str(path)], capture_output=True, text=True, cwd=path.parent, env=env)
        if not xml.is_file() or proc.returncode not in (0, 1):
            return {"ran": True, "passed": 0, "failed": [f"pytest exit {proc.returncode}"], "file": UNIT_TESTS}
        cases = ET.parse(xml).getroot().iter("testcase")
        failed, passed = [], 0
        for case in cases:
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(case.get("name"))
            elif case.find("skipped") is None:
                passed += 1
    return {"ran": True, "passed": passed, "failed": failed, "file": UNIT_TESTS}


def verification_failures(verification, unit_tests) -> list[str]:
    """What makes verification fail: a switch that changes nothing, or a failing unit test."""
    out = [f"switch {v['switch']} changes no output" for v in verification if not v["outputs_changed"]]
    out += [f"unit test {name} fails" for name in unit_tests.get("failed", [])]
    if unit_tests.get("ran") and not unit_tests.get("passed") and not unit_tests.get("failed"):
        out.append("no unit test ran (none collected, or all skipped)")
    return out


def _verification_rows(rows, unit_tests) -> list[str]:
    if unit_tests["ran"]:
        status = f"{unit_tests['passed']} passed, {len(unit_tests['failed'])} failed" + (
            f" ({', '.join(unit_tests['failed'])})" if unit_tests["failed"] else ""
        )
    else:
        status = f"not run: {unit_tests['why']}"
    lines = [
        "## Verification: each mechanism does what docs/ODD.md says",
        "",
        f"Unit tests of the process modules (`{unit_tests['file']}`, each rule on a tiny hand-built state, against "
        f"hand-computed values): **{status}**.",
        "",
        "Each mechanism switch (clustersim/switches.py) is run on its preset with the mechanism on and off, same "
        "seed; one that changes nothing is tried on the next seeds too (`VERIFY_RETRIES`), as some mechanisms act "
        "only in some runs. That it changes the run is verification, not validation. A switch that changes no "
        "output on any of them, or a failing unit test, fails `clustersim validate` (exit 1).",
        "",
        "| mechanism | switch | facts | preset | seed | outputs changed | change in share cooperating |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in rows:
        changed = ", ".join(v["outputs_changed"]) or "**none**"
        lines.append(
            f"| {v['mechanism']} | `{v['switch']}` | {v['facts']} | {v['preset']} | {v['seed']} | {changed} "
            f"| {_fmt(v['cooperation_change'])} |"
        )
    return lines + [""]


def _mutation_rows(rows) -> list[str]:
    caught, failing = {}, set()
    for m in rows:
        caught[m["pattern"]] = caught.get(m["pattern"], False) or m["caught"]
        if not m["intact_passed"]:
            failing.add(m["pattern"])
    missed = [p for p, c in caught.items() if not c and p not in failing]
    lines = [
        "## Mutations",
        "",
        f"{sum(caught.values())} of {len(caught)} checks caught at least one of their mutations. "
        + (f"Passing intact but caught none (nothing listed made them fail): {'; '.join(missed)}. " if missed else "")
        + (f"Not testable, failing intact: {'; '.join(sorted(failing))}." if failing else ""),
        "",
        "| code | pattern | mutation | intact | mutated | caught |",
        "|---|---|---|---|---|---|",
    ]
    for m in rows:
        lines.append(
            f"| {m['code']} | {m['pattern']} | `{m['mutation']}` | {_fmt(m['intact_mean'])} "
            f"({'pass' if m['intact_passed'] else 'fail'}) | {_fmt(m['mutated_mean'])} "
            f"({'pass' if m['mutated_passed'] else 'fail'}) | {'yes' if m['caught'] else '**no**'} |"
        )
    return lines + [""]


def report_markdown(results, curves, verification, mutations, run: dict, unit_tests: dict) -> str:
    n_pass = sum(r.passed for r in results)
    quick, replicates, seed = run["quick"], run["replicates"], run["seed"]
    lines = [
        "# Verification and validation report",
        "",
        f"Regenerate with `clustersim validate{' --quick' if quick else ''}{' --mutations' if mutations else ''} "
        f"--replicates {replicates} --seed {seed}" + "".join(f" --set {s}" for s in run["sets"]) + "`.",
        "",
        f"**{headline(results)}** {n_pass} of {len(results)} checks pass ({'quick' if quick else 'full'} mode: "
        f"{replicates} replicates per arm, 95% intervals, root seed {seed}, {run['elapsed']:.0f} s).",
        "",
        "How to read it. Each check compares means over replicates run with the same seeds (common random numbers). "
        "A *margin* check (> m) passes when the mean effect exceeds the margin and the interval's lower bound is "
        "above zero; a *ceiling* check (< c) passes when the interval's upper bound is below the ceiling; a *band* "
        "check passes when the mean lies in the band. Quick mode (for CI) runs fewer replicates "
        "against the same thresholds, so it has less power, never looser bars. The thresholds are frozen in "
        "`validation/targets.toml` with their sources and the date each was set (listed below); the code holds none.",
        "",
        "Classification. Each stylized-fact check is run again with the mechanism that states it directly "
        "switched off (its knock-out, named in the targets file). *Emergent*: the pattern still passes; *partly "
        "emergent*: it falls below its threshold but its interval stays above zero (margin checks only); *assumed*: it is gone, so the model takes "
        "it as an input. Limit cases verify the plain game against *theory*, or, with every lever off, that nothing "
        "happens (*verification*); magnitudes are *calibrated* or echo an input. Each class is read from the runs "
        "and the targets file, not written by hand.",
        "",
    ]
    lines += _verification_rows(verification, unit_tests)
    lines += ["# Validation", ""]
    for g in dict.fromkeys(r.check.group for r in results):
        lines += [f"## {g[0].upper() + g[1:]}s", ""] + _validation_rows(results, g)
    if mutations:
        lines += _mutation_rows(mutations)
    lines += ["## Not expressible", "", "| code | pattern | why not |", "|---|---|---|"]
    lines += [f"| {c} | {p} | {w} |" for c, p, w in NOT_EXPRESSIBLE]
    lines += [
        "",
        "## Figures",
        "",
        "![stylized facts](stylized_facts.png)",
        "",
        "Effects relative to their margin: a check passes when its point sits right of the line at 1 and its "
        "interval stays right of 0.",
        "",
        "![limit cases](limit_cases.png)",
        "",
        "Public goods game with trust, facilitation and funding switched off: contributions against the multiplier "
        "relative to the group size. Well mixed, cooperation needs r > G; on a ring and, even more, on a scale-free "
        "network it survives below (network reciprocity). Said plainly: these limit cases run the plain-game "
        "variants of the schedule (`plain_games.play_random_groups`, `plain_games.play_neighbourhoods` and their "
        "imitation steps), not the cluster model's `play.play_joint_actions` and `learning.imitate`. They share "
        "the decision rule (`rules.contribution_probability`), the Fermi rule and every other step of the "
        "schedule; the well-mixed game also updates trust from play (`trust.trust_from_play`), the neighbourhood "
        "game does not (with `trust_weight = 0` trust does not enter the decision there anyway). So they verify "
        "those shared rules and the plain-game engine, not the cluster model's group formation.",
        "",
        "![magnitudes](magnitudes.png)",
        "",
        "## Targets",
        "",
        "| code | pattern | source | set on | note |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        t = r.check.frozen
        lines.append(f"| {t.code} | {t.pattern} | {t.source} | {t.set_on} | {t.note} |")
    lines.append("")
    return "\n".join(lines)


def plot_figures(results, curves, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..style import SCENARIO_COLORS

    margin = [r for r in results if r.check.margin is not None and r.check.margin > 0]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(margin) + 1.2))
    for i, r in enumerate(margin):
        m = r.check.margin
        color = "#2ca02c" if r.passed else "#d62728"
        ax.errorbar(
            r.mean / m,
            i,
            xerr=[[max((r.mean - r.low) / m, 0)], [max((r.high - r.mean) / m, 0)]],
            fmt="o",
            color=color,
            capsize=3,
        )
    ax.axvline(1, color="#555555", ls="--", lw=1, label="margin")
    ax.axvline(0, color="#999999", lw=0.8)
    ax.set_yticks(range(len(margin)), [f"{r.check.code}: {r.check.pattern[:48]}" for r in margin], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("Effect / margin (dimensionless)")
    ax.set_title("Stylized facts and limit cases: effects with intervals")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "stylized_facts.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    colors = {"well_mixed": SCENARIO_COLORS["baseline"], "ring": "#1f77b4", "scale_free": "#d62728"}
    for structure, g in curves.groupby("structure", sort=False):
        ax.plot(g["eta"], g["mean"], "o-", color=colors[structure], label=structure.replace("_", " "))
        ax.fill_between(g["eta"], g["low"], g["high"], color=colors[structure], alpha=0.2, lw=0)
    ax.axvline(1.0, color="#555555", ls="--", lw=1, label="r = group size")
    ax.set_xlabel("Multiplier relative to group size, r / G (dimensionless)")
    ax.set_ylabel("Contribution rate (share of firms)")
    ax.set_title("Public goods limit case: network reciprocity")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "limit_cases.png", dpi=110)
    plt.close(fig)

    mags = [r for r in results if r.check.group == "magnitude"]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(mags) + 1.2))
    for i, r in enumerate(mags):
        lo, hi = r.check.band
        ax.plot(
            [lo, hi], [i, i], color="#bbbbbb", lw=8, solid_capstyle="butt", label="tolerance band" if i == 0 else None
        )
        ax.errorbar(
            r.mean,
            i,
            xerr=[[r.mean - r.low], [r.high - r.mean]],
            fmt="o",
            color="#2ca02c" if r.passed else "#d62728",
            capsize=3,
            label="model (mean, interval)" if i == 0 else None,
        )
    ax.set_yticks(range(len(mags)), [r.check.pattern[:55] for r in mags], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("Measured value (index, share or rate; see label)")
    ax.set_title("Programme outcome magnitudes against the sources (SF16)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(folder / "magnitudes.png", dpi=110)
    plt.close(fig)


def validate(args: argparse.Namespace) -> int:
    check_seed(args.seed)
    replicates = args.replicates or (QUICK_REPLICATES if args.quick else FULL_REPLICATES)
    if replicates < 3:
        raise ScenarioError(f"--replicates {replicates}: out of range; allowed: int >= 3")
    overrides = parse_sets(args.sets)
    if overrides:  # validate the overrides once, up front, with the usual one-line errors
        from ..scenario import load_scenario

        load_scenario("baseline").replace(origin="--set", **overrides)
    out = args.out if args.out is not None else free_default_folder(Path("results") / "validation")
    from ..results import check_output_folder

    check_output_folder(out, args.force)
    t0 = time.perf_counter()
    workers = args.workers or os.cpu_count() or 1
    print(f"validating: {replicates} replicates per arm on {workers} processes...", file=sys.stderr)
    results = run_validation(replicates, args.seed, args.quick, overrides, workers=workers, knockouts=True)
    curves = limit_curves(max(3, replicates // 3) if args.quick else replicates, args.seed, workers=workers)
    verification = verify_all(SWITCHES, args.seed)
    unit_tests = run_unit_tests()
    unverified = verification_failures(verification, unit_tests)
    validation_seconds = time.perf_counter() - t0
    mutations = run_mutations(replicates, args.seed, args.quick, workers=workers) if args.mutations else []
    elapsed = time.perf_counter() - t0
    run = {"quick": args.quick, "replicates": replicates, "seed": args.seed, "sets": args.sets, "elapsed": elapsed}
    with atomic_folder(out, force=args.force) as tmp:
        plot_figures(results, curves, tmp)
        (tmp / "validation.md").write_text(
            report_markdown(results, curves, verification, mutations, run, unit_tests)
        )
        curves.to_csv(tmp / "limit_curves.csv", index=False)
        if mutations:
            import pandas as pd

            pd.DataFrame(mutations).to_csv(tmp / "mutations.csv", index=False)
        write_json(
            tmp / "validation.json",
            {
                "mode": "quick" if args.quick else "full",
                "replicates": replicates,
                "seed": args.seed,
                "overrides": overrides,
                "elapsed_seconds": round(elapsed, 1),
                "validation_seconds": round(validation_seconds, 1),  # before the mutations, if any
                "passed": sum(r.passed for r in results),
                "total": len(results),
                "headline": headline(results),
                "checks": [r.row() for r in results],
                "verification": verification,
                "unit_tests": unit_tests,
                "verification_failures": unverified,
                "mutations": mutations,
                "not_expressible": [dict(zip(("code", "pattern", "why"), x, strict=True)) for x in NOT_EXPRESSIBLE],
                "versions": package_versions(),
                "environment": environment(),
            },
        )
    width = max(len(r.check.pattern) for r in results)
    print(f"{'code':<5} {'pattern':<{width}}  {'expected':>14}  {'measured (interval)':>30}  result")
    for r in results:
        c = r.check
        print(
            f"{c.code:<5} {c.pattern:<{width}}  {r.expected:>14}  "
            f"{_fmt(r.mean) + ' (' + _fmt(r.low) + ' to ' + _fmt(r.high) + ')':>30}  {'pass' if r.passed else 'FAIL'}"
        )
    n_pass = sum(r.passed for r in results)
    print(
        f"{n_pass}/{len(results)} checks pass ({'quick' if args.quick else 'full'}, {replicates} replicates, "
        f"{elapsed:.0f} s, of which validation {validation_seconds:.0f} s); report in {out}/validation.md"
    )
    print(headline(results))
    if unverified:
        print(f"verification FAILS: {'; '.join(unverified)}")
    else:
        tests = f"{unit_tests['passed']} unit tests pass" if unit_tests["ran"] else f"unit tests {unit_tests['why']}"
        print(f"verification: every one of {len(verification)} switches changes the run; {tests}")
    return 0 if n_pass == len(results) and not unverified else 1
