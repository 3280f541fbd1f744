"""How good is a model: negative ELBO, importance-weighted log-likelihood, k-NN accuracy
of its latent codes, and per-image scores for finding unusual images.

All figures are nats per image with targets x = uint8 / 255 and a Bernoulli decoder.
A plain autoencoder (``VAEConfig(variational=False)``) has no prior and no posterior, so
it has no ELBO or likelihood: its "negative ELBO" is its reconstruction error alone, and
``evaluate`` reports only that and the k-NN accuracy.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from .errors import ConfigError
from .model import VAE, log_importance_weights, posterior_sample, reconstruction_nll, to_input


def _device(model: VAE) -> torch.device:
    return next(model.parameters()).device


def _batches(images, batch_size: int, device: torch.device, labels=None):
    """(inputs [B, 784], classes [B] or None): the classes only matter to a conditional model."""
    t = torch.as_tensor(np.asarray(images)) if isinstance(images, np.ndarray) else images
    y = None if labels is None else torch.as_tensor(np.asarray(labels), dtype=torch.long)
    for i in range(0, len(t), batch_size):
        yield to_input(t[i:i + batch_size].to(device)), None if y is None else y[i:i + batch_size].to(device)


@torch.no_grad()
def negative_elbo(model: VAE, images, batch_size: int = 2000, seed: int = 0, labels=None) -> dict[str, float]:
    """Mean negative ELBO (one z sample per image) and its parts: {"loss", "recon", "kl"}
    (``labels``: the classes, which a conditional model is given)."""
    was_training = model.training
    model.eval()
    gen = torch.Generator(device=_device(model)).manual_seed(seed)
    total = torch.zeros(2, dtype=torch.float64)
    n = 0
    for x, y in _batches(images, batch_size, _device(model), labels):
        mu, logvar = model.encode(x, y)
        z, kl = posterior_sample(model, mu, logvar, gen)
        recon = reconstruction_nll(model.decode(z, y), x)
        total += torch.stack([recon.sum(), kl.sum()]).double().cpu()
        n += len(x)
    model.train(was_training)
    recon, kl = (total / max(n, 1)).tolist()
    return {"loss": recon + kl, "recon": recon, "kl": kl}


@torch.no_grad()
def iwae_nll(model: VAE, images, k: int = 100, max_rows: int = 5_000, seed: int = 0, labels=None) -> float:
    """Importance-weighted estimate of -log p(x) with K samples (Burda et al., 2016).

    log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K, z_k ~ q(z|x).
    Images go through in chunks of at most ``max_rows`` decoded samples, so memory stays
    bounded (a few times max_rows * 784 * 4 bytes, under 100 MB at 5,000) whatever K is. The
    noise is drawn up front (N * K * d floats, 8 MB for 10,000 images at K=100), so the
    chunking never changes which draws an image gets.
    """
    if not model.config.variational:
        raise ConfigError("an autoencoder defines no likelihood p(x), so -log p(x) cannot be estimated")
    model.eval()
    device = _device(model)
    gen = torch.Generator(device=device).manual_seed(seed)
    per_chunk = max(1, max_rows // k)
    noise = torch.randn((len(images), k, model.config.latent_dim), generator=gen, device=device)
    total, n = 0.0, 0
    for x, y in _batches(images, per_chunk, device, labels):
        mu, logvar = model.encode(x, y)  # [B, d]
        log_w, _ = log_importance_weights(model, x, mu, logvar, noise[n:n + len(x)].transpose(0, 1), y)
        log_px = torch.logsumexp(log_w, dim=0) - math.log(k)
        total += -log_px.double().sum().item()
        n += len(x)
    return total / max(n, 1)


@torch.no_grad()
def encode_all(model: VAE, images, batch_size: int = 4096, labels=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, logvar) of every image, on the CPU."""
    model.eval()
    mus, logvars = [], []
    for x, y in _batches(images, batch_size, _device(model), labels):
        mu, logvar = model.encode(x, y)
        mus.append(mu.cpu())
        logvars.append(logvar.cpu())
    return torch.cat(mus), torch.cat(logvars)


