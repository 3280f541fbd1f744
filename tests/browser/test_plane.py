"""The live latent plane in Chromium: the browser's decoder against vae_core.decode, hovering
that shows the right digit and sends nothing, clicks and taps that pin the spot touched,
endpoints dragged live, linked planes, and the server fallback; outside Streamlit, a canvas-only
plane that pans and zooms, and payloads checked field by field. Screenshots of the four pages
with a plane at 1400x1000 and 390x844 go to $SCREENSHOT_DIR (plane-*.png)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from playwright.sync_api import expect

import vae_core as vc
from helpers.browser import (PHONE, SENT_FRAMES, goto, isolated_point, plane_position, running_app, shoot, visitor_tab,
                             wait_for_model, wait_for_scatter, wait_idle)
from helpers.data import ROOT
from ui.latent_plane import (ComparePayload, ExplorePayload, InterpolatePayload, PlaneModel, PreviewPayload,
                             ToyPayload, ToyWorld, decoder_asset, points_asset)
from ui.latent_plane.assets import publish
from ui.latent_plane.payloads import BetaModel, BetaPayload, InsidePayload
from vae_core.decoder_export import export_decoder
from vae_core.model import VAEConfig, build_model


SHIPPED = vc.load_checkpoint(ROOT / "pretrained" / "mnist.safetensors")


def sent_frames(page) -> list:
    """A list that fills with every websocket frame the module's page sends from now on."""
    wait_idle(page)
    SENT_FRAMES.clear()
    return SENT_FRAMES


def view_state(page, mode: str, expression: str):
    return page.evaluate(f"""() => {{ const v = [...window.__latentPlane.views].find(v => v.data.mode === '{mode}');
        return {expression}; }}""")


def canvas_pixels(page, selector: str) -> np.ndarray:
    """The grey levels of a 28x28 canvas (the red channel of its pixels)."""
    data = page.evaluate("sel => Array.from(document.querySelector(sel).getContext('2d')"
                         ".getImageData(0, 0, 28, 28).data)", selector)
    return np.array(data, np.uint8).reshape(28, 28, 4)[..., 0]


def decode_in_browser(page, url: str, z: np.ndarray) -> np.ndarray:
    out = page.evaluate("([url, zs]) => window.__latentPlane.decodeWith(url, zs)", [url, z.tolist()])
    return np.array(out, np.uint8).reshape(len(z), 28, 28)


def assert_equal_within_one_level(ours: np.ndarray, reference: np.ndarray) -> None:
    close = np.abs(ours.astype(int) - reference.astype(int)) <= 1
    assert close.mean() >= 0.999, f"{100 * close.mean():.3f} % of pixels within one grey level"


def test_the_browsers_decoder_equals_vae_core_decode(page):
    url = view_state(page, "explore", "v.data.model.decoder")
    extent = view_state(page, "explore", "v.data.model.extent")
    z = np.random.default_rng(0).uniform(-extent, extent, (1000, 2)).astype(np.float32)
    ours, reference = decode_in_browser(page, url, z), vc.decode(SHIPPED.model, z)
    assert_equal_within_one_level(ours, reference)
    print(f"shipped MLP: {100 * (ours == reference).mean():.3f} % of pixels identical")


@pytest.mark.parametrize("config", [VAEConfig(arch="conv", hidden=(8, 16, 64), activation="relu"),
                                    VAEConfig(hidden=(64, 32), activation="elu"),
                                    VAEConfig(hidden=(48,), activation="silu"),
                                    VAEConfig(hidden=(48,), activation="tanh")], ids=["conv-relu", "elu", "silu", "tanh"])
def test_every_trainable_decoder_runs_in_the_browser_as_in_python(page, config):
    model = build_model(config, seed=1)
    z = np.random.default_rng(1).uniform(-4, 4, (200, 2)).astype(np.float32)
    url = publish(export_decoder(model))  # served from the asset folder this server shares
    assert_equal_within_one_level(decode_in_browser(page, url, z), vc.decode(model, z))


