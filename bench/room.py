"""Section room (issue 24): the room page (``/room``, static files) against the Streamlit first
page, on the same ``streamlit run app.py`` server in the same run.

1. A first visit in Chromium, as a 390×844 touch phone with an empty cache: bytes on the wire
   (Chrome's own count, ``Network.loadingFinished``'s encodedDataLength, plus WebSocket frames)
   until the room page is tap-ready (``data-tap-ready`` on ``<html>``) and complete
   (``data-complete``), and until Streamlit's first page has drawn its plane and its network is
   idle; the room page must open no WebSocket and ask no other host.
2. A storm: N phones (300) start at the same moment, each asking for every file of the room page
   over plain HTTP (bench/storm.py), then the same storm against the Streamlit first page, each
   phone its HTML, scripts and a real session over Streamlit's WebSocket
   (bench/streamlit_phone.py): the server's CPU ms per phone, the p95 of the phones' times to their
   last byte, failures and bytes.

Until the room page exists (``/room`` is then Streamlit's own page) its rows say "pending".
"""

from __future__ import annotations

import asyncio
import base64
import time
from urllib.parse import urlsplit

from bench import page_files, storm, streamlit_phone
from bench.browser import AppServer, chromium
from bench.report import Row

TAP_READY_GOAL_MB, EVERYTHING_GOAL_MB = 1.0, 2.0
CPU_GOAL_MS, P95_GOAL_S = 10.0, 5.0
PHONES, QUICK_PHONES = 300, 50
STORM_TIMEOUT_S = 180.0  # 300 Streamlit sessions take about a minute on 2 cores
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
ROOM_PATH = "/room"
QUIET_S = 1.5  # network idle: nothing in flight and nothing received for this long

# Installed before the room page's own scripts: reports the moments its <html> element gets
# data-tap-ready="1" and data-complete="1" to window.__benchMark (a Playwright binding).
MARKS_JS = r"""
(() => {
  const seen = {};
  const check = () => {
    const d = document.documentElement && document.documentElement.dataset;
    if (!d) return;
    for (const [key, name] of [["tapReady", "tap-ready"], ["complete", "complete"]])
      if (d[key] === "1" && !(name in seen)) { seen[name] = performance.now(); window.__benchMark(name, seen[name]); }
  };
  new MutationObserver(check).observe(document, {subtree: true, attributes: true,
                                                 attributeFilter: ["data-tap-ready", "data-complete"]});
})();
"""

# Streamlit's first page has drawn its plane: as bench/app.py's first screen counts it, the
# explore plane's first paint (its points on a canvas), or its element marked ready.
PLANE_DRAWN_JS = """() => {
  const v = [...((window.__latentPlane || {}).views || [])].find(v => v.data && v.data.mode === 'explore');
  return !!(v && v.main && v.main.moments && v.main.moments.painted)
         || !!document.querySelector('.lp-mode-explore[data-ready="1"]'); }"""

# The centre of the page's largest canvas (the plane), for a tap.
LARGEST_CANVAS_JS = """() => {
  const c = [...document.querySelectorAll('canvas')].map(e => e.getBoundingClientRect())
    .filter(r => r.width > 0 && r.height > 0).sort((a, b) => b.width * b.height - a.width * a.height)[0];
  return c ? [c.left + c.width / 2, c.top + c.height / 2] : null; }"""


