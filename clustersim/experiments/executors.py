"""Executors: where batches of runs execute (serially, on a local process pool, or on Dask).

Every executor calls ``on_result(batch_index, result)`` in the parent process
as batches finish, in whatever order they finish. Results do not depend on
the executor because each run's seed is fixed before it is shipped.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ..scenario import ScenarioError, exception_text
from .work import run_batch

EXECUTORS = ("serial", "local", "dask")
#: a batch that was in flight when the pool broke this many times is given up on (it likely kills workers)
MAX_BATCH_FAILURES = 3

log = logging.getLogger(__name__)


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def check_execution(executor: str, workers) -> None:
    """A one-line :class:`ScenarioError` for an unknown executor or a worker count below one; callers check
    before they create any output."""
    if executor not in EXECUTORS:
        raise ScenarioError(f"--executor {executor!r} is not allowed; allowed: one of {', '.join(EXECUTORS)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ScenarioError(f"--workers {workers!r} is not allowed; allowed: int >= 1")


#: seconds to wait for a Dask scheduler named by its address before the sweep is refused
CONNECT_TIMEOUT_S = 10


@contextlib.contextmanager
def connected_scheduler(executor: str, scheduler):
    """``scheduler`` as the sweep will use it: a Dask scheduler's address becomes a connected ``Client``, closed
    on leaving, so that an unreachable address is a one-line error before any output exists (it used to be
    found after the pilot run had written a results folder). Anything else passes through."""
    if executor != "dask" or not isinstance(scheduler, str):
        yield scheduler
        return
    try:
        from distributed import Client
    except ImportError:
        raise ScenarioError(
            "--executor dask needs the cluster extra; allowed: pip install 'clustersim[cluster]', or --executor local"
        ) from None
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except Exception as exc:  # distributed raises OSError, TimeoutError, ValueError or even AssertionError here
        raise ScenarioError(
            f"--scheduler {scheduler!r}: could not connect to a Dask scheduler within {CONNECT_TIMEOUT_S} s "
            f"({exception_text(exc, 160)}); "
            "allowed: the address of a running scheduler, e.g. tcp://10.0.0.1:8786"
        ) from None
    try:
        yield client
    finally:
        client.close()


def execute(
    batches: list,
    on_result: Callable[[int, dict], None],
    executor: str = "local",
    workers: int | None = None,
    scheduler=None,
    model=None,
    series: bool = False,
) -> dict:
    """Run ``batches`` (lists of :class:`RunSpec`) and feed each result to ``on_result``.

    Returns facts about the execution for the manifest (executor, workers, restarts).
    """
    check_execution(executor, workers)
    if not batches:
        return {"executor": executor, "workers": 0}
    if executor == "serial":
        for i, b in enumerate(batches):
            on_result(i, run_batch(model, b, series))
        return {"executor": "serial", "workers": 1}
    if executor == "local":
        return _local(batches, on_result, workers or default_workers(), model, series)
    return _dask(batches, on_result, workers, scheduler, model, series)


def _mp_context():
    # fork is fastest and lets workers use functions defined in a script or notebook, but
    # forking a multi-threaded process (a Dask client, a progress-bar thread) can deadlock;
    # then forkserver: workers fork from a clean server that has already imported the model.
    if sys.platform.startswith("linux"):
        if threading.active_count() == 1:
            return multiprocessing.get_context("fork")
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["clustersim.experiments.work"])
        return ctx
    return multiprocessing.get_context("spawn")


def _die_with_parent(parent: int | None) -> None:
    """A pool worker's initializer: on Linux the kernel kills the worker when its parent dies (PR_SET_PDEATHSIG),
    even by SIGKILL, which runs no cleanup; without it an orphaned worker computed its whole batch for nobody.
    ``parent`` is the sweep's process id under fork (a worker whose parent is already gone exits), None under
    forkserver, whose server exits with the sweep. Elsewhere nothing is done."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # no prctl: the old behaviour
        return
    if parent is not None and os.getppid() != parent:  # the parent died before the call above
        os._exit(1)


#: prctl's option number (linux/prctl.h)
PR_SET_PDEATHSIG = 1


def _local(batches, on_result, workers: int, model, series: bool) -> dict:
    """A process pool that survives dying workers.

    When a worker dies, :class:`ProcessPoolExecutor` marks every pending
    future broken. Finished batches have already been handed on; the rest are
    resubmitted to a fresh pool, so nothing is lost and nothing runs twice
    into the results.
    """
    ctx = _mp_context()
    pending = set(range(len(batches)))
    failures = dict.fromkeys(pending, 0)
    restarts = 0
    workers = min(workers, len(batches))
    while pending:
        parent = os.getpid() if ctx.get_start_method() == "fork" else None
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_die_with_parent, initargs=(parent,))
        broken = False
        try:
            with warnings.catch_warnings():
                # fork is only chosen when no other Python thread runs; the idle native threads of
                # BLAS or Arrow that CPython counts here hold no lock the workers need
                warnings.filterwarnings(
                    "ignore", message=".*use of fork\\(\\) may lead to deadlocks", category=DeprecationWarning
                )
                futures = {pool.submit(run_batch, model, batches[i], series): i for i in sorted(pending)}
            waiting = set(futures)
            while waiting and not broken:
                done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: futures[f]):
                    i = futures[fut]
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    pending.discard(i)
                    on_result(i, result)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if broken:
            restarts += 1
            for i in pending:
                failures[i] += 1
                if failures[i] >= MAX_BATCH_FAILURES:
                    runs = ", ".join(f"({r.point_id}, {r.replicate})" for r in batches[i])
                    raise RuntimeError(
                        f"a worker died {failures[i]} times while running the batch of runs (point, replicate) {runs}"
                    )
            log.warning("a worker process died; restarting the pool and resubmitting %d batches", len(pending))
            print(
                f"clustersim: a worker process died; restarted the pool and resubmitted {len(pending)} batches",
                file=sys.stderr,
            )
    return {"executor": "local", "workers": workers, "pool_restarts": restarts}


def _dask(batches, on_result, workers, scheduler, model, series: bool) -> dict:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ScenarioError(
            "--executor dask needs the cluster extra; allowed: pip install 'clustersim[cluster]', or --executor local"
        ) from None
    cluster = None
    own_client = True
    if isinstance(scheduler, Client):
        client, own_client = scheduler, False
    elif scheduler is not None:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never clash with a running dashboard
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        # retries: a task whose worker died is rescheduled by Dask itself; retries cover task errors
        futures = client.map(run_batch, [model] * len(batches), batches, [series] * len(batches), pure=False, retries=1)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut, result in as_completed(futures, with_results=True):
            on_result(index[fut.key], result)
            fut.release()
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()
    return {
        "executor": "dask",
        "workers": n_workers,
        # a client connected for the sweep (connected_scheduler) is recorded by its scheduler's address
        "scheduler": getattr(getattr(scheduler, "scheduler", None), "address", None) or str(scheduler)
        if scheduler is not None
        else "LocalCluster",
    }
