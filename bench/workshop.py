"""Section "workshop" (issue 25): a class trains at once. Visitors speak Streamlit's own WebSocket
protocol (bench.protocol), no browser, so the two cores serve the app:

1. one visitor trains the Train page's Quick preset alone, while another reruns Explore every
   2 s: the baseline of this run;
2. 8 visitors press "Start training" at the same moment (after opening the Train page one by
   one), while the 9th goes on rerunning Explore every 2 s.

It reports when the first and the last of the 8 finished against one training alone, the 9th
visitor's rerun times (p50, p95, timeouts of 60 s), and the peak resident memory of the server's
whole process tree (the server and its training workers), sampled every half second.
"""

from __future__ import annotations

import asyncio
import time

from bench.browser import AppServer, cpu_seconds, percentile, process_tree, rss_mb
from bench.protocol import ProtocolVisitor
from bench.report import Row

EXPLORE_EVERY_S = 2.0
EXPLORE_TIMEOUT_S = 60.0
TRAINING_TIMEOUT_S = 1800.0
FIRST_GOAL_RATIO = 2.0  # the first of the 8 finishes within this many trainings alone
RERUN_P95_GOAL_S = 1.0
RSS_GOAL_MB = 1200.0
OUTCOMES = ("Finished:", "Training failed", "training diverged")


class Explorer:
    """The visitor who reruns Explore every 2 s; each rerun's seconds (None: no answer in 60 s)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.reruns: list[tuple[float, float | None]] = []  # (time.time() of the request, seconds)
        self.errors: list[str] = []

    async def run(self, until: asyncio.Event) -> None:
        async with ProtocolVisitor(self.url, "explorer") as visitor:
            await visitor.run_page("Explore")
            while not until.is_set():
                start = time.time()
                try:
                    seconds = await visitor.run_page("Explore", timeout=EXPLORE_TIMEOUT_S)
                except asyncio.TimeoutError:
                    seconds = None
                self.reruns.append((start, seconds))
                await asyncio.sleep(max(0.0, EXPLORE_EVERY_S - (time.time() - start)))
            self.errors += visitor.errors

    def between(self, start: float, end: float) -> list[float | None]:
        return [s for t, s in self.reruns if start <= t <= end]


class MemorySampler:
    """The server's process tree: resident memory every half second, and how many processes."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float, int]] = []  # (time.time(), MB, processes)

    async def run(self, until: asyncio.Event) -> None:
        while not until.is_set():
            self.samples.append((time.time(), rss_mb(self.pid), len(process_tree(self.pid))))
            await asyncio.sleep(0.5)

    def peak(self, start: float = 0.0, end: float = float("inf")) -> float:
        return max((mb for t, mb, _ in self.samples if start <= t <= end), default=float("nan"))


async def open_trainer(url: str, name: str) -> ProtocolVisitor:
    visitor = ProtocolVisitor(url, name)
    await visitor.__aenter__()
    await visitor.run_page("Train", timeout=180)
    return visitor


async def train_until_done(visitor: ProtocolVisitor, pressed: float) -> tuple[float | None, str]:
    """Seconds from the press until the page tells the training's outcome, and that outcome."""
    while time.time() - pressed < TRAINING_TIMEOUT_S:
        outcome = next((t for t in map(visitor.text_with, OUTCOMES) if t), None)
        if outcome:
            return time.time() - pressed, outcome
        await asyncio.sleep(0.2)
    return None, "no outcome within the time limit"


