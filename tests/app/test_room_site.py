"""The room page's routes (ui/room_site.py) in Starlette's TestClient: the current room and each
model's own address, files sent compressed and validated, and nothing outside the room's folder
ever reached; and the address phones are invited to (ui/invite.py)."""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import vae_core as vc
from helpers.data import ROOT
from ui import room_site
from ui.invite import is_loopback, room_address
from vae_core.model import VAEConfig, build_model

SHIPPED = ROOT / "pretrained" / "mnist.safetensors"


@pytest.fixture(scope="module")
def shipped_room():
    return vc.build_room(vc.load_checkpoint(SHIPPED), None, title="MNIST (pretrained)")


@pytest.fixture
def site(tmp_path, monkeypatch, shipped_room):
    """A fresh RoomSite over an empty rooms folder whose default room is the shipped model's."""
    fresh = room_site.RoomSite(tmp_path / "rooms")
    monkeypatch.setattr(room_site, "SITE", fresh)

    def publish_default() -> str:  # the real one also builds the conditional decoder (slower)
        if fresh.default_id is None:
            fresh.default_id = room_site.publish(shipped_room, fresh.root, make_current=False)
        return fresh.default_id

    monkeypatch.setattr(fresh, "publish_default", publish_default)
    return fresh


@pytest.fixture
def client(site):
    return TestClient(Starlette(routes=room_site.room_routes()))


def test_the_room_page_is_the_shipped_models_before_any_invitation(client, shipped_room):
    page = client.get("/room")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'<base href="/room/{shipped_room.manifest.id}/">' in page.text
    manifest = client.get(f"/room/{shipped_room.manifest.id}/room.json").json()
    assert manifest["id"] == shipped_room.manifest.id and manifest["title"] == "MNIST (pretrained)"
    for name in (manifest["decoder"], manifest["points"]):
        sent = client.get(f"/room/{shipped_room.manifest.id}/{name}")
        assert sent.status_code == 200 and sent.content == shipped_room.files[name]
        assert "immutable" in sent.headers["cache-control"]


def test_an_invitation_moves_room_but_each_model_keeps_its_address(client, site, shipped_room):
    default = client.get("/room").text
    other = vc.build_room(_tiny_checkpoint(), None, title="Mine")
    room_id = room_site.publish(other, site.root)
    assert f'<base href="/room/{room_id}/">' in client.get("/room").text
    kept = client.get(f"/room/{shipped_room.manifest.id}/")
    assert kept.status_code == 200 and kept.text == default
    assert client.get(f"/room/{room_id}", follow_redirects=False).headers["location"] == f"/room/{room_id}/"


