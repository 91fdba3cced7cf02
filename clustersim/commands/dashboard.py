"""``clustersim dashboard``: start the trainer dashboard in the browser, offline.

The app is ``clustersim/dashboard/app.py``, served by ``solara run`` in a
child process. The scenario travels in an environment variable. Solara serves
its front-end assets from the local ``solara-assets`` package through its
asset proxy, and its usage telemetry is switched off, so the page works with
no internet access.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ..scenario import ScenarioError, load_scenario

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
SCENARIO_ENV = "CLUSTERSIM_DASHBOARD_SCENARIO"  # read by the app (clustersim.dashboard.app.SCENARIO_ENV)

#: environment for an offline solara server: local assets, no telemetry, no CDN
OFFLINE_ENV = {
    "SOLARA_ASSETS_PROXY": "True",  # serve /_solara/cdn/ from the installed solara-assets package
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no calls to api.mixpanel.com
}


def register(sub) -> None:
    p = sub.add_parser(
        "dashboard",
        help="start the trainer dashboard (an interactive browser view of trust building)",
        description=(
            "Start the trainer dashboard on this machine and print its address. It needs no internet. "
            "Stop it with Ctrl+C."
        ),
    )
    p.add_argument(
        "scenario",
        nargs="?",
        default="funded_programme",
        help="preset name or .toml path to open with (default funded_programme)",
    )
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0 = any free port)")
    p.add_argument("--host", default="localhost", help="address to listen on (default localhost)")
    p.set_defaults(func=run)


def server_command(port: int, host: str) -> list[str]:
    """The ``solara run`` command line for the dashboard app.

    Production mode (no code reloading) and no version check (it would ask pypi.org at every start).
    """
    solara = shutil.which("solara", path=str(Path(sys.executable).parent)) or shutil.which("solara")
    base = [solara] if solara else [sys.executable, "-m", "solara"]
    return [
        *base,
        "run",
        str(APP),
        "--port",
        str(port),
        "--host",
        host,
        "--production",
        "--no-open",
        "--no-check-version",
    ]


def server_env(scenario: str) -> dict[str, str]:
    """Environment for the server process: the scenario to open and the offline settings."""
    return {**os.environ, **OFFLINE_ENV, SCENARIO_ENV: scenario}


def free_port(host: str = "localhost") -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise ScenarioError(f"--port {args.port}: out of range; allowed: int in 0..65535")
    scenario = load_scenario(args.scenario)  # a bad name or file fails here in one line, before any server starts
    if importlib.util.find_spec("solara") is None:
        print(
            "clustersim: error: the dashboard needs the 'dashboard' extra: pip install 'clustersim[dashboard]'",
            file=sys.stderr,
        )
        return 2
    ref = args.scenario if Path(args.scenario).suffix != ".toml" else str(Path(args.scenario).resolve())
    port = args.port or free_port(args.host)
    print(f"clustersim dashboard: scenario {scenario.name}", flush=True)
    print(f"open http://{args.host}:{port}/ in a browser (Ctrl+C stops the dashboard)", flush=True)
    proc = subprocess.Popen(server_command(port, args.host), env=server_env(ref))

    def stop(signum, frame):  # a SIGTERM to this process stops the server too, leaving no orphan behind
        proc.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=10)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if code in (0, -signal.SIGTERM) else code
