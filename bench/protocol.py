"""A visitor without a browser: Streamlit's own WebSocket protocol (``/_stcore/stream``,
``BackMsg`` and ``ForwardMsg`` protobufs), as its frontend speaks it. It opens a session, runs
a page, presses a button by its key, and keeps a fragment's ``run_every`` polls going the way
the frontend does (a ``rerun_script`` for the fragment each interval the server asked for), so
a few dozen visitors cost the benchmark's machine almost nothing beside the server.

Only the elements the benchmarks read are kept: each widget's id by its key, and the texts
of the page (markdown, alerts, progress bars) by their place on it.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlparse

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

STREAM_PATH = "/_stcore/stream"
MAX_MESSAGE_BYTES = 200 * 1024 * 1024  # Streamlit's own limit on a message


class ProtocolVisitor:
    """One visitor's session; ``async with ProtocolVisitor(url) as v: await v.run_page("Train")``."""

    def __init__(self, url: str, name: str = "visitor", cookie: str | None = None) -> None:
        self.url, self.name, self.cookie = url.rstrip("/"), name, cookie
        self.pages: dict[str, str] = {}  # page title → page_script_hash
        self.page_hash = ""
        self.widgets: dict[str, str] = {}  # a widget's key → its id
        self.texts: dict[tuple, str] = {}  # the page's texts by delta path
        self.polls: dict[str, float] = {}  # fragment id → seconds between its reruns
        self.runs_finished = 0
        self.errors: list[str] = []
        self._finished = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.bytes_in = 0

    async def __aenter__(self) -> "ProtocolVisitor":
        parsed = urlparse(self.url)
        headers = {"Origin": f"{parsed.scheme}://{parsed.netloc}"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.ws = await connect(f"ws://{parsed.netloc}{STREAM_PATH}", subprotocols=["streamlit"],
                                additional_headers=headers, max_size=MAX_MESSAGE_BYTES, open_timeout=60,
                                ping_interval=None)
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._poll())]
        return self

    async def __aexit__(self, *exc) -> None:
        for task in self._tasks:
            task.cancel()
        await self.ws.close()

    # ------------------------------------------------------------ what a visitor does

    async def run_page(self, title: str | None = None, timeout: float = 120.0) -> float:
        """Run a page (the default one when ``title`` is None, or when the pages are not known
        yet); returns the seconds until the server finished that run."""
        if title is not None and not self.pages:
            await self.run_page(None, timeout)
        self.page_hash = self.pages.get(title, "") if title else self.page_hash
        return await self._rerun(timeout=timeout)

    async def press(self, key: str, timeout: float = 120.0) -> float:
        """Press the button with this key; returns the seconds until that run finished."""
        if key not in self.widgets:
            raise LookupError(f"{self.name}: no widget with key {key!r} on the page")
        return await self._rerun({self.widgets[key]: True}, timeout=timeout)

    def text_with(self, part: str) -> str | None:
        """The first of the page's texts that contains ``part``."""
        return next((t for t in self.texts.values() if part in t), None)

    # ------------------------------------------------------------ the protocol

    async def _rerun(self, triggers: dict[str, bool] | None = None, fragment: str = "",
                     timeout: float = 120.0) -> float:
        message = BackMsg()
        state = message.rerun_script
        state.page_script_hash = self.page_hash
        state.widget_states.SetInParent()
        for widget_id in triggers or {}:
            state.widget_states.widgets.add(id=widget_id, trigger_value=True)
        if fragment:
            state.fragment_id, state.is_auto_rerun = fragment, True
        if not fragment:
            self._finished.clear()
        start = time.perf_counter()
        await self.ws.send(message.SerializeToString())
        if fragment:
            return 0.0
        await asyncio.wait_for(self._finished.wait(), timeout)
        return time.perf_counter() - start

    async def _read(self) -> None:
        async for data in self.ws:
            self.bytes_in += len(data)
            message = ForwardMsg()
            message.ParseFromString(data)
            kind = message.WhichOneof("type")
            if kind == "new_session" and not message.metadata.run.fragment_ids:
                self._new_run()
            elif kind == "navigation":  # the app's own pages (st.navigation), by title
                self.pages = {page.page_name: page.page_script_hash for page in message.navigation.app_pages}
                self.page_hash = message.navigation.page_script_hash or self.page_hash
            elif kind == "delta":
                self._delta(message)
            elif kind == "auto_rerun":
                self.polls[message.auto_rerun.fragment_id] = message.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fragment in message.stop_auto_rerun.fragment_ids:
                    self.polls.pop(fragment, None)
            elif kind == "script_finished":
                if message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    self.errors.append("the script did not compile")
                if message.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR):
                    self.runs_finished += 1
                    self._finished.set()

    def _new_run(self) -> None:
        """A full run starts (not a fragment's): the page's elements and its fragments' polls are drawn anew."""
        self.texts.clear()
        self.polls.clear()

    def _delta(self, message) -> None:
        delta = message.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        path = tuple(message.metadata.delta_path)
        widget = getattr(element, kind, None)
        widget_id = getattr(widget, "id", "") if widget is not None else ""
        if isinstance(widget_id, str) and widget_id.startswith("$$ID"):
            self.widgets[widget_id.rsplit("-", 1)[-1]] = widget_id
        text = {"markdown": lambda: element.markdown.body, "alert": lambda: element.alert.body,
                "progress": lambda: element.progress.text, "heading": lambda: element.heading.body,
                "exception": lambda: f"exception: {element.exception.type}: {element.exception.message}"}.get(kind)
        if text is not None:
            self.texts[path] = text()
        if kind == "exception":
            self.errors.append(self.texts[path][:200])

    async def _poll(self) -> None:
        """The frontend's timer for ``st.fragment(run_every=…)``: each fragment reruns on its interval."""
        due: dict[str, float] = {}
        while True:
            await asyncio.sleep(0.1)
            now = time.monotonic()
            for fragment, interval in list(self.polls.items()):
                due.setdefault(fragment, now + interval)
                if now >= due[fragment]:
                    due[fragment] = now + interval
                    await self._rerun(fragment=fragment)
            for fragment in set(due) - set(self.polls):
                due.pop(fragment)
