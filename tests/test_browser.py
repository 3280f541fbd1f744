"""End to end in a real browser: `streamlit run app.py` on 127.0.0.1, driven through
Debian's Chromium by Playwright. Screenshots of every page go to $SCREENSHOT_DIR
(default: screenshots/)."""

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

from conftest import MNIST_DIR

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "screenshots"))

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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "VAE_DATA_DIR": str(MNIST_DIR), "HOME": str(tmp_path_factory.mktemp("home"))}
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
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture(scope="module")
def page(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server)
        wait_for_scatter(page)
        yield page
        assert not [e for e in errors if "ResizeObserver" not in e], errors
        browser.close()


def wait_for_scatter(page) -> None:
    """Until the scatter is drawn and listens to clicks."""
    page.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot');"
                           " return gd && gd._fullData && gd._fullData.length >= 11 && gd._fullLayout._plots; }")
    page.wait_for_timeout(1000)


def wait_idle(page) -> None:
    """Until the script run has finished (the status widget is gone) and the page settled."""
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
    page.wait_for_timeout(500)


def shoot(page, name: str) -> None:
    page.wait_for_timeout(800)  # let plots finish drawing
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


HEADINGS = {"Explore": "Explore the latent space", "Interpolate": "Interpolate between two images",
            "Generate": "Generate new images", "Train": "Train your own model"}


def goto(page, name: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(name, exact=True).click()
    page.wait_for_selector(f"h1:has-text('{HEADINGS[name]}')")


def point_position(page, trace: int, point: int) -> tuple[float, float]:
    """Screen position of a point of the first Plotly chart."""
    return page.evaluate("""([trace, point]) => {
        const gd = document.querySelector('.js-plotly-plot');
        const t = gd._fullData[trace], fl = gd._fullLayout;
        const r = gd.querySelector('.nsewdrag').getBoundingClientRect();
        return [r.left + fl.xaxis.l2p(t.x[point]), r.top + fl.yaxis.l2p(t.y[point])];
    }""", [trace, point])


def isolated_point(page, trace: int) -> int:
    """Index of a point of ``trace``, well inside the view, with no other test point close by,
    so a click on it cannot land on a neighbour instead."""
    return page.evaluate("""(trace) => {
        const gd = document.querySelector('.js-plotly-plot'), data = gd._fullData;
        const limit = 0.8 * gd._fullLayout.xaxis.range[1];
        let best = 0, bestDist = -1;
        for (let i = 0; i < Math.min(300, data[trace].x.length); i++) {
            const x = data[trace].x[i], y = data[trace].y[i];
            if (Math.abs(x) > limit || Math.abs(y) > limit) continue;
            let nearest = Infinity;
            for (let t = 1; t < data.length; t++) {
                if (!data[t].customdata) continue;
                for (let j = 0; j < data[t].x.length; j++) {
                    if (t === trace && j === i) continue;
                    const d = (data[t].x[j] - x) ** 2 + (data[t].y[j] - y) ** 2;
                    if (d < nearest) nearest = d;
                }
            }
            if (nearest > bestDist) { bestDist = nearest; best = i; }
        }
        return best;
    }""", trace)


def wait_for_model(page, label: str) -> None:
    """Until the sidebar's model picker shows ``label``."""
    page.wait_for_function("label => { const box = document.querySelector("
                           "'[data-testid=stSidebar] [data-testid=stSelectbox] input'); "
                           "return box && box.value === label; }", arg=label)


def images(page) -> list[str]:
    return page.eval_on_selector_all("[data-testid='stMain'] [data-testid='stImage'] img", "els => els.map(e => e.src)")


def test_explore_click_shows_decoded_images(page):
    times = []
    for trace in (1, 8, 3, 10):  # classes 0, 7, 2, 9
        name = page.evaluate(f"() => document.querySelector('.js-plotly-plot')._fullData[{trace}].name")
        x, y = point_position(page, trace, isolated_point(page, trace))
        start = time.perf_counter()
        page.mouse.click(x, y)
        page.wait_for_function("name => document.querySelector('[data-testid=stMain]').innerText"
                               ".includes('class ' + name) && document.querySelectorAll("
                               "'[data-testid=stMain] [data-testid=stImage] img').length >= 3", arg=name)
        times.append(1000 * (time.perf_counter() - start))
        wait_idle(page)
        assert "Test image #" in page.inner_text("[data-testid='stMain']")
    print(f"click-to-image ms: {[round(t) for t in times]}")
    assert len(set(images(page))) == 3
    shoot(page, "explore")


def test_explore_click_on_empty_space_decodes_that_location(page):
    grid = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullData[0].x.length")
    side = round(grid ** 0.5)
    page.mouse.click(*point_position(page, 0, (side - 3) * side + 2))  # near the top-left corner: no test points
    page.wait_for_function("() => document.querySelector('[data-testid=stMain]').innerText.includes('Location (') "
                           "&& document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img').length === 1")
    assert "The nearest test image is #" in page.inner_text("[data-testid='stMain']")


def test_interpolation_slider_changes_the_image(page):
    goto(page, "Interpolate")
    walk = "[data-testid='stMain'] .st-key-interp_walk .js-plotly-plot"
    page.wait_for_selector(f"{walk} image")
    wait_idle(page)
    before = page.get_attribute(f"{walk} image", "href")
    rail = page.locator(f"{walk} .slider-rail-rect").bounding_box()
    page.mouse.click(rail["x"] + 0.9 * rail["width"], rail["y"] + rail["height"] / 2)
    # the frames travel with the figure: the image changes in the browser, with no rerun
    page.wait_for_function("([sel, before]) => document.querySelector(sel + ' image').getAttribute('href') !== before",
                           arg=[walk, before])
    shown = page.evaluate("""sel => { const gd = document.querySelector(sel), slider = gd.layout.sliders[0];
        return {href: gd.querySelector('image').getAttribute('href'), title: gd.layout.title.text,
                step: slider.steps[slider.active].args[0]}; }""", walk)
    assert shown["href"] == shown["step"]["images[0].source"] and shown["title"] == shown["step"]["title.text"]
    assert float(shown["title"].split()[2]) > 0.75  # "t = 0.88 · z = (...)"
    assert not page.query_selector("[data-testid=stStatusWidget]")
    shoot(page, "interpolate")


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
