"""Section plane: the live latent plane (ui/latent_plane), measured in Chromium in one run.

- hover → new digit painted, from the plane's own clock (window.__latentPlane.stats.hover: the
  pointer event's timeStamp to the end of the animation-frame callback that painted the digit),
  and the decoder alone per image (stats.decode);
- the decoder export's size and first-load time per shipped model (stats.loads);
- websocket frames the page sends while hovering (Playwright's framesent; expected: none);
- click → pinned panel complete; a phone's tap → that spot's digit in the corner preview;
- server CPU-seconds per visitor-minute of exploring: hovering, against the same exploring done
  the old way, a click (a server round trip) per spot about twice a second on a server started
  with VAE_BROWSER_DECODER_MB=0 (every model decoded on the server, as before the plane);
- visitors hovering and clicking on Explore while another session trains.

Figures only, against their goals: nothing here fails a build.
"""

from __future__ import annotations

import asyncio
import math
import time

from bench.browser import ROOT, AppServer, CpuMeter, Session, chromium, cpu_seconds, percentile, process_tree
from bench.concurrency import Trainer
from bench.report import Row

HOVER_P50_MS, HOVER_P95_MS = 16.0, 33.0
CLICK_P50_MS, CLICK_P95_MS = 150.0, 300.0
TAP_MS = 50.0
BEFORE_CLICK_MS = (281, 562)  # the click → panel p50 / p95 with the Plotly scatter
VIEWPORT = (1400, 1000)
MODELS = {"MNIST": "MNIST (pretrained)", "Fashion-MNIST": "Fashion-MNIST (pretrained)"}
CHECKPOINTS = {"MNIST": "mnist.safetensors", "Fashion-MNIST": "fashion-mnist.safetensors"}
CORES = 2  # the server the "visitors one server holds" figure is for


def visitors_per_server(cpu_s_per_visitor_minute: float, cores: int = CORES) -> float:
    """How many visitors a ``cores``-core server keeps busy at most: a minute has 60 CPU-seconds
    per core; each visitor-minute of exploring costs ``cpu_s_per_visitor_minute`` of them."""
    return cores * 60.0 / max(cpu_s_per_visitor_minute, 1e-3)


def hover_path(moves: int, box: dict, period: float = 400.0) -> list[tuple[float, float]]:
    """Screen positions along a Lissajous curve over most of the plane's stage ``box`` (a
    bounding box): successive positions a few pixels apart, each a spot not shown before it."""
    cx, cy, r = box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.47, box["width"] * 0.36
    return [(cx + r * math.sin(3 * 2 * math.pi * k / period), cy + r * math.sin(2 * 2 * math.pi * k / period + 0.3))
            for k in range(moves)]


async def stats(page, name: str) -> list[float]:
    return await page.evaluate(f"() => window.__latentPlane.stats.{name}.slice()")


async def reset_stats(page) -> None:
    await page.evaluate("() => { for (const k of ['hover', 'tap', 'decode', 'drags']) "
                        "window.__latentPlane.stats[k].length = 0; }")


async def hover(page, moves: int, pace_ms: float = 16.0) -> None:
    """``moves`` mouse moves over the Explore plane, about one a frame."""
    box = await page.locator(".lp-mode-explore .lp-stage").bounding_box()
    for x, y in hover_path(moves, box):
        await page.mouse.move(x, y)
        await asyncio.sleep(pace_ms / 1000)


async def decoder_file(page) -> dict | None:
    """The stats.loads entry of the Explore plane's decoder export ({url, ms, bytes}), once loaded."""
    return await page.evaluate("""() => {
        const v = [...window.__latentPlane.views].find(v => v.data.mode === 'explore');
        const url = v && v.data.model.decoder;
        return url ? window.__latentPlane.stats.loads.find(l => l.url === url) || null : null; }""")


