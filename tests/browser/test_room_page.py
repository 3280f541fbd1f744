"""The room page in Chromium, as a phone (390x844, touch) and a laptop (1400x1000) open it: no
WebSocket, no other host, a tap decodes that spot (against vae_core.decode), its digit in view
with the plane, the A->B strip equals vae_core.interpolate's decodes, the class buttons, the QR code
of the app's invitation, the exported folder served by `python -m http.server`, and Fashion-MNIST."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import vae_core as vc
from helpers.browser import (CHROMIUM, CHROMIUM_FLAGS, PHONE, SHOTS, plane_position, playwright_api, running_app,
                             shoot, wait_for_scatter, wait_idle)
from helpers.data import ROOT
from helpers.static_web import static_server

MODELS = {"mnist": vc.load_checkpoint(ROOT / "pretrained" / "mnist.safetensors"),
          "fashion-mnist": vc.load_checkpoint(ROOT / "pretrained" / "fashion-mnist.safetensors")}
LAPTOP = {"viewport": {"width": 1400, "height": 1000}}


ASSETS: list[Path] = []  # the module's server's asset folder (its rooms live in rooms/)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # its own rooms folder: no earlier invitation decides what /room shows
    ASSETS[:] = [tmp_path_factory.mktemp("assets")]
    with running_app(tmp_path_factory, VAE_ASSET_DIR=str(ASSETS[0])) as url:
        yield url


def own_address(server: str, dataset: str) -> str:
    """The stable address of a shipped model's room (published here as an invitation would)."""
    from ui.room_site import publish

    conditional = vc.load_checkpoint(ROOT / "pretrained" / "conditional" / f"{dataset}.safetensors")
    files = vc.build_room(MODELS[dataset], conditional, title="the room's model")
    return f"{server}/room/{publish(files, ASSETS[0] / 'rooms', make_current=False)}/"


