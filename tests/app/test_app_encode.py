"""AppTest coverage of the "Your digit" page (the Anomalies page: test_app_anomaly.py): uploads
(including every image case of issue 6), the scatter marks, the typicality readout."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui.state
import vae_core as vc
from vae_core.checkpoint import checkpoint_bytes
from vae_core.classifier import classify, load_classifier

from helpers.hostile_images import CASES, PLAIN
from helpers.apptest import figure, images, open_page, planes
from helpers.data import ROOT, has_mnist



def your_digit(at: AppTest) -> tuple[float, float] | None:
    """Where the Your digit plane marks the digit (its one cross), or None when it marks none."""
    marks = planes(at)["enc_plane"]["marks"]
    assert len(marks) <= 1
    return tuple(marks[0]) if marks else None


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    if at.radio(key="enc_source").value != "Upload":
        at.radio(key="enc_source").set_value("Upload").run()
    mime = "image/gif" if name.endswith(".gif") else "image/jpeg" if name.endswith(".jpg") else "image/png"
    at.file_uploader(key="enc_upload").set_value((name, data, mime)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- Your digit -----------------------------------------------------------------------------------

def test_your_digit_starts_with_the_canvas_and_an_empty_scatter(app):
    open_page(app, "encode")
    assert app.title[0].value == "Encode your own digit"
    assert app.radio(key="enc_source").value == "Draw"
    assert app.info[0].value.startswith("Draw a digit on the black square")
    assert your_digit(app) is None and "enc_closeup" not in planes(app)
    assert not images(app)


def test_an_uploaded_digit_lands_on_the_scatter_with_its_reconstruction(app):
    open_page(app, "encode")
    upload(app, "seven.png", PLAIN)
    ckpt = vc.load_checkpoint(ROOT / "pretrained" / "mnist.safetensors")
    result = vc.encode_image(ckpt.model, PLAIN, ckpt.latents.z_mean)
    assert your_digit(app) == pytest.approx(tuple(result.mu[:2]), abs=1e-4)
    captions = [i.caption for i in images(app)]
    assert captions[:2] == ["Input (28×28)", "Its reconstruction"]
    del captions[2:12]  # the drawing's style as every digit (its own test below)
    assert any(f"**seven.png** is encoded at z_mean = ({result.mu[0]:.2f}, {result.mu[1]:.2f})" in c.value
               for c in app.caption)
    # the close-up: the drawing's code with its own sigma, crosses on the nearest test codes
    closeup = planes(app)["enc_closeup"]
    assert closeup["mode"] == "closeup" and closeup["pin"]["index"] is None
    assert np.allclose(closeup["pin"]["z"], result.mu[:2], rtol=1e-5, atol=1e-6)
    assert np.allclose(closeup["pin"]["sigma"], result.sigma[:2], rtol=1e-5, atol=1e-6)
    assert np.allclose(closeup["marks"], ckpt.latents.z_mean[result.nearest, :2], rtol=1e-5, atol=1e-6)
    assert closeup["model"] == planes(app)["enc_plane"]["model"]  # the plane's own points: fetched once
    assert closeup["caption"] == ("Close-up: your digit (ring) with the 1σ and 2σ ellipses of q(z|x); crosses mark "
                                  "its nearest test images.")
    assert not [c for c in app.get("plotly_chart") if "enc_zoom" in c.proto.id]
    if has_mnist:
        names = ", ".join(f"#{i} ({ckpt.classes[ckpt.latents.labels[i]]})" for i in result.nearest)
        assert captions[2] == f"Nearest first: {names}" and len(captions) == 3
        assert app.metric[1].label == "Percentile" and 0 <= float(app.metric[1].value) <= 100
        assert app.success[0].value in ("Typical: like most of the test set.",
                                        "Very typical: more typical than 90 % of the test set.")
        hist = figure(app, "enc_histogram")
        assert any(s["x0"] == pytest.approx(float(app.metric[0].value.split()[0]), abs=0.06)
                   for s in hist["layout"]["shapes"])


def pixels(url: str) -> np.ndarray:
    """A pixel image's data URI -> its uint8 grey levels."""
    return np.array(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("L"))


@pytest.mark.parametrize("dataset, noun, heading", [("mnist", "digit", "Your handwriting in every digit"),
                                                     ("fashion-mnist", "article", "Your style in every article")])
