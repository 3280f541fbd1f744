"""Section 5, concurrency: 8 browser sessions click points on Explore while a 9th trains
(the Train page's quick preset); and, for issue 6, a load test of several minutes in which
every page is used while one session trains, with the server's memory sampled over time."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import re
import time

from bench.app import split
from bench.browser import WS_SINCE_JS, AppServer, CpuMeter, Session, chromium, percentile
from bench.report import Row

CLICK_P95_GOAL_MS = 500.0
THINK_S = (1.0, 2.0)  # a visitor looks at the digits for a moment before the next click
RSS_FLAT_MB = 15.0  # the last training cycle's low within this of the first's after warm-up (or RSS_FLAT_FRACTION)
RSS_FLAT_FRACTION = 0.03


def models_kept(text: str) -> int | None:
    """How many models a session keeps, as the Train page tells its visitor before the first
    training ("Your session keeps your 6 newest models"), or None when the text does not say."""
    found = re.search(r"(\d+) newest models", text)
    return int(found.group(1)) if found else None


def warm_up_cycles(kept: int | None, cycles: int) -> int:
    """The load test's warm-up, in training cycles: the trainings that fill the training
    session's model slots (``kept``, as the app states it), while the shared caches fill to their
    bounds too. 0 (no warm-up left out) when fewer than two cycles would remain after it, or when
    the number is unknown."""
    return kept if kept is not None and cycles >= kept + 2 else 0


class Trainer:
    """The session that trains: presses Start on the Train page (quick preset) and watches."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.started: float | None = None
        self.finished: float | None = None
        self.runs = 0
        self.starts: list[float] = []  # time.time() of each training's start
        self.kept: int | None = None  # models the session keeps, read off the Train page (models_kept)

    async def start(self) -> None:
        page = self.session.page
        await self.session.goto("Train")
        await self.session.wait_idle(300)
        if self.kept is None:
            self.kept = models_kept(await page.locator("[data-testid='stMain']").inner_text())
        await page.locator(".st-key-train_start button").click()
        # running: its Stop button is on (a "Finished:" line may still be the last run's)
        await page.wait_for_selector(".st-key-train_stop button:not([disabled])", timeout=120_000)
        self.started, self.finished = time.time(), None
        self.runs += 1
        self.starts.append(self.started)

    async def running(self) -> bool:
        page = self.session.page
        if self.finished is None and await page.get_by_text("Finished:").count() \
                and await page.locator(".st-key-train_stop button[disabled]").count():
            self.finished = time.time()
        return self.finished is None

    async def watch(self, until: float, restart: bool = False) -> None:
        """Poll until ``until`` (time.time()); with ``restart`` train again whenever a run ends."""
        while time.time() < until:
            if not await self.running() and restart:
                await self.start()
            await asyncio.sleep(1.0)


async def open_sessions(browser, url: str, prefix: str, n: int) -> tuple[list[Session], Trainer]:
    """``n`` sessions named prefix0, prefix1, … and a training session, opened one after the
    other: nine pages loading at once on two cores would time out."""
    sessions = [await Session(browser, url, f"{prefix}{i}", timeout_ms=120_000).open() for i in range(n)]
    return sessions, Trainer(await Session(browser, url, "trainer", timeout_ms=120_000).open())


async def close_all(server: AppServer, sessions: list[Session]) -> tuple[float, list[str], int]:
    """Close every session: the server's peak RSS (taken before), the tracebacks it printed, and
    all the errors seen (the sessions' and those tracebacks)."""
    peak = server.peak_rss_mb()
    for s in sessions:
        await s.close()
    tracebacks = server.log_errors()
    return peak, tracebacks, sum(s.log.errors for s in sessions) + len(tracebacks)