@pytest.fixture(scope="module")
def browser():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class Visit:
    """A page in a fresh context (an empty cache) that records every request and WebSocket."""

    def __init__(self, browser, url: str, device: dict):
        self.context = browser.new_context(**device)
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.requests: list[str] = []
        self.sockets: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("websocket", lambda ws: self.sockets.append(ws.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.origin = "/".join(url.split("/")[:3])
        self.page.goto(url)
        self.page.wait_for_function("() => document.documentElement.dataset.tapReady === '1'")

    def close(self) -> None:
        assert not self.errors, self.errors
        self.context.close()

    def outside(self) -> list[str]:
        return [u for u in self.requests if not u.startswith((self.origin, "data:", "blob:"))]

    def position(self, z) -> tuple[float, float]:
        """Where ``z`` is on the room's plane, on screen."""
        return plane_position(self.page, z, "room", painted=True)

    def pixels(self, selector: str, index: int = 0, size: int = 28, pad: int = 0) -> np.ndarray:
        data = self.page.evaluate("""([sel, x, size]) => Array.from(document.querySelector(sel).getContext('2d')
            .getImageData(x, 0, size, size).data)""", [selector, index * (size + pad), size])
        return np.array(data, np.uint8).reshape(size, size, 4)[..., 0]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


def inside(box: dict, width: int, height: int) -> bool:
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height


def tap_decodes(visit: Visit, ckpt: vc.Checkpoint, device: dict, name: str) -> None:
    page = visit.page
    for spot in ((0.4, -0.7), (-1.2, 1.1)):
        if device.get("has_touch"):
            page.touchscreen.tap(*visit.position(spot))
        else:
            page.mouse.click(*visit.position(spot))
        page.wait_for_function("z => { const d = document.querySelector('.lp-mode-room .lp-preview').dataset.z;"
                               " return d && Math.abs(d.split(',')[0] - z[0]) < 0.05; }", arg=list(spot))
        shown = [float(v) for v in page.get_attribute(".lp-mode-room .lp-preview", "data-z").split(",")]
        assert np.allclose(shown, spot, atol=0.05)
        expected = vc.decode(ckpt.model, np.array([shown], np.float32))[0]
        assert correlation(visit.pixels(".lp-mode-room .lp-preview"), expected) >= 0.99
    width, height = device["viewport"]["width"], device["viewport"]["height"]
    digit = page.locator(".lp-mode-room .lp-preview").bounding_box()
    stage = page.locator(".lp-mode-room .lp-stage").bounding_box()
    assert inside(digit, width, height) and inside(stage, width, height), (digit, stage)
    shoot(page, f"room-{name}-tap")


@pytest.mark.parametrize("device", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_the_room_opens_without_a_session_and_a_tap_decodes_in_view(browser, server, device):
    visit = Visit(browser, server + "/room", device)
    assert visit.sockets == [], visit.sockets  # no Streamlit session: not even a WebSocket
    assert visit.outside() == []
    assert visit.page.inner_text(".room-model") == "MNIST (pretrained)"
    tap_decodes(visit, MODELS["mnist"], device, "phone" if device is PHONE else "laptop")
    assert visit.sockets == []
    visit.close()


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_the_walk_from_a_to_b_is_vae_core_interpolate(browser, server, dataset):
    visit = Visit(browser, own_address(server, dataset), PHONE)
    page = visit.page
    page.get_by_role("tab", name="Walk A → B").click()
    page.wait_for_selector(".lp-mode-room .lp-strip")
    for end, spot in enumerate(((-2.0, 1.5), (2.0, -1.0))):  # the first tap places A, the second B
        page.touchscreen.tap(*visit.position(spot))
        page.wait_for_function("([k, z]) => { const e = document.querySelector('.lp-mode-room .lp-strip').dataset.ends;"
                               " return e && JSON.parse(e)[k].every((v, i) => Math.abs(v - z[i]) < 0.05); }",
                               arg=[end, list(spot)])
    ends = page.evaluate("() => JSON.parse(document.querySelector('.lp-mode-room .lp-strip').dataset.ends)")
    assert np.allclose(ends, [(-2.0, 1.5), (2.0, -1.0)], atol=0.05)
    steps = page.evaluate("() => [...window.__latentPlane.views].find(v => v.data.mode === 'room').data.steps")
    expected = vc.decode(MODELS[dataset].model, vc.interpolate(np.float32(ends[0]), np.float32(ends[1]), steps=steps))
    for k in range(steps):
        assert correlation(visit.pixels(".lp-mode-room .lp-strip", k, pad=2), expected[k]) >= 0.99, k
    page.locator(".lp-mode-room .lp-tslider input").fill("25")
    z = vc.interpolate_at(ends[0], ends[1], 0.25)[0]
    shown = [float(v) for v in page.get_attribute(".lp-mode-room .lp-preview", "data-z").split(",")]
    assert np.allclose(shown, z, atol=1e-4)
    shoot(page, f"room-{dataset}-phone-walk")
    visit.close()


@pytest.mark.parametrize("dataset, tab, name, words", [("mnist", "Make a digit", "4", "16 new 4s"),
                                                      ("fashion-mnist", "Make an image", "Bag", "16 new Bag images")])
def test_a_class_button_makes_that_class_as_python_does(browser, server, dataset, tab, name, words):
    from vae_core.room import room_styles

    visit = Visit(browser, own_address(server, dataset), PHONE)
    page = visit.page
    page.wait_for_function("() => document.documentElement.dataset.complete === '1'")
    page.get_by_role("tab", name=tab).click()
    page.get_by_role("button", name=name, exact=True).click()
    label = MODELS[dataset].classes.index(name)
    page.wait_for_function("k => document.querySelector('.room-made').dataset.label === String(k)", arg=label)
    assert page.inner_text(".room-hint").startswith(words)
    seed = int(page.get_attribute(".room-made", "data-seed"))
    cvae = vc.load_checkpoint(ROOT / "pretrained" / "conditional" / f"{dataset}.safetensors")
    expected = vc.decode(cvae.model, room_styles(seed, 16), labels=np.full(16, label))
    for k in range(16):
        ours = np.array(page.evaluate("""k => Array.from(document.querySelectorAll('.room-made canvas')[k]
            .getContext('2d').getImageData(0, 0, 28, 28).data)""", k), np.uint8).reshape(28, 28, 4)[..., 0]
        assert correlation(ours, expected[k]) >= 0.99, k
    made = page.locator(".room-made").bounding_box()
    assert made["y"] < 844  # the first row of new images is on screen with the buttons
    shoot(page, f"room-{dataset}-phone-make")
    visit.close()


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg not found (apt-get install zbar-tools)")
def test_the_invitation_qr_code_is_the_address_shown_and_fashion_gets_its_own_room(browser, server, tmp_path):
    visit_app = browser.new_context(**LAPTOP)
    app = visit_app.new_page()
    app.set_default_timeout(60_000)
    app.goto(server)
    wait_for_scatter(app)
    app.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.click()
    app.get_by_role("option", name="Fashion-MNIST (pretrained)", exact=True).click()
    wait_idle(app)
    app.get_by_role("button", name="Invite the room").click()
    dialog = app.get_by_role("dialog")
    address = dialog.locator(".vx-room-address").inner_text()
    assert address.endswith("/room")
    assert "listens on this computer only" in dialog.inner_text()  # this server is bound to 127.0.0.1
    qr = dialog.locator("[data-testid=stImage] img").first
    qr.screenshot(path=str(tmp_path / "qr.png"))
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "qr.png")], capture_output=True, text=True)
    assert decoded.stdout.strip() == address
    shoot(app, "room-invite-dialog")
    with app.expect_download() as download:
        dialog.get_by_role("button", name="Download the room (zip)").click()
    zip_path = tmp_path / "room.zip"
    download.value.save_as(zip_path)
    visit_app.close()

    projector = Visit(browser, server + "/room/projector", LAPTOP)  # the same code, large, for the screen
    projector.page.locator(".room-invite img").screenshot(path=str(tmp_path / "projected.png"))
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "projected.png")], capture_output=True, text=True)
    assert decoded.stdout.strip() == address == projector.page.inner_text(".room-address")
    shoot(projector.page, "room-projector")
    projector.close()

    visit = Visit(browser, server + "/room", PHONE)  # the room now shows Fashion-MNIST
    assert visit.page.inner_text(".room-model") == "Fashion-MNIST (pretrained)"
    assert "Bag" in visit.page.inner_text(".lp-mode-room .lp-legend")
    tap_decodes(visit, MODELS["fashion-mnist"], PHONE, "fashion-phone")
    visit.close()

    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(tmp_path / "site")
    folder = next((tmp_path / "site").iterdir())
    with static_server(folder) as url:
        visit = Visit(browser, url + "/index.html", LAPTOP)  # no Python, no Streamlit behind it
        assert visit.sockets == [] and visit.outside() == []
        assert visit.page.inner_text(".room-model") == "Fashion-MNIST (pretrained)"
        tap_decodes(visit, MODELS["fashion-mnist"], LAPTOP, "exported-laptop")
        visit.close()


def test_the_exported_folder_of_the_cli_behaves_like_the_room(browser, tmp_path):
    out = tmp_path / "room"
    subprocess.run([sys.executable, "-m", "vae_core", "export-room", str(ROOT / "pretrained" / "mnist.safetensors"),
                    str(out)], check=True, cwd=ROOT, capture_output=True)
    with static_server(out) as url:
        visit = Visit(browser, url + "/", PHONE)
        assert visit.sockets == [] and visit.outside() == []
        tap_decodes(visit, MODELS["mnist"], PHONE, "exported-phone")
        visit.close()
