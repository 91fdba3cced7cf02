"""clustersim benchmark suite: speed of one run, scaling to 100,000 firms, a Mesa peer, sweep throughput, and
a slice of issue 12's 71,680-run Sobol' study extrapolated to the whole.

Usage::

    .venv/bin/python benchmarks/run.py                 # the full suite (about 20 minutes on 2 cores; the
                                                       # 4,480-run Sobol' slice is most of it)
    .venv/bin/python benchmarks/run.py --quick         # fewer repetitions, a 64-run sweep, a 1/256 Sobol' slice
    .venv/bin/python benchmarks/run.py --only single,peer --json /tmp/bench.json

Method (after Mesa's ``benchmarks/global_benchmark.py``): fixed seeds, a warm-up before timing,
several repetitions, construction ("init") and the monthly loop ("run") timed separately, and the
median reported. Each scale point runs in a fresh interpreter so its peak memory is its own. The
figures are printed next to the targets of issue 4 and written to JSON (``benchmarks/results.json``
by default; an existing default file is kept and the next free name ``results-2.json``... is used;
an explicit ``--json`` path is never replaced without ``--force``).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # sibling helper modules, when run as a script from anywhere

import machine  # noqa: E402
import peer  # noqa: E402

SCENARIO = "funded_programme"
MONTHS = 120
SCALE_SIZES = (1_000, 10_000, 100_000)
PEER_AGENTS = 10_000
SECTIONS = ("single", "streams", "replicates", "ensemble", "calibrate", "scale", "peer", "sweep", "sobol")
GIB = 2**30


class UsageError(Exception):
    """Bad command-line input; reported as one line with exit status 2."""


# ------------------------------------------------------------------------------------------ helpers
def median(xs) -> float:
    return float(statistics.median(xs))


def free_default_path(path: Path) -> Path:
    """``path`` if free, else ``name-2.json``, ``name-3.json``... (default outputs never overwrite)."""
    if not path.exists():
        return path
    k = 2
    while (cand := path.with_name(f"{path.stem}-{k}{path.suffix}")).exists():
        k += 1
    return cand


def write_json_atomic(path: Path, data: dict) -> None:
    """Write to a temporary sibling, then rename: a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


# ------------------------------------------------------------------------------------------ sections
def bench_single(reps: int) -> dict:
    """One ``funded_programme`` run, construction + 120 months, median over fixed seeds after a warm-up."""
    import clustersim

    for s in (1000, 1001):  # warm-up: imports, preset parsing, numpy first calls
        clustersim.ClusterModel(SCENARIO, seed=s).run(MONTHS)
    init, run, total, cpu = [], [], [], []
    for seed in range(1, reps + 1):
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        model = clustersim.ClusterModel(SCENARIO, seed=seed)
        t1 = time.perf_counter()
        model.run(MONTHS)
        t2 = time.perf_counter()
        cpu.append(time.process_time() - c0)
        init.append(t1 - t0)
        run.append(t2 - t1)
        total.append(t2 - t0)
    return {
        "scenario": SCENARIO,
        "n_firms": int(model.firms.n),
        "months": MONTHS,
        "seeds": list(range(1, reps + 1)),
        "init_s": init,
        "run_s": run,
        "total_s": total,
        "median_s": median(total),
        # CPU time of this process: close to the wall time unless other work competed for the cores
        "median_cpu_s": median(cpu),
        "min_s": min(total),
        "median_init_s": median(init),
        "median_run_s": median(run),
    }


def bench_streams(reps: int) -> dict:
    """One run under legacy and under counter-based draws (``clustersim.streams``), alternating on the same seeds."""
    import clustersim

    for streams in ("legacy", "counter"):  # warm-up
        clustersim.ClusterModel(SCENARIO, seed=1000, streams=streams).run(MONTHS)
    times: dict[str, list[float]] = {"legacy": [], "counter": []}
    for seed in range(1, reps + 1):
        for streams in ("legacy", "counter"):
            gc.collect()
            t0 = time.perf_counter()
            clustersim.ClusterModel(SCENARIO, seed=seed, streams=streams).run(MONTHS)
            times[streams].append(time.perf_counter() - t0)
    out = {"scenario": SCENARIO, "months": MONTHS, "seeds": list(range(1, reps + 1))}
    for streams, ts in times.items():
        out[f"{streams}_s"] = ts
        out[f"median_{streams}_s"] = median(ts)
    out["counter_over_legacy"] = out["median_counter_s"] / out["median_legacy_s"]
    return out