def knn_accuracy(train_z, train_labels, test_z, test_labels, k: int = 5, chunk: int = 250) -> float:
    """Fraction of test codes whose k nearest training codes (Euclidean) vote for their label.

    Test codes go ``chunk`` at a time: a chunk's distance matrix to 60,000 training codes
    is ~60 MB (an app's training job evaluates while other visitors use the same process).

    Ties in the vote go to the class of the nearer neighbours.
    """
    train_z, test_z = torch.as_tensor(train_z).float(), torch.as_tensor(test_z).float()
    train_y, test_y = torch.as_tensor(train_labels).long(), torch.as_tensor(test_labels).long()
    classes = int(max(train_y.max(), test_y.max())) + 1
    k = min(k, len(train_z))
    # nearer neighbours get a slightly larger vote, so ties break toward them
    weights = 1.0 + 1e-3 * torch.arange(k, 0, -1, dtype=torch.float32)
    correct = 0
    for i in range(0, len(test_z), chunk):
        d = torch.cdist(test_z[i:i + chunk], train_z)
        nearest = d.topk(k, largest=False).indices  # sorted nearest first
        votes = torch.zeros(len(nearest), classes).scatter_add_(1, train_y[nearest], weights.expand(len(nearest), k))
        correct += (votes.argmax(1) == test_y[i:i + chunk]).sum().item()
    return correct / len(test_z)


@torch.no_grad()
def image_scores(model: VAE, images, batch_size: int = 2000, seed: int = 0, labels=None) -> dict[str, np.ndarray]:
    """Per-image scores for ranking unusual images (higher = less typical), in nats:

    - "neg_elbo": one-sample negative ELBO;
    - "recon_error": -log p(x | z = mu), the reconstruction error of the mean code.
    """
    model.eval()
    gen = torch.Generator(device=_device(model)).manual_seed(seed)
    neg_elbo, recon_error = [], []
    for x, y in _batches(images, batch_size, _device(model), labels):
        mu, logvar = model.encode(x, y)
        z, kl = posterior_sample(model, mu, logvar, gen)
        neg_elbo.append((reconstruction_nll(model.decode(z, y), x) + kl).cpu())
        recon_error.append(reconstruction_nll(model.decode(mu, y), x).cpu())
    return {"neg_elbo": torch.cat(neg_elbo).numpy(), "recon_error": torch.cat(recon_error).numpy()}


def evaluate(model: VAE, test_images, test_labels=None, train_images=None, train_labels=None,
             k: int = 100, knn_k: int = 5, seed: int = 0,
             progress: Callable[[str, float], None] | None = None) -> dict[str, float]:
    """The headline metrics of a model on a test set (and a train set, for k-NN).

    Returns {"neg_elbo", "recon", "kl", "iwae_nll", "knn_accuracy", "iwae_k", "test_images"};
    k-NN accuracy needs labels of both sets and is left out otherwise. An autoencoder gets
    only {"recon", "knn_accuracy", "test_images"}: it has no ELBO and no likelihood. A
    conditional model is given the labels, so its figures are -log p(x | class).
    ``progress(stage, fraction)`` hears of each stage as it starts (fractions of the usual time).
    """
    report = progress or (lambda stage, fraction: None)
    given = test_labels if model.config.num_classes else None
    if model.config.num_classes and (test_labels is None or train_labels is None and train_images is not None):
        raise ConfigError("a conditional model is evaluated with the labels of its images")
    report("the negative ELBO", 0.0)
    elbo = negative_elbo(model, test_images, seed=seed, labels=given)
    if model.config.variational:
        report(f"−log p(x) with K = {k}", 0.1)
        metrics = {"neg_elbo": elbo["loss"], "recon": elbo["recon"], "kl": elbo["kl"],
                   "iwae_nll": iwae_nll(model, test_images, k=k, seed=seed, labels=given), "iwae_k": k,
                   "test_images": len(test_images)}
    else:
        metrics = {"recon": elbo["recon"], "test_images": len(test_images)}
    if train_images is not None and train_labels is not None and test_labels is not None:
        report("the k-NN accuracy of the codes", 0.8)
        train_z, _ = encode_all(model, train_images, labels=train_labels if given is not None else None)
        test_z, _ = encode_all(model, test_images, labels=given)
        metrics["knn_accuracy"] = knn_accuracy(train_z, train_labels, test_z, test_labels, k=knn_k)
    return metrics
