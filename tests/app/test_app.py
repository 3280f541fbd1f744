"""AppTest coverage of every page: widgets in, outputs checked (no browser)."""

import base64
import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import vae_core as vc
from helpers.apptest import PRETRAINED, finish, image_urls, images, open_page, pick, planes, train_briefly
from helpers.data import MNIST_DIR, ROOT, has_mnist
from ui.export import data_uri
from ui.jobs import JobState

def test_sidebar_lists_pretrained_models_with_a_card(app):
    picker = app.sidebar.selectbox(key="model_id")
    assert "MNIST (pretrained)" in picker.options and picker.value == f"pretrained/{Path(PRETRAINED).name}"
    assert "−ELBO" in app.sidebar.markdown[0].value and "MLP" in app.sidebar.caption[0].value


def test_explore_shows_scatter_and_three_images_for_a_picked_point(app):
    assert app.title[0].value == "Explore the latent space"
    shown_planes = planes(app)
    assert set(shown_planes) == {"explore_plane", "explore_preview"}  # the scatter and the spot under the cursor
    scatter = shown_planes["explore_plane"]
    assert scatter["mode"] == "explore" and scatter["pin"] is None
    assert scatter["model"]["id"] == f"pretrained/{Path(PRETRAINED).name}"
    assert scatter["model"]["classes"] == [str(d) for d in range(10)]
    assert scatter["model"]["decoder"] and scatter["model"]["points"]  # the browser decodes and draws the codes
    assert not app.get("plotly_chart") and not images(app)
    assert app.info[0].value.startswith("Click (or tap) a point")
    pick(app, index=3, z=[0.1, 0.2])
    app.run()
    assert app.subheader[0].value.startswith("Test image #3 · class ")
    shown = images(app)
    assert len(shown) == (3 if has_mnist else 2)
    assert [i.caption for i in shown][-2:] == ["Reconstruction (z ~ q(z|x))", "Decode of z_mean"]
    ckpt = vc.load_checkpoint(ROOT / PRETRAINED)
    mu, sigma = ckpt.latents.z_mean[3], np.exp(0.5 * ckpt.latents.z_logvar[3])
    assert app.main.caption[-1].value.startswith(f"z_mean = ({mu[0]:.2f}, {mu[1]:.2f}); the encoder is unsure by "
                                                 f"σ = ({sigma[0]:.2f}, {sigma[1]:.2f})")
    assert not app.get("plotly_chart")  # the close-up is drawn in the browser, around the pin
    pinned = planes(app)
    assert pinned["explore_plane"]["pin"] == pinned["explore_preview"]["pin"] == {"index": 3, "z": [0.1, 0.2]}


def test_explore_decodes_any_location_from_a_picked_location(app):
    z = [1.5, -2.0]
    pick(app, index=None, z=z)
    app.run()
    assert app.subheader[0].value == "Location (1.50, -2.00)"
    assert planes(app)["explore_plane"]["pin"] == {"index": None, "z": z}
    ckpt = vc.load_checkpoint(ROOT / PRETRAINED)
    shown = images(app)
    assert [i.caption for i in shown] == ["Decoded"]
    assert shown[0].url == data_uri(vc.decode(ckpt.model, z)[0])  # that very spot, decoded on the server
    near = int(np.argmin(((ckpt.latents.z_mean - np.float32(z)) ** 2).sum(axis=1)))
    label = ckpt.classes[int(ckpt.latents.labels[near])]
    assert app.main.caption[-1].value == f"The nearest test image is #{near} (class {label})."


def test_explore_plane_offers_the_manifold_layer(app):
    # the toggle lives in the browser (which decodes the grid); the page names it for its dataset
    assert planes(app)["explore_plane"]["manifold_label"] == "Show decoded digits behind the points"


def test_picks_survive_page_switches(app):
    pick(app, index=5, z=[0.0, 0.0])
    app.run()
    open_page(app, "generate")
    open_page(app, "explore")
    assert app.subheader[0].value.startswith("Test image #5")


def first_of_class(label: int) -> dict:
    """The shipped MNIST model's first test image of a class, as an endpoint."""
    latents = vc.load_checkpoint(ROOT / PRETRAINED).latents
    idx = int(np.flatnonzero(latents.labels == label)[0])
    return {"index": idx, "z": latents.z_mean[idx].tolist()}


