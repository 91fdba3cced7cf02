"""Running an experiment: seeds, shards, batching, progress and the result store."""

from __future__ import annotations

import contextlib
import math
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..scenario import ScenarioError, exception_text
from .design import Experiment, load_experiment
from .executors import check_execution, connected_scheduler, default_workers, execute
from .store import LOCK, MANIFEST, ResultStore, now, read_results, shard_tag
from .work import RunSpec, draws_reach, run_batch

#: work per task: at least this long, so scheduling overhead is negligible ...
MIN_TASK_SECONDS = 0.1
#: ... and at most this long, so the load stays balanced and progress stays live
MAX_TASK_SECONDS = 2.0
#: tasks per worker aimed for when the limits above allow it
TASKS_PER_WORKER = 4
#: the most runs one ensemble task steps together: past about 64 clusters of 60 firms a run costs no
#: less (benchmarks/run.py --only ensemble), and a bigger task only delays progress and balance
MAX_ENSEMBLE_BATCH = 256
#: write a part file at least this often (seconds) ...
FLUSH_SECONDS = 20.0
#: ... or when this many finished runs are waiting
FLUSH_ROWS = 5000


def parse_shard(shard) -> tuple[int, int]:
    """``"i/n"`` (0 <= i < n) or ``(i, n)`` -> ``(i, n)``; ``None`` -> ``(0, 1)``."""
    if shard is None:
        return (0, 1)
    if isinstance(shard, str):
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", shard)
        if not m:
            raise ScenarioError(f"--shard {shard!r} is not allowed; allowed: i/n with 0 <= i < n, e.g. 0/4")
        shard = (int(m.group(1)), int(m.group(2)))
    i, n = shard
    if not (isinstance(i, int) and isinstance(n, int) and n >= 1 and 0 <= i < n):
        raise ScenarioError(f"--shard {i}/{n} is not allowed; allowed: i/n with 0 <= i < n, e.g. 0/4")
    return (i, n)


def all_runs(exp: Experiment) -> list[tuple[int, int]]:
    """Every (point_id, replicate) of the experiment in canonical order (baseline last)."""
    n = exp.n_points + (1 if exp.baseline is not None else 0)
    return [(p, r) for p in range(n) for r in range(exp.replicates)]


def shard_runs(exp: Experiment, shard: tuple[int, int]) -> list[tuple[int, int]]:
    """The runs of one shard: every n-th run of the canonical order, starting at i (balanced shards)."""
    i, n = shard
    return all_runs(exp)[i::n]


