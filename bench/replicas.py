"""Section "replicas" (issue 25): the app as 2 processes behind HAProxy with cookie stickiness
(deploy/), against one process, on this machine.

1. 50 first visits at the same moment against one ``streamlit run app.py``: the baseline;
2. the same against 2 app processes behind the proxy;
3. through the proxy, in Chromium: a checkpoint uploaded in the sidebar, then downloaded again.

A first visit is what a browser does for the app's first screen, less the static files it keeps
in its cache: the page, the health and host-config requests, then Streamlit's WebSocket and the
first run of the script (bench.protocol) until the server says it finished. Its time runs from
the first request to that end.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.browser import APP_ROOT, AppServer, Session, chromium, percentile
from bench.protocol import ProtocolVisitor
from bench.report import Row
from bench.streamlit_phone import HANDSHAKE_PATHS
from deploy.replicas import COOKIE, Replicas

VISITS = 50
VISIT_TIMEOUT_S = 120.0
SETTLE_S = 10.0  # a server's warm-up after its first page (ui/warmup.py) takes a few seconds


def _get(url: str, cookie: str | None) -> tuple[str | None, str | None]:
    """GET ``url``; (the sticky cookie the proxy set, the replica that answered)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=VISIT_TIMEOUT_S) as response:
        response.read()
        set_cookie = response.headers.get("Set-Cookie") or ""
        return (set_cookie.split(";", 1)[0] if f"{COOKIE}=" in set_cookie else None,
                response.headers.get("X-VAE-Replica"))


async def first_visit(url: str) -> tuple[float | None, str | None, str]:
    """One browser's first visit: seconds until its first run finished (None on a failure), the
    replica that served it (None without a proxy), and what went wrong ("" when nothing did)."""
    start = time.perf_counter()
    replica = None
    try:
        cookie, replica = await asyncio.to_thread(_get, url + "/", None)
        for path in HANDSHAKE_PATHS:
            await asyncio.to_thread(_get, url + path, cookie)
        async with ProtocolVisitor(url, "first visit", cookie=cookie) as visitor:
            await visitor.run_page(None, timeout=VISIT_TIMEOUT_S)
            if visitor.errors:
                return None, replica, visitor.errors[0]
    except Exception as e:  # noqa: BLE001  (a failed visit counts as one, without its time)
        return None, replica, f"{type(e).__name__}: {str(e)[:120]}"
    return time.perf_counter() - start, replica, ""


async def visit_storm(url: str, n: int, processes: int = 1) -> tuple[list[float | None], list[str | None], list[str]]:
    """``n`` first visits at once, once every process behind ``url`` has had its own first run
    and its warm-up (imports, models: not a visitor's work) has settled."""
    for _ in range(processes):  # the proxy hands first visits out in turn
        await first_visit(url)
    await asyncio.sleep(SETTLE_S)
    results = await asyncio.gather(*(first_visit(url) for _ in range(n)))
    return [s for s, _, _ in results], [r for _, r, _ in results], [e for _, _, e in results if e]


def same_tensors(a: bytes, b: bytes) -> bool:
    """Whether two safetensors files hold the same tensors (a download is written anew, so its
    bytes may differ from the upload's)."""
    import numpy as np
    from safetensors.numpy import load

    first, second = load(a), load(b)
    return first.keys() == second.keys() and all(np.array_equal(first[k], second[k]) for k in first)


async def upload_and_download(url: str, log_dir: Path) -> tuple[bool, str]:
    """In Chromium through ``url``: upload the shipped MNIST checkpoint in the sidebar, see it
    selected, download it again with "Download checkpoint" and compare the bytes."""
    source = APP_ROOT / "pretrained" / "mnist.safetensors"
    upload = log_dir / "uploaded.safetensors"
    upload.write_bytes(source.read_bytes())
    async with chromium("replicas") as (browser, _):
        session = await Session(browser, url, "uploader", timeout_ms=120_000).open()
        page = session.page
        try:
            await page.get_by_text("Upload a checkpoint").click()
            await page.locator("[data-testid='stSidebar'] input[type=file]").set_input_files(str(upload))
            await page.wait_for_function(
                "label => { const box = document.querySelector('[data-testid=stSidebar] [data-testid=stSelectbox] input');"
                " return box && box.value === label; }", arg="uploaded.safetensors (uploaded)")
            await session.wait_idle(300)
            async with page.expect_download() as info:
                await page.get_by_role("button", name="Download checkpoint").click()
            download = await info.value
            saved = log_dir / "downloaded.safetensors"
            await download.save_as(saved)
            same = same_tensors(saved.read_bytes(), source.read_bytes())
            return same, f"{saved.stat().st_size:,} bytes back, {'the same' if same else 'DIFFERENT'} weights and " \
                         f"codes; {session.log.errors} page errors"
        finally:
            await session.close()


async def _replicas(quick: bool, log) -> tuple[list[Row], dict]:
    visits = 20 if quick else VISITS
    log_dir = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    log(f"  {visits} first visits at once against one app process…")
    with AppServer(log_dir) as server:
        server.wait_healthy()
        single, _, single_errors = await visit_storm(server.url, visits)
    log(f"  {visits} first visits at once against 2 app processes behind HAProxy…")
    with Replicas(2, log_dir=log_dir / "site", app_root=APP_ROOT) as site:
        proxied, replicas, proxied_errors = await visit_storm(site.url, visits, processes=2)
        log("  an upload and a download through the proxy, in Chromium…")
        same, how = await upload_and_download(site.url, log_dir)
    failed = sum(s is None for s in single), sum(s is None for s in proxied)
    p95_single, p95_proxied = percentile(single, 95), percentile(proxied, 95)
    spread = {r: replicas.count(r) for r in sorted({r for r in replicas if r})}
    rows = [
        Row("replicas", f"{visits} simultaneous first visits, p95: 2 processes behind HAProxy", p95_proxied, "s",
            fmt="{:.2f}", baseline=f"one process: {p95_single or float('nan'):.2f} s "
                                   f"(×{(p95_single or 0) / (p95_proxied or float('nan')):.2f}); p50 "
                                   f"{percentile(proxied, 50) or float('nan'):.2f} vs "
                                   f"{percentile(single, 50) or float('nan'):.2f} s",
            note="a first visit: GET /, health, host-config, then the WebSocket's first run until the server "
                 "finished it (bench.protocol); the browser's static files are left out"),
        Row("replicas", "first visits that failed (one process, behind the proxy)", sum(failed), "", 0, "<=",
            fmt="{:.0f}", baseline=f"{failed[0]} and {failed[1]}; visits per process: {spread}",
            note="; ".join(sorted(set(single_errors + proxied_errors)))[:300]),
        Row("replicas", "a checkpoint uploaded, then downloaded, through the proxy", 1.0 if same else 0.0, "", 1.0,
            ">=", fmt="{:.0f}", baseline=how),
    ]
    details = {"single_s": single, "proxied_s": proxied, "replicas": replicas, "upload_download": how,
               "errors": {"single": single_errors, "proxied": proxied_errors}}
    return rows, details


def run(quick: bool = False, log=print) -> tuple[list[Row], dict]:
    return asyncio.run(_replicas(quick, log))
