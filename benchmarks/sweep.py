"""Sweep throughput: one experiment through the serial, local and Dask executors.

The experiment is a grid over two levers of ``funded_programme`` (disbursement delay x grant
amount, 4 x 4 points) with enough replicates for the requested number of runs, written to a
temporary TOML file and run with ``clustersim.experiments.run_experiment``. The Dask
``LocalCluster`` is started once, before timing, and handed to ``run_experiment`` as its scheduler,
so its start-up (reported separately) is not counted against throughput. The local process pool
is started inside ``run_experiment``, so its start-up is part of its throughput, as it is for a user.
"""

from __future__ import annotations

import importlib.util
import logging
import statistics
import tempfile
import time
from pathlib import Path

DELAYS = (0, 6, 12, 18)  # disbursement_delay_months
GRANTS = (100.0, 200.0, 400.0, 800.0)  # grant_amount, k$
POINTS = len(DELAYS) * len(GRANTS)


def experiment_toml(runs: int) -> str:
    """A grid experiment of ``runs`` runs (a multiple of 16) over two funding levers."""
    if runs % POINTS:
        raise ValueError(f"runs = {runs}; allowed: a multiple of {POINTS}")
    return f"""name = "benchmark_sweep"
description = "Benchmark sweep: disbursement delay x grant amount on the funded programme."
scenario = "funded_programme"
replicates = {runs // POINTS}
seed = 2024
outputs = ["final_cooperation", "final_trust", "dropouts", "revenue_index"]

[design]
method = "grid"

[fixed]
# the budget is the sum of the lines, so a larger grant is not refused for exceeding the preset's total
programme_budget = 0.0

[factors]
disbursement_delay_months = {{ levels = {list(DELAYS)} }}
grant_amount = {{ levels = {list(GRANTS)} }}
"""


def start_dask(workers: int):
    """A LocalCluster with ``workers`` single-threaded worker processes, ready to run the model."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    client.wait_for_workers(workers)
    # importing the model in every worker is part of start-up, not of the sweep
    client.run(lambda: __import__("clustersim.experiments.work"))
    return cluster, client


def bench_sweep(runs: int, workers: int, reps: int) -> dict:
    """Runs per second of the same sweep through each executor; the median of ``reps`` rounds."""
    try:
        from clustersim.experiments import load_experiment, run_experiment
    except ImportError as exc:  # the experiments package is optional for the other sections
        return {"error": f"clustersim.experiments is not importable ({exc})"}
    import pandas as pd

    out: dict = {"runs": runs, "workers": workers, "reps": reps, "design": "grid 4 x 4 x replicates"}
    with tempfile.TemporaryDirectory(prefix="clustersim-bench-") as tmp:
        path = Path(tmp) / "benchmark_sweep.toml"
        path.write_text(experiment_toml(runs))
        exp = load_experiment(path)
        if exp.n_runs != runs:
            raise RuntimeError(f"the benchmark experiment has {exp.n_runs} runs, expected {runs}")
        out["experiment"] = experiment_toml(runs)

        import clustersim

        clustersim.ClusterModel("funded_programme", seed=0).run()  # warm-up of this process

        executors = ["serial", "local"]
        cluster = client = None
        startup = None
        if importlib.util.find_spec("distributed") is None:
            out["dask_error"] = "dask.distributed is not installed (pip install 'clustersim[cluster]')"
        else:
            executors.append("dask")
            print(f"  sweep: starting a Dask LocalCluster with {workers} workers ...", flush=True)
            t0 = time.perf_counter()
            cluster, client = start_dask(workers)
            startup = time.perf_counter() - t0
        times: dict[str, list[float]] = {ex: [] for ex in executors}
        serial_cpu: list[float] = []
        tables: dict[str, pd.DataFrame] = {}
        try:
            for rnd in range(reps):
                for ex in executors:
                    print(f"  sweep: {runs} runs, {ex}, round {rnd + 1}/{reps} ...", flush=True)
                    kw = {"workers": workers} if ex != "serial" else {}
                    if ex == "dask":
                        kw["scheduler"] = client
                    t, c = time.perf_counter(), time.process_time()
                    table = run_experiment(path, executor=ex, progress=False, **kw)
                    times[ex].append(time.perf_counter() - t)
                    if ex == "serial":
                        serial_cpu.append(time.process_time() - c)
                    if len(table) != runs:
                        raise RuntimeError(f"{ex} sweep returned {len(table)} rows, expected {runs}")
                    tables[ex] = table
        finally:
            if client is not None:
                client.close()
                cluster.close()

    ref = tables["serial"]
    identical = all(tables[ex].equals(ref) for ex in executors)
    serial_rate = runs / statistics.median(times["serial"])
    execs = []
    for ex, ts in times.items():
        secs = statistics.median(ts)
        rate = runs / secs
        n_workers = 1 if ex == "serial" else workers
        entry = {
            "executor": ex,
            "workers": n_workers,
            "seconds_each": ts,
            "seconds": secs,
            "runs_per_s": rate,
            "speedup": rate / serial_rate,
            "efficiency": rate / serial_rate / n_workers,
        }
        if ex == "dask":
            entry["startup_s"] = startup
        execs.append(entry)
    out["executors"] = execs
    # the serial sweep runs in this process: CPU time over wall time is the share of a core it got
    # (about 1.0 on an otherwise idle machine; well below 1 means other work competed for the cores)
    out["serial_cpu_share"] = statistics.median(c / t for c, t in zip(serial_cpu, times["serial"], strict=True))
    out["identical_results"] = identical
    return out
