"""End to end in Chromium: draw a digit on the "Your digit" canvas (and upload one) and see it
land on the scatter with its reconstruction (the Anomalies page: test_anomaly.py).
Uses the server and page fixtures of conftest.py; screenshots go to $SCREENSHOT_DIR."""

from __future__ import annotations

import re

from helpers.browser import PHONE, draw_seven, goto, images, shoot, visitor_tab, wait_idle
from helpers.hostile_images import photo_of_a_seven



def your_digit(page):
    """Where the Your digit plane marks the digit (its one cross), or None."""
    marks = page.evaluate("""() => { const v = [...window.__latentPlane.views].find(v => v.data.group === 'encode' &&
        v.data.mode === 'compare'); return v ? v.data.marks : null; }""")
    return tuple(marks[0]) if marks else None


def main_text(page) -> str:
    return page.inner_text("[data-testid='stMain']")


def style_row(page) -> list[str]:
    """The captions of the row that draws the drawing's style as every class, in order."""
    return page.eval_on_selector_all(".st-key-enc_every_class [data-testid='stImage']",
                                     "els => els.map(e => e.innerText.trim())")


def assert_style_row(page) -> None:
    """After a drawn 7: ten digits in its style, its own 7 marked, the judge's reading said, all
    in the page's width."""
    assert style_row(page) == [f"{k} (yours)" if k == 7 else str(k) for k in range(10)]
    assert "reads your drawing as 7" in main_text(page)
    width = page.viewport_size["width"]
    boxes = [page.locator(".st-key-enc_every_class [data-testid='stImage'] img").nth(k).bounding_box()
             for k in range(10)]
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= width and b["width"] >= 40 for b in boxes), boxes


def test_a_drawn_digit_lands_on_the_scatter(page):
    goto(page, "Your digit")
    page.wait_for_selector(".lp-mode-compare[data-ready='1']")  # the live plane, drawn in the browser
    assert your_digit(page) is None
    draw_seven(page)
    page.wait_for_selector("text=The model's view")
    wait_idle(page)
    text = main_text(page)
    assert "Its reconstruction" in text and "Your drawing is encoded at z_mean = (" in text
    z = re.search(r"z_mean = \((-?\d+\.\d+), (-?\d+\.\d+)\)", text)
    x, y = your_digit(page)
    assert abs(x - float(z[1])) < 0.01 and abs(y - float(z[2])) < 0.01  # the cross sits at the code shown
    assert "Percentile" in text and "typical" in text and "Nearest first: #" in text
    # what the model sees, the reconstruction, the style as every digit (10), the five nearest
    assert len(set(images(page))) == 13
    assert_style_row(page)
    # what a drawing gets is in view without scrolling, and the score is not cut off
    view_box = page.get_by_text("The model's view").bounding_box()
    assert view_box["y"] + view_box["height"] <= page.viewport_size["height"]
    assert page.evaluate("""() => [...document.querySelectorAll('[data-testid=stMetricValue]')]
        .every(e => e.scrollWidth <= e.clientWidth + 1 && !e.innerText.includes('…'))""")
    shoot(page, "encode")
    page.get_by_text("How typical is it?").evaluate("e => e.scrollIntoView({block: 'start'})")
    shoot(page, "encode-details")


def test_on_a_phone_a_drawing_shows_its_style_as_every_digit(page, server):
    with visitor_tab(page, server, **PHONE) as phone:
        phone.goto(server + "/encode")
        phone.wait_for_selector(".lp-mode-compare[data-ready='1']")
        draw_seven(phone, finger=phone.context.new_cdp_session(phone))
        phone.wait_for_selector("text=Your handwriting in every digit")
        wait_idle(phone)
        assert_style_row(phone)
        phone.locator(".st-key-enc_every_class").scroll_into_view_if_needed()
        shoot(phone, "encode-phone-style")


def test_the_drawing_survives_a_visit_to_upload(page):
    radio = page.locator("[data-testid='stMain'] [data-testid='stRadio']")
    code = re.search(r"z_mean = \((-?\d+\.\d+), (-?\d+\.\d+)\)", main_text(page))[0]
    radio.get_by_text("Upload", exact=True).click()
    page.wait_for_selector("text=Upload a photo or a scan of one digit")  # the prompt of this mode, not Draw's
    wait_idle(page)  # until the run ends: the last one's elements stay on screen while it runs
    assert "black square" not in main_text(page) and "Your digit is the cross" not in main_text(page)
    radio.get_by_text("Draw", exact=True).click()
    page.wait_for_selector("text=The model's view")  # the strokes were redrawn and encoded again
    wait_idle(page)
    assert code in main_text(page)


