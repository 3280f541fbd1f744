"""End to end in a real browser for the AE vs VAE and Toy world pages (the server and page
fixtures of browser/conftest.py). Screenshots: compare.png and toy.png in $SCREENSHOT_DIR."""

from __future__ import annotations

from helpers import browser as base
from helpers.browser import goto, shoot, wait_idle


def traces(page, selector: str) -> list[dict]:
    """Name, x and y of every trace of the Plotly chart at ``selector``."""
    return page.evaluate("""(sel) => document.querySelector(sel)._fullData
        .map(t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])}))""", selector)


def planes(page, mode: str) -> list[dict]:
    """The data (marks, ...) and legend names of every latent plane of ``mode`` on the page."""
    return page.evaluate("""(mode) => [...window.__latentPlane.views].filter(v => v.data.mode === mode)
        .map(v => ({marks: v.data.marks, chips: [...v.root.querySelectorAll('.lp-chip')].map(c => c.innerText)}))""",
                         mode)


def shoot_tall(page, name: str, height: int) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its own container, so the
    viewport is made tall enough for everything instead."""
    page.set_viewport_size({"width": 1440, "height": height})
    try:
        page.wait_for_timeout(500)
        shoot(page, name)
    finally:
        page.set_viewport_size({"width": 1440, "height": 1000})


def test_compare_shows_both_latent_spaces_and_decodes_of_the_same_points(page):
    goto(page, "AE vs VAE")
    page.wait_for_function("() => document.querySelectorAll('.lp-mode-compare[data-ready=\"1\"]').length === 2")
    wait_idle(page)
    ae, vae = (plane["marks"] for plane in planes(page, "compare"))
    assert len(ae) == 16 and ae == vae  # the same draws from N(0, I) on both sides
    assert {"0", "9"} <= set(planes(page, "compare")[0]["chips"])  # class legends
    before = base.images(page)
    assert len(before) == 2 and before[0] != before[1]
    page.get_by_role("button", name="New points").click()
    page.wait_for_function("before => { const imgs = Array.from(document.querySelectorAll("
                           "'[data-testid=stMain] [data-testid=stImage] img')).map(i => i.src); "
                           "return imgs.length === 2 && imgs[0] !== before[0] && imgs[1] !== before[1]; }",
                           arg=before)
    wait_idle(page)
    page.wait_for_function("ae => [...window.__latentPlane.views].some(v => v.data.mode === 'compare' && "
                           "JSON.stringify(v.data.marks) !== JSON.stringify(ae))", arg=ae)
    text = page.inner_text("[data-testid='stMain']")
    assert "land far from every test code" in text and "What to look for" in text
    shoot_tall(page, "compare", 1800)


def test_toy_world_trains_and_shows_generated_points_over_the_data(page):
    goto(page, "Toy world")
    page.wait_for_selector(".st-key-toy_data .js-plotly-plot")  # the data, before any training
    page.get_by_role("button", name="Train").click()  # the defaults: 2,000 moons, 1,000 steps
    page.wait_for_selector("[data-testid='stProgress']")  # progress while it trains
    page.wait_for_selector("text=/Trained 1,000 steps/", timeout=240_000)
    page.wait_for_selector(".lp-mode-toy[data-ready='1']")
    page.wait_for_selector(".st-key-toy_generated .js-plotly-plot")
    wait_idle(page)
    generated = next(t for t in traces(page, ".st-key-toy_generated .js-plotly-plot") if t["name"] == "generated")
    data = next(t for t in traces(page, ".st-key-toy_generated .js-plotly-plot") if t["name"] == "data")
    assert len(generated["x"]) == len(data["x"]) == 2000
    assert planes(page, "toy")[0]["chips"] == ["moon 1", "moon 2"]
    assert "% of the generated points lie on the data" in page.inner_text("[data-testid='stMain']")
    shoot_tall(page, "toy", 1100)


def test_the_toy_planes_sit_side_by_side_with_their_angle_scale_in_view(page):
    """Coloured by angle, the latent plane's legend (12 named hues: the colour scale) wraps under it
    instead of widening it, so the data and latent planes stay side by side."""
    page.locator(".st-key-toy_colour").get_by_text("angle", exact=True).click()
    page.wait_for_function("() => [...window.__latentPlane.views].some(v => v.data.mode === 'toy' && "
                           "v.main && v.main.ready && v.main.opts.classes[0].includes('°'))")
    wait_idle(page)
    boxes = page.evaluate("""() => [...document.querySelectorAll('.lp-mode-toy .lp-plane')].map(e => {
        const b = e.getBoundingClientRect(); return [b.left, b.top, b.width, b.bottom]; })""")
    (data_left, data_top, data_width, _), (latent_left, latent_top, _, _) = boxes
    assert latent_top == data_top and latent_left >= data_left + data_width  # side by side
    chips = planes(page, "toy")[0]["chips"]
    assert len(chips) == 12 and chips[0] == "-180°…-150°"
    page.locator(".st-key-toy_colour").get_by_text("component", exact=True).click()
    wait_idle(page)
