"""Section 3, the app in Chromium: cold start to the first drawn latent plane (with its breakdown),
a warm server's new visitors, click to decoded image on Explore, an endpoint placed on the
Interpolate plane (a server round trip) and one step of the plane's t slider (in the browser)."""

from __future__ import annotations

import math
from pathlib import Path

from bench.browser import WS_TRACE_JS, AppServer, Session, chromium, percentile
from bench.report import Row

COLD_START_GOAL_S = 4.0
WARM_VISITOR_GOAL_S = 1.5
CLICK_P50_GOAL_MS, CLICK_P95_GOAL_MS = 150.0, 300.0
SLIDER_GOAL_MS = 50.0


async def cold_start(browser, log_dir: Path) -> tuple[dict, AppServer, Session]:
    """Spawn the server and open the page at once: seconds until the scatter is drawn.

    Returns the running server and session for the next measurements.
    """
    session = Session(browser, "", "cold")
    session.context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    page = await session.context.new_page()  # the browser is up before the clock starts
    await page.add_init_script(WS_TRACE_JS)
    server = AppServer(log_dir).start()
    health = server.wait_healthy()
    session.url = server.url
    session.page = page
    page.set_default_timeout(60_000)
    page.on("console", session._on_console)
    page.on("pageerror", session._on_page_error)
    await page.goto(server.url)
    origin, phases = await first_screen(page)
    # seconds after the spawn at which each step happened
    steps = {"healthy": health, "page_opened": origin - server.spawned,
             **{k: origin - server.spawned + v for k, v in sorted(phases.items(), key=lambda kv: kv[1])}}
    await session.helpers()
    await session.wait_scatter()
    return {"seconds": steps["scatter_drawn"], "health_seconds": health, "steps": steps}, server, session


async def explore_clicks(session: Session, clicks: int) -> tuple[list[float | None], list[dict]]:
    """Click ``clicks`` different well-separated points, each from an idle page: the
    milliseconds of each, and where they went (see Session.last_trace)."""
    await session.wait_idle(500)
    points = await session.isolated_points(clicks)
    times, traces = [], []
    for trace, index in points:
        times.append(await session.click_point(trace, index))
        if times[-1] is not None:
            traces.append(await session.last_trace())
        await session.wait_idle(300)
    await session.count_exceptions()
    return times, traces


def split(traces: list[dict]) -> dict:
    """Median milliseconds of a click's parts: in the browser before the request leaves, from
    the request to the server's first reply, and from there to the image on screen."""
    ok = [t for t in traces if t and t.get("sent") is not None and t.get("first_in") is not None]
    if not ok:
        return {}
    return {"browser_before_request": percentile([t["sent"] for t in ok], 50),
            "request_to_first_reply": percentile([t["first_in"] - t["sent"] for t in ok], 50),
            "first_reply_to_image": percentile([t["ms"] - t["first_in"] for t in ok], 50)}


async def slider_steps(session: Session, steps: int) -> tuple[list[float | None], str]:
    """Step the interpolation position t, one step at a time from an idle page."""
    await session.goto("Interpolate")
    await session.wait_idle(800)
    page = session.page
    times = []
    kind = "the plane's t slider (decoded in the browser)"
    for k in range(steps):
        f = 0.15 + 0.7 * ((k * 0.37) % 1)  # successive positions, never the one shown
        x, y = await page.evaluate("(f) => window.__bench.tPosition(f)", f)
        times.append(await session.timed("() => window.__bench.armSlider('mousedown')",
                                         lambda x=x, y=y: page.mouse.click(x, y), f"slider step {k}"))
        await page.wait_for_timeout(200)
    await session.count_exceptions()
    return times, kind


def spiral_spots(count: int, radius: float) -> list[tuple[float, float]]:
    """``count`` latent spots on a golden-angle spiral within ``radius``: each far from the one
    before it, none repeated, so every click on one places a new endpoint."""
    golden = math.pi * (3 - math.sqrt(5))
    return [(round(r * math.cos(k * golden), 3), round(r * math.sin(k * golden), 3))
            for k in range(count) for r in [radius * (0.45 + 0.55 * ((k * 0.618) % 1))]]


