"""End to end in a real browser: every page of `streamlit run app.py` on 127.0.0.1, driven
through Debian's Chromium by Playwright, with screenshots."""

from __future__ import annotations

import re
import shutil
import time

import pytest

from helpers.browser import (PHONE, assert_quiet_log, goto, images, isolated_point, plane_position, running_app,
                             shoot, visitor_tab, wait_for_model, wait_for_scatter, wait_idle)
from helpers.data import ROOT


def test_explore_click_shows_decoded_images(page):
    times = []
    for label in (0, 7, 2, 9):
        index, z = isolated_point(page, label)
        start = time.perf_counter()
        page.mouse.click(*plane_position(page, z))
        page.wait_for_function("i => [...document.querySelectorAll('[data-testid=stMain] h3')].some(h => "
                               "h.innerText.startsWith('Test image #' + i + ' ')) && document.querySelectorAll("
                               "'[data-testid=stMain] [data-testid=stImage] img').length >= 3", arg=index)
        times.append(1000 * (time.perf_counter() - start))
        wait_idle(page)
        assert f"class {label}" in page.inner_text("[data-testid='stMain'] h3")
    print(f"click-to-image ms: {[round(t) for t in times]}")
    assert len(set(images(page))) == 3
    shoot(page, "explore")


def test_explore_click_on_empty_space_decodes_exactly_that_location(page):
    page.mouse.click(*plane_position(page, (3.5, -3.5)))  # the bottom-right corner: no test points
    page.wait_for_function("() => document.querySelector('[data-testid=stMain]').innerText.includes('Location (') "
                           "&& document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img').length === 1")
    heading = page.inner_text("[data-testid='stMain'] h3")
    x, y = (float(v) for v in heading.removeprefix("Location (").rstrip(")").split(", "))
    assert abs(x - 3.5) < 0.02 and abs(y + 3.5) < 0.02, heading  # no snapping to a grid
    assert "The nearest test image is #" in page.inner_text("[data-testid='stMain']")
    download = page.locator("[data-testid=stMain] [data-testid=stDownloadButton] button")
    assert download.inner_text().strip().endswith("Download (PNG)")  # whole, not cut to "Downl…"
    assert download.evaluate("b => b.scrollWidth <= b.clientWidth + 1")


def test_generate_digits_of_class_7(page):
    goto(page, "Generate")
    page.get_by_role("button", name="7", exact=True).click()
    page.wait_for_selector("text=16 new 7s")
    # the class grid, one style in every class, and the prior samples (the run may still be drawing them)
    page.wait_for_function("document.querySelectorAll(\"[data-testid='stMain'] [data-testid='stImage'] img\").length == 3")
    assert len(images(page)) == 3
    shoot(page, "generate")


def test_quick_training_finishes_and_joins_the_picker(page):
    goto(page, "Train")
    page.get_by_text("Settings", exact=True).click()
    for label, value in (("Training images", "20000"), ("Epochs", "4")):
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        page.wait_for_timeout(500)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector("text=/epoch \\d+\\/4|Finished/")  # running (or, on a fast machine, already done)
    goto(page, "Generate")  # other pages stay usable while the session's thread trains
    page.get_by_role("button", name="3", exact=True).click()
    page.wait_for_selector("text=16 new 3s")
    goto(page, "Train")
    page.wait_for_selector("text=Finished", timeout=120_000)
    wait_for_model(page, "My model 1 (MNIST)")
    shoot(page, "train")


def test_upload_of_a_checkpoint_and_of_a_bad_file(page, tmp_path):
    page.get_by_text("Upload a checkpoint").click()
    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(b"\x80\x04\x95 not a checkpoint")
    page.locator("[data-testid='stSidebar'] input[type=file]").set_input_files(str(bad))
    page.wait_for_selector("[data-testid='stSidebar'] [data-testid='stAlert'] >> text=is a Python pickle")
    torch_file = tmp_path / "model.pt"  # no type filter refuses it first: the app's own sentence explains
    torch_file.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    page.locator("[data-testid='stSidebar'] input[type=file]").set_input_files(str(torch_file))
    alert = page.locator("[data-testid='stSidebar'] [data-testid='stAlert']",
                         has_text="model.pt is a zip archive, such as a PyTorch .pt/.pth file")
    alert.wait_for()
    box = alert.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= page.viewport_size["height"]  # in view, not under the fold
    good = tmp_path / "mine.safetensors"
    shutil.copy(ROOT / "pretrained" / "mnist.safetensors", good)
    page.locator("[data-testid='stSidebar'] input[type=file]").set_input_files(str(good))
    wait_for_model(page, "mine.safetensors (uploaded)")
    goto(page, "Explore")
    wait_for_scatter(page)
    shoot(page, "upload")


