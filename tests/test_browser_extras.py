"""End to end in a real browser for the AE vs VAE and Toy world pages (server, browser and
helpers from test_browser.py). Screenshots: compare.png and toy.png in $SCREENSHOT_DIR."""

from __future__ import annotations

import test_browser as base
from test_browser import page, server, shoot, wait_idle  # noqa: F401  (fixtures)

pytestmark = base.pytestmark
HEADINGS = {"AE vs VAE": "Autoencoder vs VAE", "Toy world": "Toy world"}


def goto(page, name: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(name, exact=True).click()
    page.wait_for_selector(f"h1:has-text('{HEADINGS[name]}')")


def traces(page, plot: int) -> list[dict]:
    """Name, x and y of every trace of the plot-th Plotly chart of the page."""
    return page.evaluate("""(i) => Array.from(document.querySelectorAll('.js-plotly-plot'))[i]._fullData
        .map(t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])}))""", plot)


def random_points(page, plot: int) -> list[list[float]]:
    trace = next(t for t in traces(page, plot) if t["name"] == "random points")
    return list(zip(trace["x"], trace["y"]))


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
    page.wait_for_function("() => { const p = document.querySelectorAll('.js-plotly-plot'); return p.length === 2 && "
                           "Array.from(p).every(gd => gd._fullData && gd._fullData.some(t => t.name === "
                           "'random points')); }")
    wait_idle(page)
    ae, vae = random_points(page, 0), random_points(page, 1)
    assert len(ae) == 16 and ae == vae  # the same draws from N(0, I) on both sides
    assert {"0", "9"} <= {t["name"] for t in traces(page, 0)}  # class legends
    before = base.images(page)
    assert len(before) == 2 and before[0] != before[1]
    page.get_by_role("button", name="New points").click()
    page.wait_for_function("before => { const imgs = Array.from(document.querySelectorAll("
                           "'[data-testid=stMain] [data-testid=stImage] img')).map(i => i.src); "
                           "return imgs.length === 2 && imgs[0] !== before[0] && imgs[1] !== before[1]; }",
                           arg=before)
    wait_idle(page)
    assert random_points(page, 0) != ae
    text = page.inner_text("[data-testid='stMain']")
    assert "land far from every test code" in text and "What to look for" in text
    shoot_tall(page, "compare", 1800)


def test_toy_world_trains_and_shows_generated_points_over_the_data(page):
    goto(page, "Toy world")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === 1")
    page.get_by_role("button", name="Train").click()  # the defaults: 2,000 moons, 1,000 steps
    page.wait_for_selector("[data-testid='stProgress']")  # progress while it trains
    page.wait_for_selector("text=/Trained 1,000 steps/", timeout=240_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === 3")
    wait_idle(page)
    generated = next(t for t in traces(page, 2) if t["name"] == "generated")
    data = next(t for t in traces(page, 2) if t["name"] == "data")
    assert len(generated["x"]) == len(data["x"]) == 2000
    latent_traces = [t for t in traces(page, 1) if t["name"].startswith("moon")]
    assert [t["name"] for t in latent_traces] == ["moon 1", "moon 2"]
    shoot_tall(page, "toy", 1100)