def bench_replicates(reps: int, replicates: int = 10) -> dict:
    """``run_scenario(SCENARIO, replicates=10)`` with its two DataFrames, under the default draws (issue 12's bar:
    at most 0.5 s); median over root seeds after a warm-up."""
    from clustersim.runner import run_scenario
    from clustersim.streams import DEFAULT_STREAMS

    run_scenario(SCENARIO, seed=1000, replicates=replicates)  # warm-up
    times, cpu = [], []
    for seed in range(1, reps + 1):
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        series, summary = run_scenario(SCENARIO, seed=seed, replicates=replicates)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    assert len(summary) == replicates and series["replicate"].nunique() == replicates
    return {
        "scenario": SCENARIO,
        "replicates": replicates,
        "streams": DEFAULT_STREAMS,
        "total_s": times,
        "median_s": median(times),
        # CPU time of this process: well below the wall time when another tenant took the core (the bar is wall)
        "cpu_s": cpu,
        "median_cpu_s": median(cpu),
    }


def bench_calibrate(reps: int) -> dict:
    """``clustersim calibrate --quick`` on the shipped file (``calibration/ccpf.toml``'s [quick] table): pyabc's
    ABC-SMC with the batch sampler and with pyabc's single-core sampler, alternating, and whether the two
    posteriors are identical (they should be, draw for draw: ``clustersim.batch_abc``)."""
    import tempfile

    import pandas as pd

    from clustersim import calibration as cal

    spec = cal.load_spec(HERE.parent / "calibration" / "ccpf.toml").quick_version()
    times: dict[str, list[float]] = {"batch": [], "single": []}
    identical = True
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(reps):
            posteriors: dict[str, pd.DataFrame] = {}
            evaluations: dict[str, int] = {}
            for sampler in ("batch", "single") if r % 2 == 0 else ("single", "batch"):
                gc.collect()
                t0 = time.perf_counter()
                history = cal.run_abc(spec, Path(tmp) / f"{sampler}{r}.db", sampler=sampler)
                times[sampler].append(time.perf_counter() - t0)
                posteriors[sampler] = cal.posterior(history)
                evaluations[sampler] = int(history.get_all_populations()["samples"].sum())
            identical &= posteriors["batch"].equals(posteriors["single"]) and len(set(evaluations.values())) == 1
    out = {
        "file": "calibration/ccpf.toml [quick]",
        "population_size": spec.population_size,
        "generations": spec.generations,
        "evaluations": evaluations["batch"],
        "identical_posteriors": bool(identical),
    }
    for sampler, ts in times.items():
        out[f"{sampler}_s"] = ts
        out[f"median_{sampler}_s"] = median(ts)
    out["speedup"] = out["median_single_s"] / out["median_batch_s"]
    return out


