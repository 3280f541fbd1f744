"""The room page's files, served beside the app by the same server (`st.App` routes in app.py).

A phone that opens ``/room`` gets a static page: HTML, CSS, ES modules and a model's room files
(``vae_core.room``: room.json, a small decoder, the test-set codes, the conditional decoder). There
is no Streamlit session and no WebSocket behind it: the server's only work per phone is sending
files, each held in memory, gzip-compressed once, with an ETag.

Addresses (everything else is a 404):

- ``/room``: the model the lecturer last invited the room to (the shipped MNIST model before any
  invitation); ``/room/<id>``: one model, for as long as its files exist;
- ``/room/projector``: the same page for a projector, large, with the invitation's QR code;
- ``/room/<id>/<file>``: room.json and the data files of that model, and the page's web modules.

A URL never reaches the file system as a path: a room id and a data file name pass
``vae_core.room``'s strict validators, and a web module is looked up by name in the list of the
package's files made once at start.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route, Router

from ui.latent_plane.assets import data_dir
from vae_core.errors import VAEError
from vae_core.room import SHIPPED_DIR, WEB_DIR, RoomManifest, safe_room_id, shipped_conditional, write_room

DEFAULT_MODEL = SHIPPED_DIR / "mnist.safetensors"
CURRENT_FILE, INVITE_FILE = "current", "invite.json"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
         ".safetensors": "application/octet-stream"}
MAX_ROOMS_IN_MEMORY = 8  # a room is about 1.5 MB


def rooms_dir() -> Path:
    """The published rooms, one folder per model id, shared by every app process of the machine."""
    return data_dir() / "rooms"


@dataclass(frozen=True)
class ServedFile:
    """One file as sent: its bytes, gzipped once, and its validator."""

    body: bytes
    gzipped: bytes | None  # None when compression does not pay
    content_type: str
    etag: str
    immutable: bool  # named by its content's hash: browsers may keep it for good

    @classmethod
    def of(cls, body: bytes, suffix: str, immutable: bool = False) -> "ServedFile":
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        return cls(body, packed if len(packed) < 0.95 * len(body) else None, TYPES[suffix],
                   '"' + hashlib.sha256(body).hexdigest()[:20] + '"', immutable)

    def response(self, request: Request) -> Response:
        cache = "public, max-age=31536000, immutable" if self.immutable else "no-cache"
        headers = {"etag": self.etag, "cache-control": cache, "vary": "accept-encoding"}
        if request.headers.get("if-none-match") == self.etag:
            return Response(status_code=304, headers=headers)
        if self.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
            # (Streamlit's gzip middleware leaves a response that already has an encoding alone)
            return Response(self.gzipped, media_type=self.content_type, headers={**headers, "content-encoding": "gzip"})
        return Response(self.body, media_type=self.content_type, headers=headers)


def _web_files() -> dict[str, Path]:
    """The page's own files by their URL path below a room (``room/main.js``, ``plane.css``, ...)."""
    files = {}
    for path in WEB_DIR.rglob("*"):
        if path.is_file() and path.suffix in (".js", ".css", ".svg") and "__pycache__" not in path.parts:
            files[path.relative_to(WEB_DIR).as_posix()] = path
    return files


class RoomSite:
    """Everything the room routes send, cached in memory: the web modules, and the files of the
    most recently asked rooms."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.lock = threading.Lock()  # the in-memory rooms (held for lookups only)
        self.publishing = threading.Lock()  # the shipped model's room, built once
        self.rooms: OrderedDict[str, dict[str, ServedFile]] = OrderedDict()
        self.web: dict[str, ServedFile] = {}
        self.web_sources = _web_files()
        self.pages: dict[tuple[str, str | None], ServedFile] = {}
        self.default_id: str | None = None

    @property
    def root(self) -> Path:
        return self.folder or rooms_dir()

    # --- the page's modules ------------------------------------------------------------------

    def web_file(self, name: str) -> ServedFile | None:
        path = self.web_sources.get(name)
        if path is None:
            return None
        served = self.web.get(name)
        if served is None or os.environ.get("VAE_ROOM_RELOAD"):  # (a developer editing the page)
            served = self.web[name] = ServedFile.of(path.read_bytes(), path.suffix)
        return served

    def page(self, room_id: str, projector: str | None = None) -> ServedFile:
        """The room page's HTML, its relative addresses resolving into ``/room/<id>/`` (made once
        per room and invitation)."""
        key = (room_id, projector)
        served = self.pages.get(key)
        if served is None or os.environ.get("VAE_ROOM_RELOAD"):
            text = (WEB_DIR / "room" / "index.html").read_text(encoding="utf-8")
            head = f'<head>\n<base href="/room/{room_id}/">'
            if projector is not None:
                head += f"\n<script>window.__roomProjector = {projector};</script>"
            if len(self.pages) > 4 * MAX_ROOMS_IN_MEMORY:
                self.pages.clear()
            served = self.pages[key] = ServedFile.of(text.replace("<head>", head, 1).encode(), ".html")
        return served

    # --- the rooms ---------------------------------------------------------------------------

    def room_files(self, room_id: str) -> dict[str, ServedFile] | None:
        """A published room's files (room.json and its data files), or None when there is none."""
        with self.lock:
            if room_id in self.rooms:
                self.rooms.move_to_end(room_id)
                return self.rooms[room_id]
        folder = self.root / room_id
        try:
            manifest = (folder / "room.json").read_bytes()
            files = {"room.json": ServedFile.of(manifest, ".json")}
            for name in RoomManifest.from_json(manifest).files():  # each name checked by from_json
                files[name] = ServedFile.of((folder / name).read_bytes(), ".safetensors", immutable=True)
        except (OSError, ValueError, VAEError):  # (a room.json that is not one: RoomError)
            return None
        with self.lock:
            self.rooms[room_id] = files
            while len(self.rooms) > MAX_ROOMS_IN_MEMORY:
                self.rooms.popitem(last=False)
        return files

    def cached(self, room_id: str) -> dict[str, ServedFile] | None:
        """A room's files when they are in memory already (no disk, no thread)."""
        with self.lock:
            return self.rooms.get(room_id)

    def current(self) -> str | None:
        """The id of the room last invited to, else the shipped model's once it is published
        (None before: see publish_default)."""
        try:
            room_id = safe_room_id((self.root / CURRENT_FILE).read_text().strip())
        except OSError:
            room_id = None
        if room_id is not None and (self.cached(room_id) is not None or (self.root / room_id / "room.json").is_file()):
            return room_id
        return self.default_id

    def publish_default(self) -> str:
        """Publish the shipped MNIST model's room (once per process; its files are made once per
        machine)."""
        import vae_core as vc

        with self.publishing:
            if self.default_id is None:
                conditional_path = shipped_conditional("mnist")
                conditional = vc.load_checkpoint(conditional_path) if conditional_path is not None else None
                files = vc.build_room(vc.load_checkpoint(DEFAULT_MODEL), conditional, title="MNIST (pretrained)")
                self.default_id = publish(files, self.root, make_current=False)
            return self.default_id

    def invite(self) -> dict:
        try:
            return json.loads((self.root / INVITE_FILE).read_text())
        except (OSError, ValueError):
            return {}