class WireMeter:
    """Bytes a page received, from Chrome's DevTools network events: each request's
    encodedDataLength (headers and body as they travelled) and the WebSocket frames' payloads;
    the WebSockets it opened, the hosts it asked other than its own, and whether its network is idle.

    ``later`` names the paths a page may fetch early but does not need yet (the room page's
    conditional decoder, which it loads beside the others): a mark also says how many bytes it
    received without those."""

    def __init__(self, origin: str, later: tuple[str, ...] = ()) -> None:
        self.origin = urlsplit(origin).netloc
        self.later = set(later)
        self.http_bytes = 0
        self.ws_bytes = 0
        self.by_url: dict[str, int] = {}
        self.urls: dict[str, str] = {}  # request id → URL
        self.in_flight: set[str] = set()
        self.websockets: list[str] = []
        self.other_hosts: list[str] = []
        self.marks: dict[str, dict] = {}
        self.last_activity = time.monotonic()

    @property
    def total(self) -> int:
        return self.http_bytes + self.ws_bytes

    def _touch(self) -> None:
        self.last_activity = time.monotonic()

    def _check_host(self, url: str) -> None:
        parts = urlsplit(url)
        elsewhere = parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.origin
        if elsewhere and url not in self.other_hosts:
            self.other_hosts.append(url)

    def request_will_be_sent(self, event: dict) -> None:
        url = event["request"]["url"]
        self._touch()
        self._check_host(url)
        if url.startswith(("data:", "blob:")):
            return
        self.urls[event["requestId"]] = url
        self.in_flight.add(event["requestId"])

    def loading_finished(self, event: dict) -> None:
        self._touch()
        self.in_flight.discard(event["requestId"])
        size = int(event.get("encodedDataLength") or 0)
        url = self.urls.get(event["requestId"])
        if url is None:
            return
        self.http_bytes += size
        path = urlsplit(url).path
        self.by_url[path] = self.by_url.get(path, 0) + size

    def loading_failed(self, event: dict) -> None:
        self._touch()
        self.in_flight.discard(event["requestId"])

    def websocket_created(self, event: dict) -> None:
        self._touch()
        self.websockets.append(event["url"])
        self._check_host(event["url"])

    def websocket_frame_received(self, event: dict) -> None:
        self._touch()
        frame = event["response"]
        data = frame.get("payloadData", "")
        # binary frames arrive base64-encoded (opcode 2), text frames as text
        self.ws_bytes += len(base64.b64decode(data)) if frame.get("opcode") == 2 else len(data.encode())

    def mark(self, name: str, page_ms: float | None = None) -> None:
        """Note the bytes received so far under ``name`` (the first time only): all of them, and
        those of the files needed by then (without ``later``'s)."""
        later = sum(size for path, size in self.by_url.items() if path in self.later)
        self.marks.setdefault(name, {"mb": self.total / 1e6, "needed_mb": (self.total - later) / 1e6,
                                     "http_mb": self.http_bytes / 1e6, "ws_mb": self.ws_bytes / 1e6,
                                     "requests": len(self.urls), "page_ms": page_ms})

    def idle_for(self) -> float:
        """Seconds since the last network event, or 0 while a request is in flight."""
        return 0.0 if self.in_flight else time.monotonic() - self.last_activity

    async def attach(self, context, page) -> "WireMeter":
        cdp = await context.new_cdp_session(page)
        for event, handler in (("requestWillBeSent", self.request_will_be_sent),
                               ("loadingFinished", self.loading_finished),
                               ("loadingFailed", self.loading_failed),
                               ("webSocketCreated", self.websocket_created),
                               ("webSocketFrameReceived", self.websocket_frame_received)):
            cdp.on(f"Network.{event}", handler)
        await cdp.send("Network.enable")
        return self

    async def until_idle(self, quiet_s: float = QUIET_S, timeout_s: float = 60.0) -> bool:
        """Wait until the network has been idle for ``quiet_s``; False if it never was within the timeout."""
        deadline = time.monotonic() + timeout_s
        while self.idle_for() < quiet_s:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    def summary(self) -> dict:
        return {"marks": self.marks, "mb": self.total / 1e6, "websockets": self.websockets,
                "other_hosts": self.other_hosts[:10], "requests": len(self.urls),
                "kb_by_path": {p: round(b / 1e3, 1) for p, b in sorted(self.by_url.items(), key=lambda kv: -kv[1])}}


async def _phone_page(browser, origin: str, later: tuple[str, ...] = ()):
    context = await browser.new_context(**PHONE)  # a fresh context: an empty cache
    page = await context.new_page()
    meter = await WireMeter(origin, later).attach(context, page)
    problems: list[str] = []  # what the page said went wrong, for a visit that never gets ready
    page.on("pageerror", lambda error: problems.append(f"page error: {str(error)[:200]}"))
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console: {msg.text[:200]}"))
    return context, page, meter, problems


async def _until(page, condition: str, what: str, timeout_s: float, problems: list[str]) -> None:
    """Wait for ``condition`` (a JS function) in the page, or raise saying what never happened."""
    try:
        await page.wait_for_function(condition, polling="raf", timeout=timeout_s * 1000)
    except Exception:
        raise TimeoutError(f"{what} within {timeout_s:.0f} s" + (f" ({'; '.join(problems[:3])})" if problems else ""))


TAP_READY = "() => document.documentElement.dataset.tapReady === '1'"
COMPLETE = "() => document.documentElement.dataset.complete === '1'"


