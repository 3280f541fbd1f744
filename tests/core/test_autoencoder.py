"""The plain autoencoder (VAEConfig(variational=False)): model, loss, trainer, evaluation,
checkpoints (old files still load as VAEs), inference, the CLI flag, the shipped model, and
the latent-space comparison in vae_core.compare."""

import json
import struct

import numpy as np
import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

import vae_core as vc
from vae_core.compare import class_variety, hole_threshold, in_holes, prior_reach, random_latents, space_stats
from vae_core.evaluation import image_scores, iwae_nll, negative_elbo
from vae_core.model import LOGVAR_MIN, count_parameters, to_input

from helpers.data import MNIST_DIR, ROOT, needs_mnist

AE_DIR = ROOT / "pretrained" / "autoencoder"


def ae(hidden=(32,), seed=0, **kw):
    return vc.build_model(vc.VAEConfig(hidden=hidden, variational=False, **kw), seed=seed)


@pytest.fixture(scope="module")
def trained_ae(digits):
    model = ae(hidden=(64,))
    result = vc.train(model, digits["train_x"], digits["test_x"],
                      vc.TrainConfig(epochs=3, batch_size=100, lr=3e-3, seed=0))
    return model, result


# --- config and model ---

def test_config_defaults_to_a_vae_and_rejects_non_booleans():
    assert vc.VAEConfig().variational is True
    assert vc.VAEConfig(variational=False).to_dict()["variational"] is False
    old = {"arch": "mlp", "latent_dim": 2, "hidden": [8], "activation": "gelu", "dropout": 0.0}
    assert vc.VAEConfig.from_dict(old).variational is True  # written before the field existed
    for bad in ("false", 0, 1, None):
        with pytest.raises(vc.ConfigError, match="variational"):
            vc.VAEConfig.from_dict({**old, "variational": bad})


@pytest.mark.parametrize("arch,hidden", [("mlp", (32, 16)), ("conv", (4, 8, 16))])
def test_autoencoder_encodes_a_point_and_has_a_smaller_head(arch, hidden):
    model, vae = ae(hidden, arch=arch), vc.build_model(vc.VAEConfig(arch=arch, hidden=hidden))
    assert count_parameters(vae) - count_parameters(model) == hidden[-1] * 2 + 2  # no logvar outputs
    x = to_input(torch.randint(0, 256, (5, 28, 28), dtype=torch.uint8))
    z, logvar = model.encode(x)
    assert z.shape == logvar.shape == (5, 2) and torch.all(logvar == LOGVAR_MIN)
    logits, mu, lv = model(x, torch.Generator().manual_seed(0))
    again, _, _ = model(x, torch.Generator().manual_seed(1))
    assert torch.equal(logits, again)  # no sampling: the noise generator changes nothing
    assert torch.allclose(logits, model.decode(z)) and mu.shape == lv.shape == (5, 0)


def test_autoencoder_loss_is_the_reconstruction_alone():
    model = ae()
    x = to_input(torch.randint(0, 256, (8, 28, 28), dtype=torch.uint8))
    logits, mu, logvar = model(x)
    for beta in (0.0, 1.0, 4.0):
        terms = vc.vae_loss(logits, x, mu, logvar, beta)
        assert terms.kl.item() == 0.0 and terms.loss.item() == pytest.approx(terms.recon.item())
    terms.loss.backward()  # a gradient flows to the encoder through the code
    assert model.to_stats.weight.grad is not None and model.to_stats.weight.grad.abs().sum() > 0


# --- training and evaluation ---

def test_the_trainer_trains_an_autoencoder(trained_ae):
    _, result = trained_ae
    h = result.history
    assert result.status == "done" and len(h) == 3
    assert h[-1]["train_loss"] < h[0]["train_loss"] and h[-1]["test_loss"] < h[0]["test_loss"]
    assert all(r["train_kl"] == 0.0 and r["test_kl"] == 0.0 for r in h)
    assert all(r["train_loss"] == pytest.approx(r["train_recon"]) for r in h)


def test_evaluation_of_an_autoencoder_reports_no_elbo(trained_ae, digits):
    model, _ = trained_ae
    d = digits
    metrics = vc.evaluate(model, d["test_x"], d["test_y"], d["train_x"], d["train_y"], k=5)
    assert set(metrics) == {"recon", "test_images", "knn_accuracy"}
    assert 0.0 <= metrics["knn_accuracy"] <= 1.0 and metrics["recon"] > 0
    # deterministic: the "ELBO" of a code is its reconstruction, whatever the seed
    a, b = negative_elbo(model, d["test_x"], seed=0), negative_elbo(model, d["test_x"], seed=1)
    assert a == b and a["kl"] == 0.0 and a["recon"] == pytest.approx(metrics["recon"])
    scores = image_scores(model, d["test_x"][:50])
    np.testing.assert_allclose(scores["neg_elbo"], scores["recon_error"], rtol=1e-6)
    with pytest.raises(vc.ConfigError, match="no likelihood"):
        iwae_nll(model, d["test_x"][:10], k=5)


