"""The machine a benchmark ran on: cores, CPU model, memory, load and package versions."""

from __future__ import annotations

import os
import platform
from importlib import metadata

PACKAGES = ("clustersim", "mesa", "numpy", "scipy", "networkx", "pandas", "dask", "distributed")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def total_memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def describe() -> dict[str, object]:
    """Everything needed to read a timing: hardware, load at start and the versions that matter."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": total_memory_gib(),
        "platform": platform.platform(),
        # other work on the machine skews timings; the load average says how much there was
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": versions,
    }


def summary_line(m: dict[str, object]) -> str:
    v = m["versions"]
    mem = f", {m['memory_gib']:.1f} GiB" if m["memory_gib"] else ""
    load = m["load_average_at_start"]
    load_txt = f"; load average {load[0]:.2f}" if load else ""
    return (
        f"{m['cpu_model']}, {m['usable_cores']} usable cores ({m['logical_cores']} logical){mem}{load_txt}\n"
        f"Python {v['python']}, numpy {v['numpy']}, mesa {v['mesa']}, scipy {v['scipy']}, "
        f"networkx {v['networkx']}, dask {v['dask']}; {m['platform']}"
    )