async def room_first_visit(browser, origin: str, files: page_files.PageFiles) -> dict:
    """A phone's first visit to the room page: bytes until tap-ready (without the files a phone
    needs only later, ``files``' conditional decoder, should they be on their way already),
    complete and network idle (with "error" saying what never happened, when the page did not get there)."""
    later = tuple(set(files.paths()) - set(files.paths(tap_ready_only=True)))
    context, page, meter, problems = await _phone_page(browser, origin, later)
    tapped = False
    try:
        await page.expose_function("__benchMark", meter.mark)
        await page.add_init_script(MARKS_JS)
        await page.goto(origin + ROOM_PATH)
        try:
            await _until(page, TAP_READY, "the room page did not set data-tap-ready", 20, problems)
        except TimeoutError:  # the page may wait for a first tap: tap the plane once, then wait on
            spot = await page.evaluate(LARGEST_CANVAS_JS)
            if spot:
                await page.touchscreen.tap(*spot)
                tapped = True
            await _until(page, TAP_READY, "the room page never set data-tap-ready", 40, problems)
        await _until(page, COMPLETE, "the room page never set data-complete", 60, problems)
        meter.mark("complete")  # (the page's own mark came first, when the binding delivered it)
        idle = await meter.until_idle()
        meter.mark("idle")
        return {**meter.summary(), "tapped_to_become_tap_ready": tapped, "network_idle": idle}
    except (TimeoutError, OSError) as e:
        return {**meter.summary(), "tapped_to_become_tap_ready": tapped, "error": str(e)}
    finally:
        await context.close()


async def streamlit_first_visit(browser, origin: str) -> dict:
    """A phone's first visit to the Streamlit first page (Explore): bytes until its plane is
    drawn and until its network is idle."""
    context, page, meter, problems = await _phone_page(browser, origin)
    try:
        await page.goto(origin + "/")
        await _until(page, PLANE_DRAWN_JS, "the Streamlit first page never drew its plane", 60, problems)
        meter.mark("plane drawn")
        idle = await meter.until_idle()
        meter.mark("idle")
        return {**meter.summary(), "network_idle": idle}
    except (TimeoutError, OSError) as e:
        return {**meter.summary(), "error": str(e)}
    finally:
        await context.close()


def room_page_state(origin: str) -> tuple[page_files.PageFiles | None, str]:
    """The room page's files, or None and why not (no room route yet: Streamlit answers /room
    with its own page, which has no ``<base href="/room/...">``)."""
    try:
        url, html = page_files.fetch(origin + ROOM_PATH)  # where it ends after any redirect: what phones ask for
    except OSError as e:
        return None, f"GET {ROOM_PATH} failed ({e})"
    base = page_files.html_refs(html).base or ""
    if not base.startswith(ROOM_PATH + "/"):
        return None, f"GET {ROOM_PATH} is not the room page (no <base href=\"{ROOM_PATH}/...\">): it does not exist yet"
    try:
        return page_files.discover(url, page_files.fetch_text), ""
    except (OSError, ValueError) as e:
        return None, f"the room page's files could not be listed: {e}"


def streamlit_page_files(origin: str) -> page_files.PageFiles:
    """The Streamlit first page's HTML and the files it refers to (its own scripts, styles, font)."""
    return page_files.discover(origin + "/", page_files.fetch_text, manifest=None)


async def wait_quiet(pid: int, share: float = 0.05, window_s: float = 1.0, timeout_s: float = 120.0) -> float:
    """Wait until the server uses under ``share`` of a core over ``window_s`` (its background
    warm-up done, the last storm's sessions closed); returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        before = storm.server_cpu_seconds(pid)
        await asyncio.sleep(window_s)
        if storm.server_cpu_seconds(pid) - before < share * window_s:
            break
    return time.monotonic() - start


async def room_storm(origin: str, files: page_files.PageFiles, phones: int, pid: int) -> storm.StormResult:
    paths = files.paths()
    return await storm.storm(lambda traffic: storm.fetch_page(origin, paths, traffic), phones, STORM_TIMEOUT_S, pid)


async def streamlit_storm(origin: str, files: page_files.PageFiles, phones: int, pid: int) -> storm.StormResult:
    """Each phone: the first page's HTML and files, the frontend's handshake requests, then a new
    session's first run over the WebSocket, which stays open until every phone is done."""
    paths = files.paths() + list(streamlit_phone.HANDSHAKE_PATHS)
    sessions: list = []

    async def visit(traffic: storm.Traffic) -> None:
        await storm.fetch_page(origin, paths, traffic)
        await streamlit_phone.first_run(origin, traffic, sessions)

    try:
        return await storm.storm(visit, phones, STORM_TIMEOUT_S, pid)
    finally:
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)


