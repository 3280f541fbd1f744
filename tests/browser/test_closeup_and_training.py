"""In Chromium, at 1400x1000 and on a phone (390x844, touch): Your digit's close-up, the plane's own
(the drawing's ring at the centre, its 1σ and 2σ ellipses as large as its σ says, crosses on its
nearest test images, read from the canvas's pixels), and the Train page's live plane (each epoch's
codes, redrawn in place without a blank frame, with no decoder and nothing that promises one).
Screenshots go to $SCREENSHOT_DIR (closeup-*.png, train-*.png)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from helpers.browser import PHONE, shoot, visitor_tab, wait_idle
from helpers.hostile_images import photo_of_a_seven
from vae_core.images import PICK_COLOR

SIZES = {"desktop": dict(viewport={"width": 1400, "height": 1000}),
         "phone": PHONE}
PICK = tuple(int(PICK_COLOR[k:k + 2], 16) for k in (1, 3, 5))  # the ring and the ellipses, as RGB


@pytest.fixture(params=list(SIZES))
def visitor(request, page, server):
    """A new visitor's tab of the module's browser at each size; no error, and nothing asked of another host."""
    with visitor_tab(page, server, **SIZES[request.param]) as tab:
        tab.size_name = request.param
        yield tab


def in_view(tab, selector: str) -> bool:
    box = tab.locator(selector).bounding_box()
    size = tab.viewport_size
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] \
        and box["y"] + box["height"] <= size["height"]


# --- Your digit's close-up -----------------------------------------------------------------------

def canvas_rgba(tab, selector: str) -> tuple[np.ndarray, float]:
    """A canvas's pixels [h, w, 4] and its device pixels per CSS pixel."""
    data, width, ratio = tab.evaluate("""sel => { const c = document.querySelector(sel);
        return [Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data), c.width,
                c.width / parseFloat(c.style.width)]; }""", selector)
    return np.array(data, np.uint8).reshape(-1, width, 4), ratio


def colour_near(rgba: np.ndarray, ratio: float, x: float, y: float, test, reach: float = 2.0) -> bool:
    """Whether a pixel within ``reach`` CSS pixels of (x, y) passes ``test`` (rgb -> bool)."""
    r = int(np.ceil(reach * ratio))
    cx, cy = int(round(x * ratio)), int(round(y * ratio))
    patch = rgba[max(0, cy - r):cy + r + 1, max(0, cx - r):cx + r + 1, :3].reshape(-1, 3).astype(int)
    return bool(any(test(p) for p in patch))


def is_pick(rgb) -> bool:
    return abs(rgb[0] - PICK[0]) < 45 and abs(rgb[1] - PICK[1]) < 45 and rgb[2] < 60


def is_ink(rgb) -> bool:
    return max(rgb) < 70


def upload_seven(tab, tmp_path) -> None:
    (tmp_path / "seven.png").write_bytes(photo_of_a_seven())
    tab.locator("[data-testid='stMain'] [data-testid='stRadio']").get_by_text("Upload", exact=True).click()
    uploader = tab.locator("[data-testid='stMain'] input[type=file]")
    uploader.wait_for(state="attached")
    uploader.set_input_files(str(tmp_path / "seven.png"))


