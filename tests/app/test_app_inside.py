"""Inside the VAE in AppTest: the page's numbers are vae_core.walk_through's for the same image and
eps, Resample and "16 at once" change what they should, Explore's pin arrives, and the beta family
and the latent sizes are read from their folders (tiny models here)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ui.inside
import vae_core as vc
from helpers.apptest import PRETRAINED, open_page, planes, pick
from helpers.data import ROOT, has_mnist
from vae_core.checkpoint import Checkpoint, Latents
from vae_core.config import VAEConfig
from vae_core.model import build_model

pytestmark = pytest.mark.skipif(not has_mnist, reason="the page walks MNIST test images: ../shared has no MNIST")

NUMBER = r"(-?\d+\.\d+)"


def tiny_checkpoint(latent_dim: int, seed: int, recon: float, kl: float) -> Checkpoint:
    model = build_model(VAEConfig(hidden=(16,), latent_dim=latent_dim), seed=seed)
    images = np.random.default_rng(seed).integers(0, 256, (30, 28, 28), dtype=np.uint8)
    mu, logvar = vc.encode(model, images)
    latents = Latents(mu, logvar, np.arange(30) % 10)
    return Checkpoint.from_model(model.eval(), dataset="mnist", classes=tuple(map(str, range(10))),
                                 metrics={"recon": recon, "kl": kl, "neg_elbo": recon + kl}, latents=latents)


@pytest.fixture
def family(tmp_path, monkeypatch):
    """Three beta models and an 8-D one, as engineer E ships them (pretrained/beta/, pretrained/latent/)."""
    beta_dir, latent_dir = tmp_path / "beta", tmp_path / "latent"
    beta_dir.mkdir(), latent_dir.mkdir()
    for k, (beta, recon, kl) in enumerate([(4, 190.0, 2.0), (0.1, 120.0, 12.0), (1, 150.0, 6.0)]):
        vc.save_checkpoint(tiny_checkpoint(2, k, recon, kl), beta_dir / f"mnist-beta-{beta:g}.safetensors")
    vc.save_checkpoint(tiny_checkpoint(8, 9, 90.0, 20.0), latent_dir / "mnist-8d.safetensors")
    (beta_dir / "notes.txt").write_text("not a model")
    monkeypatch.setattr(ui.inside, "BETA_DIR", beta_dir)
    monkeypatch.setattr(ui.inside, "LATENT_DIR", latent_dir)


def markdown(at, start: str) -> str:
    (text,) = [m.value for m in at.markdown if m.value.startswith(start)]
    return text


def page_numbers(at) -> dict[str, np.ndarray | float]:
    """The numbers the page shows, read from its text."""
    encoder = re.findall(rf"\| z. \| {NUMBER} \| {NUMBER} \| {NUMBER} \|", markdown(at, "| coordinate"))
    eps = re.match(rf"ε = \({NUMBER}, {NUMBER}\)", markdown(at, "ε = ")).groups()
    z = re.findall(rf"= \*\*{NUMBER}\*\*", markdown(at, "- z₁"))
    loss = markdown(at, "| term")
    kl_terms = re.findall(rf"\| KL, coordinate \d[^|]*\| {NUMBER} \|", loss)
    one = lambda pattern: float(re.search(pattern, loss).group(1))  # noqa: E731
    return {"mu": np.array([float(r[0]) for r in encoder]), "logvar": np.array([float(r[1]) for r in encoder]),
            "sigma": np.array([float(r[2]) for r in encoder]), "eps": np.array(eps, float),
            "z": np.array(z, float), "kl_terms": np.array(kl_terms, float),
            "recon": one(rf"784 pixels \| {NUMBER}"), "kl": one(rf"sum over coordinates \| {NUMBER}"),
            "neg_elbo": one(rf"reconstruction \+ KL\*\* \| \*\*{NUMBER}")}


def assert_page_shows(at, walk) -> None:
    shown = page_numbers(at)
    for name in ("mu", "logvar", "sigma", "eps", "z", "kl_terms"):
        np.testing.assert_allclose(shown[name], getattr(walk, name), atol=0.0006, err_msg=name)
    for name in ("recon", "kl", "neg_elbo"):
        assert shown[name] == pytest.approx(getattr(walk, name), abs=0.0006), name
    assert abs(shown["recon"] + shown["kl"] - shown["neg_elbo"]) < 0.01


def test_the_numbers_are_vae_cores_and_resample_changes_eps_z_and_the_decode(app, family):
    at = open_page(app, "inside")
    at.number_input(key="inside_index").set_value(42).run()
    at.number_input(key="inside_seed").set_value(5).run()
    ckpt = vc.load_checkpoint(ROOT / PRETRAINED)
    image = vc.load_dataset("mnist", "test", download=False).images[42]
    walk = vc.walk_through(ckpt.model, image, vc.standard_normal(2, seed=5))
    assert_page_shows(at, walk)
    plane = planes(at)["inside_plane"]
    assert plane["mode"] == "inside" and plane["cloud"] == []
    np.testing.assert_allclose(plane["mu"], walk.mu, atol=1e-5)
    np.testing.assert_allclose(plane["z"], walk.z, atol=1e-5)

    [resample] = [b for b in at.button if b.label == "Resample ε"]
    resample.click().run()
    assert at.session_state["inside_seed"] == 6
    again = vc.walk_through(ckpt.model, image, vc.standard_normal(2, seed=6))
    assert_page_shows(at, again)
    assert not np.array_equal(again.eps, walk.eps) and not np.array_equal(again.z, walk.z)
    np.testing.assert_allclose(planes(at)["inside_plane"]["z"], again.z, atol=1e-5)


def test_sixteen_at_once_draws_the_cloud_whose_first_sample_is_z(app, family):
    at = open_page(app, "inside")
    at.toggle(key="inside_cloud").set_value(True).run()
    plane = planes(at)["inside_plane"]
    assert len(plane["cloud"]) == 16
    np.testing.assert_allclose(plane["cloud"][0], plane["z"], atol=1e-5)
    captions = [el.proto.imgs[0].caption for el in at.get("image")]
    assert any(c.startswith("The decodes of the 16 samples of z") for c in captions)


def test_explores_pin_is_the_image_walked(app, family):
    pick(app, index=1234, z=[0.0, 0.0])
    at = open_page(app, "inside")
    assert at.number_input(key="inside_index").value == 1234
    assert any(el.proto.imgs[0].caption.startswith("Test image 1234 ") for el in at.get("image"))


def test_the_beta_family_and_the_latent_sizes(app, family):
    at = open_page(app, "inside")
    beta = planes(at)["inside_beta"]
    assert beta["mode"] == "beta"
    assert [m["beta"] for m in beta["models"]] == [0.1, 1.0, 4.0]  # sorted; the notes file left out
    assert [(m["recon"], m["kl"]) for m in beta["models"]] == [(120.0, 12.0), (150.0, 6.0), (190.0, 2.0)]
    assert beta["start"] == 1 and beta["model"] == beta["models"][1]["model"]
    assert len({m["model"]["decoder"] for m in beta["models"]}) == 3  # three decoders, each its own file
    captions = [el.proto.imgs[0].caption for el in at.get("image")]
    sizes = [c for c in captions if "-D code" in c]
    assert sizes == ["2-D code: reconstructed from μ · −ELBO 156.0 nats on the test set",
                     "8-D code: reconstructed from μ · −ELBO 110.0 nats on the test set"]
    assert any("Only the 2-D model can be explored on a plane" in m.value for m in at.markdown)


def test_without_the_family_the_page_says_so(app, tmp_path, monkeypatch):
    monkeypatch.setattr(ui.inside, "BETA_DIR", tmp_path / "none")
    monkeypatch.setattr(ui.inside, "LATENT_DIR", tmp_path / "none")
    at = open_page(app, "inside")
    assert "inside_beta" not in planes(at)
    infos = [i.value for i in at.info]
    assert "The β family of MNIST models (pretrained/beta/) is not in this copy of the app." in infos


def test_before_a_drawing_the_page_asks_for_one_and_still_shows_beta(app, family):
    at = open_page(app, "inside")
    at.radio(key="inside_source").set_value("Draw one").run()
    assert not at.exception
    assert "Draw a digit on the black square." in [i.value for i in at.info]
    assert set(planes(at)) == {"inside_beta"}


def test_the_heat_map_shows_each_pixels_error_upright_from_black():
    bce = np.zeros((28, 28))
    bce[0, 3] = 2.5  # the top row
    trace = ui.inside.loss_heatmap(bce).data[0]
    assert np.asarray(trace.z)[27, 3] == 2.5 and np.asarray(trace.z).sum() == 2.5  # heat maps draw row 0 at the bottom
    assert trace.colorscale[0] == (0.0, "rgb(0, 0, 4)") and trace.zmin == 0
