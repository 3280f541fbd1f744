"""Fixtures of the browser suites: one app server and one Chromium page per test module.
Where Chromium or the MNIST files are missing, every test here is skipped with the reason."""

import pytest

from helpers.browser import (CHROMIUM, CHROMIUM_FLAGS, SENT_FRAMES, SHOTS, missing, playwright_api, running_app,
                             wait_for_scatter)


@pytest.fixture(scope="session", autouse=True)
def _browser_available():
    reason = missing()
    if reason:
        pytest.skip(reason)


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