async def endpoint_steps(session: Session, steps: int) -> list[float | None]:
    """Click the Interpolate plane ``steps`` times, each placing the next endpoint (A, B, A…) at
    a spot away from both endpoints (a press on one would start a drag): milliseconds from the
    mousedown to the page's "Start A: … End B: …" line, written by the server, changing."""
    page = session.page
    await page.wait_for_selector(".lp-mode-interpolate[data-ready='1']")
    await session.wait_idle(300)
    extent = await page.evaluate("() => window.__bench.plane('interpolate').data.model.extent")
    spots, times = spiral_spots(8 * steps, 0.75 * extent), []
    for k in range(steps):
        ends = await page.evaluate("""() => { const v = window.__bench.plane('interpolate');
            return [v.ends.a.z, v.ends.b.z].map(z => window.__bench.zPosition(z, 'interpolate')); }""")
        for z in spots:
            x, y = await page.evaluate("(z) => window.__bench.zPosition(z, 'interpolate')", list(z))
            if all(math.hypot(x - ex, y - ey) > 40 for ex, ey in ends):
                break
        spots.remove(z)
        times.append(await session.timed("() => window.__bench.armMarkdown('Start A:')",
                                         lambda x=x, y=y: page.mouse.click(x, y), f"endpoint at {z}"))
        await session.wait_idle(200)
    await session.count_exceptions()
    return times


# The explore plane's first screen on the page's clock (ms since navigation start): the DOM of
# Streamlit's page, its first WebSocket message, the points file, the plane's first paint (the
# points on a canvas), its decoder, and Plotly's drawing (plane.js records the last three).
FIRST_SCREEN_JS = """async () => {
    const plane = () => [...((window.__latentPlane || {}).views || [])].find(v => v.data.mode === 'explore');
    while (!(plane() && plane().main && plane().main.moments.plotly && plane().moments.decoder))
        await new Promise(r => setTimeout(r, 20));
    const v = plane(), nav = performance.getEntriesByType('navigation')[0], ws = window.__wsLog || [];
    const points = performance.getEntriesByType('resource').filter(e => e.name.includes('latent_plane_data'))
        .sort((a, b) => a.transferSize - b.transferSize)[0];  // the points (150 KB), not the decoder (2 MB)
    return {origin: performance.timeOrigin, dom_ready: nav.domContentLoadedEventEnd, first_message: ws.length ? ws[0][0] : null,
            points_loaded: points ? points.responseEnd : null, scatter_drawn: v.main.moments.painted,
            decoder_ready: v.moments.decoder, plotly_drawn: v.main.moments.plotly}; }"""


async def first_screen(page) -> tuple[float, dict[str, float]]:
    """(the page's time origin in seconds since the epoch, {step: seconds after it})."""
    steps = await page.evaluate(FIRST_SCREEN_JS)
    origin = steps.pop("origin") / 1000
    return origin, {k: v / 1000 for k, v in steps.items() if v is not None}


async def warm_visitors(browser, url: str, visitors: int) -> list[dict[str, float]]:
    """Visitors of a warm server, one after another, each in a fresh context (an empty cache, as
    on a first visit): seconds from navigation start to each step of the first screen."""
    out = []
    for _ in range(visitors):
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        page = await context.new_page()
        page.set_default_timeout(60_000)
        await page.add_init_script(WS_TRACE_JS)
        await page.goto(url)
        out.append((await first_screen(page))[1])
        await context.close()
    return out


