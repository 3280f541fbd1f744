import math

import pytest
import torch
import torch.nn.functional as F

from vae_core.errors import ConfigError
from vae_core.config import parse_layer_sizes
from vae_core.model import (VAE, VAEConfig, build_model, kl_divergence, reconstruction_nll,
                            reparameterize, to_input, vae_loss)


@pytest.mark.parametrize("config", [
    VAEConfig(),
    VAEConfig(hidden=(64,), activation="relu", latent_dim=3),
    VAEConfig(arch="conv", hidden=(8, 16, 32)),
    VAEConfig(hidden=(32, 16), dropout=0.2, activation="silu"),
])
def test_shapes_of_encoder_and_decoder(config):
    model = build_model(config, seed=0)
    x = torch.rand(5, 784)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, config.latent_dim)
    logits, mu2, logvar2 = model(x, torch.Generator().manual_seed(0))
    assert logits.shape == (5, 784)
    assert torch.equal(mu, mu2) != bool(config.dropout)  # a fresh model is in training mode: dropout is on
    assert model.decode(torch.zeros(3, config.latent_dim)).shape == (3, 784)


def test_dropout_is_on_every_hidden_layer_in_training_and_off_in_eval():
    model = build_model(VAEConfig(hidden=(32, 16), dropout=0.5), seed=0)
    dropouts = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    assert len(dropouts) == 4 and all(m.p == 0.5 for m in dropouts)  # 2 encoder + 2 decoder hidden layers
    x = torch.rand(8, 784)
    torch.manual_seed(0)
    assert not torch.equal(model.encode(x)[0], model.encode(x)[0])
    model.eval()
    assert torch.equal(model.encode(x)[0], model.encode(x)[0])
    plain = build_model(VAEConfig(hidden=(32, 16)), seed=0)
    assert not any(isinstance(m, torch.nn.Dropout) for m in plain.modules())
    assert torch.equal(model.encode(x)[0], plain.encode(x)[0])  # same weights; in eval dropout is the identity


def test_default_config_is_the_documented_mlp():
    model = VAE()
    assert model.config.latent_dim == 2 and model.config.arch == "mlp"
    sizes = [m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert sizes == [512, 256, 4, 256, 512, 784]


def test_build_model_depends_only_on_seed_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = build_model(VAEConfig(hidden=(16,)), seed=7), build_model(VAEConfig(hidden=(16,)), seed=7)
    assert torch.rand(1) == before  # building models did not consume the global generator
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    c = build_model(VAEConfig(hidden=(16,)), seed=8)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def test_loss_is_bce_summed_over_pixels_plus_beta_times_analytic_kl():
    x = torch.rand(4, 784)
    logits = torch.randn(4, 784)
    mu, logvar = torch.randn(4, 2), torch.randn(4, 2)
    terms = vae_loss(logits, x, mu, logvar, beta=0.5)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 4
    kl = sum(0.5 * (m ** 2 + math.exp(lv) - 1 - lv) for m, lv in zip(mu.flatten().tolist(), logvar.flatten().tolist())) / 4
    assert terms.recon.item() == pytest.approx(recon.item(), rel=1e-5)
    assert terms.kl.item() == pytest.approx(kl, rel=1e-5)
    assert terms.loss.item() == pytest.approx(recon.item() + 0.5 * kl, rel=1e-5)


def test_analytic_kl_matches_monte_carlo():
    mu, logvar = torch.tensor([[0.7, -1.2]]), torch.tensor([[-0.5, 0.3]])
    gen = torch.Generator().manual_seed(0)
    z = reparameterize(mu.expand(200_000, 2), logvar.expand(200_000, 2), gen)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(0.0, 1.0)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean()
    assert kl_divergence(mu, logvar).item() == pytest.approx(mc.item(), abs=0.02)
    assert kl_divergence(torch.zeros(1, 2), torch.zeros(1, 2)).item() == 0.0


def test_reparameterization_passes_gradients_to_mu_and_logvar():
    mu = torch.zeros(3, 2, requires_grad=True)
    logvar = torch.zeros(3, 2, requires_grad=True)
    reparameterize(mu, logvar, torch.Generator().manual_seed(1)).sum().backward()
    assert torch.all(mu.grad == 1.0)
    assert logvar.grad.abs().sum() > 0


def test_perfect_reconstruction_of_binary_pixels_costs_almost_nothing():
    x = (torch.rand(2, 784) > 0.5).float()
    assert reconstruction_nll((x * 2 - 1) * 30, x).max().item() < 1e-9 * 784 + 1e-6


def test_to_input_scales_uint8_to_unit_interval():
    images = torch.tensor([[[0, 255] * 392]], dtype=torch.uint8).reshape(1, 28, 28)
    x = to_input(images)
    assert x.shape == (1, 784) and x.dtype == torch.float32
    assert x.min().item() == 0.0 and x.max().item() == 1.0


@pytest.mark.parametrize("kwargs, fragment", [
    ({"arch": "transformer"}, "unknown architecture"),
    ({"activation": "swish9"}, "unknown activation"),
    ({"latent_dim": 0}, "latent size"),
    ({"hidden": ()}, "hidden sizes"),
    ({"hidden": (10 ** 9,)}, "hidden sizes"),
    ({"arch": "conv", "hidden": (8,)}, "conv"),
    ({"dropout": 1.5}, "dropout"),
])
def test_bad_configs_are_rejected_with_a_clear_message(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        VAEConfig(**kwargs)


@pytest.mark.parametrize("text, sizes", [("512,256", (512, 256)), (" 64 , 32, ", (64, 32)), ("8", (8,))])
def test_layer_sizes_parse_from_text(text, sizes):
    assert parse_layer_sizes(text) == sizes


@pytest.mark.parametrize("text", ["512,abc", "", " , ", "1.5", "1e400"])
def test_bad_layer_sizes_text_is_one_clear_sentence(text):
    with pytest.raises(ConfigError, match=r"is not a comma-separated list of layer sizes, e\.g\. 512,256$"):
        parse_layer_sizes(text)


def test_config_round_trips_through_a_dict():
    config = VAEConfig(arch="conv", hidden=(8, 16, 32), activation="relu", latent_dim=3, dropout=0.1)
    assert VAEConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown model config keys"):
        VAEConfig.from_dict({**config.to_dict(), "evil": 1})