def test_the_canvas_toolbar_shows_on_the_canvas_beside_the_caption_and_undoes(page):
    """The canvas's own toolbar appears in the caption's row (no empty gap above the canvas), clear
    of the caption's text, while the pointer is on the canvas; its Undo takes back a stroke and Redo
    brings it back, each encoded again."""
    seven = re.search(r"z_mean = \((-?\d+\.\d+), (-?\d+\.\d+)\)", main_text(page))[0]
    canvas = page.locator("[data-testid='stMain'] .canvas-root canvas").last
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    toolbar = page.locator(".st-key-enc_canvas .dc-toolbar-card")
    page.wait_for_function("e => getComputedStyle(e.closest('.dc-toolbar')).opacity === '1'", arg=toolbar.element_handle())
    caption = page.get_by_text("Draw one digit, large:").evaluate("""e => { const r = document.createRange();
        r.selectNodeContents(e); const b = r.getBoundingClientRect();
        return {x: b.x, y: b.y, width: b.width, height: b.height}; }""")  # the text itself, not its block
    bar = toolbar.bounding_box()
    assert bar["x"] >= caption["x"] + caption["width"] or bar["y"] >= caption["y"] + caption["height"]  # apart
    assert bar["y"] + bar["height"] <= box["y"] + 2 and box["y"] - (caption["y"] + caption["height"]) < 20  # no gap
    page.mouse.move(box["x"] + 0.35 * box["width"], box["y"] + 0.55 * box["height"])  # a cross bar: a 7 with a bar
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(box["x"] + (0.35 + 0.025 * i) * box["width"], box["y"] + 0.55 * box["height"])
    page.mouse.up()
    changed = ("seven => { const t = document.querySelector('[data-testid=stMain]').innerText;"
               " return t.includes('is encoded at z_mean') && !t.includes(seven); }")
    page.wait_for_function(changed, arg=seven)
    crossed = re.search(r"z_mean = \((-?\d+\.\d+), (-?\d+\.\d+)\)", main_text(page))[0]
    toolbar.get_by_role("button", name="Undo").click()
    page.wait_for_function("seven => document.querySelector('[data-testid=stMain]').innerText.includes(seven)", arg=seven)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    toolbar.get_by_role("button", name="Redo").click()
    page.wait_for_function("code => document.querySelector('[data-testid=stMain]').innerText.includes(code)", arg=crossed)
    wait_idle(page)


# The canvas's layers where they are the first frame they exist: [black square's top, drawing surface's top].
CANVAS_LAYERS_JS = """() => { const find = (root) => { for (const el of root.querySelectorAll('*')) if (el.shadowRoot) {
        const square = el.shadowRoot.querySelector('.dc-background-canvas'), surface = el.shadowRoot.querySelector('.upper-canvas');
        if (square && surface) return [square, surface]; const inner = find(el.shadowRoot); if (inner) return inner; }
      return null; };
    const layers = find(document); return layers && layers.map(e => e.getBoundingClientRect().top); }"""


def test_the_canvas_takes_strokes_before_any_stylesheet_from_the_server(page):
    """The canvas's stylesheet comes with its element. The library's own is fetched on every mount,
    and until it arrived (seconds, on a busy server) the drawing surface lay clipped below the black
    square: strokes fell on a dead square. Here stylesheet requests are refused, and none is made."""
    asked = []

    def refuse(route):
        asked.append(route.request.url)
        route.abort()

    page.route(re.compile(r".*/_stcore/bidi-components/.*\.css"), refuse)
    try:
        page.reload()  # a new visit: the canvas mounts afresh
        page.wait_for_selector("h1:has-text('Encode your own digit')")
        square, surface = page.wait_for_function(CANVAS_LAYERS_JS).json_value()  # polled every frame
        assert abs(square - surface) < 1  # the drawing surface lies on the square from the start
        draw_seven(page)
        page.wait_for_selector("text=Your drawing is encoded at")
        wait_idle(page)
    finally:
        page.unroute(re.compile(r".*/_stcore/bidi-components/.*\.css"))
    assert asked == []


def test_an_uploaded_digit_and_a_bad_file(page, tmp_path):
    page.locator("[data-testid='stMain'] [data-testid='stRadio']").get_by_text("Upload", exact=True).click()
    uploader = page.locator("[data-testid='stMain'] input[type=file]")
    uploader.wait_for(state="attached")
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"these are my notes, not a picture")
    uploader.set_input_files(str(bad))
    page.wait_for_selector("[data-testid='stMain'] [data-testid='stAlert'] >> text=not an image Pillow can read")
    assert your_digit(page) is None
    path = tmp_path / "seven.png"
    path.write_bytes(photo_of_a_seven())
    uploader.set_input_files(str(path))
    page.wait_for_selector("text=seven.png is encoded at")
    wait_idle(page)
    assert your_digit(page) is not None
    assert "not an image" not in main_text(page)
    shoot(page, "encode-upload")
