"""The Anomalies page in Chromium, at 1400x1000 and as a 390x844 phone: the test points on the
scores plane in their scores' colours (Plotly's Viridis, read from the canvas's pixels), the images
above the threshold drawn larger and outlined, a click or a tap on a point selecting its image, the
colour bar in view and readable; nothing fetched from another host. Screenshots to $SCREENSHOT_DIR
(anomaly-*.png)."""

from __future__ import annotations

import re

import numpy as np
import plotly.colors
from PIL import Image

import vae_core as vc
from helpers.browser import PHONE, SENT_FRAMES, goto, shoot, visitor_tab, wait_for_scatter, wait_idle
from helpers.data import ROOT
from vae_core.images import ABOVE_COLOR, PICK_COLOR, SCORE_SCALE

SHIPPED = vc.load_checkpoint(ROOT / "pretrained" / "mnist.safetensors")
SCORES = SHIPPED.latents.neg_elbo  # the page's scores (tests/app/test_app_anomaly.py reads them back)

# Points of the scores plane that stand out, spread over the colour scale: `count` above the
# threshold with no point drawn after them (over them) within 9 px, and `count` below it with nothing
# drawn within 2 px of their edge (no other point, grid line or axis). For each, its index, its
# position on the page, the colour and radius the plane chose for it (the documented hook's view),
# and the canvas's pixels from its centre to the right ([r, g, b, a] per device pixel).
ALONE = """count => {
  const v = [...window.__latentPlane.views].find(v => v.data.mode === 'scores' && v.main && v.main.ready);
  const plane = v.main, p = plane.points, shade = plane.opts.shade, ratio = window.devicePixelRatio || 1;
  const ctx = plane.first.getContext('2d'), box = plane.stage.getBoundingClientRect(), area = plane.area();
  const pixel = (x, y) => Array.from(ctx.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data);
  const at = (i) => plane.toPx([p.z[2 * i], p.z[2 * i + 1]]);
  const n = shade.order.length, tops = shade.order.filter((i) => shade.outline[i]).length;
  const blank = (x, y, r) => { for (let k = 0; k < 16; k++) { const a = k * Math.PI / 8;
    if (pixel(x + r * Math.cos(a), y + r * Math.sin(a))[3] !== 0) return false; } return true; };
  const uncovered = (k, x, y) => shade.order.slice(k + 1).every((j) => {
    const [u, w] = at(j); return Math.hypot(u - x, w - y) > 9; });
  // the first point standing alone from place `k` of the drawing order (by score) on, going `step`
  const seek = (k, step, above) => {
    for (; k >= 0 && k < n; k += step) {
      const i = shade.order[k], [x, y] = at(i);
      if (!!shade.outline[i] !== above || x < area.x + 8 || y < area.y + 8 || x > area.x + area.w - 8
          || y > area.y + area.h - 8 || !(above ? uncovered(k, x, y) : blank(x, y, shade.radius[i] + 2))) continue;
      const line = []; for (let d = 0; d <= 6 * ratio; d++) line.push(pixel(x + d / ratio, y));
      return { index: i, at: [box.left + x, box.top + y], color: shade.color[i], radius: shade.radius[i], line, ratio };
    }
    return null;
  };
  const above = [], below = [], m = n - tops;  // (the drawing order: the m below the threshold first)
  for (let c = 0; c < count; c++) above.push(seek(n - 1 - Math.floor(0.4 * c * tops), -1, true));
  for (let c = 0; c < count; c++) below.push(seek(Math.floor((0.05 + 0.4 * c) * m), 1, false));
  return { above: above.filter(Boolean), below: below.filter(Boolean), threshold: v.data.threshold,
           low: v.data.low, high: v.data.high };
}"""


def scale_rgb(score: float, low: float, high: float) -> np.ndarray:
    """The colour of ``score`` on the plane's scale, as Plotly computes it (the histogram's bars)."""
    t = min(1.0, max(0.0, (score - low) / (high - low)))
    return np.array(plotly.colors.unlabel_rgb(plotly.colors.sample_colorscale([list(s) for s in SCORE_SCALE], [t])[0]))


def rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[k:k + 2], 16) for k in (1, 3, 5)])


def reach(line: list, ratio: float, alpha: int) -> float:
    """How far from its centre a point's ink of at least ``alpha`` reaches along the line read (CSS px)."""
    return next((d for d, px in enumerate(line) if px[3] < alpha), len(line)) / ratio


