"""The results folder of a sweep: Parquet part files plus a manifest.

Layout::

    RESULTS_DIR/
        part-s0of1-00000.parquet     one row per run (written to a temporary name, then renamed)
        part-s0of1-00001.parquet
        _manifest.json               experiment, design matrix, seed scheme, versions, timings
        _series/part-*.parquet       monthly series, only if the experiment asks for them
        _analysis/                   tables and figures from ``clustersim analyze``

``pandas.read_parquet(RESULTS_DIR)`` reads every run as one tidy table:
pyarrow's dataset discovery skips names that start with ``_`` or ``.``, which
is why the manifest, the series and the analysis outputs carry that prefix (a
file named plain ``manifest.json`` in the folder would make ``read_parquet``
fail, because pyarrow tries to open every other file as Parquet).

A part file appears only when complete, so the set of part files is the set of
finished runs; ``--resume`` reads it and skips them. Several shards can write
into one folder at once: each names its parts after its shard, and manifest
updates take a file lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..results import OutputExistsError, environment, package_versions, write_json
from ..scenario import Scenario, ScenarioError
from .design import Design, Experiment, Factor

MANIFEST = "_manifest.json"
LOCK = "_manifest.lock"
SERIES_DIR = "_series"
ANALYSIS_DIR = "_analysis"
SEED_SCHEME = (
    "seed = clustersim.seeds.run_seed(root_seed, point_id, replicate): "
    "numpy SeedSequence(root_seed, spawn_key=(point_id, replicate)).generate_state(1, uint64)[0] >> 1; "
    "recorded per run in the 'seed' column"
)


def shard_tag(shard: tuple[int, int]) -> str:
    return f"s{shard[0]}of{shard[1]}"


@contextlib.contextmanager
def _locked(folder: Path):
    """An exclusive lock on the folder's manifest (several shards may share the folder)."""
    import fcntl

    with open(folder / LOCK, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class ResultStore:
    """Appends finished runs of one shard of an experiment to a results folder."""

    def __init__(self, folder: Path, exp: Experiment, shard: tuple[int, int]):
        self.folder = Path(folder)
        self.exp = exp
        self.shard = shard
        self.tag = shard_tag(shard)
        self.seq = 0
        self.wrote_manifest = False  # whether this store began the folder's manifest (``open``)

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, folder, exp: Experiment, shard=(0, 1), resume: bool = False, force: bool = False) -> ResultStore:
        """Prepare ``folder`` for ``exp``: create it, resume it, or (with ``force``) replace it.

        A non-empty folder is never written into without ``resume`` or ``force``.
        """
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise OutputExistsError(f"{folder}: exists and is not a folder; allowed: a new or empty folder")
        nonempty = folder.is_dir() and any(folder.iterdir())
        ours = (folder / MANIFEST).is_file()
        if nonempty and force:
            if not ours:
                raise OutputExistsError(
                    f"{folder}: not a clustersim results folder (no {MANIFEST}), so --force will not delete it; "
                    "allowed: a results folder, or a new or empty folder"
                )
            shutil.rmtree(folder)
            nonempty = ours = False
        elif nonempty and not resume:
            raise OutputExistsError(
                f"{folder}: folder is not empty; allowed: a new or empty folder, --resume to complete it, "
                "or --force to replace it"
            )
        elif nonempty and not ours:
            raise OutputExistsError(
                f"{folder}: --resume needs a results folder written by clustersim sweep (no {MANIFEST}); "
                "allowed: such a folder, or a new or empty folder"
            )
        folder.mkdir(parents=True, exist_ok=True)
        store = cls(folder, exp, shard)
        with _locked(folder):
            if (folder / MANIFEST).is_file():
                manifest = read_manifest(folder)
                if manifest.get("fingerprint") != exp.fingerprint():
                    raise OutputExistsError(
                        f"{folder}: holds a different experiment ({manifest.get('experiment', {}).get('source')}, "
                        f"fingerprint {manifest.get('fingerprint')}); allowed: the same experiment with --resume, "
                        "or --force / another --out"
                    )
            else:
                write_json(folder / MANIFEST, store._new_manifest())
                store.wrote_manifest = True
        store._clean_leftovers()
        return store

    def _new_manifest(self) -> dict:
        exp = self.exp
        design = exp.design()
        return {
            "kind": "sweep",
            "format": 1,
            "experiment": exp.spec(),
            "fingerprint": exp.fingerprint(),
            "design": {
                "method": exp.method,
                "settings": exp.settings,
                "problem": exp.problem() if exp.method != "grid" else None,
                "factors": exp.factor_names,
                "n_points": len(design),
                "baseline_point": exp.baseline_point,
                "group_size": exp.group_size,
                # the sampler's raw matrix (what SALib analyses) and the values the model saw
                "matrix": design.matrix.tolist() if design.matrix is not None else None,
                "points": [list(p.values()) for p in design.points],
            },
            "runs": {"replicates": exp.replicates, "total": exp.n_runs},
            "seeds": {"root_seed": exp.seed, "scheme": SEED_SCHEME},
            "layout": {
                "parts": "part-s<shard>of<n>-<seq>.parquet (pandas.read_parquet(folder) reads them all)",
                "series": f"{SERIES_DIR}/" if exp.series else None,
                "analysis": f"{ANALYSIS_DIR}/",
            },
            "versions": package_versions(("dask", "distributed", "dask-jobqueue")),
            "environment": environment(),
            "timings": {},
        }

    def _clean_leftovers(self) -> None:
        """Remove temporary files of this shard from an interrupted session, and orphaned series parts."""
        for p in self.folder.glob(f".part-{self.tag}-*"):
            p.unlink(missing_ok=True)
        series = self.folder / SERIES_DIR
        if series.is_dir():
            for p in series.glob(f".part-{self.tag}-*"):
                p.unlink(missing_ok=True)
            for p in series.glob(f"part-{self.tag}-*.parquet"):
                if not (self.folder / p.name).exists():  # summary part never committed
                    p.unlink()
        existing = [int(p.stem.rsplit("-", 1)[1]) for p in self.folder.glob(f"part-{self.tag}-*.parquet")]
        self.seq = max(existing, default=-1) + 1

    # ------------------------------------------------------------------ reading
    def finished(self) -> set[tuple[int, int]]:
        """(point_id, replicate) of every run already on disk (any shard)."""
        done: set[tuple[int, int]] = set()
        for p in self.folder.glob("part-*.parquet"):
            try:
                t = pq.read_table(p, columns=["point_id", "replicate"])
            except (pa.ArrowException, OSError) as exc:  # damaged outside clustersim: parts are written whole
                raise _unreadable_part(f"{p}: not a readable results part", exc) from None
            done.update(zip(t.column(0).to_pylist(), t.column(1).to_pylist(), strict=True))
        return done

    # ------------------------------------------------------------------ writing
    def write(self, table: pd.DataFrame, series: list | None = None) -> None:
        """Commit finished runs as a new part file (temporary name, then an atomic rename)."""
        if table.empty:
            return
        name = f"part-{self.tag}-{self.seq:05d}.parquet"
        self.seq += 1
        if series:
            sdir = self.folder / SERIES_DIR
            sdir.mkdir(exist_ok=True)
            tmp = sdir / f".{name}.tmp"
            pd.concat(series, ignore_index=True).to_parquet(tmp, index=False)
            os.replace(tmp, sdir / name)
        tmp = self.folder / f".{name}.tmp"
        table.to_parquet(tmp, index=False)
        os.replace(tmp, self.folder / name)  # the commit point: from now on these runs count as finished

    def record_session(self, session: dict) -> None:
        """Append this session's timings to the manifest (under a lock, as shards may share it)."""
        with _locked(self.folder):
            manifest = json.loads((self.folder / MANIFEST).read_text())
            manifest.setdefault("timings", {}).setdefault(f"{self.shard[0]}/{self.shard[1]}", []).append(session)
            write_json(self.folder / MANIFEST, manifest)