class Progress:
    """tqdm on a terminal; otherwise a plain "n/N done, ETA" line now and then (for batch logs)."""

    def __init__(self, total: int, initial: int, mode, label: str, interval: float = 15.0):
        self.total, self.n, self.label, self.interval = total, initial, label, interval
        self.start_n, self.t0, self.last = initial, time.monotonic(), time.monotonic()
        self.bar = None
        self.plain = False
        if mode is False or total == 0:
            return
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="run", desc=label, file=sys.stderr, smoothing=0.1)
        else:
            self.plain = True
            print(f"{label}: {initial}/{total} done, starting", file=sys.stderr, flush=True)

    def update(self, k: int) -> None:
        self.n += k
        if self.bar is not None:
            self.bar.update(k)
        elif self.plain and (time.monotonic() - self.last >= self.interval):
            self._line()

    def _line(self) -> None:
        self.last = time.monotonic()
        elapsed = self.last - self.t0
        rate = (self.n - self.start_n) / elapsed if elapsed > 0 else 0.0
        left = self.total - self.n
        eta = _hms(left / rate) if rate > 0 else "?"
        print(
            f"{self.label}: {self.n}/{self.total} done ({100 * self.n / self.total:.0f}%), "
            f"{rate:.1f} runs/s, ETA {eta}",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.plain:
            self._line()


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def ensemble_batch_size(n_runs: int, workers: int) -> int:
    """Runs per task when runs go through the ensemble engine: as many as balance allows, up to
    ``MAX_ENSEMBLE_BATCH`` (a bigger batch costs less per run, and a run's result does not depend on it)."""
    balanced = math.ceil(n_runs / (TASKS_PER_WORKER * workers))
    return max(1, min(balanced, MAX_ENSEMBLE_BATCH, n_runs))


def batch_size(run_seconds: float, n_runs: int, workers: int) -> int:
    """Runs per task: aim for TASKS_PER_WORKER tasks per worker within the task-length limits."""
    t = max(run_seconds, 1e-6)
    balanced = math.ceil(n_runs / (TASKS_PER_WORKER * workers))
    size = min(max(balanced, math.ceil(MIN_TASK_SECONDS / t)), max(1, math.floor(MAX_TASK_SECONDS / t)))
    return max(1, min(size, n_runs))


class _Collector:
    """Turns batch results into table rows, flushing them to the store now and then. With a store the rows
    and series live on disk only (the caller reads the table back), so memory stays bounded however many runs
    a design has; without one they are kept to be returned."""

    def __init__(self, exp: Experiment, store: ResultStore | None, seeds: dict, progress: Progress):
        self.exp, self.store, self.seeds, self.progress = exp, store, seeds, progress
        self.rows: list[dict] = []
        self.series: list = []
        self.kept: list[pd.DataFrame] = []
        self.kept_series: list = []
        self.runs_done = 0
        self.run_seconds = 0.0
        self.last_flush = time.monotonic()

    def add(self, result: dict) -> None:
        exp = self.exp
        for row in result["rows"]:
            pid, rep = row.pop("point_id"), row.pop("replicate")
            full = {"point_id": pid, "replicate": rep, "seed": self.seeds[(pid, rep)]}
            if exp.baseline is not None:
                full["is_baseline"] = pid == exp.baseline_point
            full.update(exp.factor_values(pid))
            full.update(row)
            self.rows.append(full)
        if result["series"]:
            self.series.extend(result["series"])
        self.run_seconds += result["seconds"]
        self.progress.update(len(result["rows"]))
        if len(self.rows) >= FLUSH_ROWS or time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.last_flush = time.monotonic()
        if not self.rows:
            return
        table = _typed(pd.DataFrame(self.rows), self.exp)
        self.runs_done += len(table)
        if self.store is not None:
            self.store.write(table, self.series)
        else:
            self.kept.append(table)
            self.kept_series.extend(self.series)
        self.rows, self.series = [], []


def _typed(df: pd.DataFrame, exp: Experiment) -> pd.DataFrame:
    """Stable column types, so every part file has the same schema."""
    df["point_id"] = df["point_id"].astype("int64")
    df["replicate"] = df["replicate"].astype("int64")
    df["seed"] = df["seed"].astype("int64")
    for f in exp.factors:
        if f.kind == "int":
            df[f.name] = df[f.name].astype("int64")
        elif f.kind == "float":
            df[f.name] = df[f.name].astype("float64")
        elif f.kind == "bool":
            df[f.name] = df[f.name].astype(bool)
    return df


def _first_run(exp: Experiment, first: list, store: ResultStore | None, sole_writer: bool, created: bool) -> dict:
    """The pilot run. A custom model that fails on it (a wrong signature, an error of its own) is an input
    error: one line naming the file and the model. What this call wrote for nothing goes: the manifest and
    lock it created, and the folder if it created that and nothing else is in it. A folder other shards or a
    resumed sweep may share (``sole_writer`` false) is left as it is, as their runs may be in it or on the way."""
    try:
        return run_batch(exp.model, first, exp.series)
    except Exception as exc:
        failure = _model_failure(exp, exc, "on the first run")
        if store is not None and sole_writer and store.wrote_manifest and not any(store.folder.glob("part-*")):
            for name in (MANIFEST, LOCK):
                (store.folder / name).unlink(missing_ok=True)
            if created:
                with contextlib.suppress(OSError):  # not empty after all: keep it
                    store.folder.rmdir()
        raise failure from None


def _model_failure(exp: Experiment, exc: Exception, when: str, kept: str = "") -> ScenarioError:
    """The one-line input error for a custom model that raised ``exc``, or for the outputs function of a
    ``WithClusterOutputs`` model (``OutputsFailure``); clustersim's own model re-raises it (a failure there
    is a bug, not an input)."""
    from ..ensemble_run import OutputsFailure

    if isinstance(exc, OutputsFailure):
        allowed = "an outputs(state, k, scenario) function returning a dict of named numbers or labels"
    elif exp.model is None or draws_reach(exp.model):
        raise exc
    else:
        allowed = "a function model(params: dict, seed: int) -> dict of outputs"
    return ScenarioError(
        f"{exp.source}: model = {exp.model_ref!r} failed {when} ({exception_text(exc)}){kept}; "
        f"allowed: {allowed}"
    )


def run_experiment(
    experiment: Experiment | str | Path | Mapping,
    executor: str = "local",
    workers: int | None = None,
    scheduler=None,
    shard=None,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    progress=None,
    batch_runs: int | None = None,
) -> pd.DataFrame:
    """Run an experiment and return one row per run.

    Columns: ``point_id``, ``replicate``, ``seed`` (plus ``is_baseline`` when the
    experiment has a baseline), the factor values, then every output of the model
    (for the agent-based model: all per-run summary metrics and ``typology``).

    - ``executor``: ``"serial"``, ``"local"`` (process pool on ``workers`` cores,
      default all) or ``"dask"`` (``scheduler`` = an address or a
      ``distributed.Client``; neither = a ``LocalCluster`` with ``workers`` workers).
    - ``shard``: ``"i/n"`` runs every n-th run starting at i (0-based).
    - ``out``: a results folder (Parquet parts + ``_manifest.json``). A
      non-empty folder needs ``resume`` (skip finished runs) or ``force``.
    - ``progress``: ``None`` (a bar on a terminal, plain lines otherwise) or ``False``.
    - ``batch_runs``: runs per task (default: sized automatically). Under counter-based draws a task's runs
      are stepped together by the ensemble engine; a run's result never depends on the batch.

    The returned rows are those of the shard (including runs finished earlier
    when resuming), sorted by design point and replicate. Each run's seed is
    ``run_seed(seed, point_id, replicate)`` (``run_seed(seed, replicate)`` with a doses
    design's ``common_seeds``; :meth:`Experiment.run_seed`), so the rows are identical
    whichever executor, worker count or shard split produced them.
    """
    exp = load_experiment(experiment)
    shard = parse_shard(shard)
    check_execution(executor, workers)  # before any output exists
    with connected_scheduler(executor, scheduler) as connected:  # so is an unreachable scheduler
        return _run(exp, executor, workers, connected, shard, out, resume, force, progress, batch_runs)


def _run(exp: Experiment, executor, workers, scheduler, shard, out, resume, force, progress, batch_runs):
    """``run_experiment`` once its inputs are checked (``shard`` parsed) and the scheduler is connected."""
    runs = shard_runs(exp, shard)
    created = out is not None and not Path(out).exists()
    store = ResultStore.open(out, exp, shard, resume=resume, force=force) if out is not None else None
    done = store.finished() if store is not None else set()
    mine = set(runs)
    todo = [r for r in runs if r not in done]
    seeds = {r: exp.run_seed(*r) for r in runs}
    params = exp.point_params()
    specs = [RunSpec(p, r, seeds[(p, r)], params[p], exp.streams) for p, r in todo]
    started, t0 = now(), time.perf_counter()
    label = f"{exp.name}" + (f" shard {shard[0]}/{shard[1]}" if shard[1] > 1 else "")
    bar = Progress(len(runs), len(runs) - len(todo), progress, label)
    collector = _Collector(exp, store, seeds, bar)
    info: dict = {"executor": executor, "workers": 0}
    try:
        if specs:
            # a pilot run in this process measures the cost of one run to size the batches
            t_pilot = time.perf_counter()
            sole_writer = not resume and shard == (0, 1)
            collector.add(_first_run(exp, specs[:1], store, sole_writer, created))
            pilot = time.perf_counter() - t_pilot
            rest = specs[1:]
            n_workers = 1 if executor == "serial" else (workers or default_workers())
            if batch_runs is not None:
                size = max(1, min(int(batch_runs), max(len(rest), 1)))
            elif draws_reach(exp.model) and exp.streams == "counter":
                size = ensemble_batch_size(len(rest), n_workers)
            else:
                size = batch_size(pilot, len(rest), n_workers)
            batches = [rest[i : i + size] for i in range(0, len(rest), size)]
            try:
                info = execute(
                    batches,
                    lambda _i, result: collector.add(result),
                    executor=executor,
                    workers=workers,
                    scheduler=scheduler,
                    model=exp.model,
                    series=exp.series,
                )
            except Exception as exc:
                collector.flush()  # first, so that the count below is of the runs on disk
                kept = f"; the {collector.runs_done} runs it finished are kept in {out} (--resume)" if store else ""
                raise _model_failure(exp, exc, "during the sweep", kept) from None
            info.update({"batch_size": size, "batches": len(batches), "pilot_seconds": round(pilot, 4)})
    finally:
        collector.flush()  # finished runs reach the disk even on an interrupt
        bar.close()
        if store is not None and specs and (store.folder / MANIFEST).is_file():  # (a failed first run removed it)
            wall = time.perf_counter() - t0
            store.record_session(
                {
                    "started": started,
                    "finished": now(),
                    "runs": collector.runs_done,
                    "planned": len(specs),
                    "wall_seconds": round(wall, 3),
                    "run_seconds": round(collector.run_seconds, 3),
                    "runs_per_second": round(collector.runs_done / wall, 2) if wall > 0 else None,
                    "shard": shard_tag(shard),
                    **info,
                }
            )
    if store is not None:
        table = read_results(store.folder)
        if table.empty:
            return table
        keep = [(p, r) in mine for p, r in zip(table["point_id"], table["replicate"], strict=True)]
        return table[keep].reset_index(drop=True)
    if not collector.kept:
        return pd.DataFrame()
    table = pd.concat(collector.kept, ignore_index=True)
    table = table.sort_values(["point_id", "replicate"], kind="stable").reset_index(drop=True)
    if exp.series and collector.kept_series:
        table.attrs["series"] = pd.concat(collector.kept_series, ignore_index=True)
    return table
