"""A fresh ``streamlit run app.py`` on 127.0.0.1 and Debian's Chromium driven by Playwright
(async, so many sessions run at once), with in-page timing helpers.

Latencies are measured inside the page with performance.now(): the start is the page's own
mousedown/keydown event, the end the animation frame after the new image has loaded (a
MutationObserver installed before the input watches for it), so Playwright's round trips
are not part of any figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The app that is served; BENCH_APP_ROOT points at another copy of the repository (an A/B run).
APP_ROOT = Path(os.environ.get("BENCH_APP_ROOT") or ROOT)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  # many sessions in one browser: background tabs must keep running at full speed
                  "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                  "--disable-backgrounding-occluded-windows"]
PAGE_TITLES = {"Explore": "Explore the latent space", "Interpolate": "Interpolate between two images",
               "Generate": "Generate new images", "Your digit": "Encode your own digit",
               "Anomalies": "Find unusual images", "AE vs VAE": "Autoencoder vs VAE", "Toy world": "Toy world",
               "Train": "Train your own model"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the server and its memory

def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return kids


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(_children(p))
    return tree


def _status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children now, in MB."""
    return sum(_status_kb(p, "VmRSS") for p in process_tree(pid)) / 1024


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process plus its children's, in MB."""
    return sum(_status_kb(p, "VmHWM") for p in process_tree(pid)) / 1024


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (live ones only)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds the app server, the browser (Playwright and Chromium) and the whole
    machine spent between start() and stop(): who the 2 cores worked for."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    def _sample(self) -> tuple[float, float, float, float]:
        server = process_tree(self.server_pid)
        mine = [p for p in process_tree(os.getpid()) if p not in server and p != os.getpid()]
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        busy = (sum(int(x) for x in fields) - int(fields[3]) - int(fields[4])) / os.sysconf("SC_CLK_TCK")
        return time.time(), cpu_seconds(server), cpu_seconds(mine), busy

    def start(self) -> "CpuMeter":
        self._start = self._sample()
        return self

    def stop(self) -> dict:
        end = self._sample()
        wall, server, browser, machine = (b - a for a, b in zip(self._start, end))
        return {"seconds": round(wall, 1), "server_cpu_s": round(server, 1), "browser_cpu_s": round(browser, 1),
                "machine_busy_cpu_s": round(machine, 1),
                "others_cpu_s": round(max(0.0, machine - server - browser), 1)}