async def pick_model(session: Session, label: str, model_id: str) -> None:
    """Choose ``label`` in the sidebar's model picker; back once its plane has its decoder."""
    page = session.page
    session.action = f"choosing {label}"
    # the plane keeps its element (and data-ready) through a rebuild: wait for a new decoder object
    await page.evaluate("""() => { const v = [...window.__latentPlane.views].find(v => v.data.mode === 'explore');
                                   window.__benchOldDecoder = v && v.decoder; }""")
    await page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.click()
    await page.get_by_role("option", name=label, exact=True).click()
    await page.wait_for_function("""(id) => [...window.__latentPlane.views].some(v => v.data.mode === 'explore'
        && v.data.model.id === id && v.decoder && v.decoder !== window.__benchOldDecoder
        && v.main && v.main.ready)""", arg=model_id, polling=50)
    await session.wait_idle(300)


async def clicks(session: Session, n: int) -> list[float | None]:
    """``n`` clicks on Explore, alternately on an isolated test point and on an empty spot near a
    corner of the plane: milliseconds to the pinned panel with its heading and images."""
    page, out = session.page, []
    points = await session.isolated_points(n)
    corners = [(3.3, 3.3), (-3.3, -3.4), (3.4, -3.3), (-3.4, 3.3)]
    for k in range(n):
        if k % 2 == 0:
            label, index = points[k // 2 % len(points)]
            out.append(await session.click_point(label, index))
        else:
            c = corners[k // 2 % 4]
            z = (c[0] - 0.07 * (k // 8), c[1])  # never the spot clicked before
            x, y = await page.evaluate("(z) => window.__bench.zPosition(z)", list(z))
            out.append(await session.timed("() => window.__bench.armPanel('Location (', 1)",
                                           lambda x=x, y=y: page.mouse.click(x, y), f"click at {z}"))
        await session.wait_idle(150)
    await session.count_exceptions()
    return out


async def phone_taps(browser, url: str, n: int) -> dict:
    """A 390×844 touch context taps ``n`` spots of the Explore plane: the plane's stats.tap (touch
    event → the corner preview painted) and how many taps showed another spot than the one tapped."""
    context = await browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = await context.new_page()
    page.set_default_timeout(120_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)[:200]))
    await page.goto(url)
    await page.wait_for_selector(".lp-mode-explore[data-ready='1']")
    stage = page.locator(".lp-mode-explore .lp-stage")
    await stage.scroll_into_view_if_needed()
    await page.wait_for_timeout(500)
    await reset_stats(page)
    box = await stage.bounding_box()
    wrong = 0
    for k in range(n):
        px, py = (0.2 + 0.6 * ((k * 0.37) % 1)) * box["width"], (0.2 + 0.6 * ((k * 0.61) % 1)) * box["height"]
        await page.touchscreen.tap(box["x"] + px, box["y"] + py)
        await page.wait_for_timeout(350)
        shown, z = await page.evaluate("""([px, py]) => {
            const v = [...window.__latentPlane.views].find(v => v.data.mode === 'explore');
            const c = document.querySelector('.lp-mode-explore .lp-corner');
            return [c && c.dataset.z ? c.dataset.z.split(',').map(Number) : null, v.main.toZ(px, py)]; }""", [px, py])
        if not shown or math.hypot(shown[0] - z[0], shown[1] - z[1]) > 0.05:
            wrong += 1
    taps = await stats(page, "tap")
    await page.wait_for_timeout(500)  # the last tap's pin reaches the server before the context goes
    await context.close()
    return {"tap_ms": taps, "wrong_spot": wrong, "page_errors": errors}


async def explore_minute(session: Session, server: AppServer, seconds: float, by_hover: bool) -> dict:
    """One visitor exploring for ``seconds``: hovering from spot to spot, or clicking a spot about
    twice a second (how a spot is seen when the server decodes). Server CPU-seconds per minute."""
    page = session.page
    box = await page.locator(".lp-mode-explore .lp-stage").bounding_box()
    # utime + stime of the streamlit process and its children, unrounded (CpuMeter rounds to 0.1 s)
    cpu0, t0 = cpu_seconds(process_tree(server.proc.pid)), time.time()
    until, k = time.time() + seconds, 0
    while time.time() < until:
        k += 1
        x = box["x"] + box["width"] * (0.2 + 0.6 * ((k * 0.37) % 1))
        y = box["y"] + box["height"] * (0.2 + 0.6 * ((k * 0.61) % 1))
        if by_hover:
            await page.mouse.move(x, y, steps=30)  # ~30 spots on the way, one a frame or so
        else:
            await page.mouse.click(x, y)
            await asyncio.sleep(0.5)
    used, wall = cpu_seconds(process_tree(server.proc.pid)) - cpu0, time.time() - t0
    return {"seconds": round(wall, 2), "server_cpu_s": round(used, 3), "spots": k, "per_minute": used / (wall / 60)}


async def visitor(session: Session, until: float, out: dict) -> None:
    """Hover for a second or so, click a point, again, until ``until``."""
    page = session.page
    await reset_stats(page)
    points = await session.isolated_points(20)
    k = 0
    while time.time() < until:
        session.action = "hovering"
        await hover(page, 60)
        label, index = points[k % len(points)]
        out.setdefault("clicks", []).append(await session.click_point(label, index))
        await session.wait_idle(100)
        k += 1
    out["hover"] = await stats(page, "hover")
    await session.count_exceptions()


def _p(values, q) -> float:
    v = percentile(values, q)
    return float("nan") if v is None else v


async def _run(quick: bool, log) -> tuple[list[Row], dict]:
    moves, n_clicks, n_taps = (150, 10, 8) if quick else (400, 24, 20)
    cpu_seconds, n_visitors, crowd_seconds = (15.0, 3, 30.0) if quick else (45.0, 8, 120.0)
    details: dict = {}
    files: dict[str, dict | None] = {}
    async with chromium("plane") as (browser, log_dir):
        with AppServer(log_dir) as server:
            server.wait_healthy()
            session = await Session(browser, server.url, "plane", viewport=VIEWPORT).open()
            await session.wait_idle(500)
            files["MNIST"] = await decoder_file(session.page)
            log(f"  {moves} mouse moves over Explore…")
            await reset_stats(session.page)
            sent = session.frames_sent
            await hover(session.page, moves)
            await session.page.wait_for_timeout(300)
            sent = session.frames_sent - sent
            hover_ms, decode_ms = await stats(session.page, "hover"), await stats(session.page, "decode")
            log("  the Fashion-MNIST model's decoder…")
            try:
                await pick_model(session, MODELS["Fashion-MNIST"], "pretrained/" + CHECKPOINTS["Fashion-MNIST"])
                files["Fashion-MNIST"] = await decoder_file(session.page)
                await pick_model(session, MODELS["MNIST"], "pretrained/" + CHECKPOINTS["MNIST"])
            except Exception as e:  # that figure is missing; the others go on
                details["model_switch_error"] = f"{type(e).__name__}: {str(e)[:300]}"
                await session.page.keyboard.press("Escape")
            log(f"  {n_clicks} clicks on Explore…")
            click_ms = await clicks(session, n_clicks)
            log(f"  {n_taps} taps on a phone…")
            phone = await phone_taps(browser, server.url, n_taps)
            log(f"  one visitor exploring by hovering for {cpu_seconds:.0f} s…")
            hover_cpu = await explore_minute(session, server, cpu_seconds, by_hover=True)
            await session.close()
            log(f"  {n_visitors} visitors hovering and clicking for {crowd_seconds:.0f} s while one more trains…")
            crowd = [await Session(browser, server.url, f"visitor{i}", timeout_ms=120_000).open()
                     for i in range(n_visitors)]
            trainer = Trainer(await Session(browser, server.url, "trainer", timeout_ms=120_000).open())
            await trainer.start()
            meter = CpuMeter(server.proc.pid).start()
            until = time.time() + crowd_seconds
            results = [{} for _ in crowd]
            await asyncio.gather(*(visitor(s, until, r) for s, r in zip(crowd, results)),
                                 trainer.watch(until, restart=True))
            crowd_cpu = meter.stop()
            everyone = crowd + [trainer.session]
            for s in everyone:
                await s.close()
            tracebacks = server.log_errors()
        log(f"  the old way, the server decoding (VAE_BROWSER_DECODER_MB=0): {n_clicks} clicks, then "
            f"{cpu_seconds:.0f} s of a click per spot…")
        with AppServer(log_dir, env={"VAE_BROWSER_DECODER_MB": "0"}) as old:
            old.wait_healthy()
            clicker = await Session(browser, old.url, "server-decoding", viewport=VIEWPORT).open()
            await clicker.wait_idle(500)
            old_fallback = await clicker.page.evaluate(
                "() => [...window.__latentPlane.views].every(v => !v.data.model.decoder)")
            old_click_ms = await clicks(clicker, n_clicks)
            click_cpu = await explore_minute(clicker, old, cpu_seconds, by_hover=False)
            await clicker.close()

    short = " (quick: fewer moves, clicks and taps)" if quick else ""
    ok = [t for t in click_ms if t is not None]
    old_ok = [t for t in old_click_ms if t is not None]
    tap_ms = phone["tap_ms"]
    rows = [
        Row("plane", f"hover → new digit painted, p50 of {len(hover_ms)}", percentile(hover_ms, 50), "ms",
            HOVER_P50_MS, fmt="{:.1f}",
            baseline=f"decoder alone p50 {_p(decode_ms, 50):.2f} ms/image; server decoding: a click per spot, "
                     f"p50 {_p(old_ok, 50):.0f} ms ({_p(old_ok, 50) / _p(hover_ms, 50):.0f}× longer)",
            note=f"{moves} mouse moves over the Explore plane at {VIEWPORT[0]}×{VIEWPORT[1]}, 16 ms apart; the "
                 "plane's own stats.hover: pointer event timeStamp → end of the animation-frame callback that painted "
                 "the digit (moves coalesced into one frame count once)" + short),
        Row("plane", f"hover → new digit painted, p95 of {len(hover_ms)}", percentile(hover_ms, 95), "ms",
            HOVER_P95_MS, fmt="{:.1f}", baseline=f"decoder alone p95 {_p(decode_ms, 95):.2f} ms/image, "
                                                   f"{len(decode_ms)} decodes"),
        Row("plane", "websocket frames sent while hovering", sent, "", 0, fmt="{:.0f}",
            baseline=f"during {moves} moves", note="Playwright page.on('websocket') + ws.on('framesent')"),
    ]
    for name in MODELS:
        f = files.get(name)
        ckpt = ROOT / "pretrained" / CHECKPOINTS[name]
        rows.append(Row("plane", f"{name} decoder export: size", f["bytes"] / 2**20 if f else None, "MB", fmt="{:.2f}",
                        baseline=(f"first load {f['ms']:.0f} ms; checkpoint {ckpt.stat().st_size / 2**20:.1f} MB"
                                  if f else details.get("model_switch_error", "not loaded")[:80]),
                        note="fetched once per model from the app's own server by a fresh browser context "
                             "(stats.loads); the browser's cache keeps it" if name == "MNIST" else ""))
    rows += [
        Row("plane", f"click → pinned panel complete, p50 of {len(click_ms)}", percentile(ok, 50), "ms",
            CLICK_P50_MS, fmt="{:.0f}",
            baseline=f"before: {BEFORE_CLICK_MS[0]} ms; server decoding in this run: {_p(old_ok, 50):.0f} ms; "
                     f"{len(click_ms) - len(ok)} timeouts",
            note="mousedown → the frame after the panel's h3 (\"Test image #N · class C\" or \"Location (x, y)\") "
                 "and its new images loaded; half on isolated test points, half on empty spots" + short),
        Row("plane", f"click → pinned panel complete, p95 of {len(click_ms)}", percentile(ok, 95), "ms",
            CLICK_P95_MS, fmt="{:.0f}",
            baseline=f"before: {BEFORE_CLICK_MS[1]} ms; server decoding in this run: {_p(old_ok, 95):.0f} ms, "
                     f"{len(old_click_ms) - len(old_ok)} timeouts"),
        Row("plane", f"phone tap → digit in the corner preview, p50 of {len(tap_ms)}", percentile(tap_ms, 50), "ms",
            TAP_MS, fmt="{:.1f}", baseline=f"{phone['wrong_spot']} taps showed another spot",
            note="390×844, has_touch, is_mobile; page.touchscreen.tap; the plane's stats.tap: touch event "
                 "timeStamp → end of the frame that painted the .lp-corner preview" + short),
        Row("plane", f"phone tap → digit in the corner preview, p95 of {len(tap_ms)}", percentile(tap_ms, 95), "ms",
            TAP_MS, fmt="{:.1f}", baseline=f"{len(phone['page_errors'])} page errors"),
        Row("plane", "server CPU-s per visitor-minute of exploring, hovering", hover_cpu["per_minute"], "s",
            fmt="{:.2f}", baseline=f"{visitors_per_server(hover_cpu['per_minute']):.0f} visitors per {CORES}-core server",
            note=f"utime+stime of the streamlit process (and children) from /proc over {hover_cpu['seconds']:.0f} s of "
                 f"one visitor, scaled to a minute; hovering: {hover_cpu['spots']} moves of 30 steps" + short),
        Row("plane", "server CPU-s per visitor-minute, the old way (a click per spot, 2/s)", click_cpu["per_minute"],
            "s", fmt="{:.2f}",
            baseline=f"{click_cpu['per_minute'] / max(hover_cpu['per_minute'], 1e-3):.0f}× hovering; "
                     f"{visitors_per_server(click_cpu['per_minute']):.0f} visitors per {CORES}-core server",
            note=f"a server started with VAE_BROWSER_DECODER_MB=0 (every model decoded on the server"
                 f"{'' if old_fallback else '; BUT the page still got a decoder'}), {click_cpu['spots']} clicks in "
                 f"{click_cpu['seconds']:.0f} s"),
    ]
    errors = {s.name: s.log for s in everyone}
    page_errors = sum(len(lg.page_errors) for lg in errors.values())
    exceptions = sum(lg.exceptions for lg in errors.values())
    timeouts = sum(len(lg.timeouts) for lg in errors.values())
    other = sum(lg.errors for lg in errors.values()) - page_errors - exceptions - timeouts
    crowd_hover = [h for r in results for h in r.get("hover", [])]
    rows += [
        Row("plane", f"errors, {n_visitors} visitors hovering and clicking while a {n_visitors + 1}th trains",
            sum(lg.errors for lg in errors.values()) + len(tracebacks), "", 0, fmt="{:.0f}",
            baseline=f"page errors {page_errors}, exceptions {exceptions}, timeouts {timeouts}, other {other}, "
                     f"server tracebacks {len(tracebacks)}",
            note=f"{crowd_seconds:.0f} s; each visitor: 60 moves (~1 s), then a click on a point, again; the "
                 f"{n_visitors + 1}th session trains the Train page's Quick preset (restarted when it ends)"
                 + (f" (quick: {n_visitors} visitors, a shorter window)" if quick else "")),
        Row("plane", f"hover p95 under that load, all {n_visitors} visitors", percentile(crowd_hover, 95), "ms",
            fmt="{:.1f}", baseline=f"p50 {_p(crowd_hover, 50):.1f} ms of {len(crowd_hover)}; server "
                                   f"{crowd_cpu['server_cpu_s']:.0f} CPU-s, browsers {crowd_cpu['browser_cpu_s']:.0f}, "
                                   f"others {crowd_cpu['others_cpu_s']:.0f} in {crowd_cpu['seconds']:.0f} s"),
    ]
    for k, r in enumerate(results):
        h, c = r.get("hover", []), [t for t in r.get("clicks", []) if t is not None]
        rows.append(Row("plane", f"visitor {k}: hover p50 under that load", percentile(h, 50), "ms", fmt="{:.1f}",
                        baseline=f"p95 {_p(h, 95):.1f} ms; {len(c)} clicks, p50 {_p(c, 50):.0f} ms"))
    details.update({
        "hover_ms": hover_ms, "decode_ms": decode_ms, "frames_sent_while_hovering": sent, "decoder_files": files,
        "click_ms": click_ms, "server_decoding_click_ms": old_click_ms, "phone": phone,
        "cpu_hovering": hover_cpu, "cpu_server_decoding": click_cpu, "crowd_cpu": crowd_cpu,
        "crowd": [{"session": s.name, "hover_p50": percentile(r.get("hover", []), 50),
                   "hover_p95": percentile(r.get("hover", []), 95), "clicks_ms": r.get("clicks", [])}
                  for s, r in zip(crowd, results)],
        "trainings": trainer.runs, "errors": {name: lg.summary() for name, lg in errors.items()},
        "server_tracebacks": tracebacks[:3]})
    return rows, details


def run(quick: bool = False, log=print) -> tuple[list[Row], dict]:
    return asyncio.run(_run(quick, log))