def test_an_upload_is_drawn_in_its_style_as_every_class(app, dataset, noun, heading):
    """The row's ten images are vae_core's, each captioned with its class (Fashion-MNIST's articles
    by name), the class the judge reads marked and said."""
    model_id = f"pretrained/{dataset}.safetensors"
    maker = vc.load_checkpoint(ROOT / "pretrained" / "conditional" / f"{dataset}.safetensors")
    judge, meta = load_classifier(ROOT / "pretrained" / "classifier" / f"{dataset}.safetensors")
    app.sidebar.selectbox(key="model_id").set_value(model_id).run()
    open_page(app, "encode")
    upload(app, "seven.png", PLAIN)
    drawing = pixels(images(app)[0].url)  # what the model sees
    label = int(classify(judge, drawing[None])[0])
    expected = vc.handwriting_in_every_class(maker, drawing, label)
    row = images(app)[2:12]
    assert [i.caption for i in row] == [f"{name} (yours)" if k == label else name
                                        for k, name in enumerate(maker.classes)]
    for k, image in enumerate(row):
        assert np.array_equal(pixels(image.url), expected[k]), k
    assert heading in [h.value for h in app.subheader]
    caption = next(c.value for c in app.caption if c.value.startswith(f"Your style as every {noun}: "))
    assert (f"right {100 * meta['test_accuracy']:.1f} % of the time on the test set, reads your drawing as "
            f"**{maker.classes[label]}**") in caption
    if dataset == "mnist":
        assert label == 7  # the reference seven is read as one


def test_no_style_row_before_a_drawing_or_for_a_bad_file(app):
    open_page(app, "encode")
    assert not [h for h in app.subheader if h.value.startswith("Your ")]
    upload(app, "notes.png", b"not an image")
    assert app.error and not [h for h in app.subheader if h.value.startswith("Your ")]


def test_a_broken_judge_is_one_sentence_and_no_row(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    for name in ("mnist.safetensors", "conditional/mnist.safetensors"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).symlink_to(ROOT / "pretrained" / name)
    (tmp_path / "classifier").mkdir()
    (tmp_path / "classifier" / "mnist.safetensors").write_bytes(b"\x00" * 40)
    monkeypatch.setattr(ui.state, "PRETRAINED_DIR", tmp_path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    open_page(at, "encode")
    upload(at, "seven.png", PLAIN)
    assert [e.value for e in at.error] == ["The pretrained classifier could not be loaded: mnist.safetensors: not a "
                                           "safetensors file"]
    assert not [h for h in at.subheader if h.value.startswith("Your ")]
    assert your_digit(at) is not None  # the rest of the page works


@pytest.mark.parametrize("case", list(CASES))
def test_issue_6_images_get_one_sentence_or_work(app, case):
    open_page(app, "encode")
    name, data, error = CASES[case]
    upload(app, name, data)
    if error:
        assert len(app.error) == 1
        message = app.error[0].value
        assert message.startswith(f"{name}: ") and error in message and "\n" not in message
        assert your_digit(app) is None
        assert app.title[0].value == "Encode your own digit"  # the page keeps running
    else:
        assert not app.error
        mark = your_digit(app)
        reference = your_digit(upload(app, "seven.png", PLAIN))
        assert np.hypot(mark[0] - reference[0], mark[1] - reference[1]) < 0.25


def test_after_an_error_a_good_upload_works_again(app):
    open_page(app, "encode")
    upload(app, "notes.png", b"not an image")
    assert app.error
    upload(app, "seven.png", PLAIN)
    assert not app.error and your_digit(app) is not None


def test_without_the_dataset_typicality_explains_where_to_get_it(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)  # HOME is a fresh folder: no data anywhere
    # A pretrained model of an older kind: latents but no per-image scores.
    ckpt = vc.load_checkpoint(ROOT / "pretrained" / "mnist.safetensors")
    ckpt.latents.neg_elbo = ckpt.latents.recon_error = None
    vc.save_checkpoint(ckpt, tmp_path / "mnist.safetensors")
    monkeypatch.setattr(ui.state, "PRETRAINED_DIR", tmp_path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    open_page(at, "encode")
    upload(at, "seven.png", PLAIN)
    message = at.info[0].value
    assert "does not carry per-image test scores" in message and "not on disk" in message
    assert "python -m vae_core download --dataset mnist" in message
    assert "Their pictures need the test set on disk" in " ".join(c.value for c in at.caption)
    assert your_digit(at) is not None  # the latents still place it
    assert not [h for h in at.subheader if h.value.startswith("Your ")]  # no conditional VAE ships here
    open_page(at, "anomaly")
    assert "does not carry per-image test scores" in at.warning[0].value


def test_a_checkpoint_carrying_scores_needs_no_dataset(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    ckpt = vc.load_checkpoint(ROOT / "pretrained" / "mnist.safetensors")
    rng = np.random.default_rng(0)
    ckpt.latents.neg_elbo = rng.gamma(20, 7, 10_000).astype(np.float32)
    ckpt.latents.recon_error = (ckpt.latents.neg_elbo - 5).astype(np.float32)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.sidebar.file_uploader(key="upload").set_value(("scored.safetensors", checkpoint_bytes(ckpt),
                                                      "application/octet-stream")).run()
    at.run()
    assert at.sidebar.selectbox(key="model_id").value.startswith("session/")
    open_page(at, "encode")
    upload(at, "seven.png", PLAIN)
    assert at.metric[1].label == "Percentile"
    open_page(at, "anomaly")
    assert not at.warning
    worst = int(np.argmax(ckpt.latents.neg_elbo))
    assert images(at)[0].caption.startswith(f"#{worst} · ")
    assert "decodes of their codes" in " ".join(c.value for c in at.caption)