def test_files_travel_gzipped_once_and_answer_304_when_unchanged(client, shipped_room):
    client.get("/room")  # (publishes the default room)
    url = f"/room/{shipped_room.manifest.id}/"
    raw = client.get(url, headers={"accept-encoding": "identity"})
    packed = client.get(url, headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in raw.headers and packed.headers["content-encoding"] == "gzip"
    assert packed.content == raw.content  # (the client unpacks it)
    assert client.get(url, headers={"if-none-match": raw.headers["etag"]}).status_code == 304


def test_the_pages_web_modules_are_served_from_the_package(client, shipped_room):
    base = f"/room/{shipped_room.manifest.id}/"
    page = client.get(base).text
    for module in ("room/main.js", "decoder.js", "plane.css"):
        assert module in page or client.get(base + module).status_code == 200
        sent = client.get(base + module)
        assert sent.status_code == 200, module
        assert sent.content == (room_site.WEB_DIR / module).read_bytes()


@pytest.mark.parametrize("path", [
    "/room/0123456789ab", "/room/zzzzzzzzzzzz/", "/room/" + "a" * 10_000, "/room/..%2F..%2Fetc%2Fpasswd",
    "/room/%2e%2e/%2e%2e/etc/passwd", "/room/..", "/room/projector/room.json", "/room/%00", "/room/ÿÿÿ",
    "/room/{id}/../../../../etc/passwd", "/room/{id}/%2e%2e/%2e%2e/app.py", "/room/{id}/..%2F..%2Fapp.py",
    "/room/{id}/room/../../../ui/room_site.py", "/room/{id}/decoder-0000000000000000.safetensors",
    "/room/{id}/" + "x" * 5000, "/room/{id}/C:\\windows\\win.ini", "/room/{id}//etc/passwd",
    "/room/{id}/__pycache__/x.pyc", "/room/{id}/room.json%00.js",
], ids=lambda p: p[:40])
def test_odd_addresses_never_reach_a_file_outside_the_room(client, shipped_room, path, monkeypatch):
    opened = []
    real_read = room_site.Path.read_bytes

    def watched(self):
        opened.append(self)
        return real_read(self)

    monkeypatch.setattr(room_site.Path, "read_bytes", watched)
    answer = client.get(path.replace("{id}", shipped_room.manifest.id), follow_redirects=False)
    assert answer.status_code in (404, 308)
    if answer.status_code == 404 and answer.url.path.startswith("/room/"):  # (not a path the client normalized away)
        assert "Room not found" in answer.text and 'href="/room"' in answer.text
        assert "/work" not in answer.text and "Traceback" not in answer.text
    allowed = (room_site.WEB_DIR.resolve(), (room_site.SITE.root).resolve())
    assert all(p.resolve().is_relative_to(allowed[0]) or p.resolve().is_relative_to(allowed[1]) for p in opened), opened


@pytest.mark.parametrize("path", ["/room/..", "/room/../app.py", "/room/{id}/../../../../etc/passwd",
                                  "/room/{id}/room/../../../ui/room_site.py", "/room/{id}/./room.json/..",
                                  "/room/{id}/%2e%2e/app.py"])
def test_dot_segments_a_client_did_not_remove_are_refused_too(site, shipped_room, path, monkeypatch):
    """A raw request (no client normalizes its path) reaches the routes with its dots."""
    opened = []
    monkeypatch.setattr(room_site.Path, "read_bytes", lambda self: opened.append(self) or b"")
    app, sent = Starlette(routes=room_site.room_routes()), []
    path = path.replace("{id}", shipped_room.manifest.id)
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [], "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 1), "root_path": ""}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 404
    assert all(p.resolve().is_relative_to(site.root.resolve()) for p in opened), opened  # (its own room.json)


def test_an_unknown_room_says_so_and_links_to_the_current_one(client):
    answer = client.get("/room/0123456789ab/")
    assert answer.status_code == 404
    assert "There is no room with this address on this server" in answer.text
    assert '<a href="/room">' in answer.text


def test_the_projector_view_carries_the_invitation(client, site, shipped_room):
    room_site.save_invite("http://192.168.1.20:8501/room", "data:image/svg+xml,<svg/>", shipped_room.manifest.id,
                          root=site.root)
    page = client.get("/room/projector").text
    info = json.loads(page.split("window.__roomProjector = ", 1)[1].split(";</script>", 1)[0])
    assert info == {"address": "http://192.168.1.20:8501/room", "qr": "data:image/svg+xml,<svg/>"}
    assert "</svg>" not in page.split("<script>", 1)[1].split("</script>", 1)[0]  # nothing closes the script early


def test_a_corrupt_published_room_is_a_404_not_a_crash(client, site, shipped_room):
    room_id = shipped_room.manifest.id
    client.get("/room")  # publishes the default
    site.rooms.clear()
    (site.root / room_id / "room.json").write_text('{"format": "vae-explorer-room", "decoder": "../../app.py"}')
    assert client.get(f"/room/{room_id}/").status_code == 404


def _tiny_checkpoint() -> vc.Checkpoint:
    import numpy as np

    from vae_core.checkpoint import Latents

    model = build_model(VAEConfig(hidden=(16,)), seed=0)
    z = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    return vc.Checkpoint.from_model(model, dataset="mnist", classes=tuple(str(k) for k in range(10)),
                                    latents=Latents(z, np.zeros_like(z), np.arange(50) % 10))


# --- the address phones are invited to --------------------------------------------------------

@pytest.mark.parametrize("host,loopback", [("localhost", True), ("127.0.0.1", True), ("127.1.2.3", True),
                                           ("::1", True), ("[::1]", True), ("0.0.0.0", True),
                                           ("192.168.1.20", False), ("10.0.0.5", False), ("lecture.example", False),
                                           ("", False), (None, False)])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_the_lecturers_network_address_is_used_as_it_is():
    assert room_address("http://192.168.1.20:8501/explore", "10.0.0.9", None, 8501) == \
        ("http://192.168.1.20:8501/room", None)
    assert room_address("https://vae.lecture.example/interpolate", None, None, 443) == \
        ("https://vae.lecture.example/room", None)


def test_a_local_browser_gets_this_machines_network_address():
    assert room_address("http://localhost:8501/", "192.168.1.20", "", 8501) == ("http://192.168.1.20:8501/room", None)


def test_when_only_a_local_address_is_known_it_says_so_and_why():
    address, why = room_address("http://localhost:8501/", "127.0.0.1", None, 8501)
    assert address == "http://localhost:8501/room"
    assert why.startswith("Only a local address is known: this computer has no network address that phones")
    address, why = room_address("http://127.0.0.1:8501/", "192.168.1.20", "127.0.0.1", 8501)
    assert why.startswith("The app listens on this computer only (127.0.0.1), so phones cannot reach it")
