"""Section 4, memory: resident memory of a fresh app server with the pretrained model loaded,
then after N browser sessions have each clicked points and generated digits."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from bench.browser import ROOT, AppServer, Session, chromium
from bench.report import Row

RSS_GOAL_MB = 600.0


def import_floor_mb() -> float:
    """RSS of a bare Python that only imports what the server imports (streamlit, torch,
    plotly, vae_core): the part of the server's memory no app change can remove."""
    code = ("import streamlit, torch, plotly.graph_objects, vae_core, pathlib; "
            "print(next(l.split()[1] for l in pathlib.Path('/proc/self/status').read_text().splitlines() "
            "if l.startswith('VmRSS:')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    return int(out.stdout.strip()) / 1024 if out.returncode == 0 else float("nan")


async def visit(session: Session, clicks: int) -> None:
    """Explore: click points; Generate: a class button and new prior samples."""
    await session.wait_idle(300)
    for trace, index in (await session.isolated_points(clicks))[:clicks]:
        await session.click_point(trace, index)
        await session.wait_idle(200)
    await session.goto("Generate")
    await session.timed("() => window.__bench.armText('16 new', 1)",
                        lambda: session.page.get_by_role("button", name="7", exact=True).click(), "generate 7")
    await session.wait_idle(200)
    await session.page.get_by_role("button", name="New samples").click()
    await session.wait_idle(200)
    await session.count_exceptions()


async def _run(quick: bool, log) -> tuple[list[Row], dict]:
    sessions = 2 if quick else 5
    clicks = 2 if quick else 4
    samples = {}
    async with chromium("memory") as (browser, log_dir):
        with AppServer(log_dir) as server:
            server.wait_healthy()
            samples["server_idle_mb"] = server.rss_mb()
            log("  first session (loads the pretrained models)…")
            first = await Session(browser, server.url, "first").open()
            await first.wait_idle(1000)
            samples["model_loaded_mb"] = server.rss_mb()
            samples["model_loaded_peak_mb"] = server.peak_rss_mb()
            await first.close()
            log(f"  {sessions} sessions, each clicking {clicks} points and generating…")
            opened = [await Session(browser, server.url, f"s{i}").open() for i in range(sessions)]
            await asyncio.gather(*(visit(s, clicks) for s in opened))
            samples["after_sessions_mb"] = server.rss_mb()
            samples["peak_mb"] = server.peak_rss_mb()
            errors = sum(s.log.errors for s in opened)
            for s in opened:
                await s.close()
            samples["after_close_mb"] = server.rss_mb()
            samples["server_log_tracebacks"] = len(server.log_errors())
    samples["import_floor_mb"] = import_floor_mb()
    samples["errors"] = errors
    shortened = f" (quick: {sessions} sessions × {clicks} clicks)" if quick else ""
    rows = [
        Row("memory", "server RSS, pretrained models loaded", samples["model_loaded_mb"], "MB", RSS_GOAL_MB, "<=",
            fmt="{:.0f}", baseline=f"imports alone {samples['import_floor_mb']:.0f} MB",
            note="VmRSS of the streamlit process and its children after the first page view; 'imports alone' is a "
                 "bare python importing streamlit, torch, plotly and vae_core"),
        Row("memory", f"server peak RSS after {sessions} sessions clicked and generated", samples["peak_mb"], "MB",
            RSS_GOAL_MB, "<=", fmt="{:.0f}",
            baseline=f"now {samples['after_sessions_mb']:.0f} MB, {errors} errors",
            note="VmHWM (peak) of the server process" + shortened),
    ]
    return rows, samples


def run(quick: bool = False, log=print) -> tuple[list[Row], dict]:
    return asyncio.run(_run(quick, log))