def test_your_digits_closeup_shows_its_sigma_ellipses_and_nearest_images(visitor, server, tmp_path):
    tab = visitor
    tab.goto(server + "/encode")
    tab.wait_for_selector(".lp-mode-compare[data-ready='1']")
    assert tab.locator(".lp-mode-closeup").count() == 0  # no digit yet, no close-up
    upload_seven(tab, tmp_path)
    tab.wait_for_selector(".lp-mode-closeup[data-ready='1']")
    wait_idle(tab)
    canvas = ".lp-mode-closeup canvas"
    tab.locator(canvas).scroll_into_view_if_needed()
    assert in_view(tab, canvas)  # whole, on a phone too
    sent = tab.evaluate("() => [...window.__latentPlane.views].find(v => v.data.mode === 'closeup').data")
    (mx, my), (sx, sy), marks = sent["pin"]["z"], sent["pin"]["sigma"], np.array(sent["marks"])
    # the code and sigma the page states are the ones drawn
    text = tab.inner_text("[data-testid=stMain]")
    stated = re.search(r"seven\.png is encoded at z_mean = \((-?[\d.]+), (-?[\d.]+)\) with σ = \(([\d.]+), ([\d.]+)\)",
                       text)
    assert np.allclose([float(v) for v in stated.groups()], [mx, my, sx, sy], atol=0.006)

    rgba, ratio = canvas_rgba(tab, canvas)
    size = rgba.shape[1] / ratio
    assert 200 <= size <= 280  # as wide as the column allows, up to 280 px
    half = max(0.25, 3 * max(sx, sy))  # the window: 3σ each side, at least 0.25
    scale = size / (2 * half)
    c = size / 2
    # the ring, 8 px around the centre, on top of everything
    assert all(colour_near(rgba, ratio, c + dx, c + dy, is_pick, 1.5) for dx, dy in ((8, 0), (-8, 0), (0, 8), (0, -8)))
    # the 1σ ellipse where σ puts it (the 3σ rule makes the larger one a sixth of the close-up), and
    # nothing of that colour between it and the ring
    rx, ry = sx * scale, sy * scale
    assert max(rx, ry) == pytest.approx(size / 6, rel=0.01) or half == 0.25
    ends = [(c + rx, c), (c - rx, c), (c, c + ry), (c, c - ry)]
    assert sum(colour_near(rgba, ratio, x, y, is_pick) for x, y in ends) >= 3
    for k, radius in enumerate((rx, ry)):  # along x, then y: from past the ring (8 px, its halo) to the ellipse
        gap = (14, radius - 3)
        if gap[1] - gap[0] >= 4:
            mid = sum(gap) / 2
            assert not colour_near(rgba, ratio, c + (mid if k == 0 else 0), c + (0 if k == 0 else mid), is_pick, 1)
    # the 2σ ellipse, dashed: drawn on a good share of its outline
    angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    on_2sigma = [colour_near(rgba, ratio, c + 2 * rx * np.cos(t), c - 2 * ry * np.sin(t), is_pick, 1.5) for t in angles]
    assert np.mean(on_2sigma) > 0.3
    # crosses on the nearest test codes in the window (and their number, which the canvas keeps)
    inside = marks[np.all(np.abs(marks - [mx, my]) <= half, axis=1)]
    assert len(marks) == 5 and tab.get_attribute(canvas, "data-marks") == str(len(inside)) and len(inside) >= 1
    for x, y in inside:
        px, py = c + (x - mx) * scale, c - (y - my) * scale
        arms = [(px + 3, py + 3), (px - 3, py - 3), (px + 3, py - 3), (px - 3, py + 3)]  # (one may lie under the ring)
        assert sum(colour_near(rgba, ratio, ax, ay, is_ink, 1.5) for ax, ay in arms) >= 2
    caption = tab.inner_text(".lp-mode-closeup figcaption")
    assert caption.startswith("Close-up: your digit (ring) with the 1σ and 2σ ellipses of q(z|x); crosses mark its "
                              "nearest test images.")
    shoot(tab, f"closeup-{tab.size_name}")


# --- Train: the live plane -----------------------------------------------------------------------

# Every frame, what the Train page's plane shows: its builds' keys, how many View objects drew it,
# and any frame without a drawn plane once one was drawn (a blank between two epochs).
WATCH_TRAIN_PLANE = """() => { const seen = window.__trainPlane = {keys: [], views: [], blank: 0};
    const tick = () => {
        const v = [...(window.__latentPlane ? window.__latentPlane.views : [])]
            .find(v => v.data && v.data.model && String(v.data.model.id).startsWith('training/'));
        if (v) {
            if (!seen.views.includes(v)) seen.views.push(v);
            if (seen.keys[seen.keys.length - 1] !== v.key) seen.keys.push(v.key);
            if (seen.keys.length > 1 && !(v.main && v.main.painted && v.main.stage.isConnected)) seen.blank++;
        }
        requestAnimationFrame(tick);
    };
    tick(); }"""
TRAIN_VIEW = ("() => { const v = window.__trainPlane.views[window.__trainPlane.views.length - 1]; return {"
              " title: v.data.title, decoder: v.data.model.decoder, n: v.main.points.n,"
              " labels: Math.max(...v.main.points.labels), ready: v.root.dataset.ready, note: v.main.note.innerText,"
              " readout: v.readout.innerText, preview: getComputedStyle(v.preview).display, key: v.key,"
              " views: window.__trainPlane.views.length, keys: window.__trainPlane.keys.length,"
              " blank: window.__trainPlane.blank }; }")


