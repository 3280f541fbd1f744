"""Inside the VAE in Chromium, at 1400x1000 and on a 390x844 touch phone: the numbers shown are
vae_core.walk_through's for the image and eps, "Resample ε" changes eps, z and the decode, and the
beta slider swaps the plane (its points and its decoded manifold) without a WebSocket frame."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

import vae_core as vc
from helpers.browser import (PHONE, SENT_FRAMES, draw_seven, goto, shoot, visitor_tab, wait_for_scatter,
                             wait_idle)
from helpers.data import MNIST_DIR, ROOT

SHIPPED = vc.load_checkpoint(ROOT / "pretrained" / "mnist.safetensors")
TEST_IMAGES = vc.load_dataset("mnist", "test", root=MNIST_DIR, download=False).images
NUMBER = r"(−?-?\d+\.\d+)"


def number(text: str) -> float:
    return float(text.replace("\u2212", "-"))


def shown_numbers(page) -> dict:
    """The page's numbers, read from its rendered tables and lines."""
    texts = page.eval_on_selector_all("[data-testid=stMarkdown]", "els => els.map(e => e.innerText)")
    encoder = next(t for t in texts if t.startswith("coordinate"))
    rows = [list(map(number, re.findall(NUMBER, line))) for line in encoder.splitlines()[1:]]
    eps = next(t for t in texts if t.startswith("ε = "))
    z_lines = next(t for t in texts if t.startswith("z₁ = "))
    loss = next(t for t in texts if t.startswith("term"))
    value = lambda start: number(re.search(re.escape(start) + r"[^\t]*\t" + NUMBER, loss).group(1))  # noqa: E731
    return {"mu": [r[0] for r in rows], "logvar": [r[1] for r in rows], "sigma": [r[2] for r in rows],
            "eps": list(map(number, re.findall(NUMBER, eps.split("drawn")[0]))),
            "z": [number(re.findall(NUMBER, line)[-1]) for line in z_lines.splitlines()],
            "recon": value("reconstruction: BCE"), "kl": value("KL: the sum"), "neg_elbo": value("−ELBO =")}


def decode_shown(page) -> np.ndarray:
    """The image captioned "The decode of z ...", as uint8 [28, 28]."""
    src = page.eval_on_selector_all("[data-testid=stImage]", """els => els.filter(e => e.innerText.startsWith(
        'The decode of z')).map(e => e.querySelector('img').src)""")[0]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L"))


def assert_matches_vae_core(page, index: int, seed: int) -> vc.WalkThrough:
    walk = vc.walk_through(SHIPPED.model, TEST_IMAGES[index], vc.standard_normal(2, seed))
    shown = shown_numbers(page)
    for name in ("mu", "logvar", "sigma", "eps", "z"):
        np.testing.assert_allclose(shown[name], getattr(walk, name), atol=0.0006, err_msg=name)
    for name in ("recon", "kl", "neg_elbo"):
        assert shown[name] == pytest.approx(getattr(walk, name), abs=0.0006), name
    assert abs(shown["recon"] + shown["kl"] - shown["neg_elbo"]) < 0.01
    np.testing.assert_array_equal(decode_shown(page), walk.pixels)
    plane_z = page.evaluate("() => [...window.__latentPlane.views].find(v => v.data.mode === 'inside').data.z")
    np.testing.assert_allclose(plane_z, walk.z, atol=1e-4)
    return walk


def resample(page, before: vc.WalkThrough) -> None:
    page.get_by_role("button", name="Resample ε").click()
    page.wait_for_function("z => { const v = [...window.__latentPlane.views].find(v => v.data.mode === 'inside');"
                           " return v && v.data.z[0] !== z[0]; }", arg=before.z.round(5).tolist())
    wait_idle(page)


def at_end(slider) -> bool:
    return slider.evaluate("s => s.value === s.max")


def swap_beta(page, step) -> None:
    """Move the beta slider with ``step`` (a callable acting on its locator); check the plane swapped."""
    wait_for_scatter(page, "beta")
    bar = page.locator(".lp-beta-bar")
    before = bar.get_attribute("data-model")
    SENT_FRAMES.clear()
    step(page.locator(".lp-beta-slider"))
    page.wait_for_function("m => { const b = document.querySelector('.lp-beta-bar');"
                           " return b.dataset.model !== m && document.querySelector("
                           "'.lp-mode-beta[data-ready=\"1\"]'); }", arg=before)
    page.wait_for_function("() => Number(document.querySelector('.lp-mode-beta').dataset.manifold) > 0")
    after = page.evaluate("() => { const v = [...window.__latentPlane.views].find(v => v.data.mode === 'beta');"
                          " return [v.data.model.id, v.main.points.z.length, v.data.model.decoder]; }")
    assert after[0] == bar.get_attribute("data-model") != before and after[1] > 0
    page.wait_for_timeout(500)
    assert SENT_FRAMES == [], f"{len(SENT_FRAMES)} websocket frames sent by the beta slider"