def test_interpolate_walk_carries_every_position(app):
    open_page(app, "interpolate")
    assert app.title[0].value == "Interpolate between two images"
    plane = planes(app)["interp_plane"]
    assert plane["mode"] == "interpolate" and plane["next"] == "a"
    # a "1" turning into a "7": the browser walks the path between them, t preview and strip included
    assert plane["endpoints"] == {"a": first_of_class(1), "b": first_of_class(7)}
    assert plane["method"] == "linear" and plane["steps"] == 10
    assert plane["model"]["decoder"] and plane["model"]["fallback"] is None
    assert images(app) == []  # the shipped decoder runs in the browser: no strip from the server
    app.slider(key="interp_steps").set_value(6).run()
    plane = planes(app)["interp_plane"]
    assert plane["steps"] == 6 and plane["method"] == "linear"
    assert plane["endpoints"] == {"a": first_of_class(1), "b": first_of_class(7)}
    app.radio(key="interp_method").set_value("slerp").run()
    plane = planes(app)["interp_plane"]
    assert plane["method"] == "slerp" and plane["steps"] == 6 and images(app) == []


def test_interpolate_strip_comes_from_the_server_when_the_browser_cannot_decode(app, monkeypatch):
    from ui.latent_plane import _model_files

    monkeypatch.setenv("VAE_BROWSER_DECODER_MB", "0.001")  # smaller than any decoder
    _model_files.clear()  # the decoder export is cached per model
    try:
        open_page(app, "interpolate")
        plane = planes(app)["interp_plane"]
        assert plane["model"]["decoder"] is None and "runs on the server" in plane["model"]["fallback"]
        shown = images(app)
        assert [i.caption for i in shown] == ["10 images, linear from A to B"]
        app.slider(key="interp_steps").set_value(6).run()
        assert [i.caption for i in images(app)] == ["6 images, linear from A to B"]
        assert images(app)[0].url != shown[0].url
        app.radio(key="interp_method").set_value("slerp").run()
        assert [i.caption for i in images(app)] == ["6 images, slerp from A to B"]
    finally:
        monkeypatch.delenv("VAE_BROWSER_DECODER_MB")
        _model_files.clear()  # the other tests get the browser's decoder back


def test_interpolate_endpoints_by_class(app):
    open_page(app, "interpolate")
    app.radio(key="interp_mode").set_value("By class and example").run()
    app.selectbox(key="interp_class_a").set_value(3).run()
    start, end = app.markdown[0].value.split(" · ")
    assert start.startswith("**Start A:** test image #") and start.endswith(" (3)")
    assert end.startswith("**End B:** test image #") and end.endswith(" (7)")  # B stays where it was
    assert planes(app)["interp_plane"]["endpoints"] == {"a": first_of_class(3), "b": first_of_class(7)}


def test_generate_class_buttons_produce_a_grid(app):
    open_page(app, "generate")
    assert len(app.get("image")) == 1  # the prior grid only
    assert "conditional VAE" in app.caption[0].value  # the shipped one makes the classes
    app.button(key="gen_class_7").click().run()
    shown = images(app)
    assert len(shown) == 3 and shown[0].caption == "16 new 7s"  # the class grid, one style in every class, the prior
    assert "drawn as each class" in shown[1].caption
    first = shown[0].url
    app.button(key="gen_class_7").click().run()
    assert images(app)[0].url != first  # pressing again draws new digits
    app.slider(key="gen_class_temperature").set_value(0.5).run()
    assert app.session_state["gen_class_temperature"] == 0.5 and images(app)[0].caption == "16 new 7s"


def test_the_prior_grid_has_no_empty_cells(app):
    open_page(app, "generate")
    grid = np.asarray(Image.open(io.BytesIO(base64.b64decode(image_urls(app)[-1].split(",", 1)[1]))))
    assert grid.shape[1] == 9 * 28 + 8 * 2 and grid.shape[0] == 4 * 28 + 3 * 2  # 36 samples: 4 rows of 9


@pytest.mark.parametrize("page", ["explore", "interpolate", "generate", "compare"])
def test_images_travel_inline_never_as_media_files(app, page):
    """A media file can be dropped by the server before a busy browser fetches it (a 404 and
    a broken image under load); an inline PNG cannot."""
    open_page(app, page)
    if page == "explore":
        pick(app, index=3, z=[0.1, 0.2])
        app.run()
    urls = image_urls(app)
    if page == "interpolate":  # its images are drawn in the browser, by the plane: none from the server
        assert urls == [] and "interp_plane" in planes(app)
    else:
        assert urls and all(u.startswith("data:image/png;base64,") for u in urls), urls[:1]


def test_generate_prior_controls(app):
    open_page(app, "generate")
    url = image_urls(app)[0]
    app.slider(key="gen_temperature").set_value(0.5).run()
    assert image_urls(app)[0] != url and "T = 0.50" in images(app)[0].caption
    app.main.button[-1].click().run()  # "New samples" (the sidebar's buttons come last in app.button)
    assert app.number_input(key="gen_seed").value == 1