async def _workshop(quick: bool, log) -> tuple[list[Row], dict]:
    import tempfile
    from pathlib import Path

    visitors_n = 3 if quick else 8
    log_dir = Path(tempfile.mkdtemp(prefix="bench-workshop-"))
    with AppServer(log_dir) as server:
        server.wait_healthy()
        done = asyncio.Event()
        explorer, memory = Explorer(server.url), MemorySampler(server.proc.pid)
        background = [asyncio.create_task(explorer.run(done)), asyncio.create_task(memory.run(done))]

        log("  one visitor trains the Quick preset alone while another reruns Explore every 2 s…")
        alone_visitor = await open_trainer(server.url, "alone")
        alone_start = time.time()
        await alone_visitor.press("train_start")
        alone_s, alone_outcome = await train_until_done(alone_visitor, alone_start)
        alone_end = time.time()
        await alone_visitor.__aexit__(None, None, None)
        log(f"  alone: {alone_s or float('nan'):.1f} s ({alone_outcome[:60]})")

        log(f"  {visitors_n} visitors open the Train page, then press Start training together…")
        trainers = [await open_trainer(server.url, f"trainer{i}") for i in range(visitors_n)]
        together = time.time()
        web_cpu_start = cpu_seconds([server.proc.pid])  # the web process alone, not its workers
        await asyncio.gather(*(t.press("train_start") for t in trainers))
        results = await asyncio.gather(*(train_until_done(t, together) for t in trainers))
        together_end = time.time()
        web_cpu = cpu_seconds([server.proc.pid]) - web_cpu_start
        done.set()
        await asyncio.gather(*background)
        errors = explorer.errors + [e for t in trainers for e in t.errors] + alone_visitor.errors
        for t in trainers:
            await t.__aexit__(None, None, None)
        tracebacks = server.log_errors()
    times = [s for s, _ in results]
    finished = [s for s, outcome in results if s is not None and outcome.startswith("Finished:")]
    during = explorer.between(together, together_end)
    alone_reruns = explorer.between(alone_start, alone_end)
    timeouts = sum(s is None for s in during)
    first = min(finished) if finished else None
    rows = [
        Row("workshop", "one training alone (Quick preset), press → finished", alone_s, "s", fmt="{:.1f}",
            baseline=f"Explore reran at p50 {percentile(alone_reruns, 50) or float('nan'):.2f} s, "
                     f"p95 {percentile(alone_reruns, 95) or float('nan'):.2f} s meanwhile"),
        Row("workshop", f"{visitors_n} press together: the first finished (/ one alone)",
            first / alone_s if first and alone_s else None, "×", FIRST_GOAL_RATIO, "<=", fmt="{:.2f}",
            baseline=f"first {first or float('nan'):.1f} s, last {max(finished, default=float('nan')):.1f} s; "
                     f"{len(finished)} of {visitors_n} finished"),
        Row("workshop", f"{visitors_n} press together: trainings finished", len(finished), "", visitors_n, ">=",
            fmt="{:.0f}", baseline="outcomes: " + "; ".join(sorted({o[:50] for _, o in results}))),
        Row("workshop", "9th visitor: Explore rerun p95 while they train", percentile(during, 95), "s", RERUN_P95_GOAL_S,
            "<=", fmt="{:.2f}", baseline=f"p50 {percentile(during, 50) or float('nan'):.2f} s, {len(during)} reruns, "
                                          f"{timeouts} without an answer in {EXPLORE_TIMEOUT_S:.0f} s"),
        Row("workshop", "9th visitor: reruns without an answer in 60 s", timeouts, "", 0, "<=", fmt="{:.0f}"),
        Row("workshop", "server process tree (server + workers): peak RSS", memory.peak(together, together_end), "MB",
            RSS_GOAL_MB, "<=", fmt="{:.0f}",
            baseline=f"peak {memory.peak():.0f} MB over the whole run; at most "
                     f"{max((n for *_, n in memory.samples), default=0)} processes"),
        Row("workshop", "web process CPU while they train and wait (its share of one core)",
            web_cpu / (together_end - together), "×", fmt="{:.2f}",
            baseline=f"{web_cpu:.0f} CPU-s in {together_end - together:.0f} s: {visitors_n} pages polled every second, "
                     "a rerun per epoch, the 9th visitor's reruns",
            note="the web process only (its training workers are other processes)"),
        Row("workshop", "errors (exceptions on the pages, server tracebacks)", len(errors) + len(tracebacks), "", 0, "<=",
            fmt="{:.0f}"),
    ]
    details = {"web_cpu_s": web_cpu, "alone_s": alone_s, "alone_outcome": alone_outcome, "together_s": times,
               "outcomes": [o for _, o in results], "explore_reruns": explorer.reruns, "rss": memory.samples,
               "errors": errors[:10], "server_tracebacks": tracebacks[:3], "visitors": visitors_n}
    return rows, details


def run(quick: bool = False, log=print) -> tuple[list[Row], dict]:
    return asyncio.run(_workshop(quick, log))
