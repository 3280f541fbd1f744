"""One image walked through the VAE, every step with its numbers: the encoder's mu and log sigma^2,
sigma = exp(0.5 log sigma^2), a draw eps ~ N(0, I), z = mu + sigma * eps, the decode, and the two
terms of the loss in nats (what the page "Inside the VAE" shows).

Pure: an image, an eps and a model in, arrays out; randomness only from an explicit seed
(``standard_normal``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .config import IMAGE_SIZE
from .errors import ConfigError
from .model import VAE, to_input


@dataclass(frozen=True)
class WalkThrough:
    """The steps for one image and one eps; vectors are float64 [latent_dim], images [28, 28]."""

    mu: np.ndarray
    logvar: np.ndarray  # log sigma^2
    sigma: np.ndarray  # exp(0.5 * logvar)
    eps: np.ndarray
    z: np.ndarray  # mu + sigma * eps, term by term
    logits: np.ndarray  # float64 [784]: the decoder's Bernoulli logits at z
    pixels: np.ndarray  # uint8 [28, 28]: round(255 * sigmoid(logits))
    bce_map: np.ndarray  # float64 [28, 28]: each pixel's share of recon, in nats
    recon: float  # -log p(x|z): the BCE summed over the 784 pixels
    kl_terms: np.ndarray  # each coordinate's 0.5 * (mu^2 + sigma^2 - 1 - log sigma^2)
    kl: float  # KL(q(z|x) || N(0, I)): the sum of kl_terms
    neg_elbo: float  # recon + kl (the single-sample estimate of -ELBO at this eps)


def standard_normal(latent_dim: int, seed: int, n: int | None = None) -> np.ndarray:
    """eps ~ N(0, I): float64 [latent_dim], or [n, latent_dim] when ``n`` is given; the same seed
    gives the same draw."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(latent_dim if n is None else (n, latent_dim))


@torch.inference_mode()
def walk_through(model: VAE, image, eps, label: int | None = None) -> WalkThrough:
    """Walk ``image`` (uint8 [28, 28], or floats in [0, 1]) through ``model`` with the draw ``eps``
    [latent_dim]; ``label``: its class, for a conditional model."""
    if not model.config.variational:
        raise ConfigError("an autoencoder has no mu and sigma to walk through: pick a VAE")
    eps = np.asarray(eps, dtype=np.float64).reshape(-1)
    if eps.shape != (model.config.latent_dim,):
        raise ConfigError(f"eps must have {model.config.latent_dim} coordinates, got {eps.size}")
    if model.config.num_classes and label is None:
        raise ConfigError("a conditional model needs the image's class")
    device = next(model.parameters()).device
    x = to_input(torch.as_tensor(np.asarray(image)).reshape(1, IMAGE_SIZE, IMAGE_SIZE)).to(device)
    y = None if label is None or not model.config.num_classes else torch.tensor([int(label)], device=device)
    model.eval()
    mu_t, logvar_t = model.encode(x, y)
    mu, logvar = mu_t[0].double().cpu().numpy(), logvar_t[0].double().cpu().numpy()
    sigma = np.exp(0.5 * logvar)
    z = mu + sigma * eps
    logits_t = model.decode(torch.as_tensor(z, dtype=torch.float32, device=device)[None], y)[0].float()
    bce = F.binary_cross_entropy_with_logits(logits_t, x[0], reduction="none").double().cpu().numpy()
    logits = logits_t.double().cpu().numpy()
    # inference.decode's own float32 steps, so the picture is the library's decode of z to the bit
    pixels = logits_t.sigmoid().mul(255.0).round().to(torch.uint8).cpu().numpy().reshape(IMAGE_SIZE, IMAGE_SIZE)
    kl_terms = 0.5 * (mu ** 2 + sigma ** 2 - 1.0 - logvar)
    recon, kl = float(bce.sum()), float(kl_terms.sum())
    return WalkThrough(mu=mu, logvar=logvar, sigma=sigma, eps=eps, z=z, logits=logits, pixels=pixels,
                       bce_map=bce.reshape(IMAGE_SIZE, IMAGE_SIZE), recon=recon, kl_terms=kl_terms, kl=kl,
                       neg_elbo=recon + kl)