def test_inference_functions_handle_the_autoencoder(trained_ae, digits):
    model, _ = trained_ae
    images, labels = digits["test_x"][:100], digits["test_y"][:100]
    z, logvar = vc.encode(model, images)
    assert z.shape == (100, 2) and np.all(logvar == LOGVAR_MIN)
    np.testing.assert_allclose(vc.sample_posterior(z, logvar, seed=3), z, atol=1e-3)  # a point mass
    decoded = vc.decode(model, z[:4])
    assert decoded.shape == (4, 28, 28) and decoded.dtype == np.uint8
    assert vc.decode_grid(model, n=3).shape == (84, 84)
    gaussians = vc.fit_class_gaussians(z, labels, 10)
    assert vc.decode(model, vc.sample_class(gaussians, int(labels[0]), 5, seed=0)).shape == (5, 28, 28)
    assert vc.decode(model, vc.sample_prior(6, 2, seed=0)).shape == (6, 28, 28)


# --- checkpoints ---

def _package(model, n=20):
    z, logvar = vc.encode(model, np.zeros((n, 28, 28), np.uint8))
    return vc.Checkpoint.from_model(model, dataset="mnist", classes=tuple(str(i) for i in range(10)),
                         latents=vc.Latents(z, logvar, np.arange(n) % 10))


def test_autoencoder_checkpoint_round_trip(tmp_path):
    model = ae(seed=4)
    path = vc.save_checkpoint(_package(model), tmp_path / "ae.safetensors")
    loaded = vc.load_checkpoint(path)
    assert loaded.config.variational is False and loaded.config == model.config
    x = to_input(torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8))
    assert torch.equal(loaded.model.encode(x)[0], model.encode(x)[0])


def _rewrite_config(data: bytes, change) -> bytes:
    """The same checkpoint with its metadata's model config edited by ``change``."""
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8:8 + n])["__metadata__"]
    config = json.loads(meta["config"])
    change(config)
    return st_save(st_load(data), {**meta, "config": json.dumps(config)})


def test_checkpoints_without_the_field_load_as_vaes():
    vae = vc.build_model(vc.VAEConfig(hidden=(16,)), seed=0)
    old = _rewrite_config(vc.checkpoint_bytes(_package(vae)), lambda c: c.pop("variational"))
    assert b"variational" not in old
    loaded = vc.load_checkpoint(old)
    assert loaded.config.variational is True
    assert torch.equal(loaded.model.to_stats.weight, vae.to_stats.weight)


def test_a_checkpoint_whose_weights_do_not_fit_its_kind_is_refused():
    vae_bytes = vc.checkpoint_bytes(_package(vc.build_model(vc.VAEConfig(hidden=(16,)), seed=0)))
    claims_ae = _rewrite_config(vae_bytes, lambda c: c.update(variational=False))
    with pytest.raises(vc.CheckpointError, match="to_stats"):
        vc.load_checkpoint(claims_ae)
    with pytest.raises(vc.CheckpointError, match="variational must be true or false"):
        vc.load_checkpoint(_rewrite_config(vae_bytes, lambda c: c.update(variational="yes")))


# --- the command line ---

