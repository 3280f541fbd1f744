"""A folder served by `python -m http.server` on 127.0.0.1, and a blank Chromium page of that
origin that can import the folder's ES modules (for the browser tests of vae_core/web)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from helpers.browser import CHROMIUM, CHROMIUM_FLAGS, free_port, playwright_api, watch

BLANK = "<!doctype html><html><head><meta charset='utf-8'><title>blank</title></head><body></body></html>"


@contextlib.contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """``python -m http.server`` over ``folder`` on a free port of 127.0.0.1; yields its URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 20
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2).read()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"python -m http.server did not start on {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def blank_page(url: str) -> Iterator:
    """A blank page at ``url``/blank.html in Debian's Chromium; on leaving, fails if the page threw
    or asked any other host for anything."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)
            errors, outside = watch(page, url + "/")
            page.route(f"{url}/blank.html", lambda route: route.fulfill(body=BLANK, content_type="text/html"))
            page.goto(f"{url}/blank.html")
            yield page
            assert not errors, errors
            assert not outside, f"requests to other hosts: {sorted(set(outside))[:5]}"
        finally:
            browser.close()