async def clicker(session: Session, points: list[tuple[int, int]], think: tuple[float, float],
                  trainer: Trainer, out: list[dict]) -> None:
    await session.wait_idle(300)
    for trace, index in points:
        start = time.time()
        ms = await session.click_point(trace, index)
        parts = await session.last_trace() if ms is not None else None
        out.append({"session": session.name, "ms": ms, "at": start, "training": trainer.finished is None,
                    "trace": parts})
        await session.wait_idle(100)
        await asyncio.sleep(random.uniform(*think))
    await session.count_exceptions()


async def _concurrency(quick: bool, log) -> tuple[list[Row], dict]:
    clickers = 3 if quick else 8
    clicks = 4 if quick else 12
    async with chromium("concurrency") as (browser, log_dir):
        with AppServer(log_dir) as server:
            server.wait_healthy()
            log(f"  opening {clickers + 1} sessions…")
            sessions, trainer = await open_sessions(browser, server.url, "clicker", clickers)
            points = await sessions[0].isolated_points(clickers * clicks)
            log(f"  session {clickers + 1} starts the Train page's quick preset…")
            await trainer.start()
            log(f"  {clickers} sessions click {clicks} points each while it trains…")
            clicks_log: list[dict] = []
            random.seed(0)
            meter = CpuMeter(server.proc.pid).start()
            tasks = [clicker(s, points[i::clickers], THINK_S, trainer, clicks_log) for i, s in enumerate(sessions)]
            watcher = asyncio.create_task(trainer.watch(time.time() + 3600))
            await asyncio.gather(*tasks)
            watcher.cancel()
            cpu = meter.stop()
            await trainer.running()
            all_sessions = sessions + [trainer.session]
            peak, log_errors, errors = await close_all(server, all_sessions)
    during = [c["ms"] for c in clicks_log if c["training"]]
    parts = split([c["trace"] for c in clicks_log if c["training"]])
    timed_out = sum(1 for c in clicks_log if c["ms"] is None)
    rows = [
        Row("concurrency", f"click → image p95, {clickers} sessions while a {clickers + 1}th trains",
            percentile(during, 95), "ms", CLICK_P95_GOAL_MS, "<=", fmt="{:.0f}",
            baseline=f"p50 {percentile(during, 50) or float('nan'):.0f} ms, {len([d for d in during if d is not None])} "
                     f"clicks during training, {timed_out} timeouts",
            note=f"each session clicks {clicks} different isolated points, {THINK_S[0]:g}-{THINK_S[1]:g} s apart; "
                 "only clicks made "
                 f"while the training ran count; CPU seconds over the {cpu['seconds']:.0f} s: server "
                 f"{cpu['server_cpu_s']:.0f}, browser {cpu['browser_cpu_s']:.0f}, other processes {cpu['others_cpu_s']:.0f}; "
                 "median ms: " + ", ".join(f"{k.replace('_', ' ')} {v:.0f}" for k, v in parts.items())
                 + (f" (quick: {clickers} clicking sessions)" if quick else "")),
        Row("concurrency", "errors (exceptions, console errors, disconnects, timeouts, server tracebacks)",
            errors, "", 0, "<=", fmt="{:.0f}", baseline=f"server peak RSS {peak:.0f} MB"),
    ]
    details = {"clicks": clicks_log, "sessions": {s.name: s.log.summary() for s in all_sessions},
               "server_tracebacks": log_errors[:3], "training_seconds_observed":
                   (trainer.finished or time.time()) - trainer.started if trainer.started else None,
               "training_finished_during_run": trainer.finished is not None, "peak_rss_mb": peak, "cpu": cpu,
               "click_parts_ms": parts}
    return rows, details


# ---------------------------------------------------------------- the load test (issue 6)

def cycle_rss(samples: list[tuple[float, float]], starts: list[float]) -> list[tuple[float, float]]:
    """(lowest, highest) MB in each complete training cycle, from one training's start to the
    next, of (seconds, MB) samples. The server's memory rises and falls with each training (its
    data, then its evaluation), so memory is flat when the lows of the cycles stay level."""
    out = []
    for a, b in zip(starts, starts[1:]):
        inside = [mb for t, mb in samples if a <= t < b]
        if inside:
            out.append((min(inside), max(inside)))
    return out