class AppServer:
    """``streamlit run app.py`` in a fresh process; a context manager.

    The server inherits this process's environment: ``VAE_DATA_DIR`` reaches it only when it is
    set (``python -m bench --data-dir`` sets it); otherwise the app finds the data by vae_core's
    own search order (vae_core.data.candidate_dirs), as it does for anyone who runs it."""

    def __init__(self, log_dir: Path, env: dict | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_dir) / f"streamlit-{self.port}.log"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.spawned = 0.0  # time.time() of the spawn

    def start(self) -> "AppServer":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")
        self.spawned = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(self.port), "--browser.gatherUsageStats", "false",
             # a demo server: no watching of the source files (others may be editing them meanwhile)
             "--server.fileWatcherType", "none", "--server.runOnSave", "false"],
            cwd=APP_ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def wait_healthy(self, timeout: float = 60.0) -> float:
        """Seconds from the spawn until /_stcore/health answers."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log_path.read_text()[-2000:]}")
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return time.time() - self.spawned
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"streamlit did not answer within {timeout:.0f} s: {self.log_path.read_text()[-2000:]}")

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.proc.pid)

    def log_errors(self) -> list[str]:
        """Tracebacks the server printed."""
        text = self.log_path.read_text() if self.log_path.exists() else ""
        return [block for block in text.split("Traceback (most recent call last):")[1:]]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------- in-page helpers

# Installed in every page. arm*() must run before the input it times; the result appears in
# window.__bench.result as {t0, t1, ms} once the new image is on screen.
HELPERS_JS = r"""
() => {
  if (window.__bench) return;
  const B = window.__bench = {result: null};
  const main = () => document.querySelector('[data-testid=stMain]');
  const imgs = (root) => [...(root || main()).querySelectorAll('[data-testid=stImage] img')];
  const finish = (r, obs) => {
    if (r.pending) return;
    r.pending = true;
    requestAnimationFrame(() => { r.t1 = performance.now(); r.ms = r.t1 - r.t0; r.done = true; obs && obs.disconnect(); });
  };
  // At least minNew images with sources not in ``before`` have loaded (else ``check`` runs again on each load).
  const freshImagesLoaded = (before, minNew, check) => {
    const fresh = imgs().filter(i => !before.has(i.src));
    if (fresh.length < minNew) return false;
    const waiting = fresh.filter(i => !(i.complete && i.naturalWidth > 0));
    waiting.forEach(i => i.addEventListener('load', check, {once: true}));
    return !waiting.length;
  };
  const startOn = (r, type) => window.addEventListener(type, (e) => { if (r.t0 === null) r.t0 = performance.now(); },
                                                      {capture: true, once: true});
  // A click on the Explore scatter: done when the panel heading names another test image
  // and at least minNew images with new sources have loaded.
  B.armPanel = (headingPrefix, minNew) => {
    const before = new Set(imgs().map(i => i.src));
    const heading = () => [...main().querySelectorAll('h3')].map(h => h.innerText).join('|');
    const beforeHeading = heading();
    const r = B.result = {t0: null, t1: null, ms: null, done: false, pending: false};
    startOn(r, 'mousedown');
    const check = () => {
      if (r.t0 === null || r.pending) return;
      const h = heading();
      if (!h.includes(headingPrefix) || h === beforeHeading) return;
      if (freshImagesLoaded(before, minNew, check)) finish(r, obs);
    };
    const obs = new MutationObserver(check);
    obs.observe(main(), {subtree: true, childList: true, attributes: true, characterData: true});
  };
  // A step of the interpolation position t on the plane's own slider: done in the frame after
  // the image at t (and its readout) changed, all in the browser.
  B.armSlider = (eventType) => {
    const readout = document.querySelector('.lp-mode-interpolate .lp-readout');
    const before = readout.textContent;
    const r = B.result = {t0: null, t1: null, ms: null, done: false, pending: false};
    startOn(r, eventType);
    const check = () => { if (r.t0 !== null && !r.pending && readout.textContent !== before) finish(r, obs); };
    const obs = new MutationObserver(check);
    obs.observe(readout, {subtree: true, childList: true, characterData: true});
  };
  // Where a click on the t slider sets t = f.
  B.tPosition = (f) => {
    const box = document.querySelector('.lp-tslider input').getBoundingClientRect();
    return [box.left + 8 + f * (box.width - 16), box.top + box.height / 2];
  };
  B.t = () => Number(document.querySelector('.lp-tslider input').value) / 100;
  // The live latent plane of Explore (ui/latent_plane): its view object, once drawn.
  // The plane of ``mode``; by default Explore's, or Interpolate's on that page.
  const plane = (mode) => [...((window.__latentPlane || {}).views || [])]
    .find(v => v.data && (mode ? v.data.mode === mode : ['explore', 'interpolate'].includes(v.data.mode))
               && v.main && v.main.ready);
  B.plane = plane;
  B.scatterReady = () => !!(plane('explore') && document.querySelector('.lp-mode-explore[data-ready="1"]'));
  // Any other update: done when the page shows ``text`` and minNew images with new sources have loaded.
  B.armText = (text, minNew, eventType) => {
    const before = new Set(imgs().map(i => i.src));
    const r = B.result = {t0: null, t1: null, ms: null, done: false, pending: false};
    startOn(r, eventType || 'mousedown');
    const check = () => {
      if (r.t0 === null || r.pending) return;
      if (!main().innerText.includes(text)) return;
      if (freshImagesLoaded(before, minNew, check)) finish(r, obs);
    };
    const obs = new MutationObserver(check);
    obs.observe(main(), {subtree: true, childList: true, attributes: true, characterData: true});
  };
  // A change of the page's own text that starts with ``prefix`` (Interpolate's "Start A: ... End B: ..."
  // markdown, written by the server): done in the frame after it reads differently.
  const markdownWith = (prefix) => [...main().querySelectorAll('[data-testid=stMarkdownContainer]')]
    .map(m => m.innerText).find(t => t.trim().startsWith(prefix));
  B.markdownWith = markdownWith;
  B.armMarkdown = (prefix, eventType) => {
    const before = markdownWith(prefix);
    const r = B.result = {t0: null, t1: null, ms: null, done: false, pending: false};
    startOn(r, eventType || 'mousedown');
    const check = () => {
      if (r.t0 === null || r.pending) return;
      const now = markdownWith(prefix);
      if (now && now !== before) finish(r, obs);
    };
    const obs = new MutationObserver(check);
    obs.observe(main(), {subtree: true, childList: true, characterData: true});
  };
  // The interpolation's endpoints as the page shows them (the strip follows them in the browser).
  B.walkEnds = () => { const strip = document.querySelector('.lp-strip'); return strip ? strip.dataset.ends : null; };
  B.idle = () => !document.querySelector('[data-testid=stStatusWidget]');
  B.exceptions = () => document.querySelectorAll('[data-testid=stException]').length;
  // Well-separated test points of the plane, spread over the classes, inside 80 % of the
  // view: [[label, index], ...], far from other test points so a click pins that point.
  B.isolatedPoints = (count) => {
    const v = plane(), p = v.main.points, limit = 0.8 * v.data.model.extent;
    const perClass = v.data.model.classes.map(() => []);
    const seen = v.data.model.classes.map(() => 0);
    for (let i = 0; i < p.n; i++) {
      const c = p.labels[i], x = p.z[2 * i], y = p.z[2 * i + 1];
      if (seen[c] >= 400 || Math.abs(x) > limit || Math.abs(y) > limit) continue;
      seen[c]++;
      let nearest = Infinity;
      for (let j = 0; j < p.n; j++) {
        if (j === i) continue;
        const d = (p.z[2 * j] - x) ** 2 + (p.z[2 * j + 1] - y) ** 2;
        if (d < nearest) nearest = d;
      }
      perClass[c].push([nearest, c, i]);
    }
    perClass.forEach(s => s.sort((a, b) => b[0] - a[0]));
    const out = [];
    for (let round = 0; out.length < count && round < 400; round++)
      for (const s of perClass) if (s[round] && out.length < count) out.push([s[round][1], s[round][2]]);
    return out;
  };
  // Screen position of a test point (by index; the label is not needed) or of a latent z.
  B.pointPosition = (label, index) => {
    const v = plane(), p = v.main.points;
    return B.zPosition([p.z[2 * index], p.z[2 * index + 1]]);
  };
  B.zPosition = (z, mode) => {
    const v = plane(mode), r = v.main.stage.getBoundingClientRect(), q = v.main.toPx(z);
    return [r.left + q[0], r.top + q[1]];
  };
}
"""


# Installed before the app's own scripts: timestamps of the websocket traffic, so a click's
# time can be split into browser → server, server work, and server → image on screen.
WS_TRACE_JS = r"""
(() => {
  const log = window.__wsLog = [];
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    const send = ws.send.bind(ws);
    ws.send = (data) => { log.push([performance.now(), 'out', data.byteLength || data.length || 0]); return send(data); };
    ws.addEventListener('message', (e) => log.push([performance.now(), 'in', e.data.byteLength || e.data.size || e.data.length || 0]));
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""


# The WebSocket traffic since ``t`` (the page's clock, ms), in words: each message out (ms after
# t, bytes), how many came in and when the last did.
WS_SINCE_JS = """(t) => { const log = (window.__wsLog || []).filter(e => e[0] >= t);
    const out = log.filter(e => e[1] === 'out'), ins = log.filter(e => e[1] === 'in');
    return `${out.length} messages out (${out.slice(0, 6).map(e => `at ${Math.round(e[0] - t)} ms, ${e[2]} B`).join('; ')}); ` +
           `${ins.length} in, last at ${ins.length ? Math.round(ins[ins.length - 1][0] - t) : '-'} ms`; }"""


@dataclass
class SessionLog:
    """Problems one browser session saw."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    disconnects: int = 0
    timeouts: list[str] = field(default_factory=list)
    exceptions: int = 0  # Streamlit exception elements seen on the page
    offline: list[str] = field(default_factory=list)  # internet resources that failed (not counted as errors)

    @property
    def errors(self) -> int:
        return len(self.console_errors) + len(self.page_errors) + self.disconnects + len(self.timeouts) + self.exceptions

    def summary(self) -> dict:
        return {"console_errors": self.console_errors[:10], "page_errors": self.page_errors[:10],
                "disconnects": self.disconnects, "timeouts": self.timeouts[:10], "exceptions": self.exceptions,
                "errors": self.errors, "offline_resources": sorted(set(self.offline))[:5]}


IGNORED_CONSOLE = ("ResizeObserver", "favicon", "WebGL", "GPU stall", "GroupMarkerNotSet", "Automatic fallback to software")


class Session:
    """One visitor: its own browser context (and so its own Streamlit session)."""

    def __init__(self, browser, url: str, name: str = "session", timeout_ms: float = 60_000,
                 viewport: tuple[int, int] = (1440, 1000)) -> None:
        self.browser, self.url, self.name, self.timeout_ms = browser, url, name, timeout_ms
        self.viewport = viewport
        self.log = SessionLog()
        self.frames_sent = 0  # websocket frames the page sent to the app (Playwright's framesent)
        self.closing = False
        self.action = "opening"  # what the session was doing, for the error reports

    async def open(self, wait_scatter: bool = True) -> "Session":
        self.context = await self.browser.new_context(viewport={"width": self.viewport[0], "height": self.viewport[1]})
        self.page = await self.context.new_page()
        self.page.set_default_timeout(self.timeout_ms)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)
        self.page.on("websocket", self._on_websocket)
        await self.page.add_init_script(WS_TRACE_JS)
        await self.page.goto(self.url)
        await self.page.evaluate(HELPERS_JS)
        if wait_scatter:
            await self.wait_scatter()
        return self

    def _on_page_error(self, error) -> None:
        stack = " | ".join(line.strip() for line in (getattr(error, "stack", "") or "").splitlines()[1:4])
        self.log.page_errors.append(f"{str(error)[:200]} during {self.action} [{stack[:300]}]")

    def _on_console(self, msg) -> None:
        if msg.type != "error" or any(s in msg.text for s in IGNORED_CONSOLE):
            return
        url = (msg.location or {}).get("url", "")
        if "net::ERR_NAME_NOT_RESOLVED" in msg.text or (url and not url.startswith("http://127.0.0.1")):
            self.log.offline.append(url or msg.text[:120])  # a resource from the internet, which this sandbox lacks
            return
        self.log.console_errors.append((f"{msg.text[:300]} [{url.replace(self.url, '')[:120]}]" if url else msg.text[:300])
                                       + f" during {self.action}")

    def _on_websocket(self, ws) -> None:
        if "_stcore/stream" in ws.url:
            ws.on("close", lambda *_: None if self.closing else setattr(self.log, "disconnects", self.log.disconnects + 1))
            ws.on("framesent", lambda *_: setattr(self, "frames_sent", self.frames_sent + 1))

    async def helpers(self) -> None:
        await self.page.evaluate(HELPERS_JS)

    async def wait_scatter(self) -> None:
        await self.page.wait_for_function("() => window.__bench && window.__bench.scatterReady()", polling=50)
        await self.page.wait_for_timeout(300)

    async def wait_idle(self, settle_ms: int = 300) -> None:
        await self.page.wait_for_function("() => window.__bench.idle()", polling=50)
        await self.page.wait_for_timeout(settle_ms)

    async def goto(self, name: str) -> None:
        self.action = f"going to {name}"
        t_click = await self.page.evaluate("() => performance.now()")
        await self.page.locator(".st-key-app_navigation").get_by_text(name, exact=True).click()
        try:
            await self.page.wait_for_selector(f"h1:has-text('{PAGE_TITLES[name]}')")
        except Exception:  # say what the visitor sees instead, then let the caller give up
            shown = await self.page.locator("[data-testid='stMain'] h1").all_inner_texts()
            running = await self.page.locator("[data-testid='stStatusWidget']").count()
            path = await self.page.evaluate("() => location.pathname")
            traffic = await self.page.evaluate(WS_SINCE_JS, t_click)
            raise TimeoutError(f"{name}'s page did not open within {self.timeout_ms / 1000:.0f} s: the page shows "
                               f"{shown or 'no title'} at {path}, {'a' if running else 'no'} script running; "
                               f"since the click: {traffic}") from None
        await self.helpers()

    async def count_exceptions(self) -> int:
        n = await self.page.evaluate("() => window.__bench ? window.__bench.exceptions() : 0")
        self.log.exceptions = max(self.log.exceptions, n)
        return n

    async def isolated_points(self, count: int) -> list[tuple[int, int]]:
        return [tuple(p) for p in await self.page.evaluate("n => window.__bench.isolatedPoints(n)", count)]

    async def timed(self, arm: str, action, what: str, timeout_ms: float = 30_000) -> float | None:
        """Arm an in-page timer, run ``action``, return its milliseconds (None on a timeout)."""
        self.action = what
        await self.page.evaluate(arm)
        await action()
        try:
            await self.page.wait_for_function("() => window.__bench.result && window.__bench.result.done",
                                              polling=20, timeout=timeout_ms)
        except Exception as e:  # a timeout: the image never came
            sent = await self.page.evaluate("""() => { const r = window.__bench.result;
                return r.t0 === null ? 'no input seen' : (window.__wsLog || []).some(e => e[0] >= r.t0 && e[1] === 'out')
                       ? 'request sent' : 'no request sent'; }""")
            self.log.timeouts.append(f"{what}: {type(e).__name__} ({sent})")
            return None
        return await self.page.evaluate("() => window.__bench.result.ms")

    async def last_trace(self) -> dict | None:
        """The last timed input split up: first message out, first and last message in
        before the end, relative to the input (milliseconds)."""
        return await self.page.evaluate("""() => {
            const r = window.__bench.result, log = window.__wsLog || [];
            if (!r || !r.done) return null;
            const during = log.filter(([t]) => t >= r.t0 && t <= r.t1);
            const out = during.find(e => e[1] === 'out'), ins = during.filter(e => e[1] === 'in');
            return {ms: r.ms, sent: out ? out[0] - r.t0 : null, first_in: ins.length ? ins[0][0] - r.t0 : null,
                    last_in: ins.length ? ins[ins.length - 1][0] - r.t0 : null, messages_in: ins.length,
                    bytes_in: ins.reduce((a, e) => a + e[2], 0)};
        }""")

    async def click_point(self, trace: int, index: int) -> float | None:
        """Click a test point on the Explore scatter: milliseconds to its decoded images on screen."""
        x, y = await self.page.evaluate("([t, i]) => window.__bench.pointPosition(t, i)", [trace, index])
        return await self.timed("() => window.__bench.armPanel('Test image #', 2)",
                                lambda: self.page.mouse.click(x, y), f"click on point {trace}/{index}")

    async def close(self) -> None:
        self.closing = True
        try:
            await self.count_exceptions()
        except Exception:
            pass
        await self.context.close()


async def launch(playwright):
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)


@contextlib.asynccontextmanager
async def chromium(section: str):
    """Debian's Chromium through Playwright, and a fresh folder for the servers' logs of
    ``section``: ``async with chromium("app") as (browser, log_dir)``; the browser is closed
    afterwards, whatever happened."""
    from playwright.async_api import async_playwright

    log_dir = Path(tempfile.mkdtemp(prefix=f"bench-{section}-"))
    async with async_playwright() as p:
        browser = await launch(p)
        try:
            yield browser, log_dir
        finally:
            await browser.close()


def percentile(values: list[float], q: float) -> float | None:
    import numpy as np

    values = [v for v in values if v is not None]
    return float(np.percentile(values, q)) if values else None


def run(coro):
    return asyncio.run(coro)
