import numpy as np
import pytest
import torch
import torch.nn.functional as F

import vae_core as vc
from vae_core.config import VAEConfig
from vae_core.errors import ConfigError
from vae_core.model import build_model, to_input, vae_loss


def _image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


def test_the_two_terms_add_up_to_the_negative_elbo_and_match_vae_loss(tiny_model):
    image, eps = _image(), vc.standard_normal(2, seed=7)
    walk = vc.walk_through(tiny_model, image, eps)
    assert abs(walk.recon + walk.kl - walk.neg_elbo) < 0.01

    x = to_input(torch.from_numpy(image)[None])
    mu, logvar = tiny_model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * torch.as_tensor(eps, dtype=torch.float32)
    logits = tiny_model.decode(z)
    terms = vae_loss(logits, x, mu, logvar)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum").item()  # computed apart from vae_core
    assert walk.recon == pytest.approx(recon, abs=0.01)
    assert walk.recon == pytest.approx(terms.recon.item(), abs=0.01)
    assert walk.kl == pytest.approx(terms.kl.item(), abs=0.01)
    assert walk.neg_elbo == pytest.approx(terms.loss.item(), abs=0.01)
    assert walk.bce_map.shape == (28, 28) and walk.bce_map.sum() == pytest.approx(walk.recon)
    assert (walk.bce_map >= 0).all()


def test_each_step_follows_its_formula(tiny_model):
    eps = vc.standard_normal(2, seed=3)
    walk = vc.walk_through(tiny_model, _image(1), eps)
    np.testing.assert_allclose(walk.sigma, np.exp(0.5 * walk.logvar))
    np.testing.assert_allclose(walk.z, walk.mu + walk.sigma * eps)
    np.testing.assert_allclose(walk.kl_terms, 0.5 * (walk.mu ** 2 + walk.sigma ** 2 - 1 - walk.logvar))
    assert walk.kl == pytest.approx(walk.kl_terms.sum())
    # the decode is the library's own decode of that z
    np.testing.assert_array_equal(walk.pixels, vc.decode(tiny_model, walk.z[None])[0])
    mu, logvar = vc.encode(tiny_model, _image(1)[None])
    np.testing.assert_allclose(walk.mu, mu[0], rtol=1e-6)
    np.testing.assert_allclose(walk.logvar, logvar[0], rtol=1e-6)


def test_eps_comes_from_its_seed_alone():
    np.testing.assert_array_equal(vc.standard_normal(2, seed=5), vc.standard_normal(2, seed=5))
    assert not np.array_equal(vc.standard_normal(2, seed=5), vc.standard_normal(2, seed=6))
    assert vc.standard_normal(3, seed=0, n=16).shape == (16, 3)


def test_eps_changes_z_and_the_decode_but_not_the_encoder(tiny_model):
    a = vc.walk_through(tiny_model, _image(), vc.standard_normal(2, seed=0))
    b = vc.walk_through(tiny_model, _image(), vc.standard_normal(2, seed=1))
    np.testing.assert_array_equal(a.mu, b.mu)
    assert a.kl == b.kl
    assert not np.array_equal(a.z, b.z) and not np.array_equal(a.logits, b.logits)


def test_bad_eps_and_autoencoders_get_one_sentence(tiny_model):
    with pytest.raises(ConfigError, match="^eps must have 2 coordinates, got 3$"):
        vc.walk_through(tiny_model, _image(), [0.0, 1.0, 2.0])
    ae = build_model(VAEConfig(hidden=(16,), variational=False), seed=0)
    with pytest.raises(ConfigError, match="^an autoencoder has no mu and sigma to walk through: pick a VAE$"):
        vc.walk_through(ae, _image(), [0.0, 0.0])


def test_a_conditional_model_walks_with_its_class():
    model = build_model(VAEConfig(hidden=(16,), num_classes=10), seed=0)
    walk = vc.walk_through(model, _image(), [0.5, -0.5], label=3)
    np.testing.assert_array_equal(walk.pixels, vc.decode(model, walk.z[None], labels=[3])[0])