def test_hovering_shows_the_spot_under_the_mouse_and_sends_nothing(page):
    goto(page, "Explore")
    wait_for_scatter(page)
    wait_idle(page)
    frames = sent_frames(page)
    for k in range(40):
        page.mouse.move(*plane_position(page, (-2.5 + 0.12 * k, 1.5 - 0.08 * k)))
        page.wait_for_timeout(16)
    z = (-2.5 + 0.12 * 39, 1.5 - 0.08 * 39)
    page.wait_for_function("z => { const d = document.querySelector('.lp-mode-preview .lp-preview').dataset.z;"
                           " return d && Math.abs(d.split(',')[0] - z[0]) < 0.02; }", arg=list(z))
    shown = [float(v) for v in page.get_attribute(".lp-mode-preview .lp-preview", "data-z").split(",")]
    assert np.allclose(shown, z, atol=0.02)
    expected = vc.decode(SHIPPED.model, np.array([shown], np.float32))[0]
    for selector in (".lp-mode-preview .lp-preview", ".lp-thumb canvas"):  # the large preview and the thumbnail
        assert np.abs(canvas_pixels(page, selector).astype(int) - expected.astype(int)).max() <= 1
    assert page.is_visible(".lp-thumb") and page.inner_text(".lp-thumb span") == "(2.18, \u22121.62)"
    assert frames == [], f"{len(frames)} websocket frames sent while hovering"
    shoot(page, "plane-explore-hover")


def test_the_plane_is_drawn_and_decodes_before_plotly_has_loaded(page, server):
    """The first paint: with plotly.min.js held back, the points are on screen at once, hovering
    decodes, and Plotly then takes over at the very same geometry and ticks."""
    context = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    fresh = context.new_page()
    fresh.set_default_timeout(60_000)
    held: list = []
    fresh.route("**/plotly.min.js", lambda route: held.append(route))
    fresh.goto(server)
    fresh.wait_for_function("() => window.__latentPlane && [...window.__latentPlane.views].some(v => v.data.mode === 'explore' && v.main.painted"
                            " && v.decoder)")
    first = view_state(fresh, "explore", """({ready: v.main.ready, axes: v.main.axes().map(a => [a._offset, a._length, a.range]),
        ticks: v.main.axes().map((a, k) => tickStep(a.range[1] - a.range[0], a._length, k ? 'y' : 'x')),
        inked: Array.from(v.main.first.getContext('2d').getImageData(0, 0, v.main.first.width, v.main.first.height).data)
                    .filter((x, i) => i % 4 === 3 && x > 0).length})""".replace("tickStep", "window.__latentPlane.tickStep"))
    assert held and first["ready"] is False  # no Plotly yet
    assert first["inked"] > 20_000  # 10,000 points, the grid and the axes
    z = (0.8, -0.6)
    fresh.mouse.move(*plane_position(fresh, z, painted=True))
    shown = [float(v) for v in fresh.get_attribute(".lp-mode-preview .lp-preview", "data-z").split(",")]
    assert np.allclose(shown, z, atol=0.02)
    expected = vc.decode(SHIPPED.model, np.array([shown], np.float32))[0]
    assert np.abs(canvas_pixels(fresh, ".lp-mode-preview .lp-preview").astype(int) - expected.astype(int)).max() <= 1
    held[0].continue_()
    fresh.wait_for_selector(".lp-mode-explore[data-ready='1']")
    plotly = view_state(fresh, "explore", """({axes: v.main.axes().map(a => [a._offset, a._length, a.range]),
        ticks: v.main.axes().map(a => a.dtick), first: !!v.main.first})""")
    assert np.allclose([a[:2] for a in plotly["axes"]], [a[:2] for a in first["axes"]], atol=0.01)
    assert [a[2] for a in plotly["axes"]] == [a[2] for a in first["axes"]]
    assert plotly["ticks"] == first["ticks"] and plotly["first"] is False  # Plotly's ticks; the canvas is gone
    context.close()


def test_the_manifold_is_decoded_in_the_browser_with_no_server_call(page):
    frames = sent_frames(page)
    page.locator(".lp-toggle input").check()
    page.wait_for_function("() => Number(document.querySelector('.lp-mode-explore').dataset.manifold) > 100")
    assert frames == []
    shoot(page, "plane-explore-manifold")
    page.locator(".lp-toggle input").uncheck()


def test_a_legend_chip_hides_a_class_and_clicks_skip_it(page):
    index, z = isolated_point(page, 1)
    chip = page.locator(".lp-mode-explore .lp-chip", has_text="1").first
    chip.click()
    assert chip.get_attribute("aria-pressed") == "false"
    assert view_state(page, "explore", "v.main.nearest(...v.main.toPx(%s), 7)" % list(z)) != index
    chip.click()
    assert view_state(page, "explore", "v.main.nearest(...v.main.toPx(%s), 7)" % list(z)) == index


