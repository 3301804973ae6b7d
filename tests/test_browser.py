"""A real browser against `ganforge serve`: headless Chromium (Debian's) driven by Playwright.

Starts the server as a user would, opens the page, clicks Generate, waits for the image and saves a
screenshot. Skipped, with the reason, only where no Chromium or no Playwright can be found.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ganforge import train

CHROMIUM = next((p for p in (os.environ.get("GANFORGE_CHROMIUM"), shutil.which("chromium"),
                             shutil.which("chromium-browser"), shutil.which("google-chrome")) if p), None)
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, tiny_config):
    run = train(tiny_config("model.g_cond=concat", "model.d_cond=projection"), out=tmp_path / "run", progress=False)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "ganforge", "serve", str(run), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("the server did not start: " + process.stdout.read1().decode(errors="replace"))
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_generate_in_a_real_browser(server, tmp_path):
    shots = Path(os.environ.get("GANFORGE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(server)
        page.wait_for_function("document.getElementById('model').options.length > 0")
        page.fill("#generate-class", "7")
        page.click("#generate-go")
        page.wait_for_selector("#generate-result:not([hidden]) img", timeout=30_000)
        natural_width = page.eval_on_selector("#generate-result img", "img => img.naturalWidth")
        assert natural_width > 0
        assert page.text_content("#error") == ""
        page.fill("#generate-n", "1000")  # over the limit: the page shows the API's message
        page.click("#generate-go")
        page.wait_for_function("document.getElementById('error').textContent.length > 0")
        page.screenshot(path=str(shots / "serve-page.png"), full_page=True)
        browser.close()
    assert (shots / "serve-page.png").stat().st_size > 0