async def warm_up(origin: str, room: page_files.PageFiles | None, streamlit: page_files.PageFiles) -> list[str]:
    """One visit of each kind, so a storm measures no one-time work (imports, caches, the app's
    background warm-up that starts after its first run). Returns what failed: the storms that
    follow count such failures phone by phone."""
    problems = []
    visits = [lambda t: storm.fetch_page(origin, streamlit.paths(), t), lambda t: streamlit_phone.first_run(origin, t)]
    if room is not None:
        visits.insert(0, lambda t: storm.fetch_page(origin, room.paths(), t))
    for visit in visits:
        try:
            await visit(storm.Traffic())
        except Exception as e:  # noted; the measurements still run
            problems.append(str(e) or type(e).__name__)
    return problems


async def _run(phones: int, log) -> dict:
    async with chromium("room") as (browser, log_dir):
        server = AppServer(log_dir).start()
        try:
            server.wait_healthy()
            origin, pid = server.url, server.proc.pid
            room, pending = room_page_state(origin)
            streamlit = streamlit_page_files(origin)
            log("  warming up the server…" + (f" (room page pending: {pending})" if pending else ""))
            warm_up_problems = await warm_up(origin, room, streamlit)
            await wait_quiet(pid)
            visits: dict = {}
            if room is not None:
                log("  the room page's first visit in Chromium (phone)…")
                visits["room"] = await room_first_visit(browser, origin, room)
            log("  the Streamlit first page's first visit in Chromium (phone)…")
            visits["streamlit"] = await streamlit_first_visit(browser, origin)
            storms: dict = {}
            if room is not None:
                await wait_quiet(pid)
                log(f"  {phones} phones at once on the room page…")
                storms["room"] = await room_storm(origin, room, phones, pid)
            await wait_quiet(pid)
            log(f"  {phones} phones at once on the Streamlit first page…")
            storms["streamlit"] = await streamlit_storm(origin, streamlit, phones, pid)
            files = {"room": room.files if room else None, "room_other_hosts": room.other_hosts if room else None,
                     "streamlit": len(streamlit.files)}
            return {"visits": visits, "storms": storms, "files": files, "pending": pending,
                    "connections_per_phone": storm.BROWSER_CONNECTIONS, "warm_up_problems": warm_up_problems,
                    "server_rss_mb": server.rss_mb(), "server_log_errors": server.log_errors()[:3]}
        finally:
            server.stop()


def _ratio(value: float | None, baseline: float | None) -> str:
    if value is None or not baseline:
        return ""
    return f"ratio {value / baseline:.2g}"


def _mb(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f} MB"


def _s(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f} s"


def pace(result: storm.StormResult) -> str:
    """Who set a storm's pace: the CPU-seconds of the server and of the phones (this process) in its wall time."""
    server = "–" if result.server_cpu_seconds is None else f"{result.server_cpu_seconds:.1f}"
    return f"server {server} and phones {result.client_cpu_seconds:.1f} CPU-s in {result.wall_seconds:.1f} s"