async def _run(quick: bool, log) -> tuple[list[Row], dict]:
    clicks = 10 if quick else 20
    steps = 5 if quick else 10
    visitors = 3 if quick else 7
    async with chromium("app") as (browser, log_dir):
        log("  cold start…")
        start, server, session = await cold_start(browser, log_dir)
        try:
            log(f"  {clicks} clicks on Explore…")
            click_ms, click_traces = await explore_clicks(session, clicks)
            log(f"  {steps} interpolation slider steps…")
            slider_ms, slider_kind = await slider_steps(session, steps)
            log(f"  {steps} interpolation endpoints placed…")
            endpoint_ms = await endpoint_steps(session, steps)
            await session.close()
            log(f"  {visitors} visitors of the warm server…")
            warm = await warm_visitors(browser, server.url, visitors)
        finally:
            server.stop()
    shortened = " (quick: fewer clicks)" if quick else ""
    ok_clicks = [t for t in click_ms if t is not None]
    warm_median = {k: percentile([w[k] for w in warm if k in w], 50)
                   for k in sorted(warm[0], key=lambda k: warm[0][k])}
    parts = split(click_traces)
    parts_text = ", ".join(f"{k.replace('_', ' ')} {v:.0f}" for k, v in parts.items())
    rows = [
        Row("app", "cold start: spawn to first drawn scatter", start["seconds"], "s", COLD_START_GOAL_S, "<=",
            fmt="{:.2f}", baseline=f"server healthy after {start['health_seconds']:.2f} s",
            note="fresh `streamlit run app.py` process; Chromium already running; page opened once /_stcore/health "
                 "answers; drawn = the plane's first paint (its points on a canvas; Plotly takes over later); "
                 "seconds after the spawn: " + ", ".join(f"{k.replace('_', ' ')} {v:.1f}"
                                                                 for k, v in start["steps"].items())),
        Row("app", f"warm visitor: page opened → drawn scatter, median of {visitors}", warm_median["scatter_drawn"], "s",
            WARM_VISITOR_GOAL_S, "<=", fmt="{:.2f}",
            baseline=f"Streamlit's own page: DOM ready {warm_median['dom_ready']:.2f} s, first message "
                     f"{warm_median['first_message']:.2f} s",
            note="a new visitor (fresh browser context, empty cache) of the running server; median seconds after "
                 "navigation start: " + ", ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in warm_median.items())
                 + (" (quick: fewer visitors)" if quick else "")),
        Row("app", f"click → decoded image, p50 of {clicks}", percentile(ok_clicks, 50), "ms", CLICK_P50_GOAL_MS, "<=",
            fmt="{:.0f}", baseline=f"{len(click_ms) - len(ok_clicks)} timeouts",
            note="in-page: mousedown on an isolated point → next frame after the panel's new images loaded; "
                 f"median ms: {parts_text}" + shortened),
        Row("app", f"click → decoded image, p95 of {clicks}", percentile(ok_clicks, 95), "ms", CLICK_P95_GOAL_MS, "<=",
            fmt="{:.0f}", baseline=f"max {max(ok_clicks):.0f} ms" if ok_clicks else ""),
        Row("app", "interpolation slider step → new image (median)", percentile(slider_ms, 50), "ms", SLIDER_GOAL_MS,
            "<=", fmt="{:.1f}", baseline=f"max {max([t for t in slider_ms if t is not None] or [0]):.1f} ms of {steps}",
            note=slider_kind + (" (quick: fewer steps)" if quick else "")),
    ]
    ok_ends = [t for t in endpoint_ms if t is not None]
    rows += [
        Row("app", f"interpolation endpoint placed → page updated, p50 of {steps}", percentile(ok_ends, 50), "ms",
            CLICK_P50_GOAL_MS, "<=", fmt="{:.0f}",
            baseline=f"p95 {percentile(ok_ends, 95) or float('nan'):.0f} ms, {len(endpoint_ms) - len(ok_ends)} timeouts",
            note="in-page: mousedown on the Interpolate plane, away from both endpoints → the frame after the "
                 "server's \"Start A: … End B: …\" line changed (the path and strip follow in the browser at once)"
                 + (" (quick: fewer clicks)" if quick else "")),
    ]
    details = {"cold_start": start, "warm_visitors": warm, "endpoint_ms": endpoint_ms, "click_ms": click_ms, "click_parts_ms": parts, "click_traces": click_traces,
               "slider_ms": slider_ms, "slider_kind": slider_kind,
               "errors": session.log.summary(), "server_log_errors": server.log_errors()[:3]}
    return rows, details


def run(quick: bool = False, log=print) -> tuple[list[Row], dict]:
    import asyncio

    return asyncio.run(_run(quick, log))
