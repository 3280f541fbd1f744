"""Many phones at once, over plain HTTP/1.1 and without a browser: each phone is one asyncio
task that asks for every file of a page (``Accept-Encoding: gzip``, keep-alive connections,
up to six like a browser), and the storm records each phone's time from the common start to its
last byte, its bytes on the wire, its failures, and the server's CPU time meanwhile.

Bytes on the wire are what the socket received: status lines, headers and (compressed) bodies.
Only this machine is ever visited.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import urlsplit

import h11
import numpy as np

from bench.browser import cpu_seconds, process_tree

BROWSER_CONNECTIONS = 6  # what a browser opens per host over HTTP/1.1
LOOPBACK = ("127.0.0.1", "localhost", "::1")
USER_AGENT = "vae-explorer-bench (a phone of python -m bench room)"


def loopback_address(url: str) -> tuple[str, int]:
    """(host, port) of an http:// URL on this machine; anything else is refused."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise ValueError(f"the storm visits only this machine over http (127.0.0.1), "
                         f"not {parts.scheme}://{parts.hostname}")
    return parts.hostname, parts.port or 80


@dataclass
class Traffic:
    """What one phone received."""

    requests: int = 0
    wire_bytes: int = 0  # status lines, headers and bodies as they travelled
    body_bytes: int = 0  # bodies as sent (compressed when the server compressed them)
    compressed: int = 0  # responses that came gzip-encoded


class HttpConnection:
    """One keep-alive HTTP/1.1 connection (reopened when the server closes it), counting bytes."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.http: h11.Connection | None = None
        self.opened = 0  # TCP connections made

    async def _open(self) -> None:
        await self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=2 ** 20)
        self.http = h11.Connection(h11.CLIENT)
        self.opened += 1

    async def get(self, path: str, traffic: Traffic) -> None:
        """GET ``path`` and read the whole response into ``traffic``; a status other than 200 raises."""
        if self.http is None or self.http.our_state is not h11.IDLE:
            await self._open()
        host = self.host if self.port == 80 else f"{self.host}:{self.port}"
        request = h11.Request(method="GET", target=path, headers=[
            ("Host", host), ("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Accept-Encoding", "gzip"),
            ("Connection", "keep-alive")])
        self.writer.write(self.http.send(request) + self.http.send(h11.EndOfMessage()))
        status, encoding = None, b""
        while True:
            event = self.http.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(2 ** 18)
                traffic.wire_bytes += len(data)
                self.http.receive_data(data)  # b"" tells h11 the server closed
            elif isinstance(event, h11.Response):
                status = event.status_code
                encoding = dict(event.headers).get(b"content-encoding", b"")
            elif isinstance(event, h11.Data):
                traffic.body_bytes += len(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError(f"GET {path}: the server closed the connection before answering")
        traffic.requests += 1
        traffic.compressed += encoding == b"gzip"
        if status != 200:
            raise ConnectionError(f"GET {path}: HTTP {status}")
        if self.http.our_state is h11.DONE and self.http.their_state is h11.DONE:
            self.http.start_next_cycle()
        else:  # the server asked to close: the next request opens a new connection
            await self.close()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = self.http = None


async def fetch_page(url: str, paths: list[str], traffic: Traffic, connections: int = BROWSER_CONNECTIONS) -> None:
    """One phone's visit, counted into ``traffic``: GET ``paths[0]`` (the HTML) first, then the
    rest over up to ``connections`` keep-alive connections, each taking the next file as it is free."""
    host, port = loopback_address(url)
    pool = [HttpConnection(host, port) for _ in range(max(1, min(connections, len(paths) - 1)))]
    try:
        if paths:
            await pool[0].get(paths[0], traffic)
        todo = list(paths[1:])

        async def worker(connection: HttpConnection) -> None:
            while todo:
                await connection.get(todo.pop(0), traffic)

        try:
            async with asyncio.TaskGroup() as group:  # one failed file cancels the phone's other downloads
                for connection in pool:
                    group.create_task(worker(connection))
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
    finally:
        await asyncio.gather(*(c.close() for c in pool))


@dataclass
class PhoneResult:
    seconds: float | None  # common start → its last byte (None: it failed or ran out of time)
    traffic: Traffic
    error: str | None = None


@dataclass
class StormResult:
    phones: list[PhoneResult]
    wall_seconds: float
    server_cpu_seconds: float | None  # utime + stime of the server's processes during the storm
    client_cpu_seconds: float = 0.0  # the phones' own (this process's): near the wall time, they were the bottleneck

    @property
    def failures(self) -> list[str]:
        return [p.error for p in self.phones if p.error]

    def seconds(self, q: float) -> float | None:
        return phone_percentile([p.seconds for p in self.phones], q)

    @property
    def cpu_ms_per_phone(self) -> float | None:
        if self.server_cpu_seconds is None or not self.phones:
            return None
        return 1000 * self.server_cpu_seconds / len(self.phones)

    @property
    def wire_bytes(self) -> int:
        return sum(p.traffic.wire_bytes for p in self.phones)

    def summary(self) -> dict:
        errors: dict[str, int] = {}
        for e in self.failures:
            errors[e] = errors.get(e, 0) + 1
        done = [p for p in self.phones if p.error is None]
        return {"phones": len(self.phones), "failed": len(self.failures), "errors": dict(list(errors.items())[:10]),
                "p50_s": self.seconds(50), "p95_s": self.seconds(95), "max_s": self.seconds(100),
                "wall_s": round(self.wall_seconds, 3), "server_cpu_s": self.server_cpu_seconds,
                "client_cpu_s": round(self.client_cpu_seconds, 2),
                "cpu_ms_per_phone": self.cpu_ms_per_phone, "wire_mb": self.wire_bytes / 1e6,
                "wire_mb_per_phone": (sum(p.traffic.wire_bytes for p in done) / len(done) / 1e6) if done else None,
                "requests_per_phone": (sum(p.traffic.requests for p in done) / len(done)) if done else None,
                "gzipped_per_phone": (sum(p.traffic.compressed for p in done) / len(done)) if done else None}


def phone_percentile(seconds: list[float | None], q: float) -> float | None:
    """The q-th percentile of the phones' times by nearest rank (numpy's inverted CDF), a phone
    that failed counting as never done: None when the percentile falls on such a phone."""
    if not seconds:
        return None
    values = np.array([np.inf if s is None else s for s in seconds], dtype=float)
    value = float(np.percentile(values, q, method="inverted_cdf"))
    return None if np.isinf(value) else value


def server_cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds (user + system) used so far by a process and its children, from /proc."""
    return None if pid is None else cpu_seconds(process_tree(pid))


