"""Refresh the README's Dagster UI screenshots, ``docs/images/dagster-lineage.png`` and ``dagster-runs.png``.

    python -m ocr_pipeline_tests.ui_screenshots [DEMO_DIRECTORY]

Without an argument it runs ``ocr-pipeline demo --directory <tmpdir>`` first, so the instance has runs and
materialisations; with one it reuses a directory an earlier ``ocr-pipeline demo --directory`` filled. It then starts
``dagster-webserver`` (no daemon) on a free loopback port with ``DAGSTER_HOME=<dir>/.dagster_home``, photographs the
``catalog`` group's lineage (clipped to the graph's nodes) and the Runs page (clipped to its table) in Debian's
headless Chromium, and stops the webserver.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image

from ocr_pipeline_tests.review_screenshots import CHROMIUM, CHROMIUM_ARGS
from ocr_pipeline_tests.support import free_port

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "docs" / "images"
BIN = Path(sys.executable).parent
LINEAGE_VIEWPORT = {"width": 2000, "height": 760}
RUNS_VIEWPORT = {"width": 1500, "height": 820}
MARGIN = 24
MAX_BYTES = 400_000


def run_demo(directory: Path) -> None:
    subprocess.run(
        [str(BIN / "ocr-pipeline"), "demo", "--directory", str(directory)], check=True, stdout=subprocess.DEVNULL
    )


def start_webserver(directory: Path, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(directory / ".dagster_home")}
    return subprocess.Popen(
        [str(BIN / "dagster-webserver"), "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=directory,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("dagster-webserver did not answer")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: the webserver and its code server
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def open_page(page, url: str) -> None:
    """Go to ``url`` with the navigation hidden, dismissing the first-visit community dialog if it shows."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    skip = page.get_by_role("button", name="Skip")
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    with contextlib.suppress(PlaywrightTimeoutError):  # absent once the instance has seen it
        skip.wait_for(timeout=3000)
        skip.click()
    hide = page.get_by_role("button", name="Hide navigation")
    if hide.count():
        hide.click()
    page.wait_for_load_state("networkidle")


def graph_clip(page, margin: int = MARGIN) -> dict:
    """The viewport rectangle around every node of the lineage graph (its SVG foreignObjects), plus ``margin``."""
    left, top, right, bottom = page.evaluate("""() => {
        const rects = Array.from(document.querySelectorAll('svg foreignObject')).map(e => e.getBoundingClientRect())
            .filter(r => r.width > 0 && r.height > 0);
        return [Math.min(...rects.map(r => r.left)), Math.min(...rects.map(r => r.top)),
                Math.max(...rects.map(r => r.right)), Math.max(...rects.map(r => r.bottom))];
    }""")
    viewport = page.viewport_size
    x, y = max(left - margin, 0), max(top - margin, 0)
    return {
        "x": x,
        "y": y,
        "width": min(right + margin, viewport["width"]) - x,
        "height": min(bottom + margin, viewport["height"]) - y,
    }


def shrink(path: Path) -> None:
    """Re-save ``path`` optimised, and as a 256-colour palette if it is still over ``MAX_BYTES``."""
    image = Image.open(path).convert("RGB")
    image.save(path, optimize=True)
    if path.stat().st_size > MAX_BYTES:
        image.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def screenshots(url: str, shots: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=LINEAGE_VIEWPORT)
            open_page(page, f"{url}/locations/ocr_pipeline/asset-groups/catalog")
            page.get_by_text("validated_courses").first.wait_for()
            time.sleep(2)  # the graph fits itself to the view once laid out
            page.screenshot(path=str(shots / "dagster-lineage.png"), clip=graph_clip(page))
            page.set_viewport_size(RUNS_VIEWPORT)
            open_page(page, f"{url}/runs")
            page.locator("text=Success").first.wait_for()
            time.sleep(1)
            table = page.locator("[class*=VirtualizedTable_container]").first  # the runs table's rows
            bottom = table.bounding_box()["y"] + table.bounding_box()["height"] if table.count() else 10_000
            height = min(bottom + MARGIN, RUNS_VIEWPORT["height"])  # the table, not the empty page under it
            page.screenshot(
                path=str(shots / "dagster-runs.png"),
                clip={"x": 0, "y": 0, "width": RUNS_VIEWPORT["width"], "height": height},
            )
        finally:
            browser.close()


def main(argv: list[str]) -> int:
    SHOTS.mkdir(parents=True, exist_ok=True)
    temporary = None
    if argv:
        directory = Path(argv[0]).resolve()
    else:
        temporary = Path(tempfile.mkdtemp(prefix="ocr-ui-shots-"))
        directory = temporary / "demo"
        directory.mkdir()
        print(f"running ocr-pipeline demo --directory {directory} ...", flush=True)
        run_demo(directory)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        with open(directory / "webserver.log", "ab") as log:
            webserver = start_webserver(directory, port, log)
            try:
                wait_until_up(url, webserver)
                screenshots(url, SHOTS)
            finally:
                stop(webserver)
        for name in ("dagster-lineage.png", "dagster-runs.png"):
            shrink(SHOTS / name)
            print(f"wrote {SHOTS / name} ({(SHOTS / name).stat().st_size // 1024} KB)")
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