# ---------------------------------------------------------------------- reading a finished folder
def read_manifest(folder) -> dict:
    """The manifest of a results folder; a one-line error if there is none."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ScenarioError(f"{folder}: folder not found; allowed: a results folder written by clustersim sweep")
    if not path.is_file():
        raise ScenarioError(f"{folder}: no {MANIFEST}; allowed: a results folder written by clustersim sweep")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            f"{path}: not valid JSON ({type(exc).__name__}); allowed: a manifest written by clustersim sweep"
        ) from None
    missing = [k for k in ("experiment", "fingerprint", "runs") if not isinstance(manifest, dict) or k not in manifest]
    if missing:
        raise ScenarioError(
            f"{path}: not a sweep manifest (no {', '.join(missing)}); allowed: a manifest written by clustersim sweep"
        )
    return manifest


def _unreadable_part(problem: str, exc: Exception) -> ScenarioError:
    """The one-line error for a results part that cannot be read (damaged outside clustersim)."""
    return ScenarioError(
        f"{problem} ({type(exc).__name__}); allowed: the parts clustersim sweep wrote "
        "(delete a damaged part and --resume to run its runs again)"
    )


def read_results(folder) -> pd.DataFrame:
    """Every run in a results folder, sorted by design point and replicate."""
    folder = Path(folder)
    if not any(folder.glob("part-*.parquet")):
        return pd.DataFrame()
    try:
        df = pd.read_parquet(folder)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable_part(f"{folder}: a results part cannot be read", exc) from None
    return df.sort_values(["point_id", "replicate"], kind="stable").reset_index(drop=True)


def experiment_from_manifest(manifest: dict) -> Experiment:
    """Rebuild the experiment a folder was swept with (for analysis; no files or presets needed)."""
    spec = manifest["experiment"]
    d = manifest["design"]

    def scenario(s):
        return None if s is None else Scenario(s["parameters"], name=s["name"], source=s["source"])

    factors = []
    for f in spec["factors"]:
        if "levels" in f:
            factors.append(Factor(f["name"], f["kind"], levels=tuple(f["levels"])))
        else:
            factors.append(Factor(f["name"], f["kind"], low=f["range"][0], high=f["range"][1]))
    settings = {k: v for k, v in spec["design"].items() if k != "method"}
    exp = Experiment(
        name=spec["name"],
        source=spec["source"],
        factors=factors,
        method=spec["design"]["method"],
        settings=settings,
        replicates=spec["replicates"],
        seed=spec["seed"],
        outputs=tuple(spec["outputs"]),
        description=spec.get("description", ""),
        scenario=scenario(spec["scenario"]),
        baseline=scenario(spec["baseline"]),
        fixed=spec.get("fixed", {}),
        model_ref=spec.get("model"),
        series=spec.get("series", False),
        streams=spec.get("streams", "legacy"),
    )
    names = [f.name for f in factors]
    points = [dict(zip(names, row, strict=True)) for row in d["points"]]
    exp._design = Design(points, None if d["matrix"] is None else np.asarray(d["matrix"], dtype=float))
    return exp


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