def rows_for(measured: dict, phones: int, quick: bool) -> list[Row]:
    """The section's rows: each room figure against its goal, the Streamlit first page's beside it."""
    visits, storms, pending = measured["visits"], measured["storms"], measured["pending"]
    s_visit = visits["streamlit"]
    s_drawn = s_visit["marks"].get("plane drawn", {}).get("mb")
    s_idle = s_visit["marks"].get("idle", {}).get("mb")
    r_visit = visits.get("room")
    r_marks = r_visit["marks"] if r_visit else {}
    r_tap = r_marks.get("tap-ready", {}).get("needed_mb")
    r_all = r_marks.get("complete", {}).get("mb")
    s_storm, r_storm = storms["streamlit"], storms.get("room")
    s_cpu, s_p95 = s_storm.cpu_ms_per_phone, s_storm.seconds(95)
    r_cpu = r_storm.cpu_ms_per_phone if r_storm else None
    r_p95 = r_storm.seconds(95) if r_storm else None
    shortened = f" (quick: {phones} phones)" if quick else ""
    web = (len(r_visit["websockets"]) + len(r_visit["other_hosts"])) if r_visit else None
    visit_errors = "; ".join(f"{who}: {v['error']}" for who, v in visits.items() if v.get("error"))

    def note(text: str, visit: bool = False) -> str:
        """How it was measured; or why the room's figure is missing (no room page yet, a failed visit)."""
        if pending:
            return f"pending: {pending}"
        return f"{text}; {visit_errors}" if visit and visit_errors else text

    rows = [
        Row("room", "first visit to tap-ready (phone, empty cache)", r_tap, "MB", TAP_READY_GOAL_MB, fmt="{:.2f}",
            baseline=f"Streamlit first page to drawn plane {_mb(s_drawn)}; {_ratio(r_tap, s_drawn)}".rstrip("; "),
            note=note("Chromium at 390×844 with touch, a fresh context; bytes on the wire (Chrome's encodedDataLength "
                      "of every response: headers and compressed bodies, plus WebSocket frames) until <html> has "
                      "data-tap-ready, without the conditional decoder's should it be loading already "
                      f"(with it: {_mb(r_marks.get('tap-ready', {}).get('mb'))})", visit=True)),
        Row("room", "first visit, everything (phone, empty cache)", r_all, "MB", EVERYTHING_GOAL_MB, fmt="{:.2f}",
            baseline=f"Streamlit first page until network idle {_mb(s_idle)}; {_ratio(r_all, s_idle)}".rstrip("; "),
            note=note(f"until data-complete (the conditional decoder too); network idle = nothing in flight or "
                      f"received for {QUIET_S} s", visit=True)),
        Row("room", "WebSockets opened + other hosts asked, room page", web, "", 0.0, fmt="{:.0f}",
            baseline=(f"Streamlit first page: {len(s_visit['websockets'])} WebSocket(s), "
                      f"{len(s_visit['other_hosts'])} other host(s)"),
            note=note("from the first visit's DevTools events: Network.webSocketCreated, and every request's host "
                      "against the page's own", visit=True)),
        Row("room", f"server CPU per phone, {phones} phones at once", r_cpu, "ms", CPU_GOAL_MS, fmt="{:.1f}",
            baseline=f"Streamlit first page {s_cpu:.0f} ms; {_ratio(r_cpu, s_cpu)}".rstrip("; ")
            if s_cpu is not None else "",
            note=note("the server process's utime + stime (/proc, its children too) over the storm, divided by the "
                      "phones; every phone starts at the same moment, all files over plain HTTP/1.1 keep-alive "
                      "(HTML first, then up to 6 connections like a browser), Accept-Encoding: gzip" + shortened)),
        Row("room", f"p95 time to the last byte, {phones} phones at once", r_p95, "s", P95_GOAL_S, fmt="{:.2f}",
            baseline=f"Streamlit first page p95 {_s(s_p95)}; {_ratio(r_p95, s_p95)}".rstrip("; "),
            note=note("from the common start to each phone's last byte (Streamlit: to the ForwardMsg that ends its "
                      f"session's first run); a failed phone counts as never done; timeout {STORM_TIMEOUT_S:.0f} s; "
                      + "; ".join(f"{who}: {pace(result)}" for who, result in storms.items()) + shortened)),
        Row("room", f"phones that failed, of {phones}", len(r_storm.failures) if r_storm else None, "", 0.0,
            fmt="{:.0f}", baseline=f"Streamlit first page: {len(s_storm.failures)} failed",
            note=note("any error, HTTP status other than 200 or timeout")),
        Row("room", "MB per phone in the storm", r_storm.summary()["wire_mb_per_phone"] if r_storm else None, "MB",
            fmt="{:.2f}", baseline=f"Streamlit first page {_mb(s_storm.summary()['wire_mb_per_phone'])} "
                                   f"(its HTML, scripts and one session; not the plane's files)",
            note=note("bytes the phones' sockets received (headers and gzip bodies), per phone that finished")),
    ]
    return rows


def run(quick: bool = False, log=print, phones: int | None = None) -> tuple[list[Row], dict]:
    phones = phones or (QUICK_PHONES if quick else PHONES)
    measured = asyncio.run(_run(phones, log))
    rows = rows_for(measured, phones, quick)
    details = {**measured, "phones": phones,
               "storms": {k: v.summary() for k, v in measured["storms"].items()}}
    return rows, details