def assert_ringed(page, index: int) -> None:
    """The plane's overlay rings test image ``index`` in the pick colour (10 px around its point)."""
    ring = page.evaluate("""i => { const v = [...window.__latentPlane.views].find(v => v.data.mode === 'scores');
        const p = v.main.points, [x, y] = v.main.toPx([p.z[2 * i], p.z[2 * i + 1]]), r = window.devicePixelRatio || 1;
        const overlay = v.main.over.getContext('2d');
        return Array.from(overlay.getImageData(Math.round((x + 10) * r), Math.round(y * r), 1, 1).data); }""",
                         index)
    assert np.abs(np.array(ring[:3]) - rgb(PICK_COLOR)).max() <= 40 and ring[3] > 200, ring


def scores_plane(page) -> dict:
    return page.evaluate(ALONE, 3)


def check_colours(found: dict) -> None:
    """The plane's colours are the scale's, on the canvas too; the images above the threshold are drawn
    opaque, larger and outlined, the others faded."""
    low, high, threshold = found["low"], found["high"], found["threshold"]
    assert len(found["above"]) >= 2 and len(found["below"]) >= 3, found
    shown = [SCORES[p["index"]] for p in found["below"]]
    assert max(shown) - min(shown) > 30  # points of different colours
    for point in found["above"] + found["below"]:
        score, above = float(SCORES[point["index"]]), point in found["above"]
        assert (score > threshold) == above
        expected = scale_rgb(score, low, high)
        assert np.abs(rgb(point["color"]) - expected).max() <= 1, (point["color"], expected)
        centre = np.array(point["line"][0])
        if above:  # opaque: exactly the scale's colour, and an outline of ABOVE_COLOR around it
            assert centre[3] == 255 and np.abs(centre[:3] - expected).max() <= 2, (centre, expected)
            # its outline (1 px, antialiased): the darkest pixel at its edge is far darker than its fill
            rim = min((np.array(px) for px in point["line"][2:] if px[3] > 64), key=lambda px: px[:3].sum())
            assert rgb(ABOVE_COLOR).sum() == 0 and rim[:3].sum() <= 0.6 * expected.sum(), point["line"]
        else:  # faded to a quarter
            assert 55 <= centre[3] <= 75 and np.abs(centre[:3] - expected).max() <= 6, (centre, expected)
    # larger: drawn with a radius of 3.5 px instead of 2, opaque as far as a faded point has any ink
    assert {p["radius"] for p in found["above"]} == {3.5} and {p["radius"] for p in found["below"]} == {2.0}
    large = min(reach(p["line"], p["ratio"], 250) for p in found["above"])
    small = max(reach(p["line"], p["ratio"], 8) for p in found["below"])
    assert large >= 3 >= small, (large, small)


def test_the_scores_plane_colours_each_point_and_a_click_selects_it(page):
    page.set_viewport_size({"width": 1400, "height": 1000})
    goto(page, "Anomalies")
    wait_for_scatter(page, "scores")
    wait_idle(page)
    renderer = page.evaluate("""() => { const v = [...window.__latentPlane.views].find(v => v.data.mode === 'scores');
        return {upgrade: v.main.upgrade, first: !!v.main.first,
                plotly: !!v.root.querySelector('.js-plotly-plot')}; }""")
    assert renderer == {"upgrade": None, "first": True, "plotly": False}  # the canvas draws every point's colour
    found = scores_plane(page)
    check_colours(found)
    # the colour bar says what the colours are, in view under the plane
    bar = page.locator(".lp-mode-scores .lp-scorebar")
    assert bar.inner_text().startswith("Colour: negative ELBO (nats)")
    assert f"\u2264 {found['low']:.0f} typical" in bar.inner_text()
    # a lower threshold: the plane restyles its points in the browser (the same scores file)
    slider = page.locator("[data-testid=stSlider] input[type=range]")
    slider.focus()
    for _ in range(3):
        page.keyboard.press("PageDown")
    page.wait_for_function("t => [...window.__latentPlane.views].some(v => v.data.mode === 'scores'"
                           " && v.data.threshold < t && v.main.opts.shade.threshold === v.data.threshold)",
                           arg=found["threshold"])
    wait_idle(page)
    lower = scores_plane(page)
    check_colours(lower)
    outlined = page.evaluate("() => [...window.__latentPlane.views].find(v => v.data.mode === 'scores')"
                             ".main.opts.shade.outline.filter(Boolean).length")
    assert outlined == (SCORES > lower["threshold"]).sum() > 10 * (SCORES > found["threshold"]).sum()
    assert f"the {outlined:,} images above the threshold ({lower['threshold']:.1f} nats" in bar.inner_text()
    shown = [SCORES[p["index"]] for p in lower["above"]]
    assert max(shown) - min(shown) > 30  # above the threshold too, points of different colours
    # a click in empty space selects nothing and sends nothing
    SENT_FRAMES.clear()
    box = page.locator(".lp-mode-scores .lp-stage").bounding_box()
    page.mouse.click(box["x"] + box["width"] - 20, box["y"] + 20)  # the top right corner: no test code there
    page.wait_for_timeout(500)
    assert SENT_FRAMES == [] and page.evaluate("() => [...window.__latentPlane.views].find(v => "
                                               "v.data.mode === 'scores').pin") is None
    # a click on a point selects its image: its details beside the plane, the pick ring on it
    target = found["above"][0]
    page.mouse.click(*target["at"])
    heading = page.locator(f"h3:has-text('Test image #{target['index']} ')")
    heading.wait_for()
    page.wait_for_function("i => [...window.__latentPlane.views].some(v => v.data.mode === 'scores' && v.data.pin"
                           " && v.data.pin.index === i)", arg=target["index"])
    wait_idle(page)
    box = heading.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 1000, box  # in view of the click
    readout = page.inner_text(".lp-mode-scores .lp-readout")
    assert readout == f"Selected: test image #{target['index']}: {SCORES[target['index']]:.1f} nats"
    assert_ringed(page, target["index"])
    shoot(page, "anomaly-desktop")
    # no Plotly mode bar: the plane saves itself as a PNG of what is on screen
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the plane (PNG)").click()
    assert download.value.suggested_filename == "anomalies-negative-ELBO.png"
    picture = Image.open(download.value.path())
    side = page.evaluate("() => [...window.__latentPlane.views].find(v => v.data.mode === 'scores').main.over.width")
    assert picture.format == "PNG" and picture.size == (side, side)