def test_a_click_pins_the_point_and_marks_it(page):
    index, z = isolated_point(page, 4)
    page.mouse.click(*plane_position(page, z))
    page.wait_for_function("i => [...document.querySelectorAll('[data-testid=stMain] h3')].some(h => "
                           "h.innerText.startsWith('Test image #' + i + ' '))", arg=index)
    pin = view_state(page, "explore", "v.pin")
    assert pin["index"] == index and np.allclose(pin["z"], z, atol=1e-4)
    closeup = page.inner_text(".lp-closeup figcaption")  # drawn in the browser from the served sigma
    sigma = np.exp(0.5 * SHIPPED.latents.z_logvar[index])
    assert f"\u03c3 = ({sigma[0]:.2f}, {sigma[1]:.2f})".replace("-", "\u2212") in closeup
    page.mouse.move(5, 5)  # off the plane: the preview goes back to the pin
    page.wait_for_function("() => document.querySelector('.lp-mode-preview .lp-readout').innerText"
                           ".startsWith('Pinned: z = (')")
    wait_idle(page)


def test_the_share_link_follows_the_clicks_on_explore(page):
    """Explore's clicks rerun only its fragment, not the sidebar: the link box reads the address bar."""
    share = page.locator("[data-testid=stSidebar]").get_by_text("Share this view")
    for label in (1, 0):
        index, z = isolated_point(page, label)
        page.mouse.click(*plane_position(page, z))
        page.wait_for_function("i => location.search.includes('pick=' + i)", arg=index)
        share.click()
        box = page.locator(".vx-share-url")  # inside the component's shadow root, which locators pierce
        expect(box).to_have_value(re.compile(rf"[?&]pick={index}(&|$)"))
        assert box.input_value() == page.url
        page.keyboard.press("Escape")
        wait_idle(page)


def choose_model(page, label: str) -> None:
    page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name=label, exact=True).click()
    wait_for_model(page, label)
    page.wait_for_function("label => [...window.__latentPlane.views].some(v => v.data.mode === 'explore' && "
                           "v.data.model.classes.length === 10 && v.root.dataset.ready === '1' && "
                           "v.data.model.id.includes(label))", arg="fashion" if "Fashion" in label else "pretrained/mnist.")
    wait_idle(page)


def test_a_click_still_pins_after_another_model_is_chosen(page):
    choose_model(page, "Fashion-MNIST (pretrained)")
    page.mouse.click(*plane_position(page, (3.3, -3.3)))
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMain] h3')].some(h => "
                           "h.innerText.startsWith('Location (3.3'))")
    assert page.locator(".lp-chip", has_text="Bag").count() == 1  # the plane shows the new model's classes
    choose_model(page, "MNIST (pretrained)")


def test_arrow_keys_move_the_cursor_and_enter_pins(page):
    page.mouse.move(*plane_position(page, (3.2, 3.2)))
    page.locator(".lp-mode-explore .lp-stage").focus()
    for _ in range(5):
        page.keyboard.press("ArrowDown")
    cursor = view_state(page, "explore", "v.cursor")
    assert cursor[0] == pytest.approx(3.2, abs=0.02) and cursor[1] < 3.2 - 0.5
    page.keyboard.press("Enter")
    page.wait_for_function("y => [...document.querySelectorAll('[data-testid=stMain] h3')].some(h => "
                           "h.innerText.startsWith('Location (3.2') && h.innerText.includes(y))",
                           arg=f"{cursor[1]:.2f}")
    wait_idle(page)


def test_dragging_an_endpoint_updates_the_strip_live_and_reaches_python(page):
    goto(page, "Interpolate")
    wait_for_scatter(page, "interpolate")
    wait_idle(page)
    start = view_state(page, "interpolate", "v.ends.a.z")
    before = page.get_attribute(".lp-strip", "data-ends")
    frames = sent_frames(page)
    page.mouse.move(*plane_position(page, start, "interpolate"))
    page.mouse.down()
    target = (3.0, 3.2)  # empty space: the endpoint becomes a location
    for k in range(1, 13):
        page.mouse.move(*plane_position(page, [start[0] + (target[0] - start[0]) * k / 12,
                                               start[1] + (target[1] - start[1]) * k / 12], "interpolate"))
        page.wait_for_timeout(20)
    during = page.get_attribute(".lp-strip", "data-ends")
    assert during != before and frames == []  # the strip followed the drag, and nothing was sent yet
    page.mouse.up()
    page.wait_for_function("() => document.querySelector('[data-testid=stMain]').innerText"
                           ".includes('Start A: location (3.0')")
    wait_idle(page)
    assert len(frames) >= 1
    ends = view_state(page, "interpolate", "v.ends")
    assert ends["a"]["index"] is None and np.allclose(ends["a"]["z"], target, atol=0.03)
    shoot(page, "plane-interpolate")