def bench_ensemble(batch_sizes: tuple[int, ...], runs_each: int, singles: int) -> dict:
    """Runs per second through the ensemble (``run_ensemble``, K clusters stepped together) at each batch size,
    beside one-at-a-time runs (legacy and counter draws) in the same process, on one core.

    Every batch runs ``runs_each`` runs in all (several batches at small K), so each size does the same work;
    a batch's time includes initialisation, concatenation and the per-run summaries.
    """
    import clustersim
    from clustersim.ensemble_run import run_ensemble

    run_ensemble(SCENARIO, [1000, 1001], months=MONTHS).summaries()  # warm-up
    single: dict[str, list[float]] = {"legacy": [], "counter": []}
    for seed in range(1, singles + 1):
        for streams in ("legacy", "counter"):
            gc.collect()
            t0 = time.perf_counter()
            clustersim.ClusterModel(SCENARIO, seed=seed, streams=streams).run(MONTHS).summary()
            single[streams].append(time.perf_counter() - t0)
    per_run = {streams: median(ts) for streams, ts in single.items()}
    points = []
    for k in batch_sizes:
        gc.collect()
        t0 = time.perf_counter()
        c0 = time.process_time()
        for first in range(0, runs_each, k):
            run_ensemble(SCENARIO, list(range(first, first + k)), months=MONTHS).summaries()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        done = -(-runs_each // k) * k
        points.append(
            {
                "batch_size": k,
                "runs": done,
                "wall_s": wall,
                "cpu_s": cpu,
                "runs_per_s": done / wall,
                "firm_months_per_s": done * 60 * MONTHS / wall,
                "speedup_vs_legacy": per_run["legacy"] / (wall / done),
            }
        )
    best = max(points, key=lambda p: p["runs_per_s"])
    return {
        "scenario": SCENARIO,
        "months": MONTHS,
        "single_legacy_s": single["legacy"],
        "single_counter_s": single["counter"],
        "median_single_legacy_s": per_run["legacy"],
        "median_single_counter_s": per_run["counter"],
        "points": points,
        "best_batch_size": best["batch_size"],
        "best_speedup_vs_legacy": best["speedup_vs_legacy"],
    }


def bench_scale(reps_by_size: dict[int, int]) -> dict:
    """Firm-months per second and peak RSS per cluster size, each size in a fresh interpreter."""
    points = []
    for n, reps in reps_by_size.items():
        print(f"  scale: {n:,} firms x {MONTHS} months, {reps} repetition(s) in a fresh process ...", flush=True)
        proc = subprocess.run(
            [sys.executable, str(HERE / "scale_worker.py"), str(n), str(reps)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"scale worker for {n} firms failed: {proc.stderr.strip().splitlines()[-1:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["median_total_s"] = median(r["total_s"])
        r["median_init_s"] = median(r["init_s"])
        r["median_run_s"] = median(r["run_s"])
        firm_months = n * MONTHS
        r["firm_months_per_s"] = firm_months / r["median_total_s"]  # construction included
        r["firm_months_per_s_run_only"] = firm_months / r["median_run_s"]
        r["us_per_firm_month"] = 1e6 * r["median_total_s"] / firm_months
        points.append(r)
    out: dict = {"scenario": SCENARIO, "months": MONTHS, "points": points}
    by_n = {p["n_firms"]: p for p in points}
    if 1_000 in by_n and 100_000 in by_n:
        out["cost_growth_1k_to_100k"] = by_n[100_000]["us_per_firm_month"] / by_n[1_000]["us_per_firm_month"]
    return out


def bench_peer(reps: int, boltzmann_steps: int) -> dict:
    """clustersim at 10,000 firms against Mesa's BoltzmannWealth at 10,000 agents, in this process.

    Repetitions alternate between the two models so that both see the same machine load.
    """
    import clustersim

    clustersim.ClusterModel(SCENARIO, seed=0, n_firms=1000).run(12)  # warm-up
    peer.time_boltzmann(1000, 2, seed=0)  # warm-up
    cs_init, cs_run, bw_init, bw_run = [], [], [], []
    for seed in range(1, reps + 1):
        gc.collect()
        t0 = time.perf_counter()
        model = clustersim.ClusterModel(SCENARIO, seed=seed, n_firms=PEER_AGENTS)
        t1 = time.perf_counter()
        model.run(MONTHS)
        t2 = time.perf_counter()
        cs_init.append(t1 - t0)
        cs_run.append(t2 - t1)
        del model
        gc.collect()
        i, r = peer.time_boltzmann(PEER_AGENTS, boltzmann_steps, seed=seed)
        bw_init.append(i)
        bw_run.append(r)
    cs_rate_run = PEER_AGENTS * MONTHS / median(cs_run)
    cs_rate_total = PEER_AGENTS * MONTHS / median([a + b for a, b in zip(cs_init, cs_run, strict=True)])
    bw_rate = PEER_AGENTS * boltzmann_steps / median(bw_run)
    width, height = peer.boltzmann_grid(PEER_AGENTS)
    return {
        "agents": PEER_AGENTS,
        "boltzmann": {
            "model": "mesa.examples.basic.boltzmann_wealth_model.model.BoltzmannWealth",
            "grid": [width, height],
            "steps": boltzmann_steps,
            "init_s": bw_init,
            "run_s": bw_run,
            "agent_steps_per_s": bw_rate,
        },
        "clustersim": {
            "scenario": SCENARIO,
            "months": MONTHS,
            "init_s": cs_init,
            "run_s": cs_run,
            "firm_months_per_s_run_only": cs_rate_run,
            "firm_months_per_s": cs_rate_total,
        },
        # like for like: both models' stepping loops, construction excluded on both sides (Mesa's run time)
        "ratio": cs_rate_run / bw_rate,
        # conservative: clustersim's construction counted, Boltzmann's not
        "ratio_with_construction": cs_rate_total / bw_rate,
    }


VERSUS_CASES = {
    "single_60": "one funded_programme run (60 firms)",
    "firms_10k": "10,000 firms x 120 months",
    "firms_100k": "100,000 firms x 120 months",
}


def bench_versus(other_tree: Path, rounds: int) -> dict:
    """This tree against another checkout, side by side in one run (issues 11 and 12: within 15%; no slower at 10^5).

    Each round runs, in fresh interpreters and in alternating order, 10 single ``funded_programme``
    runs (60 firms), one 10,000-firm run and one 100,000-firm run from each tree (issue 12's bar: a single
    100,000-firm cluster no slower); ratios are new/old per round, and the
    median ratio is reported, so that drift in machine speed cancels pair by pair.
    """
    here_tree = HERE.parent.resolve()
    trees = {"new": here_tree, "old": other_tree.resolve()}
    out: dict = {"trees": {k: str(v) for k, v in trees.items()}, "rounds": rounds, "cases": {}}
    for label, n_firms, reps in (("single_60", 60, 10), ("firms_10k", 10_000, 1), ("firms_100k", 100_000, 1)):
        times: dict[str, list[float]] = {"new": [], "old": []}
        for r in range(rounds):
            order = ("new", "old") if r % 2 == 0 else ("old", "new")
            for which in order:
                proc = subprocess.run(
                    [sys.executable, str(HERE / "versus_worker.py"), str(trees[which]), str(n_firms), str(reps)],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if proc.returncode != 0:
                    raise RuntimeError(f"versus worker ({which}) failed: {proc.stderr.strip().splitlines()[-1:]}")
                times[which].append(median(json.loads(proc.stdout.strip().splitlines()[-1])["total_s"]))
        ratios = [a / b for a, b in zip(times["new"], times["old"], strict=True)]
        out["cases"][label] = {
            "n_firms": n_firms,
            "new_median_s": median(times["new"]),
            "old_median_s": median(times["old"]),
            "ratio_new_over_old": median(ratios),
            "ratios": ratios,
        }
    return out


def with_load(section, *args, **kw) -> dict:
    """Run a section and record the 1-minute load average before and after it (other work skews timings)."""
    before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    out = section(*args, **kw)
    out["load_average"] = [before, os.getloadavg()[0] if hasattr(os, "getloadavg") else None]
    return out


# ------------------------------------------------------------------------------------------ report
def verdict(value: float | None, target: float, higher_is_better: bool) -> str:
    if value is None:
        return "n/a"
    ok = value >= target if higher_is_better else value <= target
    return "PASS" if ok else "MISS"


def figures(res: dict) -> list[dict]:
    """Every reported figure: (name, value, unit text, target text, verdict)."""
    rows: list[dict] = []

    def add(name, value, shown, target=None, target_text="", higher=True):
        rows.append(
            {
                "figure": name,
                "value": value,
                "shown": shown,
                "target": target_text,
                "verdict": verdict(value, target, higher) if target is not None else "",
            }
        )

    if "single" in res:
        s = res["single"]
        add(
            f"one {SCENARIO} run, construction + {MONTHS} months (median of {len(s['total_s'])})",
            s["median_s"],
            f"{s['median_s']:.3f} s (CPU {s['median_cpu_s']:.3f} s)",
            0.1,
            "<= 0.1 s",
            higher=False,
        )
    if "streams" in res:
        st = res["streams"]
        add(
            f"one run, counter-based draws vs legacy (median of {len(st['seeds'])}, alternating)",
            st["counter_over_legacy"],
            f"{st['median_counter_s']:.3f} s vs {st['median_legacy_s']:.3f} s ({st['counter_over_legacy']:.2f}x)",
        )
    if "replicates" in res:
        rp = res["replicates"]
        add(
            f"run_scenario({rp['scenario']!r}, replicates={rp['replicates']}), {rp['streams']} draws, with DataFrames",
            rp["median_s"],
            f"{rp['median_s']:.3f} s (median of {len(rp['total_s'])}; CPU {rp.get('median_cpu_s', float('nan')):.3f} s)",
            0.5,
            "<= 0.5 s",
            higher=False,
        )
    if "ensemble" in res:
        en = res["ensemble"]
        add(
            "one run at a time, with its summary (legacy / counter draws)",
            en["median_single_legacy_s"],
            f"{en['median_single_legacy_s']:.3f} s / {en['median_single_counter_s']:.3f} s",
        )
        for p in en["points"]:
            best = p["batch_size"] == en["best_batch_size"]
            add(
                f"ensemble, batches of {p['batch_size']} ({p['runs']} runs, one core)" + (" <- best" if best else ""),
                p["speedup_vs_legacy"],
                f"{p['runs_per_s']:.1f} runs/s, {fmt_rate(p['firm_months_per_s'])} firm-months/s, "
                f"{p['speedup_vs_legacy']:.1f}x one at a time",
                10.0 if best else None,
                ">= 10x one at a time" if best else "",
            )
    if "calibrate" in res:
        ca = res["calibrate"]
        if "skipped" in ca:
            add("calibrate --quick, batch sampler vs pyabc's single-core", None, f"not measured: {ca['skipped']}")
        else:
            add(
                f"calibrate --quick ({ca['evaluations']} particle evaluations), batch sampler vs pyabc's single-core",
                ca["speedup"],
                f"{ca['median_batch_s']:.1f} s vs {ca['median_single_s']:.1f} s ({ca['speedup']:.1f}x)",
            )
            same = ca["identical_posteriors"]
            add("  same posterior and evaluations, every repetition", float(same), "yes" if same else "NO", 1.0, "yes")
    if "scale" in res:
        sc = res["scale"]
        for p in sc["points"]:
            n = p["n_firms"]
            add(
                f"throughput at {n:,} firms (construction included)",
                p["firm_months_per_s"],
                f"{fmt_rate(p['firm_months_per_s'])} firm-months/s",
                1e6 if n == 10_000 else None,
                ">= 1,000,000 firm-months/s" if n == 10_000 else "",
            )
            add(
                f"  {n:,} firms x {MONTHS} months: wall time (median of {p['reps']})",
                p["median_total_s"],
                f"{p['median_total_s']:.2f} s (init {p['median_init_s']:.2f} s)",
                60.0 if n == 100_000 else None,
                "<= 60 s" if n == 100_000 else "",
                higher=False,
            )
            add(
                f"  {n:,} firms: peak RSS (fresh process)",
                p["peak_rss_mib"] / 1024,
                f"{p['peak_rss_mib']:.0f} MiB",
                4.0 if n == 100_000 else None,
                "<= 4 GiB" if n == 100_000 else "",
                higher=False,
            )
        if "cost_growth_1k_to_100k" in sc:
            g = sc["cost_growth_1k_to_100k"]
            add("cost per firm-month, 100,000 vs 1,000 firms", g, f"{g:.2f}x", 1.5, "<= 1.5x", higher=False)
    if "peer" in res:
        pr = res["peer"]
        bw = pr["boltzmann"]
        add(
            f"Mesa BoltzmannWealth, {pr['agents']:,} agents on {bw['grid'][0]}x{bw['grid'][1]}",
            bw["agent_steps_per_s"],
            f"{fmt_rate(bw['agent_steps_per_s'])} agent-steps/s",
        )
        add(
            f"clustersim, {pr['agents']:,} firms, same process (monthly loop)",
            pr["clustersim"]["firm_months_per_s_run_only"],
            f"{fmt_rate(pr['clustersim']['firm_months_per_s_run_only'])} firm-months/s",
        )
        add("ratio to BoltzmannWealth (stepping loops)", pr["ratio"], f"{pr['ratio']:.1f}x", 8.0, ">= 8x")
        add(
            "  ratio with clustersim's construction counted",
            pr["ratio_with_construction"],
            f"{pr['ratio_with_construction']:.1f}x",
        )
    if "sweep" in res:
        sw = res["sweep"]
        if "error" in sw:
            add("sweep throughput", None, f"not measured: {sw['error']}")
        else:
            for ex in sw["executors"]:
                label = ex["executor"] + (f", {ex['workers']} workers" if ex["executor"] != "serial" else "")
                target = {"local": 1.8, "dask": 1.6}.get(ex["executor"])
                add(
                    f"{sw['runs']}-run sweep, {label}",
                    ex["runs_per_s"],
                    f"{ex['runs_per_s']:.1f} runs/s ({ex['seconds']:.1f} s)",
                )
                if ex["executor"] != "serial":
                    add(
                        f"  speed-up over serial ({label})",
                        ex["speedup"],
                        f"{ex['speedup']:.2f}x (efficiency {ex['efficiency']:.0%})",
                        target,
                        f">= {target}x" if target else "",
                    )
                if ex["executor"] == "serial":
                    add(
                        "  share of a core the serial sweep got (1.0 = idle machine)",
                        sw["serial_cpu_share"],
                        f"{sw['serial_cpu_share']:.2f}",
                    )
                if "startup_s" in ex:
                    add("  dask LocalCluster start-up (excluded above)", ex["startup_s"], f"{ex['startup_s']:.1f} s")
            if "dask_error" in sw:
                add("dask sweep", None, f"not measured: {sw['dask_error']}")
            same = sw["identical_results"]
            add("  same results from every executor", float(same), "yes" if same else "NO")
    if "sobol" in res:
        so = res["sobol"]
        add(
            f"Sobol' study ({so['study_runs']:,} runs): 1/{so['slices']} slice, local, {so['workers']} workers",
            so["runs_per_s"],
            f"{so['runs_per_s']:.1f} runs/s ({so['runs']:,} runs in {so['seconds']:.0f} s)",
        )
        add(
            "  the whole study, extrapolated",
            so["extrapolated_s"] / 60,
            f"{so['extrapolated_s'] / 60:.0f} min",
            so["target_s"] / 60,
            f"<= {so['target_s'] / 60:.0f} min",
            higher=False,
        )
    if "versus" in res:
        for label, case in res["versus"]["cases"].items():
            what = VERSUS_CASES[label]
            # issue 11: within 15% of the figures before it; issue 12: a 100,000-firm cluster no slower
            bar = 1.00 if label == "firms_100k" else 1.15
            ratio = case["ratio_new_over_old"]
            add(
                f"{what}: this tree / other tree",
                ratio,
                f"{ratio:.3f} ({case['new_median_s']:.3f} s vs {case['old_median_s']:.3f} s)",
                bar,
                f"<= {bar:.2f}",
                higher=False,
            )
    return rows


def print_table(rows: list[dict]) -> None:
    w1 = max(len(r["figure"]) for r in rows)
    w2 = max(len(r["shown"]) for r in rows)
    w3 = max(len(r["target"]) for r in rows + [{"target": "target"}])
    print(f"\n{'figure':<{w1}}  {'measured':<{w2}}  {'target':<{w3}}  verdict")
    print(f"{'-' * w1}  {'-' * w2}  {'-' * w3}  -------")
    for r in rows:
        print(f"{r['figure']:<{w1}}  {r['shown']:<{w2}}  {r['target']:<{w3}}  {r['verdict']}")


# ------------------------------------------------------------------------------------------ main
class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2 (the project's convention)."""

    def error(self, message: str):
        print(f"benchmarks/run.py: {message}; see --help", file=sys.stderr)
        raise SystemExit(2)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = OneLineParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and a 64-run sweep (a smoke run)")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections: {', '.join(SECTIONS)}")
    ap.add_argument(
        "--json", type=Path, default=None, help="where to write the results (default benchmarks/results.json)"
    )
    ap.add_argument("--force", action="store_true", help="replace an existing --json file")
    ap.add_argument("--workers", type=int, default=2, help="workers for the parallel sweeps (default 2)")
    ap.add_argument("--check", action="store_true", help="exit with status 1 if any target is missed")
    ap.add_argument(
        "--against",
        metavar="TREE",
        help="also time this tree against another checkout (e.g. a `git worktree` of the previous commit), "
        "side by side in alternating fresh processes",
    )
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds for --against (default 5)")
    return ap.parse_args(argv)


def resolve_output(args: argparse.Namespace) -> Path:
    if args.json is None:
        return free_default_path(HERE / "results.json")
    path = args.json
    if path.exists() and (path.is_dir() or not args.force):
        what = "is a folder" if path.is_dir() else "exists"
        raise UsageError(f"{path}: --json {what}; allowed: a new file path, or pass --force to replace the file")
    if not path.parent.is_dir():
        raise UsageError(f"{path}: --json folder {path.parent} does not exist; allowed: a path in an existing folder")
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        sections = [s.strip() for s in args.only.split(",") if s.strip()]
        bad = [s for s in sections if s not in SECTIONS]
        if bad or not sections:
            raise UsageError(
                f"--only = {args.only!r} is not valid; allowed: a comma-separated subset of {', '.join(SECTIONS)}"
            )
        if not 1 <= args.workers <= 64:
            raise UsageError(f"--workers = {args.workers} is out of range; allowed: int in 1..64")
        if args.against and not (Path(args.against) / "clustersim" / "__init__.py").is_file():
            raise UsageError(
                f"--against = {args.against!r} is not a clustersim source tree; allowed: a checkout holding clustersim/"
            )
        if not 1 <= args.rounds <= 50:
            raise UsageError(f"--rounds = {args.rounds} is out of range; allowed: int in 1..50")
        out = resolve_output(args)
    except UsageError as exc:
        print(f"benchmarks/run.py: {exc}", file=sys.stderr)
        return 2

    q = args.quick
    info = machine.describe()
    method = {
        "seeds": "fixed: 1..reps for timed runs; warm-up runs use other seeds",
        "warm_up": "every section runs the model (and the peer) untimed first",
        "statistic": "median over repetitions; construction (init) and stepping (run) timed separately",
        "quick": q,
    }
    print("clustersim benchmarks" + (" (quick)" if q else ""))
    print(machine.summary_line(info), flush=True)
    res: dict = {"machine": info, "method": method}
    t_start = time.perf_counter()
    if "single" in sections:
        print("  single run ...", flush=True)
        res["single"] = with_load(bench_single, reps=5 if q else 15)
    if "streams" in sections:
        print("  streams: one run under legacy and counter-based draws ...", flush=True)
        res["streams"] = with_load(bench_streams, reps=3 if q else 9)
    if "replicates" in sections:
        print("  replicates: run_scenario with 10 replicates, DataFrames included ...", flush=True)
        res["replicates"] = with_load(bench_replicates, reps=3 if q else 9)
    if "ensemble" in sections:
        print("  ensemble: runs per second by batch size, beside one run at a time ...", flush=True)
        res["ensemble"] = with_load(
            bench_ensemble,
            batch_sizes=(1, 8, 32, 64, 128) if q else (1, 8, 16, 32, 64, 128, 256),
            runs_each=128 if q else 256,
            singles=3 if q else 7,
        )
    if "calibrate" in sections:
        print("  calibrate: the quick ABC-SMC calibration, batch sampler beside the single-core one ...", flush=True)
        if all(importlib.util.find_spec(m) for m in ("pyabc", "greenlet")):
            res["calibrate"] = with_load(bench_calibrate, reps=1 if q else 2)
        else:  # an optional extra: the other sections still run and are written
            res["calibrate"] = with_load(lambda: {"skipped": "pyabc or greenlet not installed (extra 'calibrate')"})
    if "scale" in sections:
        reps = {1_000: 3, 10_000: 2, 100_000: 1} if q else {1_000: 5, 10_000: 3, 100_000: 3}
        res["scale"] = with_load(bench_scale, reps)
    if "peer" in sections:
        print(f"  peer: clustersim vs Mesa BoltzmannWealth at {PEER_AGENTS:,} agents ...", flush=True)
        res["peer"] = with_load(bench_peer, reps=2 if q else 3, boltzmann_steps=10)
    if "sweep" in sections:
        import sweep

        res["sweep"] = with_load(sweep.bench_sweep, runs=64 if q else 256, workers=args.workers, reps=1 if q else 3)
    if "sobol" in sections:
        import sobol

        slices = 256 if q else 16
        print(f"  sobol: a 1/{slices} slice of experiments/sobol_study.toml, {args.workers} workers ...", flush=True)
        res["sobol"] = with_load(sobol.bench_sobol, slices=slices, workers=args.workers)
    if args.against:
        print(f"  versus: this tree against {args.against}, {args.rounds} alternating rounds ...", flush=True)
        res["versus"] = with_load(bench_versus, Path(args.against), rounds=args.rounds)
    res["elapsed_s"] = time.perf_counter() - t_start
    rows = figures(res)
    res["figures"] = [{k: r[k] for k in ("figure", "value", "shown", "target", "verdict")} for r in rows]
    print_table(rows)
    shown = [k for k in (*SECTIONS, "versus") if k in res]
    loads = [f"{k} {res[k]['load_average'][0]:.1f}->{res[k]['load_average'][1]:.1f}" for k in shown]
    if loads and all(res[k]["load_average"][0] is not None for k in shown):
        print(
            f"\n1-minute load average before->after each section (the benchmark adds 1 serially, {info['usable_cores']} in parallel sections): "
            + ", ".join(loads)
        )
    write_json_atomic(out, res)
    print(f"\nwrote {out} ({res['elapsed_s']:.0f} s)")
    missed = [r["figure"] for r in rows if r["verdict"] == "MISS"]
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