def test_a_gallery_image_selected_is_ringed_on_the_plane(page):
    page.mouse.move(5, 5)  # (off the plane)
    tile = page.locator("[data-testid='stColumn']").filter(has=page.locator("[data-testid='stImage']")) \
        .filter(has=page.get_by_role("button", name="Select", exact=True)).first
    index = int(re.search(r"#(\d+) · ", tile.inner_text())[1])
    assert index == int(np.argmax(SCORES))  # the least typical first
    page.locator("h3:has-text('least typical test images')").evaluate("e => e.scrollIntoView({block: 'start'})")
    tile.get_by_role("button", name="Select", exact=True).click()  # (as a visitor reading the gallery)
    heading = page.locator(f"h3:has-text('Test image #{index} ')")
    heading.wait_for()
    page.wait_for_function("i => [...window.__latentPlane.views].some(v => v.data.mode === 'scores' && v.data.pin"
                           " && v.data.pin.index === i)", arg=index)
    wait_idle(page)
    box = heading.bounding_box()  # under the gallery, where the click was: in view
    assert 0 <= box["y"] and box["y"] + box["height"] <= 1000, box
    assert "rank 1 of 10,000" in page.inner_text("[data-testid='stMain']")
    assert_ringed(page, index)
    shoot(page, "anomaly-gallery")


def test_on_a_phone_the_plane_fits_and_a_tap_selects_a_point(page, server):
    with visitor_tab(page, server, **PHONE) as phone:
        phone.goto(server + "/anomaly")
        wait_for_scatter(phone, "scores")
        wait_idle(phone)
        plane = phone.locator(".lp-mode-scores .lp-stage")
        plane.scroll_into_view_if_needed()
        box = plane.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["width"] >= 300, box  # the plane fits, large
        found = scores_plane(phone)
        check_colours(found)
        # the colour bar: on screen with the plane, its words at a readable size
        bar = phone.locator(".lp-mode-scores .lp-scorebar")
        bar.scroll_into_view_if_needed()
        bar_box = bar.bounding_box()
        assert bar_box["x"] >= 0 and bar_box["x"] + bar_box["width"] <= 390, bar_box
        sizes = phone.evaluate("() => [...document.querySelectorAll('.lp-scorebar *')]"
                               ".filter(e => e.childElementCount === 0 && e.textContent)"
                               ".map(e => parseFloat(getComputedStyle(e).fontSize))")
        assert sizes and min(sizes) >= 13, sizes
        shoot(phone, "anomaly-phone")
        target = scores_plane(phone)["above"][0]  # (where it is now, after the scroll)
        phone.touchscreen.tap(*target["at"])
        phone.wait_for_function("i => [...document.querySelectorAll('[data-testid=stMain] h3')].some(h => "
                                "h.innerText.startsWith('Test image #' + i + ' '))", arg=target["index"])
        phone.wait_for_function("i => [...window.__latentPlane.views].some(v => v.data.mode === 'scores' && v.data.pin"
                                " && v.data.pin.index === i)", arg=target["index"])
        wait_idle(phone)
        shoot(phone, "anomaly-phone-selected")