def test_moving_t_walks_the_path_in_the_browser(page):
    frames = sent_frames(page)
    ends = view_state(page, "interpolate", "v.ends")
    page.locator(".lp-tslider input").fill("90")
    page.wait_for_function("() => document.querySelector('.lp-mode-interpolate .lp-readout').innerText"
                           ".startsWith('t = 0.90')")
    z = view_state(page, "interpolate", "window.__latentPlane.interpolateAt(v.ends.a.z, v.ends.b.z, 0.9, 'linear')")
    expected = vc.interpolate_at(ends["a"]["z"], ends["b"]["z"], 0.9)[0]
    assert np.allclose(z, expected, atol=1e-6)
    shown = vc.decode(SHIPPED.model, np.array([z], np.float32))[0]
    assert np.abs(canvas_pixels(page, ".lp-mode-interpolate .lp-preview").astype(int) - shown.astype(int)).max() <= 1
    assert frames == []


def test_the_browsers_slerp_mirrors_vae_core(page):
    cases = [((1.0, 0.5), (-2.0, 1.5)), ((1.0, 0.0), (-2.0, 0.0)), ((0.0, 0.0), (1.0, 1.0)), ((1.0, 1.0), (2.0, 2.0))]
    for a, b in cases:  # ordinary, opposite directions, from the origin, the same direction
        for t in (0.0, 0.3, 1.0):
            ours = page.evaluate("([a, b, t]) => window.__latentPlane.interpolateAt(a, b, t, 'slerp')", [a, b, t])
            assert np.allclose(ours, vc.interpolate_at(a, b, t, "slerp")[0], atol=1e-5), (a, b, t)


def test_clicks_place_the_endpoints_in_turn(page):
    if not page.query_selector(".lp-mode-interpolate"):
        goto(page, "Interpolate")
        wait_for_scatter(page, "interpolate")
    which = view_state(page, "interpolate", "v.next")
    for spot in ((-3.2, -3.4), (3.2, 3.2)):  # empty spots of the shipped model (no test code within 0.5)
        assert page.inner_text(".lp-mode-interpolate .lp-hint").startswith(
            f"Click the plane to place the {'start A' if which == 'a' else 'end B'}")
        page.mouse.click(*plane_position(page, spot, "interpolate"))
        text = f"{'Start A' if which == 'a' else 'End B'}: location ({spot[0]:.1f}"
        page.wait_for_function("t => document.querySelector('[data-testid=stMain]').innerText.includes(t)", arg=text)
        wait_idle(page)
        which = "b" if which == "a" else "a"


def test_hovering_one_compare_plane_decodes_the_same_z_in_both(page):
    goto(page, "AE vs VAE")
    page.wait_for_function("() => document.querySelectorAll('.lp-mode-compare[data-ready=\"1\"]').length === 2")
    wait_idle(page)
    stage = page.locator(".lp-mode-compare .lp-stage").first.bounding_box()  # the autoencoder's plane
    page.mouse.move(stage["x"] + 0.55 * stage["width"], stage["y"] + 0.45 * stage["height"])
    page.wait_for_timeout(200)
    shown = page.eval_on_selector_all(".lp-mode-compare .lp-preview", "els => els.map(e => e.dataset.z)")
    assert len(shown) == 2 and shown[0] == shown[1] and shown[0]
    shoot(page, "plane-compare")


def test_hovering_the_toy_latent_plane_moves_the_decoded_point(page):
    goto(page, "Toy world")
    page.get_by_role("button", name="Train").click()
    wait_for_scatter(page, "toy")
    wait_idle(page)
    page.mouse.move(*plane_position(page, (0.5, -0.5), "toy"))
    page.wait_for_timeout(200)
    readout = page.inner_text(".lp-mode-toy .lp-readout")
    assert readout.startswith("z = (0.5") and "\u2192 x = (" in readout
    decoded = view_state(page, "toy", "Array.from(v.decoded)")
    marker = view_state(page, "toy", "v.dataPlane.toPx(v.decoded)")
    assert len(decoded) == 2 and all(np.isfinite(decoded)) and 0 < marker[0] < 2000
    shoot(page, "plane-toy")


