"""A visitor of a Streamlit app's first page without a browser: Streamlit's own WebSocket
protocol (``/_stcore/stream``, protobufs), as its frontend speaks it on a first visit (the
smallest such client: bench/protocol.py's ProtocolVisitor stays and clicks; this one counts the
bytes of one first run). It opens
the socket, asks for the first run of the script (a ``rerun_script`` BackMsg with an empty
client state) and reads ForwardMsgs until the server says that run finished: the server has then
done all its work for that visitor's first screen.
"""

from __future__ import annotations

from websockets.asyncio.client import ClientConnection, connect

from bench.protocol import STREAM_PATH
from bench.storm import Traffic, loopback_address
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

# What the frontend fetches before it opens the socket (the server's health and host config).
HANDSHAKE_PATHS = ("/_stcore/health", "/_stcore/host-config")
RUN_OVER = {ForwardMsg.FINISHED_SUCCESSFULLY: None,
            ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "the script did not compile"}


def first_run_request(page_url: str) -> bytes:
    """The BackMsg a browser sends first on ``page_url``: run the script for a new session (no
    widget values, no cached messages), with a phone's context."""
    message = BackMsg()
    state = message.rerun_script
    state.query_string = ""
    state.page_script_hash = ""
    state.page_name = ""
    state.widget_states.SetInParent()
    info = state.context_info
    info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
    info.url, info.is_embedded, info.color_scheme = page_url, False, "light"
    return message.SerializeToString()


def run_outcome(data: bytes) -> tuple[bool, str | None]:
    """Read one ForwardMsg: (whether the script run is over, what went wrong or None). An
    exception element on the page is a failure too."""
    message = ForwardMsg()
    message.ParseFromString(data)
    kind = message.WhichOneof("type")
    if kind == "script_finished" and message.script_finished in RUN_OVER:
        return True, RUN_OVER[message.script_finished]
    if (kind == "delta" and message.delta.WhichOneof("type") == "new_element"
            and message.delta.new_element.WhichOneof("type") == "exception"):
        exception = message.delta.new_element.exception
        return False, f"the page showed an exception: {exception.type}: {exception.message[:100]}"
    return False, None


class CountingConnection(ClientConnection):
    """A WebSocket connection that counts the bytes its socket received (frames as they
    travelled, compressed when permessage-deflate is on)."""

    wire_bytes = 0

    def data_received(self, data: bytes) -> None:
        self.wire_bytes += len(data)
        super().data_received(data)


async def first_run(app_url: str, traffic: Traffic, sessions: list | None = None) -> None:
    """One new session's first run on the app at ``app_url`` (``http://127.0.0.1:PORT``),
    counted into ``traffic``; raises on a failed run. The open socket is appended to
    ``sessions`` (the caller closes it: a phone in a room stays), else closed at once."""
    host, port = loopback_address(app_url)
    origin = f"http://{host}:{port}"
    socket = await connect(f"ws://{host}:{port}{STREAM_PATH}", origin=origin, subprotocols=["streamlit"],
                           proxy=None, open_timeout=None, ping_interval=None, close_timeout=2,
                           max_size=2 ** 28, create_connection=CountingConnection)
    traffic.requests += 1
    try:
        await socket.send(first_run_request(origin + "/"))
        problem = None
        while True:
            data = await socket.recv()
            traffic.body_bytes += len(data)
            over, trouble = run_outcome(data)
            problem = problem or trouble
            if over:
                break
        if problem:
            raise RuntimeError(problem)
    finally:
        traffic.wire_bytes += socket.wire_bytes
        if sessions is None:
            await socket.close()
        else:
            sessions.append(socket)
