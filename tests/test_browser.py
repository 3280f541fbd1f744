"""End to end in a real browser: `streamlit run app.py` on 127.0.0.1, driven through
Debian's Chromium by Playwright. Screenshots of every page go to $SCREENSHOT_DIR
(default: screenshots/)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import MNIST_DIR

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "screenshots"))
SENT_FRAMES: list = []  # every websocket frame the module's page sends (see sent_frames)

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed "
                                     "(pip install playwright)")
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not found (apt-get install chromium)"),
    pytest.mark.skipif(not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists(),
                       reason=f"the training step needs the MNIST files in {MNIST_DIR}"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(tmp_path_factory, **env):
    """`streamlit run app.py` on a free port of 127.0.0.1, with ``env`` added; yields its URL."""
    port = free_port()
    env = {**os.environ, "VAE_DATA_DIR": str(MNIST_DIR), "HOME": str(tmp_path_factory.mktemp("home")), **env}
    log = open(tmp_path_factory.mktemp("server") / "streamlit.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"streamlit did not start: {Path(log.name).read_text()}")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_app(tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("websocket", lambda ws: ws.on("framesent", lambda frame: SENT_FRAMES.append(frame)))
        outside: list[str] = []  # the app must work offline: nothing but its own server is asked
        page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url))
        page.goto(server)
        wait_for_scatter(page)
        yield page
        assert not [e for e in errors if "ResizeObserver" not in e], errors
        assert not outside, f"requests to other hosts: {sorted(set(outside))[:5]}"
        browser.close()


def wait_for_scatter(page, mode: str = "explore") -> None:
    """Until the latent plane is drawn, its decoder loaded, and it listens to the pointer."""
    page.wait_for_selector(f"[data-testid=stMain] .lp-mode-{mode}[data-ready='1']")
    page.wait_for_timeout(300)


def wait_idle(page) -> None:
    """Until the script run has finished (the status widget is gone) and the page settled."""
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
    page.wait_for_timeout(500)


def shoot(page, name: str) -> None:
    page.wait_for_timeout(800)  # let plots finish drawing
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


HEADINGS = {"Explore": "Explore the latent space", "Interpolate": "Interpolate between two images",
            "Generate": "Generate new images", "Train": "Train your own model", "AE vs VAE": "Autoencoder vs VAE",
            "Toy world": "Toy world"}


def goto(page, name: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(name, exact=True).click()
    page.wait_for_selector(f"h1:has-text('{HEADINGS[name]}')")


def plane_position(page, z, mode: str = "explore") -> tuple[float, float]:
    """Screen position of the latent point ``z`` on the page's plane of ``mode``."""
    return tuple(page.evaluate("""([z, mode]) => {
        const v = [...window.__latentPlane.views].find(v => v.data.mode === mode && v.main && v.main.ready);
        const r = v.main.stage.getBoundingClientRect(), p = v.main.toPx(z);
        return [r.left + p[0], r.top + p[1]]; }""", [list(map(float, z)), mode]))


def isolated_point(page, label: int, mode: str = "explore") -> tuple[int, list[float]]:
    """(index, z) of a test point of class ``label``, well inside the view, with no other point
    close by, so a click on it cannot land on a neighbour instead."""
    return tuple(page.evaluate("""([label, mode]) => {
        const v = [...window.__latentPlane.views].find(v => v.data.mode === mode && v.main && v.main.ready);
        const p = v.main.points, limit = 0.8 * v.data.model.extent;
        let best = -1, bestDist = -1, seen = 0;
        for (let i = 0; i < p.n && seen < 300; i++) {
            if (p.labels[i] !== label) continue;
            const x = p.z[2 * i], y = p.z[2 * i + 1];
            if (Math.abs(x) > limit || Math.abs(y) > limit) continue;
            seen++;
            let nearest = Infinity;
            for (let j = 0; j < p.n; j++) {
                if (j === i) continue;
                const d = (p.z[2 * j] - x) ** 2 + (p.z[2 * j + 1] - y) ** 2;
                if (d < nearest) nearest = d;
            }
            if (nearest > bestDist) { bestDist = nearest; best = i; }
        }
        return [best, [p.z[2 * best], p.z[2 * best + 1]]];
    }""", [label, mode]))