def publish(files, root: Path | None = None, make_current: bool = True) -> str:
    """Write a room (``vae_core.build_room``'s result) among the published ones, unless it is there
    already, and with ``make_current`` make it the one ``/room`` shows. Returns its id."""
    root = root or rooms_dir()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    room_id = files.manifest.id
    if not (root / room_id / "room.json").is_file():
        try:
            write_room(files, root / room_id, site=False)
        except VAEError:
            if not (root / room_id / "room.json").is_file():
                raise
            # another process published the same room meanwhile
    if make_current:
        _write_atomically(root / CURRENT_FILE, room_id.encode())
    return room_id


def save_invite(address: str, qr_svg: str, room_id: str, root: Path | None = None) -> None:
    """What the projector view shows: the address phones open and its QR code."""
    root = root or rooms_dir()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_atomically(root / INVITE_FILE, json.dumps({"address": address, "qr": qr_svg, "id": room_id}).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# --- routes -----------------------------------------------------------------------------------

SITE = RoomSite()


def not_found(message: str) -> HTMLResponse:
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>Room not found</title></head>'
            f'<body style="font: 18px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem">'
            f'<h1>Room not found</h1><p>{html.escape(message)}</p>'
            f'<p><a href="/room">Open the room the lecturer invited you to</a></p></body></html>')
    return HTMLResponse(body, status_code=404, headers={"cache-control": "no-cache"})


async def _current_id() -> str:
    return SITE.current() or await run_in_threadpool(SITE.publish_default)


async def _room_files(room_id: str) -> dict[str, ServedFile] | None:
    return SITE.cached(room_id) or await run_in_threadpool(SITE.room_files, room_id)


async def current_room(request: Request) -> Response:
    return SITE.page(await _current_id()).response(request)


async def projector(request: Request) -> Response:
    room_id, invite = await _current_id(), SITE.invite()
    info = {"address": invite.get("address") or "", "qr": invite.get("qr") or ""}
    return SITE.page(room_id, projector=json.dumps(info).replace("</", "<\\/")).response(request)


async def one_room(request: Request) -> Response:
    room_id = safe_room_id(request.path_params["room"])
    if room_id is None or await _room_files(room_id) is None:
        return not_found("There is no room with this address on this server: its model may have been removed, "
                         "or the address was mistyped.")
    if not request.url.path.endswith("/"):  # the page's relative addresses need the folder form
        return RedirectResponse(request.url.path + "/", status_code=308)
    return SITE.page(room_id).response(request)


async def room_file(request: Request) -> Response:
    room_id, name = safe_room_id(request.path_params["room"]), request.path_params["file"]
    served = SITE.web_file(name) if room_id is not None else None
    if served is None and room_id is not None:
        files = await _room_files(room_id)
        served = files.get(name) if files is not None else None
    if served is None:
        return not_found("This room has no such file.")
    return served.response(request)


class RoomMiddleware:
    """Sends the room's requests to its routes ahead of Streamlit's own middleware (cookie
    sessions, on-the-fly gzip) and router: a phone's visit costs the server only the sending of
    files it already holds, compressed. app.py's st.App puts it first; every other request goes on
    to Streamlit untouched."""

    def __init__(self, app) -> None:
        self.app = app
        self.rooms = Router(routes=room_routes())

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/room" or path.startswith("/room/"):
            await self.rooms(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def room_routes() -> list[Route]:
    """The room's routes (RoomMiddleware serves them)."""
    return [Route("/room", current_room), Route("/room/", current_room), Route("/room/projector", projector),
            Route("/room/{room}", one_room), Route("/room/{room}/", one_room),
            Route("/room/{room}/{file:path}", room_file)]