def set_number(tab, label: str, value: str) -> None:
    box = tab.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    tab.wait_for_timeout(400)


def test_the_train_page_draws_each_epochs_codes_on_the_plane(visitor, server):
    tab = visitor
    tab.goto(server + "/train")
    tab.wait_for_selector("h1:has-text('Train your own model')")
    tab.evaluate(WATCH_TRAIN_PLANE)
    tab.get_by_text("Settings", exact=True).click()
    for label, value in (("Training images", "12000"), ("Epochs", "8"), ("−log p(x) samples (K)", "5")):
        set_number(tab, label, value)
    tab.get_by_role("button", name="Start training").click()
    tab.wait_for_function("() => window.__trainPlane.keys.length && document.querySelector("
                          "'.lp-no-decoder[data-ready=\"1\"]')", timeout=120_000)
    tab.locator(".lp-no-decoder").last.scroll_into_view_if_needed()
    shoot(tab, f"train-{tab.size_name}")  # while it trains (unless this machine already finished)
    tab.wait_for_function("() => window.__trainPlane.keys.length >= 2", timeout=120_000)  # a later epoch's codes
    tab.wait_for_selector("[data-testid=stAlert] >> text=Finished:", timeout=120_000)
    wait_idle(tab)
    shown = tab.evaluate(TRAIN_VIEW)
    assert shown["title"] == "The test images' codes after epoch 8" and shown["ready"] == "1"
    assert shown["n"] == 12000 // 6 and shown["labels"] == 9  # every code of the test set it was scored on
    assert shown["keys"] >= 2 and shown["views"] == 1 and shown["blank"] == 0  # redrawn in place, never blank
    # no decoder: the plane says why, shows no empty image and invites no decoding
    assert shown["decoder"] is None and shown["note"] == "Decoding comes with the trained model."
    assert shown["preview"] == "none" and shown["readout"] == ""
    assert tab.is_visible(".lp-no-decoder .lp-note")
    if tab.size_name == "desktop":  # pointing reads z, and decodes nothing
        AT_ONE_ONE = r"z = \((1\.0\d|0\.99), (1\.0\d|0\.99)\)"
        # (in the window's middle, and aimed again while the page still moves after the run's end)
        for _ in range(3):
            x, y = tab.evaluate("""() => { const v = window.__trainPlane.views[0];
                v.main.stage.scrollIntoView({ block: 'center' });
                const r = v.main.stage.getBoundingClientRect(), p = v.main.toPx([1, 1]);
                return [r.left + p[0], r.top + p[1]]; }""")
            tab.mouse.move(x, y, steps=2)
            readout = tab.evaluate("() => window.__trainPlane.views[0].readout.innerText")
            if re.fullmatch(AT_ONE_ONE, readout):
                break
            tab.mouse.move(5, 5)
            tab.wait_for_timeout(500)
        assert re.fullmatch(AT_ONE_ONE, readout), readout
        assert not tab.is_visible(".lp-thumb")
        tab.mouse.move(5, 5)
    # a rerun with the same epoch (a setting changed) sends the same payload: the plane only refreshes
    set_number(tab, "Seed", "1")
    wait_idle(tab)
    again = tab.evaluate(TRAIN_VIEW)
    assert (again["key"], again["views"], again["blank"], again["ready"]) == (shown["key"], 1, 0, "1")


def test_a_closeup_payload_is_checked_with_its_pins_own_sigma(page):
    """The browser's payload check (vae_core/web/payload.js) takes a pin's sigma when it is a pair of
    positive numbers, and names the pin otherwise."""
    problems = page.evaluate("""async () => {
        const { checkPayload } = await import('/_stcore/bidi-components/vae_explorer.plane_web/payload.js');
        const model = { id: 'm', decoder: null, fallback: 'why', points: '/p.safetensors', classes: ['0'],
                        colors: ['#000000'], extent: 3 };
        const payload = (sigma) => ({ mode: 'closeup', model, marks: [[0.1, 0.2]], caption: null,
                                      pin: { index: null, z: [0.5, -1], ...(sigma === undefined ? {} : { sigma }) } });
        return [undefined, [0.05, 0.1], [0, 0.1], [0.1], 'wide'].map((s) => checkPayload(payload(s)));
    }""")
    refused = 'latent plane (closeup): field "pin" must be a pick {index, z}, got object'
    assert problems == [None, None, refused, refused, refused]
