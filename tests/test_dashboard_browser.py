"""The trainer dashboard in a real browser: ``clustersim dashboard`` serves a working page with no internet.

Drives Debian's headless Chromium through the Python ``playwright`` package
(no browser download). Every request to a host other than the dashboard's is
blocked and recorded, so a page that needs a CDN fails here as it would
offline. Saves a screenshot to ``test-artifacts/dashboard.png``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dashboard server exited with {proc.returncode}: {proc.stdout.read()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"dashboard server did not listen on port {port} within {timeout} s")


@pytest.fixture(scope="module")
def server():
    """``clustersim dashboard funded_programme --port P`` in a child process; yields the address it printed."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); the browser test needs it")
    pytest.importorskip("playwright.sync_api", reason="the Python playwright package is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "clustersim.cli", "dashboard", "funded_programme", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first = proc.stdout.readline()
        address = proc.stdout.readline()
        assert "scenario funded_programme" in first
        assert f"http://localhost:{port}/" in address
        wait_for_port(port, proc)
        yield f"http://localhost:{port}/"
    finally:
        proc.send_signal(signal.SIGTERM)  # the command stops its solara server on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def image_ok(page, css: str) -> bool:
    return page.eval_on_selector(css, "img => img.complete && img.naturalWidth > 100 && img.naturalHeight > 100")


def test_dashboard_in_headless_chromium(server):
    from playwright.sync_api import sync_playwright

    external, failed = [], []

    def only_local(route):
        url = route.request.url
        if url.startswith(("http://localhost", "ws://localhost", "data:", "blob:")):
            route.continue_()
        else:  # what a machine with no internet would not get
            external.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1150})
            page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
            page.on("response", lambda r: failed.append(f"{r.url} {r.status}") if r.status >= 400 else None)
            page.route("**/*", only_local)
            page.goto(server)

            # the network view, the charts and the headline numbers render
            page.locator(".network-view").wait_for(timeout=60_000)
            page.locator(".series-view").wait_for()
            assert image_ok(page, ".network-view") and image_ok(page, ".series-view")
            month = page.locator(".headline-month")
            assert month.inner_text() == "0 of 120"
            assert page.get_by_text("Disbursement delay (months)").count() >= 1

            # change a slider (number of firms) by clicking on its track, then reset
            label = page.locator(".control-n_firms .control-label")
            assert label.inner_text() == "Number of firms (firms): 60"
            track = page.locator(".control-n_firms .v-slider")
            track.scroll_into_view_if_needed()
            box = track.bounding_box()
            page.mouse.click(box["x"] + 0.5 * box["width"], box["y"] + box["height"] / 2)
            page.wait_for_function(
                "() => !document.querySelector('.control-n_firms .control-label').innerText.endsWith(': 60')"
            )
            n_firms = int(label.inner_text().rsplit(": ", 1)[1])
            assert 100 <= n_firms <= 300
            page.locator(".btn-reset").click()
            firms_card = page.locator(".headline-value").first
            page.wait_for_function(
                "(n) => document.querySelector('.headline-value').innerText.endsWith('of ' + n)", arg=n_firms
            )
            assert month.inner_text() == "0 of 120"
            series_before = page.locator(".series-view").screenshot()

            # step five months
            for k in range(1, 6):
                page.locator(".btn-step").click()
                page.wait_for_function(
                    "(k) => document.querySelector('.headline-month').innerText === k + ' of 120'", arg=k
                )
            assert month.inner_text() == "5 of 120"
            assert firms_card.inner_text().endswith(f"of {n_firms}")
            page.wait_for_timeout(300)  # let the last picture arrive
            assert page.locator(".series-view").screenshot() != series_before, "the time series did not change"
            assert image_ok(page, ".network-view")

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        finally:
            browser.close()

    assert not external, f"the page asked the internet for: {external[:5]}"
    assert not failed, f"failed requests: {failed[:5]}"