async def visitor(session: Session, until: float, stats: dict, rng: random.Random) -> None:
    """Use every page in turn until ``until``: Explore clicks, Interpolate endpoints and
    slider, Generate buttons, a drawn digit, an anomaly, new AE vs VAE points, the toy
    world, a look at Train."""

    async def timed(kind: str, arm: str, action) -> None:
        ms = await session.timed(arm, action, kind)
        stats.setdefault(kind, []).append(ms)
        await session.wait_idle(100)

    last_pick, recent_ends = None, []
    while time.time() < until:
        try:
            last_pick, recent_ends = await _cycle(session, stats, rng, timed, last_pick, recent_ends)
        except Exception as e:  # an error, counted; the visitor reloads the page, as a person would, and goes on
            session.log.timeouts.append(f"{session.action}: {type(e).__name__}: {str(e).splitlines()[0][:300]}")
            with contextlib.suppress(Exception):  # a reload that fails too is the next round's error
                await session.page.goto(session.url)
                await session.helpers()


async def _cycle(session: Session, stats: dict, rng: random.Random, timed, last_pick, recent_ends):
    """One round of every page (see visitor); returns what the next round must avoid."""
    page = session.page
    await session.goto("Explore")
    await session.wait_scatter()
    # never the point already picked: clicking it again deselects it, and nothing changes
    candidates = [p for p in await session.isolated_points(40) if p != last_pick]
    for trace, index in rng.sample(candidates, 2):
        last_pick = (trace, index)
        x, y = await page.evaluate("([t, i]) => window.__bench.pointPosition(t, i)", [trace, index])
        await timed("explore click", "() => window.__bench.armPanel('Test image #', 2)",
                    lambda x=x, y=y: page.mouse.click(x, y))
    await session.goto("Interpolate")
    await _expect(session, "interpolate plane drawn", "[data-testid='stMain'] .lp-mode-interpolate[data-ready='1']")
    # never a recent endpoint (setting an endpoint to the point it already is changes nothing),
    # nor a point near either endpoint (a press there starts a drag of that endpoint)
    ends = await page.evaluate("""() => { const v = window.__bench.plane('interpolate');
        return [v.ends.a.z, v.ends.b.z].map(z => window.__bench.zPosition(z, 'interpolate')); }""")
    choices = []
    for trace, index in await session.isolated_points(40):
        x, y = await page.evaluate("([t, i]) => window.__bench.pointPosition(t, i)", [trace, index])
        if (trace, index) not in recent_ends and all(math.hypot(x - ex, y - ey) > 30 for ex, ey in ends):
            choices.append((trace, index, x, y))
    trace, index, x, y = rng.choice(choices)
    recent_ends = [(trace, index)] + recent_ends[:1]
    # the path and strip follow the new endpoint in the browser; this waits for the server's
    # "Start A: … End B: …" line, so the next step starts from a page that has caught up
    await timed("interpolate endpoint", "() => window.__bench.armMarkdown('Start A:')",
                lambda x=x, y=y: page.mouse.click(x, y))
    await session.wait_idle(200)
    await _slider_step(session, rng, stats)
    await session.goto("Generate")
    label = rng.randrange(10)
    # its caption ("16 new 4s"), with new images (a press always draws new ones)
    await timed("generate class", f"() => window.__bench.armText('new {label}s', 1)",
                lambda label=label: page.get_by_role("button", name=str(label), exact=True).click())
    await timed("generate prior", "() => window.__bench.armText('samples', 1)",
                lambda: page.get_by_role("button", name="New samples").click())
    await _newer_pages(session, rng)
    await session.goto("Train")
    session.action = "looking at Train"
    await session.wait_idle(500)
    await session.count_exceptions()
    await asyncio.sleep(rng.uniform(0.2, 1.0))
    return last_pick, recent_ends