def test_the_four_pages_on_a_phone(page, server):
    """Touch: a one-finger drag explores with the preview in the plane's corner, a tap pins the
    spot tapped (not the previous one), and the page still scrolls past the plane."""
    with visitor_tab(page, server, **PHONE) as phone:
        phone.goto(server)
        wait_for_scatter(phone)
        stage = phone.locator(".lp-mode-explore .lp-stage")
        stage.scroll_into_view_if_needed()
        cdp = phone.context.new_cdp_session(phone)

        def touch(kind: str, *points) -> None:
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y} for x, y in points]})

        x, y = plane_position(phone, (-1.0, 1.0))
        touch("touchStart", (x, y))
        for k in range(1, 8):
            touch("touchMove", (x + 10 * k, y + 6 * k))
            phone.wait_for_timeout(20)
        assert phone.is_visible(".lp-corner")
        corner = phone.locator(".lp-corner").bounding_box()
        assert corner["y"] >= 0 and corner["y"] + corner["height"] <= 844  # on screen while the finger is down
        touch("touchEnd")
        shoot(phone, "plane-phone-explore-touch")
        for spot in ((3.3, 3.3), (-3.3, -3.3)):  # two taps on empty space: the second must win
            phone.touchscreen.tap(*plane_position(phone, spot))
            phone.wait_for_timeout(30)
            shown = [float(v) for v in phone.get_attribute(".lp-corner", "data-z").split(",")]
            assert np.allclose(shown, spot, atol=0.05), (shown, spot)
        phone.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMain] h3')].some(h => "
                                "h.innerText.startsWith('Location (-3.3'))")
        taps = phone.evaluate("() => window.__latentPlane.stats.tap")
        assert taps and max(taps[-2:]) < 200
        scrolled = "() => Math.max(window.scrollY, ...[...document.querySelectorAll('*')].map(e => e.scrollTop))"

        def swipe(x: float, y: float) -> None:  # a finger pushing the page up by 200 px
            touch("touchStart", (x, y))
            for k in range(1, 11):
                touch("touchMove", (x, y - 20 * k))
                phone.wait_for_timeout(16)
            touch("touchEnd")
            phone.wait_for_timeout(400)

        before = phone.evaluate(scrolled)
        swipe(*plane_position(phone, (0.0, 0.0)))  # a finger on the plane explores: the page stays
        assert phone.evaluate(scrolled) == before
        title = phone.locator("h1").bounding_box()
        swipe(195, max(210, title["y"] + title["height"] / 2))  # beside the plane the page scrolls
        assert phone.evaluate(scrolled) > before
        shoot(phone, "plane-phone-explore")
        for name, mode in (("Interpolate", "interpolate"), ("AE vs VAE", "compare")):
            phone.goto(server + "/" + {"Interpolate": "interpolate", "AE vs VAE": "compare"}[name])
            wait_for_scatter(phone, mode)
            shoot(phone, f"plane-phone-{mode}")
        phone.goto(server + "/toy")
        phone.get_by_role("button", name="Train").click()
        wait_for_scatter(phone, "toy")
        shoot(phone, "plane-phone-toy")