async def storm(visit: Callable[[Traffic], Awaitable[None]], phones: int, timeout: float = 120.0,
                server_pid: int | None = None) -> StormResult:
    """``phones`` visits started at the same moment; each phone's time runs from that common
    start to the end of its ``visit(traffic)``, which counts what it receives. A phone whose visit
    raises fails with that error's message, without stopping the others; phones still running
    after ``timeout`` seconds are cancelled and fail too. The server's CPU is read just before
    and after."""
    results: list[PhoneResult | None] = [None] * phones
    loop = asyncio.get_running_loop()

    async def phone(i: int) -> None:
        traffic = Traffic()
        try:
            await visit(traffic)
            results[i] = PhoneResult(loop.time() - start, traffic)
        except asyncio.CancelledError:
            results[i] = PhoneResult(None, traffic, f"not done after {timeout:.0f} s")
            raise
        except Exception as e:  # one phone's failure is a figure, not the end of the storm
            results[i] = PhoneResult(None, traffic, str(e) or type(e).__name__)

    cpu_before, client_before = server_cpu_seconds(server_pid), time.process_time()
    start, wall = loop.time(), time.perf_counter()
    tasks = [asyncio.create_task(phone(i)) for i in range(phones)]
    _, late = await asyncio.wait(tasks, timeout=timeout)
    cpu_after = server_cpu_seconds(server_pid)  # before the late ones are cancelled: their work counts
    wall, client = time.perf_counter() - wall, time.process_time() - client_before
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    cpu = None if cpu_before is None else cpu_after - cpu_before
    return StormResult([r or PhoneResult(None, Traffic(), "did not run") for r in results], wall, cpu, client)