async def _expect(session: Session, what: str, selector: str, timeout_ms: float = 60_000) -> None:
    """Wait for ``selector``; a timeout is logged as an error, and the visitor goes on."""
    session.action = what
    try:
        await session.page.wait_for_selector(selector, timeout=timeout_ms)
        await session.wait_idle(100)
    except Exception as e:
        session.log.timeouts.append(f"{what}: {type(e).__name__}")


# Why a drawn digit's encoding never came: whether the strokes reached the canvas (ink on it),
# whether it moved since the strokes were aimed at it, whether its value went to the server
# (WS_SINCE_JS), and what came back.
INK_JS = """cs => cs.map(c => { try { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] > 128; return n; } catch (e) { return -1; } })"""

# Where the canvas is and what lies above it: the main area's scroll, then each block it sits in
# (test id, top, height) and that block's earlier children, up to the main area.
ABOVE_JS = """c => { const main = document.querySelector('[data-testid=stMain]'), y = e => Math.round(e.getBoundingClientRect().top);
    const scroller = [main, ...document.querySelectorAll('[data-testid=stAppViewContainer], section')]
        .find(e => e && e.scrollTop > 0);
    const name = e => `${e.dataset.testid || (e.firstElementChild && e.firstElementChild.dataset.testid) || e.tagName.toLowerCase()}`
        + `@${y(e)}+${Math.round(e.getBoundingClientRect().height)}${e.dataset.stale === 'true' ? ' stale' : ''}`;
    const chain = [];
    for (let e = c.getRootNode().host || c; e && e !== main; e = e.parentElement || (e.getRootNode().host)) {
      if (!e.dataset || !e.dataset.testid) continue;
      const before = []; for (let s = e.previousElementSibling; s; s = s.previousElementSibling) before.unshift(name(s));
      chain.push(`${name(e)} after [${before.join(', ')}]`);
    }
    return `canvas at ${y(c)}, scrolled ${scroller ? Math.round(scroller.scrollTop) : 0} px; in ${chain.join(' in ')}`; }"""


async def _drawing_diagnosis(session: Session, canvases, box: dict, aimed_at: str, t_up: float) -> str:
    now = await canvases.last.bounding_box() if await canvases.count() else None
    moved = "gone" if now is None else f"moved by ({now['x'] - box['x']:.0f}, {now['y'] - box['y']:.0f}) px"
    ink = await canvases.evaluate_all(INK_JS)
    sent = await session.page.evaluate(WS_SINCE_JS, t_up)
    layout = await canvases.last.evaluate(ABOVE_JS) if now is not None else "-"
    return f"(canvas {moved}; ink pixels per canvas {ink}; {sent}; when aimed: {aimed_at}; now: {layout})"