def test_a_tap_on_a_phone_leaves_its_digit_in_view_with_the_plane(page, server):
    """Explore at 390x844: the digit of the spot tapped stays in the plane's corner after the finger
    lifts (and after the page's answer), in the viewport with the plane; a tap where that corner
    sits sends the digit to the other corner, off the spot."""
    with visitor_tab(page, server, **PHONE) as phone:
        phone.goto(server)
        wait_for_scatter(phone)
        phone.locator(".lp-mode-explore .lp-stage").scroll_into_view_if_needed()
        inside = lambda box: box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 390 and \
            box["y"] + box["height"] <= 844  # noqa: E731
        stage_box = phone.locator(".lp-mode-explore .lp-stage").bounding_box()
        digit = phone.locator(".lp-mode-explore .lp-corner canvas")
        # a spot at the bottom right, then a pixel where the digit sits at first (the top left)
        for tap in (plane_position(phone, (2.5, -2.5)), (stage_box["x"] + 90, stage_box["y"] + 70)):
            phone.touchscreen.tap(*tap)
            phone.wait_for_timeout(2000)  # longer than a preview that goes once the finger lifts would stay
            wait_idle(phone)  # and the page has answered the tap (its pin)
            assert digit.is_visible()
            stage, box = phone.locator(".lp-mode-explore .lp-stage").bounding_box(), digit.bounding_box()
            assert inside(stage) and inside(box), (stage, box)
            assert not (box["x"] <= tap[0] <= box["x"] + box["width"] and box["y"] <= tap[1] <= box["y"] + box["height"])
            shown = [float(v) for v in phone.get_attribute(".lp-mode-explore .lp-corner", "data-z").split(",")]
            touched = phone.evaluate("([x, y]) => { const v = [...window.__latentPlane.views].find(v => v.data.mode === "
                                     "'explore'); const r = v.main.stage.getBoundingClientRect(); "
                                     "return v.main.toZ(x - r.left, y - r.top); }", list(tap))
            assert np.allclose(shown, touched, atol=0.02), (shown, touched)
            expected = vc.decode(SHIPPED.model, np.array([shown], np.float32))[0]
            pixels = canvas_pixels(phone, ".lp-mode-explore .lp-corner canvas")
            assert np.abs(pixels.astype(int) - expected.astype(int)).max() <= 1
        shoot(phone, "plane-phone-explore-tap")


def test_a_decoder_the_browser_cannot_run_is_decoded_on_the_server(page, tmp_path_factory):
    with running_app(tmp_path_factory, VAE_BROWSER_DECODER_MB="0.5") as url:
        # a second page of the module's browser, on a server that sends no decoder
        fallback = page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
        fallback.set_default_timeout(60_000)
        fallback.goto(url)
        wait_for_scatter(fallback)
        note = fallback.inner_text(".lp-mode-explore .lp-note")
        assert note.startswith("This model's decoder runs on the server (the decoder has 2.3 MB of weights, "
                               "more than the 0.5 MB a browser decodes at frame rate)")
        assert fallback.is_visible(".lp-mode-explore .lp-note")
        fallback.mouse.move(*plane_position(fallback, (1.0, 1.0)))
        assert re.fullmatch(r"z = \((1\.0\d|0\.99), (1\.0\d|0\.99)\)",
                            fallback.inner_text(".lp-mode-explore .lp-readout"))
        assert not fallback.is_visible(".lp-thumb")  # nothing decoded in the browser
        fallback.mouse.click(*plane_position(fallback, (3.6, -3.6)))  # no test code within 0.5
        fallback.wait_for_function("() => document.querySelector('[data-testid=stMain]').innerText"
                                   ".includes('Location (3.6') && document.querySelectorAll("
                                   "'[data-testid=stMain] [data-testid=stImage] img').length === 1")
        fallback.close()


# A page of the app's own origin without Streamlit or Plotly: the plane's modules and stylesheet,
# as the room page loads them, a host element, and helpers for the tests (the page itself is
# served by the test).
LAB_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/_stcore/bidi-components/vae_explorer.plane_web/plane.css"></head>
<body style="margin: 0"><div id="host" style="width: 720px"></div><script type="module">
import { View } from "/_stcore/bidi-components/vae_explorer.plane_web/view.js";
import { checkPayload } from "/_stcore/bidi-components/vae_explorer.plane_web/payload.js";
const host = document.querySelector("#host");
const lab = window.lab = { checkPayload, sent: [], view: null };
lab.mount = (json) => {  // a new View drawing the payload (the last one goes first)
  if (lab.view) lab.view.destroy();
  host.replaceChildren();
  lab.view = new View(host, { send: (name, value) => lab.sent.push([name, value]) });
  lab.view.update(JSON.parse(json));
};
lab.update = (json) => lab.view.update(JSON.parse(json));
lab.state = () => { const m = lab.view.main, [x, y] = m.axes();
  return { ready: m.ready, upgrade: m.upgrade, first: !!m.first, x: x.range, y: y.range, length: x._length }; };
