"""Writing results safely: atomic folders, no silent overwrites, and a manifest of provenance."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import sys
import tempfile
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

PACKAGES = ("clustersim", "mesa", "numpy", "scipy", "networkx", "pandas", "pyarrow", "matplotlib", "SALib", "tqdm")


class OutputExistsError(FileExistsError):
    """The output folder exists and is not empty. The message is one line."""


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed versions of the packages that determine results."""
    out = {"python": platform.python_version()}
    for name in PACKAGES + extra:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def environment() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "argv": sys.argv,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def is_nonempty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def free_default_folder(base: Path) -> Path:
    """``base`` if it is free, else ``base-2``, ``base-3``... (default outputs never overwrite)."""
    if not is_nonempty_dir(base) and not (base.exists() and not base.is_dir()):
        return base
    k = 2
    while True:
        cand = base.with_name(f"{base.name}-{k}")
        if not cand.exists():
            return cand
        k += 1


#: the record every clustersim command leaves in its output folder (run, compare, portfolio and calibrate:
#: manifest.json; sweep: _manifest.json; validate: validation.json; analyze: analysis.json): a folder holding none
#: of them was not written by clustersim, and --force does not delete it
RESULT_RECORDS = ("manifest.json", "_manifest.json", "validation.json", "analysis.json")


def check_output_folder(out: Path, force: bool) -> None:
    """Refuse a non-empty folder unless ``force``, and even then unless clustersim wrote it (``RESULT_RECORDS``):
    --force replaces earlier results, never a folder of other files (the scenario file being run, notes)."""
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out}: exists and is not a folder; allowed: a new or empty folder")
    if is_nonempty_dir(out) and not force:
        raise OutputExistsError(
            f"{out}: folder is not empty; allowed: a new or empty folder, or pass --force to replace it"
        )
    if is_nonempty_dir(out) and not any(_is_record(out / name) for name in RESULT_RECORDS):
        raise OutputExistsError(
            f"{out}: not a clustersim results folder (none of {', '.join(RESULT_RECORDS)}), so --force will not "
            "replace it; allowed: a results folder, or a new or empty folder"
        )


def _is_record(path: Path) -> bool:
    """Whether ``path`` is a record clustersim wrote: a JSON object naming clustersim's version (every manifest
    and the validation report), or an analysis record naming its results folder and files. The file name alone
    is not enough: ``manifest.json`` is common."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):  # missing, unreadable, not UTF-8, not JSON
        return False
    if not isinstance(record, dict):
        return False
    versions = record.get("versions")
    return (isinstance(versions, dict) and "clustersim" in versions) or (
        path.name == "analysis.json" and {"results_folder", "files"} <= record.keys()
    )


@contextmanager
def atomic_folder(out: Path, force: bool = False):
    """Write into a temporary sibling folder and move it into place only on success.

    An error or interrupt leaves no partial output; with ``force`` the old
    folder is replaced only after the new one is complete.
    """
    out = Path(out)
    check_output_folder(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        if out.exists():
            trash = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(trash)
            tmp.rename(out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:  # the move failed (a name the file system refuses): no temporary folder is left behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically (temporary name, then rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n")
    os.replace(tmp, path)


def _jsonable(x):
    if hasattr(x, "item"):
        return x.item()
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, (set, tuple)):
        return list(x)
    return str(x)
