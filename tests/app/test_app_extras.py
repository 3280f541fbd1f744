"""AppTest coverage of the AE vs VAE and Toy world pages, the β choice on the Train page, and
class names (not digit indices) on every page when the Fashion-MNIST model is selected."""

import base64
import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import vae_core as vc
from vae_core.compare import random_latents
from vae_core.toy import make_toy
from helpers.data import FASHION_DIR, ROOT, SHARED_DATA, needs_mnist
from helpers.apptest import images, image_urls, open_page, planes, show, train_briefly

MNIST_ID, FASHION_ID = "pretrained/mnist.safetensors", "pretrained/fashion-mnist.safetensors"
FASHION_NAMES = list(vc.DATASETS["fashion-mnist"].classes)
has_fashion = (FASHION_DIR / "train-images-idx3-ubyte.gz").exists()


@pytest.fixture
def app(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("VAE_DATA_DIR", str(SHARED_DATA))  # both datasets, in their <dataset>/ folders
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def select_model(at: AppTest, model_id: str) -> None:
    at.sidebar.selectbox(key="model_id").set_value(model_id).run()
    assert not at.exception, [e.value for e in at.exception]


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def trace(figure: dict, name: str) -> dict:
    return next(t for t in figure["data"] if t.get("name") == name)


def values(array) -> list[float]:
    """A Plotly array from a figure's JSON: a list, or base64 "bdata" with its dtype."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), np.dtype(array["dtype"])).tolist()
    return list(array)


def xs(figure: dict, name: str) -> list[float]:
    return values(trace(figure, name)["x"])


def legend_names(figure: dict) -> list[str]:
    return [t["name"] for t in figure["data"] if t.get("showlegend", True) and t.get("name")
            and t["name"] not in ("location", "random points")]


# --- AE vs VAE ---

def test_compare_shows_both_spaces_and_decodes_of_the_same_points(app):
    open_page(app, "compare")
    assert app.title[0].value == "Autoencoder vs VAE"
    assert [s.value for s in app.subheader] == ["Autoencoder", "VAE"]
    captions = [c.value.replace("\\", "") for c in app.main.caption]  # markdown escapes off
    assert any(c.startswith("MNIST autoencoder (pretrained)  \ntest reconstruction") for c in captions)
    assert any(c.startswith("MNIST (pretrained)  \ntest reconstruction") for c in captions)
    shown_planes = planes(app)
    assert set(shown_planes) == {"compare_plane_ae", "compare_plane_vae"} and not app.get("plotly_chart")
    ae, vae = shown_planes["compare_plane_ae"], shown_planes["compare_plane_vae"]
    assert ae["mode"] == vae["mode"] == "compare"
    assert ae["model"]["id"] == "pretrained/autoencoder/mnist-ae.safetensors" and vae["model"]["id"] == MNIST_ID
    drawn = random_latents(16, 2, seed=0, source="prior")
    assert ae["marks"] == vae["marks"]  # the same N(0, I) draws on both planes
    assert np.allclose(vae["marks"], drawn, atol=1e-4) and len(vae["marks"]) == 16
    assert ae["model"]["classes"] == vae["model"]["classes"] == [str(d) for d in range(10)]
    # each plane over its own extent: the autoencoder's codes spread much farther
    assert ae["model"]["extent"] > 3 * vae["model"]["extent"]
    shown = images(app)
    assert len(shown) == 2 and shown[0].url != shown[1].url
    assert shown[0].caption.startswith("Decodes of the 16 random points")
    stats = [m.value for m in app.markdown if "land far from every test code" in m.value]
    assert len(stats) == 2 and all("equally common classes" in s for s in stats)


def test_compare_controls_change_the_points(app):
    open_page(app, "compare")
    before = image_urls(app)
    app.button[0].click().run()  # "New points"
    assert app.number_input(key="compare_seed").value == 1 and image_urls(app)[0] != before[0]
    marks = lambda: [planes(app)[f"compare_plane_{side}"]["marks"] for side in ("ae", "vae")]  # noqa: E731
    assert marks()[0] == np.round(random_latents(16, 2, seed=1, source="prior"), 4).tolist()
    app.radio(key="compare_source").set_value("uniform").run()
    extents = [planes(app)[f"compare_plane_{side}"]["model"]["extent"] for side in ("ae", "vae")]
    for side_marks, extent in zip(marks(), extents):  # same relative places, each over its model's extent
        expected = random_latents(16, 2, seed=1, source="uniform", extent=extent)
        assert np.allclose(side_marks, expected, atol=1e-4)
        assert np.abs(side_marks).max() <= extent
    assert marks()[0] != marks()[1]
    app.slider(key="compare_n").set_value(32).run()
    assert [len(m) for m in marks()] == [32, 32]
    app.toggle(key="compare_same_scale").set_value(True).run()
    ae, vae = planes(app)["compare_plane_ae"], planes(app)["compare_plane_vae"]
    assert ae["model"]["extent"] == vae["model"]["extent"] == max(extents)


def holes(app) -> list[int]:
    """The share of random points in holes each side's sentence states (autoencoder, VAE), in %."""
    return [int(re.search(r"\*\*(\d+) %\*\* land far", m.value).group(1)) for m in app.markdown
            if "land far from every test code" in m.value]


def test_the_page_says_what_its_figures_show_about_holes(app):
    """The text once claimed the VAE "stays smooth even at the edges" while its own figures showed
    45 % of uniform points far from every code: it now says a VAE is smooth where its prior lives."""
    open_page(app, "compare")
    prior_ae, prior_vae = holes(app)
    app.radio(key="compare_source").set_value("uniform").run()
    uniform_ae, uniform_vae = holes(app)
    assert prior_vae <= 5 and uniform_vae >= 20  # few holes under N(0, I), many at the square's corners
    text = " ".join(m.value for m in app.markdown)
    assert "smooth even at the edges" not in text
    assert "A VAE is smooth where its prior lives, not everywhere" in text
    assert "Uniform points cover each whole square, corners included" in text
    # under each plot, what N(0, I)'s draws reach of the shipped models' codes
    reach = [m.value for m in app.markdown if m.value.startswith("The disk of radius 3")]
    assert reach == ["The disk of radius 3 around the origin, where 99 % of N(0, I)'s draws fall, holds **59 %** of "
                     "these test codes, but under 10 % of those of the classes 0 and 1: draws from N(0, I) hardly "
                     "ever decode to them.",
                     "The disk of radius 3 around the origin, where 99 % of N(0, I)'s draws fall, holds **96 %** of "
                     "these test codes, and at least 82 % of every class's."]


def test_compare_with_an_autoencoder_selected_puts_it_on_its_side(app):
    from ui.state import ModelEntry

    ckpt = vc.load_checkpoint(ROOT / "pretrained" / "autoencoder" / "mnist-ae.safetensors")
    entry = ModelEntry("session/my-ae", "my-ae.safetensors (uploaded)", "uploaded", ckpt)
    app.session_state["user_models"] = {entry.id: entry}
    show(app, entry.id)
    open_page(app, "compare")
    captions = [c.value.replace("\\", "") for c in app.main.caption]  # markdown escapes off
    assert any(c.startswith("my-ae.safetensors (uploaded)") for c in captions)
    assert any(c.startswith("MNIST (pretrained)") for c in captions)
    assert "plain autoencoder" in app.sidebar.caption[0].value  # the model card says what it is
    open_page(app, "explore")  # every page copes with an autoencoder: a code with no spread
    open_page(app, "generate")
    assert len(images(app)) == 1


# --- Toy world ---

def test_toy_world_trains_and_shows_data_codes_and_generated_points(app):
    open_page(app, "toy")
    assert app.title[0].value == "Toy world" and len(app.get("plotly_chart")) == 1
    assert app.info and "Press **Train**" in app.info[0].value
    app.select_slider(key="toy_n").set_value(500).run()
    app.select_slider(key="toy_steps").set_value(250).run()
    assert not planes(app)
    app.button(key="toy_train").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.success and app.success[0].value.startswith("Trained 250 steps in")
    plane = planes(app)["toy_plane"]  # the data and their codes, side by side in one element
    assert plane["mode"] == "toy" and plane["model"]["decoder"]  # the browser decodes the z under the cursor
    assert plane["model"]["classes"] == plane["toy"]["names"] == ["moon 1", "moon 2"]
    assert plane["toy"]["titles"] == ["Data x", "Latent codes z = μ(x)"]
    data = make_toy("moons", 500, 0.1, 0)
    assert np.allclose(np.reshape(plane["toy"]["data"]["z"], (-1, 2)), data.x, atol=1e-4)
    assert plane["toy"]["data"]["labels"] == plane["points"]["labels"] == data.component.tolist()
    codes = np.reshape(plane["points"]["z"], (-1, 2))
    assert codes.shape == (500, 2) and not np.allclose(codes, data.x, atol=0.05)  # codes, not the data again
    generated_fig, = figures(app)
    assert len(xs(generated_fig, "generated")) == len(xs(generated_fig, "data")) == 500
    samples = xs(generated_fig, "generated")
    app.toggle(key="toy_means").set_value(True).run()  # the decoder's means instead of samples
    assert xs(figures(app)[0], "generated") != samples
    assert any("decoder mean" in m.value for m in app.markdown)
    app.radio(key="toy_colour").set_value("angle").run()
    plane = planes(app)["toy_plane"]
    assert len(plane["model"]["classes"]) == len(plane["model"]["colors"]) == 12  # the angle's 12 bins
    assert plane["model"]["classes"][0] == "-180°…-150°" and plane["toy"]["key"].endswith("|angle")
    assert np.allclose(np.reshape(plane["points"]["z"], (-1, 2)), codes)  # the same model, other colours
    app.slider(key="toy_noise").set_value(0.2).run()  # other data: the model shown was trained on the old
    assert len(app.get("plotly_chart")) == 1 and not planes(app) and app.info and not app.success


def test_toy_world_names_each_datasets_components(app):
    open_page(app, "toy")
    app.selectbox(key="toy_dataset").set_value("ring").run()
    assert legend_names(figures(app)[0]) == [f"Gaussian {i}" for i in range(1, 9)]
    app.selectbox(key="toy_dataset").set_value("pinwheel").run()
    assert legend_names(figures(app)[0]) == [f"arm {i}" for i in range(1, 6)]


# --- β on the Train page ---

@needs_mnist
def test_train_page_offers_beta_0_1_4_and_uses_the_choice(app):
    open_page(app, "train")
    beta = app.select_slider(key="train_beta")
    assert {"0", "1", "4"} <= set(beta.options) and beta.value == 1.0
    assert any("trades reconstruction" in c.value for c in app.main.caption)
    beta.set_value(4.0).run()
    train_briefly(app, epochs=1, iwae_k=2)
    assert app.session_state["train_job"].train_config.beta == 4.0


# --- Fashion-MNIST: class names everywhere ---

needs_fashion = pytest.mark.skipif(not (ROOT / FASHION_ID).exists(), reason="the Fashion-MNIST model is missing")


@needs_fashion
def test_fashion_explore_names_classes(app):
    select_model(app, FASHION_ID)
    plane = planes(app)["explore_plane"]
    assert plane["model"]["id"] == FASHION_ID and plane["model"]["classes"] == FASHION_NAMES
    assert plane["manifold_label"] == "Show decoded images behind the points"
    show(app, FASHION_ID, {"index": 0, "z": [0.0, 0.0]})
    app.run()
    assert app.subheader[0].value == f"Test image #0 · class {FASHION_NAMES[9]}"  # the first test image: a boot
    show(app, FASHION_ID, {"index": None, "z": [1.0, 0.0]})
    app.run()
    assert app.subheader[0].value == "Location (1.00, 0.00)"
    assert any(f"(class {name})." in c.value for c in app.main.caption for name in FASHION_NAMES)


@needs_fashion
def test_fashion_interpolate_names_classes(app):
    select_model(app, FASHION_ID)
    open_page(app, "interpolate")
    start, end = app.markdown[0].value.split(" · ")
    assert start.endswith("(Trouser)") and end.endswith("(Sneaker)")  # the default walk: class 1 to class 7
    app.radio(key="interp_mode").set_value("By class and example").run()
    box = app.selectbox(key="interp_class_a")
    assert box.options == FASHION_NAMES
    box.set_value(8).run()
    assert app.markdown[0].value.split(" · ")[0].endswith("(Bag)")
    plane = planes(app)["interp_plane"]  # the plane the path is drawn on
    assert plane["model"]["id"] == FASHION_ID and plane["model"]["classes"] == FASHION_NAMES
    latents = vc.load_checkpoint(ROOT / FASHION_ID).latents
    assert latents.labels[plane["endpoints"]["a"]["index"]] == 8  # A is a bag


@needs_fashion
def test_fashion_generate_names_classes(app):
    select_model(app, FASHION_ID)
    open_page(app, "generate")
    assert app.subheader[0].value == "Make an item"
    labels = [b.label for b in app.button if b.key and b.key.startswith("gen_class_")]
    assert labels == FASHION_NAMES
    app.button(key="gen_class_0").click().run()
    assert images(app)[0].caption == "16 new T-shirt/top images"


@needs_fashion
def test_fashion_compare_names_classes(app):
    select_model(app, FASHION_ID)
    open_page(app, "compare")
    captions = [c.value.replace("\\", "") for c in app.main.caption]  # markdown escapes off
    assert any(c.startswith("Fashion-MNIST autoencoder (pretrained)") for c in captions)
    shown = planes(app)  # both planes name the classes in their legend chips
    assert set(shown) == {"compare_plane_ae", "compare_plane_vae"}
    assert all(plane["model"]["classes"] == FASHION_NAMES for plane in shown.values())


@pytest.mark.skipif(not has_fashion, reason=f"training needs the Fashion-MNIST files in {FASHION_DIR}")
def test_fashion_training_names_classes(app):
    open_page(app, "train")
    box = app.selectbox(key="train_dataset")
    assert box.options == ["MNIST", "Fashion-MNIST"]
    box.set_value("fashion-mnist").run()
    train_briefly(app, epochs=1, iwae_k=2)
    assert any("Finished" in s.value for s in app.success)
    assert app.sidebar.selectbox(key="model_id").value.startswith("session/")
    assert "My model 1 (Fashion-MNIST)" in app.sidebar.selectbox(key="model_id").options
    assert planes(app)["train_plane"]["model"]["classes"] == FASHION_NAMES  # the live plane's chips
