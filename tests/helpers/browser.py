"""Driving the app in Debian's Chromium with Playwright: start `streamlit run app.py` on
127.0.0.1, wait for the plane, find points on it, take screenshots (to $SCREENSHOT_DIR,
default: screenshots/)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.data import MNIST_DIR, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "screenshots"))
SENT_FRAMES: list = []  # every websocket frame the module's page sends (see sent_frames)

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed "
                                     "(pip install playwright)")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    if not all((MNIST_DIR / f).exists() for f in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz")):
        return f"the browser tests train and look up digits: they need the MNIST files in {MNIST_DIR}"
    return None


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
    assert_quiet_log(Path(log.name).read_text())


# What a server must never print while visitors use it: an exception's traceback, or a warning
# with its stack (e.g. Streamlit's "created with a default value but also had its value set").
LOG_PROBLEMS = ("Traceback (most recent call last)", "Stack (most recent call last)")


def assert_quiet_log(text: str) -> None:
    """Fail with the first offending lines of a server log that holds a traceback or a stack."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if any(p in line for p in LOG_PROBLEMS):
            pytest.fail("the server logged a problem:\n" + "\n".join(lines[max(0, i - 1):i + 12]))


PHONE = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)  # a phone's tab


def watch(tab, server: str) -> tuple[list[str], list[str]]:
    """The page errors of ``tab`` and its requests to any host but ``server``, collected as they come."""
    errors: list[str] = []
    outside: list[str] = []  # the app must work offline: nothing but its own server is asked
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url))
    return errors, outside


def assert_clean(errors: list[str], outside: list[str]) -> None:
    """No page error (but the browser's harmless ResizeObserver notice) and no request to another host."""
    assert not [e for e in errors if "ResizeObserver" not in e], errors
    assert not outside, f"requests to other hosts: {sorted(set(outside))[:5]}"


@contextlib.contextmanager
def visitor_tab(page, server: str, **context_options):
    """A new visitor's tab in the browser of ``page`` (``**PHONE`` for a phone); closed on leaving, and
    then checked: no page error, nothing asked of another host."""
    context = page.context.browser.new_context(**context_options)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    errors, outside = watch(tab, server)
    try:
        yield tab
    finally:
        context.close()
    assert_clean(errors, outside)


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
            "Generate": "Generate new images", "Your digit": "Encode your own digit",
            "Inside the VAE": "Inside the VAE",
            "Anomalies": "Find unusual images", "AE vs VAE": "Autoencoder vs VAE", "Toy world": "Toy world",
            "Train": "Train your own model"}


def goto(page, name: str) -> None:
    page.locator(".st-key-app_navigation").get_by_text(name, exact=True).click()
    page.wait_for_selector(f"h1:has-text('{HEADINGS[name]}')")


def plane_position(page, z, mode: str = "explore", painted: bool = False) -> tuple[float, float]:
    """Screen position of the latent point ``z`` on the page's plane of ``mode`` (drawn by Plotly,
    or with ``painted`` also by its first paint)."""
    # (waited for, not read once: a rerun may still be drawing the plane when a test asks)
    return tuple(page.wait_for_function("""([z, mode, painted]) => {
        const v = [...window.__latentPlane.views].find(v => v.data.mode === mode && v.main && (painted ? v.main.painted : v.main.ready));
        if (!v) return null;
        const r = v.main.stage.getBoundingClientRect(), p = v.main.toPx(z);
        return [r.left + p[0], r.top + p[1]]; }""", arg=[list(map(float, z)), mode, painted]).json_value())


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


def draw_seven(page, finger=None) -> None:
    """Two strokes on the page's drawing canvas (Your digit, Inside the VAE), the bar and the stem
    of a 7: with the mouse, or with ``finger`` (a CDP session of a touch page) as a phone's touches."""
    canvas = page.locator("[data-testid='stMain'] .canvas-root canvas").last  # fabric's event layer
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0, w = box["x"], box["y"], box["width"]

    def touch(kind: str, x: float, y: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
        finger.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    down, move, up = ((page.mouse.move, page.mouse.move, page.mouse.up) if finger is None else
                      (lambda x, y: touch("touchStart", x, y), lambda x, y: touch("touchMove", x, y),
                       lambda: touch("touchEnd", 0, 0)))
    strokes = [[(0.3, 0.2), (0.72, 0.2)], [(0.72, 0.2), (0.42, 0.85)]]
    for stroke in strokes:
        (ax, ay), (bx, by) = stroke
        down(x0 + ax * w, y0 + ay * w)
        if finger is None:
            page.mouse.down()
        for i in range(1, 21):
            t = i / 20
            move(x0 + (ax + t * (bx - ax)) * w, y0 + (ay + t * (by - ay)) * w)
        up()
        page.wait_for_timeout(300)


def images(page) -> list[str]:
    return page.eval_on_selector_all("[data-testid='stMain'] [data-testid='stImage'] img", "els => els.map(e => e.src)")