def wait_for_model(page, label: str) -> None:
    """Until the sidebar's model picker shows ``label``."""
    page.wait_for_function("label => { const box = document.querySelector("
                           "'[data-testid=stSidebar] [data-testid=stSelectbox] input'); "
                           "return box && box.value === label; }", arg=label)


def images(page) -> list[str]:
    return page.eval_on_selector_all("[data-testid='stMain'] [data-testid='stImage'] img", "els => els.map(e => e.src)")


def test_explore_click_shows_decoded_images(page):
    times = []
    for label in (0, 7, 2, 9):
        index, z = isolated_point(page, label)
        start = time.perf_counter()
        page.mouse.click(*plane_position(page, z))
        page.wait_for_function("i => [...document.querySelectorAll('[data-testid=stMain] h3')].some(h => "
                               "h.innerText.startsWith('Test image #' + i + ' ')) && document.querySelectorAll("
                               "'[data-testid=stMain] [data-testid=stImage] img').length >= 3", arg=index)
        times.append(1000 * (time.perf_counter() - start))
        wait_idle(page)
        assert f"class {label}" in page.inner_text("[data-testid='stMain'] h3")
    print(f"click-to-image ms: {[round(t) for t in times]}")
    assert len(set(images(page))) == 3
    shoot(page, "explore")


def test_explore_click_on_empty_space_decodes_exactly_that_location(page):
    page.mouse.click(*plane_position(page, (3.5, -3.5)))  # the bottom-right corner: no test points
    page.wait_for_function("() => document.querySelector('[data-testid=stMain]').innerText.includes('Location (') "
                           "&& document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img').length === 1")
    heading = page.inner_text("[data-testid='stMain'] h3")
    x, y = (float(v) for v in heading.removeprefix("Location (").rstrip(")").split(", "))
    assert abs(x - 3.5) < 0.02 and abs(y + 3.5) < 0.02, heading  # no snapping to a grid
    assert "The nearest test image is #" in page.inner_text("[data-testid='stMain']")


def test_generate_digits_of_class_7(page):
    goto(page, "Generate")
    page.get_by_role("button", name="7", exact=True).click()
    page.wait_for_selector("text=16 new digits of class 7")
    # the class grid and the prior samples below it (the run may still be drawing the second)
    page.wait_for_function("document.querySelectorAll(\"[data-testid='stMain'] [data-testid='stImage'] img\").length == 2")
    assert len(images(page)) == 2
    shoot(page, "generate")


def test_quick_training_finishes_and_joins_the_picker(page):
    goto(page, "Train")
    page.get_by_text("Settings", exact=True).click()
    for label, value in (("Training images", "20000"), ("Epochs", "4")):
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        page.wait_for_timeout(500)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector("text=/epoch \\d+\\/4|Finished/")  # running (or, on a fast machine, already done)
    goto(page, "Generate")  # other pages stay usable while the session's thread trains
    page.get_by_role("button", name="3", exact=True).click()
    page.wait_for_selector("text=16 new digits of class 3")
    goto(page, "Train")
    page.wait_for_selector("text=Finished", timeout=120_000)
    wait_for_model(page, "My model 1 (MNIST)")
    shoot(page, "train")


def test_upload_of_a_checkpoint_and_of_a_bad_file(page, tmp_path):
    page.get_by_text("Upload a checkpoint").click()
    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(b"\x80\x04\x95 not a checkpoint")
    page.locator("[data-testid='stSidebar'] input[type=file]").set_input_files(str(bad))
    page.wait_for_selector("[data-testid='stSidebar'] [data-testid='stAlert'] >> text=is a Python pickle")
    good = tmp_path / "mine.safetensors"
    shutil.copy(ROOT / "pretrained" / "mnist.safetensors", good)
    page.locator("[data-testid='stSidebar'] input[type=file]").set_input_files(str(good))
    wait_for_model(page, "mine.safetensors (uploaded)")
    goto(page, "Explore")
    wait_for_scatter(page)
    shoot(page, "upload")