def test_a_server_log_with_a_traceback_or_a_warnings_stack_fails_the_run():
    assert_quiet_log("  You can now view your Streamlit app in your browser.\n  Stopping...\n")
    warned = ('2026-12-02 The widget with key "x" was created with a default value but also had its value set '
              'via the Session State API.\nStack (most recent call last):\n  File "t.py", line 1\n')
    for text in (warned, "Traceback (most recent call last):\n  File \"a.py\"\nValueError: boom\n"):
        with pytest.raises(pytest.fail.Exception, match="the server logged a problem"):
            assert_quiet_log(text)


# The legacy navigation lists the pages/ folder's file names; the app's own lists its titles.
LEGACY_NAMES = {"app", "anomaly", "compare", "encode", "explore", "generate", "inside", "interpolate", "toy",
                "train"}
WATCH_NAVIGATION = """(() => {
    window.__navSeen = new Set();
    const look = () => document.querySelectorAll('[data-testid=stSidebarNav] a, .st-key-app_navigation a')
        .forEach(a => window.__navSeen.add(a.innerText.trim().split('\\n').pop().trim()));  // after the icon
    new MutationObserver(look).observe(document, {subtree: true, childList: true, characterData: true});
})()"""


def test_no_frame_of_the_legacy_navigation_on_a_fresh_or_a_warm_server(page, tmp_path_factory):
    with running_app(tmp_path_factory) as url:  # fresh: its first run imports everything
        for visit in ("fresh", "warm"):
            context = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(WATCH_NAVIGATION)
            visitor = context.new_page()
            visitor.set_default_timeout(60_000)
            visitor.goto(url)
            wait_for_scatter(visitor)
            seen = set(visitor.evaluate("() => [...window.__navSeen]"))
            context.close()
            assert "Explore" in seen and not seen & LEGACY_NAMES, (visit, sorted(seen))


def test_on_a_phone_a_tapped_page_link_closes_the_sidebar(page, server):
    """The sidebar covers a phone's page: after a tap on a page link it closes, and the page is in
    view (Streamlit would leave it open over the page). On a wide screen it stays."""
    with visitor_tab(page, server, **PHONE) as phone:
        phone.goto(server)
        phone.wait_for_selector("h1")
        phone.locator("[data-testid=stExpandSidebarButton]").first.tap()
        sidebar_right = "() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right"
        phone.wait_for_function(sidebar_right + " > 0")  # open: it covers the page
        phone.locator(".st-key-app_navigation").get_by_text("Generate", exact=True).tap()
        phone.wait_for_selector("h1:has-text('Generate new images')")
        phone.wait_for_function(sidebar_right + " <= 0")  # closed
        title = phone.locator("h1").bounding_box()
    assert title["x"] >= 0 and title["y"] + title["height"] <= 844
    goto(page, "Generate")  # a wide screen: the sidebar stays
    assert page.evaluate(sidebar_right) > 0
    goto(page, "Explore")


def test_a_page_switch_the_server_merged_away_is_made_again(page, server):
    """The race of a busy server, made exact: right behind a page link's request, the page being
    left asks for a rerun of itself (as a widget's late value does), and the server, which merges
    requests it has not started, keeps the newer one's page. The link is then clicked again, once
    the app has settled on the old page. A switch that arrives sends nothing more."""
    context = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    visitor = context.new_page()
    visitor.set_default_timeout(60_000)
    wire = {"last": None, "replay": False, "sent": []}

    def relay(ws):
        app = ws.connect_to_server()

        def from_page(message):
            app.send(message)
            wire["sent"].append(time.monotonic())
            if wire["replay"]:  # the page being left asks again, right behind the switch
                wire["replay"] = False
                app.send(wire["last"])
            else:
                wire["last"] = message

        ws.on_message(from_page)
        app.on_message(ws.send)

    visitor.route_web_socket(re.compile(r".*/_stcore/stream"), relay)
    visitor.goto(server + "/interpolate")
    visitor.wait_for_selector("h1:has-text('Interpolate between two images')")
    wait_idle(visitor)
    visitor.wait_for_timeout(500)
    before = len(wire["sent"])
    goto(visitor, "Generate")  # an ordinary switch
    wait_idle(visitor)
    visitor.wait_for_timeout(2500)  # longer than the listener waits after a run before it would click again
    assert len(wire["sent"]) == before + 1  # the switch alone: nothing clicked again
    wire["replay"], clicked = True, time.monotonic()
    goto(visitor, "Anomalies")  # lost at first: the server reruns Generate; then clicked again
    again = [t for t in wire["sent"] if t > clicked]
    assert len(again) == 2 and again[1] - again[0] >= 0.45  # the second click waited for the old page's run
    assert visitor.evaluate("location.pathname") == "/anomaly"
    context.close()