def test_the_walk_through_and_the_beta_slider_at_1400x1000(page):
    page.set_viewport_size({"width": 1400, "height": 1000})
    goto(page, "Inside the VAE")
    wait_for_scatter(page, "inside")
    wait_idle(page)
    first = assert_matches_vae_core(page, 0, 0)
    shoot(page, "inside-desktop")
    resample(page, first)
    second = assert_matches_vae_core(page, 0, 1)
    assert not np.array_equal(first.eps, second.eps) and not np.array_equal(first.z, second.z)
    assert not np.array_equal(first.pixels, second.pixels)
    page.get_by_text("16 at once").click()
    page.wait_for_function("() => [...window.__latentPlane.views].find(v => v.data.mode === 'inside')"
                           ".data.cloud.length === 16")
    wait_idle(page)
    page.locator(".lp-mode-inside").scroll_into_view_if_needed()
    shoot(page, "inside-desktop-cloud")
    page.locator("[data-testid=stPlotlyChart]").first.scroll_into_view_if_needed()
    shoot(page, "inside-desktop-loss")
    page.locator(".lp-beta-bar").scroll_into_view_if_needed()
    swap_beta(page, lambda slider: (slider.focus(), slider.press("Home" if at_end(slider) else "End")))
    shoot(page, "inside-desktop-beta")
    chosen = page.get_attribute(".lp-beta-bar", "data-model")
    resample(page, second)  # a rerun of the page sends the family again: the slider's choice stays
    page.wait_for_selector(".lp-mode-beta[data-ready='1']")
    page.wait_for_timeout(500)
    shown = page.evaluate("() => [...window.__latentPlane.views].find(v => v.data.mode === 'beta').data.model.id")
    assert shown == chosen == page.get_attribute(".lp-beta-bar", "data-model")
    page.locator("h2:has-text('Latent size')").scroll_into_view_if_needed()
    shoot(page, "inside-desktop-latent-size")


def test_the_page_on_a_phone(page, server):
    with visitor_tab(page, server, **PHONE) as phone:
        phone.on("websocket", lambda ws: ws.on("framesent", lambda frame: SENT_FRAMES.append(frame)))
        phone.goto(server + "/inside")
        wait_for_scatter(phone, "inside")
        wait_idle(phone)
        first = assert_matches_vae_core(phone, 0, 0)
        shoot(phone, "inside-phone")
        phone.get_by_role("button", name="Resample ε").tap()
        phone.wait_for_function("z => [...window.__latentPlane.views].find(v => v.data.mode === 'inside').data.z[0]"
                                " !== z[0]", arg=first.z.round(5).tolist())
        wait_idle(phone)
        assert_matches_vae_core(phone, 0, 1)
        phone.locator(".lp-beta-bar").scroll_into_view_if_needed()

        def tap_other_end(slider) -> None:
            box = slider.bounding_box()
            x = box["x"] + 4 if at_end(slider) else box["x"] + box["width"] - 4
            phone.touchscreen.tap(x, box["y"] + box["height"] / 2)

        swap_beta(phone, tap_other_end)
        shoot(phone, "inside-phone-beta")


def test_a_drawing_is_walked_through_the_model(page):
    page.set_viewport_size({"width": 1400, "height": 1000})
    goto(page, "Inside the VAE")
    wait_idle(page)
    before = page.evaluate("() => [...window.__latentPlane.views].find(v => v.data.mode === 'inside').data.mu")
    page.get_by_text("Draw one", exact=True).click()
    draw_seven(page)
    page.wait_for_selector("[data-testid=stImage]:has-text('Your drawing: x, as the model sees it')")
    page.wait_for_function("m => { const v = [...window.__latentPlane.views].find(v => v.data.mode === 'inside');"
                           " return v && v.data.mu[0] !== m[0]; }", arg=before)
    wait_idle(page)
    shown = shown_numbers(page)
    assert abs(shown["recon"] + shown["kl"] - shown["neg_elbo"]) < 0.01
    shoot(page, "inside-desktop-drawing")