async def _newer_pages(session: Session, rng: random.Random) -> None:
    """Your digit (a 7 drawn in two strokes), Anomalies (a gallery image selected), AE vs VAE
    (new points) and Toy world (its latent plane, after this session's own toy training)."""
    page = session.page
    await session.goto("Your digit")
    canvases = page.locator("[data-testid='stMain'] .canvas-root canvas")
    canvas = canvases.last  # fabric's event layer
    await canvas.wait_for()
    # Aim where the canvas is once the page has settled, and again before each stroke, as a
    # person does. (Its drawing surface once lay 288 px below the black square under load, until
    # the library's stylesheet came: ui/canvas.py sends it with the element.)
    await session.wait_idle(100)
    session.action = "drawing a digit"
    for (ax, ay), (bx, by) in [((0.3, 0.2), (0.72, 0.2)), ((0.72, 0.2), (0.42 + rng.uniform(-0.1, 0.1), 0.85))]:
        box, aimed_at = await canvas.bounding_box(), await canvas.evaluate(ABOVE_JS)
        x0, y0, w = box["x"], box["y"], box["width"]
        await page.mouse.move(x0 + ax * w, y0 + ay * w)
        await page.mouse.down()
        for i in range(1, 11):
            await page.mouse.move(x0 + (ax + i / 10 * (bx - ax)) * w, y0 + (ay + i / 10 * (by - ay)) * w)
        await page.mouse.up()
    t_up, errors = await page.evaluate("() => performance.now()"), len(session.log.timeouts)
    await _expect(session, "drawn digit encoded", "text=Your drawing is encoded at")
    if len(session.log.timeouts) > errors:
        session.log.timeouts[-1] += " " + await _drawing_diagnosis(session, canvases, box, aimed_at, t_up)
    await session.goto("Anomalies")
    select = page.get_by_role("button", name="Select", exact=True)
    await select.first.wait_for()
    rank = rng.randrange(await select.count())
    await select.nth(rank).click()
    await _expect(session, "anomaly selected", "[data-testid='stMain'] h3:has-text('Test image #')")
    await session.goto("AE vs VAE")
    await _expect(session, "AE vs VAE drawn", "text=land far from every test code")
    await _expect(session, "AE vs VAE planes drawn", "[data-testid='stMain'] .lp-mode-compare[data-ready='1']")
    await page.get_by_role("button", name="New points").click()
    await session.wait_idle(100)
    await session.goto("Toy world")
    # the toy's latent plane appears once this session has trained a toy model (a few seconds,
    # the first visit only: the result stays in the session)
    session.action = "toy world"
    await session.wait_idle(200)
    if not await page.locator("[data-testid='stMain'] .lp-mode-toy").count():
        await page.get_by_role("button", name="Train", exact=True).click()
    await _expect(session, "toy world drawn", "[data-testid='stMain'] .lp-mode-toy[data-ready='1']", 120_000)


async def _slider_step(session: Session, rng: random.Random, stats: dict) -> None:
    """One step of the interpolation position t on the plane's slider (decoded in the browser)."""
    page = session.page
    active = await page.evaluate("() => window.__bench.t()")
    # well away from the step already shown: a press there changes nothing, and nothing comes
    f = rng.choice([f for f in (rng.uniform(0.1, 0.9) for _ in range(20)) if abs(f - active) > 0.05])
    x, y = await page.evaluate("(f) => window.__bench.tPosition(f)", f)
    ms = await session.timed("() => window.__bench.armSlider('mousedown')", lambda x=x, y=y: page.mouse.click(x, y),
                             "slider step")
    if ms is None:  # say where the press went, against where the slider is now
        now = await page.evaluate("""() => { const i = document.querySelector('.lp-tslider input');
            const b = i ? i.getBoundingClientRect() : null;
            return b && {t: Number(i.value) / 100, x: b.left, y: b.top, w: b.width, h: b.height}; }""")
        session.log.timeouts[-1] += f" (t {active:.2f} → aimed at {f:.2f}, pressed at ({x:.0f}, {y:.0f}); slider now {now})"
    stats.setdefault("interpolate slider", []).append(ms)
    await session.wait_idle(100)