@pytest.mark.skipif(not has_mnist, reason=f"training needs the MNIST files in {MNIST_DIR}")
def test_quick_training_completes_and_appears_in_the_picker(app):
    open_page(app, "train")
    train_briefly(app, epochs=2, iwae_k=5)
    assert any("Finished" in s.value for s in app.success)
    picker = app.sidebar.selectbox(key="model_id")
    assert "My model 1 (MNIST)" in picker.options and picker.value.startswith("session/")
    assert len(app.get("plotly_chart")) == 1  # the loss curves, and the codes on the live plane:
    assert planes(app)["train_plane"]["title"] == "The test images' codes after epoch 2"


def test_bad_training_settings_get_a_clear_message(app):
    open_page(app, "train")
    app.text_input(key="train_hidden").set_value("512,abc").run()
    app.button(key="train_start").click().run()
    assert app.error and app.error[0].value.startswith("Check the settings")
    assert "train_job" not in app.session_state


@pytest.fixture
def app_without_data(monkeypatch, tmp_path):
    """The app on a machine with no dataset anywhere (HOME is a fresh folder, see conftest)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "nothing-here"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    return at


def test_without_data_explore_and_generate_still_work(app_without_data):
    at = app_without_data
    pick(at, index=3, z=[0.1, 0.2])
    at.run()
    assert not at.exception
    assert len(images(at)) == 2 and any("dataset is not on disk" in c.value for c in at.main.caption)
    open_page(at, "generate")
    at.button(key="gen_class_3").click().run()
    assert [i.caption for i in images(at)][0] == "16 new 3s" and len(images(at)) == 3  # class, style row, prior


@pytest.mark.skipif(not has_mnist, reason=f"the download test serves the MNIST files from {MNIST_DIR}")
def test_without_data_train_offers_the_download_with_progress(app_without_data, monkeypatch):
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(MNIST_DIR))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("VAE_DATA_MIRRORS", f"http://127.0.0.1:{server.server_address[1]}/")
    try:
        at = open_page(app_without_data, "train")
        assert "MNIST is not on this machine yet" in at.warning[0].value
        at.button(key="train_download").click().run()
        finish(at.session_state["download_job"])
        at.run()
        assert not at.warning and not at.exception
    finally:
        server.shutdown()


def test_without_data_or_internet_train_says_what_to_do_in_one_sentence(app_without_data, monkeypatch):
    monkeypatch.setenv("VAE_DATA_MIRRORS", "http://127.0.0.1:9/")  # the discard port: nothing answers
    at = open_page(app_without_data, "train")
    assert at.button(key="train_start").disabled  # no start that can only fail
    at.button(key="train_download").click().run()
    job = at.session_state["download_job"]
    deadline = time.time() + 60
    while job.snapshot().running and time.time() < deadline:
        time.sleep(0.1)
    at.run()
    message = at.error[0].value
    assert message.startswith("mnist could not be downloaded: none of its mirrors could be reached")
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        assert name in message
    assert "http" not in message and "Errno" not in message and "/" not in message  # no URL, no server path
    assert not at.exception


class EvaluatingJob:
    """A training job caught in its final evaluation, as the Train page polls it."""

    def snapshot(self) -> JobState:
        return JobState(status="evaluating", message="evaluating on the test set: −log p(x) with K = 20",
                        fraction=0.3)

    def stop(self) -> None:
        pass


def test_the_evaluation_after_training_has_its_own_progress(app):
    app.session_state["train_job"] = EvaluatingJob()
    open_page(app, "train")
    bars = [el.proto for el in app.get("progress")]
    assert [(b.value, b.text) for b in bars] == [(30, "Evaluating on the test set: −log p(x) with K = 20…")]


def test_training_settings_survive_page_switches(app):
    open_page(app, "train")
    app.number_input(key="train_epochs").set_value(17).run()
    app.text_input(key="train_hidden").set_value("128,64").run()
    open_page(app, "explore")
    open_page(app, "train")
    assert app.number_input(key="train_epochs").value == 17
    assert app.text_input(key="train_hidden").value == "128,64"


@pytest.mark.parametrize("page, kind, key, value", [
    ("interpolate", "slider", "interp_steps", 7), ("interpolate", "radio", "interp_method", "slerp"),
    ("generate", "slider", "gen_temperature", 0.5), ("encode", "radio", "enc_source", "Upload"),
    ("compare", "slider", "compare_n", 24), ("toy", "slider", "toy_noise", 0.2),
])
def test_each_page_keeps_its_own_widgets_across_page_switches(app, page, kind, key, value):
    kept = lambda: app.session_state["kept_widgets"] if "kept_widgets" in app.session_state else set()  # noqa: E731
    assert key not in kept()  # a page declares the widgets it keeps when it is shown
    open_page(app, page)
    assert key in kept()
    getattr(app, kind)(key=key).set_value(value).run()
    open_page(app, "explore")
    open_page(app, page)
    assert getattr(app, kind)(key=key).value == value
