"""Fixtures of the browser suites: one app server and one Chromium page per test module.
Where Chromium or the MNIST files are missing, every test here is skipped with the reason."""

import pytest

from helpers.browser import (CHROMIUM, CHROMIUM_FLAGS, SENT_FRAMES, SHOTS, assert_clean, missing, playwright_api,
                             running_app, wait_for_scatter, watch)


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
        errors, outside = watch(page, server)
        page.on("websocket", lambda ws: ws.on("framesent", lambda frame: SENT_FRAMES.append(frame)))
        page.goto(server)
        wait_for_scatter(page)
        yield page
        assert_clean(errors, outside)
        browser.close()