lab.at = (z) => {  // the page position of the latent point z
  const m = lab.view.main, r = m.stage.getBoundingClientRect(), p = m.toPx(z);
  return [r.left + p[0], r.top + p[1]];
};
lab.zAt = ([x, y]) => { const m = lab.view.main, r = m.stage.getBoundingClientRect(); return m.toZ(x - r.left, y - r.top); };
</script></body></html>"""


@pytest.fixture(scope="module")
def lab(page, server):
    """A fresh touch-capable page at ``server``/lab (see LAB_PAGE), and the console errors it logs."""
    context = page.context.browser.new_context(viewport={"width": 1000, "height": 900}, has_touch=True)
    lab = context.new_page()
    lab.set_default_timeout(60_000)
    lab.errors = []
    lab.on("console", lambda m: lab.errors.append(m.text) if m.type == "error" else None)
    lab.route(f"{server}/lab", lambda route: route.fulfill(content_type="text/html", body=LAB_PAGE))
    lab.goto(f"{server}/lab")
    lab.wait_for_function("() => window.lab")
    yield lab
    context.close()


@pytest.fixture(scope="module")
def shipped_model() -> PlaneModel:
    """The shipped MNIST model's files, served from the asset folder the module's server shares."""
    decoder, _ = decoder_asset(SHIPPED)
    points = points_asset(SHIPPED.latents.z_mean, SHIPPED.latents.labels, SHIPPED.latents.z_logvar)
    return PlaneModel("lab/mnist", publish(decoder), None, publish(points), tuple(SHIPPED.classes), tuple(vc.PALETTE),
                      4.5)


def test_without_an_upgrade_the_canvas_plane_decodes_pans_and_zooms(lab, shipped_model):
    lab.evaluate("json => lab.mount(json)", ExplorePayload(model=shipped_model, height=600).to_json())
    lab.wait_for_selector("#host .lp-mode-explore[data-ready='1']")
    state = lambda: lab.evaluate("() => lab.state()")  # noqa: E731
    z_at = lambda x, y: lab.evaluate("xy => lab.zAt(xy)", [x, y])  # noqa: E731
    before = state()
    assert before["ready"] and before["upgrade"] is None and before["first"]  # the canvas is the renderer
    assert before["x"] == [-4.5, 4.5] and before["y"] == [-4.5, 4.5]
    # hovering decodes as in the app
    x, y = map(round, lab.evaluate("z => lab.at(z)", [1.0, -0.5]))  # (a wheel event's position is in whole pixels)
    lab.mouse.move(x, y)
    shown = [float(v) for v in lab.get_attribute("#host .lp-preview", "data-z").split(",")]
    assert np.allclose(shown, (1.0, -0.5), atol=0.03)
    expected = vc.decode(SHIPPED.model, np.array([shown], np.float32))[0]
    assert np.abs(canvas_pixels(lab, "#host .lp-preview").astype(int) - expected.astype(int)).max() <= 1
    # the wheel zooms about the pointer: the spot under it stays
    anchor = z_at(x, y)
    lab.mouse.wheel(0, -300)
    lab.wait_for_function("() => lab.state().x[1] - lab.state().x[0] < 8")
    zoomed = state()
    assert zoomed["x"][1] - zoomed["x"][0] == pytest.approx(9 * np.exp(-0.6), rel=1e-3)
    assert np.allclose(z_at(x, y), anchor, atol=1e-3)
    # a mouse drag pans by as much as it moved, and is not a click
    lab.mouse.down()
    for k in range(1, 6):
        lab.mouse.move(x + 20 * k, y)
    lab.mouse.up()
    lab.wait_for_function("x0 => lab.state().x[0] !== x0", arg=zoomed["x"][0])
    panned, per_px = state(), (zoomed["x"][1] - zoomed["x"][0]) / zoomed["length"]
    assert panned["x"][0] == pytest.approx(zoomed["x"][0] - 100 * per_px, abs=1e-3)
    assert np.allclose(panned["y"], zoomed["y"], atol=1e-6)
    assert lab.evaluate("() => lab.sent") == []
    # a click still pins, through `send`
    lab.mouse.click(x, y)
    sent = lab.evaluate("() => lab.sent")
    assert len(sent) == 1 and sent[0][0] == "pick"  # the spot, or a test point within 7 px of it
    assert np.allclose(sent[0][1]["z"], z_at(x, y), atol=1e-3 if sent[0][1]["index"] is None else 7 * per_px)
    # two fingers pinch: twice as far apart, half the span, the point between them stays
    cdp = lab.context.new_cdp_session(lab)

    def touch(kind: str, *points) -> None:
        cdp.send("Input.dispatchTouchEvent",
                 {"type": kind, "touchPoints": [{"x": px, "y": py, "id": k} for k, (px, py) in enumerate(points)]})

    cx, cy = lab.evaluate("z => lab.at(z)", [0.0, 0.0])
    before, middle = state(), z_at(cx, cy)
    touch("touchStart", (cx - 40, cy), (cx + 40, cy))
    for k in range(1, 5):
        touch("touchMove", (cx - 40 - 10 * k, cy), (cx + 40 + 10 * k, cy))
        lab.wait_for_timeout(20)
    touch("touchEnd")
    lab.wait_for_timeout(100)
    pinched = state()
    assert pinched["x"][1] - pinched["x"][0] == pytest.approx((before["x"][1] - before["x"][0]) / 2, rel=1e-3)
    assert np.allclose(z_at(cx, cy), middle, atol=1e-3)
    assert lab.errors == []
    shoot(lab, "plane-canvas-only")


@pytest.mark.parametrize("path, value, message", [
    ("model.points", 3, 'field "model.points" must be a string or null, got number'),
    ("pin", "delete", 'field "pin" is missing'),
    ("separate_preview", "yes", 'field "separate_preview" must be true or false, got string'),
    ("pin", {"index": 1}, 'field "pin" must be a pick {index, z} or null, got object'),
], ids=["mistyped-model-points", "missing-pin", "mistyped-boolean", "malformed-pick"])
def test_a_malformed_payload_logs_one_error_naming_its_field_and_says_so(lab, shipped_model, path, value, message):
    payload = json.loads(ExplorePayload(model=shipped_model).to_json())
    *parents, name = path.split(".")
    holder = payload
    for key in parents:
        holder = holder[key]
    if value == "delete":
        del holder[name]
    else:
        holder[name] = value
    lab.errors.clear()
    lab.evaluate("json => lab.mount(json)", json.dumps(payload))
    for _ in range(2):  # the same payload again, as a page's rerun sends it
        lab.evaluate("json => lab.update(json)", json.dumps(payload))
    assert lab.errors == [f"latent plane (explore): {message}"]
    assert lab.inner_text("#host .lp-invalid-note") == f"The plane cannot be drawn: {message}."
    lab.evaluate("json => lab.update(json)", ExplorePayload(model=shipped_model).to_json())  # a good one draws again
    lab.wait_for_selector("#host .lp-mode-explore[data-ready='1']")
    assert lab.errors == [f"latent plane (explore): {message}"]


def test_every_payload_python_makes_passes_the_browsers_check(lab, shipped_model):
    pick = {"index": 7, "z": [0.5, -0.25]}
    points = {"z": [0.1, 0.2, 0.3, 0.4], "labels": [0, 1]}
    world = ToyWorld(key="k", titles=("Data x", "Latent codes"), data=points, names=("a", "b"), data_extent=2.0)
    payloads = [ExplorePayload(model=shipped_model, pin=pick, group="g", separate_preview=True, manifold_label="m"),
                PreviewPayload(model=shipped_model, pin=None, group="g"),
                InterpolatePayload(model=shipped_model, endpoints={"a": pick, "b": pick}, next="b", method="slerp",
                                   steps=5, hint="h"),
                ComparePayload(model=shipped_model, group="g", marks=[[0.5, 1.0]], title="t"),
                ToyPayload(model=shipped_model, toy=world, points=points),
                InsidePayload(model=shipped_model, mu=(0.5, -0.25), sigma=(0.1, 0.2), z=(0.6, -0.2),
                              cloud=[[0.5, -0.3]]),
                BetaPayload(model=shipped_model, models=(BetaModel(0.5, 130.0, 7.5, shipped_model),
                                                         BetaModel(8.0, 150.0, 3.0, shipped_model)), start=1)]
    problems = lab.evaluate("payloads => payloads.map(p => lab.checkPayload(JSON.parse(p)))",
                            [p.to_json() for p in payloads])
    assert problems == [None] * len(payloads)
    assert lab.evaluate("() => lab.checkPayload({mode: 'nope'})") == 'latent plane: unknown mode "nope"'
    family = json.loads(payloads[-1].to_json())
    family["models"][1]["model"] = {"id": "m"}  # a member without its files
    assert lab.evaluate("p => lab.checkPayload(p)", family) == ('latent plane (beta): field "models" must be a '
                                                               'non-empty list of {beta, recon, kl, model}, got array')