@needs_mnist
def test_cli_trains_and_evaluates_an_autoencoder(tmp_path, capsys):
    from vae_core.cli import main

    out = tmp_path / "ae.safetensors"
    assert main(["train", "--autoencoder", "--data-dir", str(MNIST_DIR), "--limit", "600", "--epochs", "1",
                 "--hidden", "16", "--batch-size", "100", "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "test reconstruction" in summary and "k-NN accuracy" in summary and "-ELBO" not in summary
    ckpt = vc.load_checkpoint(out)
    assert ckpt.config.variational is False and ckpt.latents.z_mean.shape == (100, 2)
    assert set(ckpt.metrics) >= {"recon", "knn_accuracy"} and "neg_elbo" not in ckpt.metrics
    assert main(["evaluate", str(out), "--data-dir", str(MNIST_DIR), "--limit", "100", "--k", "2"]) == 0
    table = capsys.readouterr().out
    assert "autoencoder" in table and "reconstruction" in table and "ELBO" not in table


# --- the shipped autoencoders ---

@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_the_shipped_autoencoder_matches_the_shipped_vae(dataset):
    path = AE_DIR / f"{dataset}-ae.safetensors"
    assert path.stat().st_size <= 5 * 1024 * 1024  # 5 MB, read as 5 MiB like the VAEs' (test_pretrained)
    ckpt, vae = vc.load_checkpoint(path), vc.load_checkpoint(ROOT / "pretrained" / f"{dataset}.safetensors")
    assert ckpt.config.variational is False and ckpt.dataset == dataset
    assert (ckpt.config.arch, ckpt.config.hidden, ckpt.config.activation) == \
           (vae.config.arch, vae.config.hidden, vae.config.activation)
    assert ckpt.latents.z_mean.shape == (10_000, 2) and ckpt.classes == vae.classes
    assert ckpt.metrics["knn_accuracy"] > 0.6 and "neg_elbo" not in ckpt.metrics
    # where the app's model picker looks (pretrained/*.safetensors) it is not: it is no VAE
    assert path not in set((ROOT / "pretrained").glob("*.safetensors"))


@needs_mnist
def test_the_shipped_autoencoder_reconstructs_test_digits():
    ckpt = vc.load_checkpoint(AE_DIR / "mnist-ae.safetensors")
    test = vc.load_dataset("mnist", "test", root=MNIST_DIR, download=False)
    np.testing.assert_allclose(vc.encode(ckpt.model, test.images[:50])[0], ckpt.latents.z_mean[:50], atol=1e-4)
    recon = negative_elbo(ckpt.model, test.images[:500])["recon"]
    assert recon < 160  # the card says 130.2 nats on all 10,000; an untrained model scores ~543


# --- comparing latent spaces ---

def test_random_latents_prior_and_uniform():
    np.testing.assert_array_equal(random_latents(7, 2, seed=3), vc.sample_prior(7, 2, seed=3))
    small, big = random_latents(500, 2, 1, "uniform", 2.0), random_latents(500, 2, 1, "uniform", 10.0)
    assert np.abs(small).max() <= 2.0 and np.abs(small).max() > 1.8
    np.testing.assert_allclose(big, 5 * small, rtol=1e-5)  # same relative places for every extent
    with pytest.raises(vc.ConfigError, match="unknown source"):
        random_latents(3, 2, 0, "grid")


def test_holes_are_points_far_from_every_code():
    codes = np.random.default_rng(0).normal(size=(2000, 2)).astype(np.float32)
    threshold = hole_threshold(codes)
    assert 0 < threshold < 1
    points = np.array([[0.0, 0.0], [0.3, -0.2], [8.0, 8.0], [-6.0, 0.0]], np.float32)
    assert in_holes(points, codes).tolist() == [False, False, True, True]
    with pytest.raises(vc.ConfigError):
        hole_threshold(codes[:1])


def test_class_variety_counts_equally_common_classes():
    codes = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], np.float32)
    labels = np.array([0, 1, 2, 3])
    assert class_variety(np.zeros((50, 2)), codes, labels, 4) == pytest.approx(1.0)
    assert class_variety(codes + 0.1, codes, labels, 4) == pytest.approx(4.0)


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_the_prior_reaches_every_class_of_the_vae_but_not_of_the_autoencoder(dataset):
    """The page's claim, on the shipped models: N(0, I) is a fair draw only for the VAE."""
    stats, reach = {}, {}
    for name, path in (("vae", ROOT / "pretrained" / f"{dataset}.safetensors"),
                       ("ae", AE_DIR / f"{dataset}-ae.safetensors")):
        ckpt = vc.load_checkpoint(path)
        stats[name] = space_stats(ckpt.latents.z_mean, ckpt.latents.labels, 10, "prior", n=1000)
        reach[name] = prior_reach(ckpt.latents.z_mean, ckpt.latents.labels, 10)
    assert stats["vae"]["variety"] > 9.0 and stats["vae"]["holes"] < 0.05
    assert reach["vae"]["all"] > 0.9 and min(reach["vae"]["per_class"]) > 0.8  # every class within 3 of 0
    assert reach["ae"]["all"] < 0.7 and min(reach["ae"]["per_class"]) < 0.1  # a class out of the prior's reach


def test_prior_reach_counts_codes_within_the_radius_by_class():
    codes = np.array([[0, 0], [2.9, 0], [0, -3.1], [10, 10], [1, 1]], np.float32)
    reach = prior_reach(codes, np.array([0, 0, 1, 1, 3]), 4)
    assert reach["all"] == pytest.approx(3 / 5)
    assert reach["per_class"].tolist() == [1.0, 0.0, 0.0, 1.0]  # class 2 has no codes: 0