async def _load(minutes: float, sessions_n: int, log) -> tuple[list[Row], dict]:
    rss: list[tuple[float, float]] = []
    stats: dict[str, list] = {}
    async with chromium("load") as (browser, log_dir):
        with AppServer(log_dir) as server:
            server.wait_healthy()
            log(f"  opening {sessions_n} sessions and one trainer…")
            sessions, trainer = await open_sessions(browser, server.url, "visitor", sessions_n)
            await trainer.start()
            t0 = time.time()
            until = t0 + 60 * minutes
            meter = CpuMeter(server.proc.pid).start()

            async def sample() -> None:
                while time.time() < until:
                    rss.append((time.time() - t0, server.rss_mb()))
                    await asyncio.sleep(5.0)

            log(f"  {minutes:g} minutes of every page in {sessions_n} sessions while one trains (restarting)…")
            await asyncio.gather(sample(), trainer.watch(until, restart=True),
                                 *(visitor(s, until, stats, random.Random(i)) for i, s in enumerate(sessions)))
            cpu = meter.stop()
            all_sessions = sessions + [trainer.session]
            peak, log_errors, errors = await close_all(server, all_sessions)
    cycles = cycle_rss(rss, [t - t0 for t in trainer.starts])  # complete cycles only
    # after the warm-up nothing more may accumulate
    kept = trainer.kept
    warm = warm_up_cycles(kept, len(cycles))
    lows = [low for low, _ in cycles[warm:]]
    drift = lows[-1] - lows[0] if len(lows) >= 2 else float("nan")
    spread = max(lows) - min(lows) if lows else float("nan")
    flat_limit = max(RSS_FLAT_MB, RSS_FLAT_FRACTION * lows[0]) if lows else RSS_FLAT_MB
    actions = {k: {"n": len(v), "timeouts": sum(x is None for x in v), "p50_ms": percentile(v, 50),
                   "p95_ms": percentile(v, 95)} for k, v in stats.items()}
    rows = [
        Row("load", f"errors over {minutes:g} min, {sessions_n} sessions on every page + 1 training",
            errors, "", 0, "<=", fmt="{:.0f}",
            baseline=", ".join(f"{k}: {a['n']}" for k, a in actions.items()) + f"; {trainer.runs} trainings",
            note="exceptions on the page, console and page errors, websocket disconnects, timeouts, server tracebacks"),
        Row("load", f"server RSS: low of the last training cycle − of cycle {warm + 1}", drift, "MB", flat_limit, "<=",
            fmt="{:+.1f}", baseline=f"lows within {spread:.0f} MB from cycle {warm + 1} on; per cycle, low-high MB: "
                                    + ", ".join(f"{a:.0f}-{b:.0f}" for a, b in cycles) + f"; peak {peak:.0f} MB",
            note="sampled every 5 s; a cycle runs from one training's start to the next. Memory rises with each "
                 "training (its data, then its evaluation) and falls after it: a leak lifts the lows. "
                 + (f"The first {kept} cycles (runs under {kept + 2} cycles: none) are the warm-up: the training "
                    f"session keeps each model it trains, as a visitor's does, up to {kept} (as the Train page "
                    "says), and the shared caches fill to their bounds. "
                    if kept is not None else "No warm-up is left out: the Train page did not say how many models a "
                                             "session keeps. ")
                 + f"Flat = within max({RSS_FLAT_MB:.0f} MB, {RSS_FLAT_FRACTION:.0%})"),
    ]
    for kind, a in actions.items():
        rows.append(Row("load", f"{kind}: p95 under load", a["p95_ms"], "ms", fmt="{:.0f}",
                        baseline=f"p50 {a['p50_ms'] or float('nan'):.0f} ms, n={a['n']}, {a['timeouts']} timeouts"))
    details = {"minutes": minutes, "sessions": sessions_n, "rss_mb": rss, "rss_cycles_mb": cycles, "peak_rss_mb": peak,
               "training_starts_s": [round(t - t0, 1) for t in trainer.starts], "actions": actions,
               "trainings": trainer.runs, "models_kept": kept, "warm_up_cycles": warm, "cpu": cpu, "errors": {s.name: s.log.summary() for s in all_sessions},
               "server_tracebacks": log_errors[:3]}
    return rows, details


def run(quick: bool = False, log=print) -> tuple[list[Row], dict]:
    return asyncio.run(_concurrency(quick, log))


def run_load(minutes: float = 5.0, sessions: int = 8, log=print) -> tuple[list[Row], dict]:
    return asyncio.run(_load(minutes, sessions, log))
