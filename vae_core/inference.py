"""Using a trained model: encode, decode, manifold grids, interpolation, sampling.

Every function is pure and batched, runs without autograd, takes numpy arrays (or
anything array-like) and returns numpy arrays on the CPU; randomness comes only
from an explicit seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .evaluation import _device, encode_all
from .images import prepare_image, tile
from .config import IMAGE_SIZE
from .model import VAE
from .typicality import percentile, score_images


def encode(model: VAE, images, batch_size: int = 4096, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images [N, 28, 28] -> (mu, logvar), each float32 [N, latent_dim] (``labels``: the
    classes [N], which a conditional model is given)."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    mu, logvar = encode_all(model, torch.from_numpy(np.ascontiguousarray(images)), batch_size, labels)
    return mu.numpy(), logvar.numpy()


@torch.inference_mode()
def decode(model: VAE, z, batch_size: int = 4096, labels=None) -> np.ndarray:
    """Latent points [N, latent_dim] -> uint8 images [N, 28, 28] (pixel = 255 * p(ink));
    a conditional model draws each point as the class in ``labels`` [N]."""
    z = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1, model.config.latent_dim)
    y = None if labels is None else torch.as_tensor(np.asarray(labels), dtype=torch.long).reshape(-1)
    model.eval()
    # in place on the logits, straight into one uint8 buffer: no extra copies (the app decodes on every click)
    images = torch.empty(len(z), IMAGE_SIZE * IMAGE_SIZE, dtype=torch.uint8)
    for i in range(0, len(z), batch_size):
        y_batch = None if y is None else y[i:i + batch_size].to(_device(model))
        images[i:i + batch_size] = model.decode(z[i:i + batch_size].to(_device(model)), y_batch).sigmoid_().mul_(255.0).round_()
    return images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE).numpy()


def grid_points(n: int = 20, method: str = "ppf", extent: float = 3.0, quantile: float = 0.05) -> np.ndarray:
    """The latent coordinates of an n x n manifold grid: float32 [n, n, 2], row 0 at the top (largest z2).

    "ppf" places points at the normal quantiles linspace(q, 1 - q), so each cell covers an
    equal share of the prior; "linear" spaces them evenly over [-extent, extent], which
    lines the grid up with a scatter plot's axes.
    """
    if n < 1:
        raise ValueError("a grid needs n >= 1")
    if method == "ppf":
        axis = torch.special.ndtri(torch.linspace(quantile, 1 - quantile, n, dtype=torch.float64)).numpy()
    elif method == "linear":
        axis = np.linspace(-extent, extent, n)
    else:
        raise ValueError(f"unknown grid method {method!r}; use 'ppf' or 'linear'")
    z1, z2 = np.meshgrid(axis, axis[::-1])
    return np.stack([z1, z2], axis=-1).astype(np.float32)


def decode_grid(model: VAE, n: int = 20, method: str = "ppf", extent: float = 3.0,
                quantile: float = 0.05) -> np.ndarray:
    """The classic manifold figure: one uint8 image [n*28, n*28] of decodes over a 2-D latent grid.

    For latent sizes above 2 the other dimensions are held at 0.
    """
    points = grid_points(n, method, extent, quantile).reshape(-1, 2)
    z = np.zeros((len(points), model.config.latent_dim), np.float32)
    z[:, :2] = points[:, :min(2, model.config.latent_dim)]
    return tile(decode(model, z), cols=n)


def interpolate(z_a, z_b, steps: int = 10, method: str = "linear") -> np.ndarray:
    """``steps`` evenly spaced points from z_a to z_b inclusive: float32 [steps, latent_dim]."""
    if steps < 2:
        raise ValueError("interpolation needs at least 2 steps")
    return interpolate_at(z_a, z_b, np.linspace(0.0, 1.0, steps), method)


def interpolate_at(z_a, z_b, t, method: str = "linear") -> np.ndarray:
    """Points at fractions ``t`` (a number or an array in [0, 1]) of the way from z_a to z_b.

    "slerp" follows the great circle between the two directions while the length
    changes linearly, which keeps the path in the prior's typical region instead of
    cutting through its low-norm centre.
    """
    a, b = np.asarray(z_a, np.float64).ravel(), np.asarray(z_b, np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"endpoints differ in size: {a.shape} vs {b.shape}")
    t = np.atleast_1d(np.asarray(t, np.float64))[:, None]
    if method == "linear":
        return ((1 - t) * a + t * b).astype(np.float32)
    if method != "slerp":
        raise ValueError(f"unknown interpolation {method!r}; use 'linear' or 'slerp'")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-8 or nb < 1e-8:
        return ((1 - t) * a + t * b).astype(np.float32)
    ua, ub = a / na, b / nb
    omega = np.arccos(np.clip(ua @ ub, -1.0, 1.0))
    if omega < 1e-6:
        direction = np.broadcast_to(ua, (len(t), len(a)))
    elif np.pi - omega < 1e-6:
        # opposite directions: any great circle works; turn through a fixed perpendicular
        perp = np.zeros_like(ua)
        perp[np.argmin(np.abs(ua))] = 1.0
        perp -= (perp @ ua) * ua
        perp /= np.linalg.norm(perp)
        direction = np.cos(np.pi * t) * ua + np.sin(np.pi * t) * perp
    else:
        direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    return (((1 - t) * na + t * nb) * direction).astype(np.float32)


def sample_prior(n: int, latent_dim: int = 2, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """n points from N(0, temperature^2 I): float32 [n, latent_dim]."""
    gen = torch.Generator().manual_seed(seed)
    return (temperature * torch.randn(n, latent_dim, generator=gen)).numpy()


@dataclass(frozen=True)
class ClassGaussians:
    """A Gaussian fitted to each class's z_mean: the basis of class-conditional sampling."""

    means: np.ndarray  # [C, d]
    covs: np.ndarray  # [C, d, d]


def fit_class_gaussians(z_mean, labels, num_classes: int | None = None) -> ClassGaussians:
    """Mean and covariance of z_mean for each class (a class with < 2 points gets the identity)."""
    z, y = np.asarray(z_mean, np.float64), np.asarray(labels)
    num_classes = num_classes or int(y.max()) + 1
    d = z.shape[1]
    means, covs = np.zeros((num_classes, d)), np.tile(np.eye(d), (num_classes, 1, 1))
    for c in range(num_classes):
        zc = z[y == c]
        if len(zc):
            means[c] = zc.mean(0)
        if len(zc) >= 2:
            covs[c] = np.cov(zc, rowvar=False).reshape(d, d) + 1e-6 * np.eye(d)
    return ClassGaussians(means, covs)


def sample_class(gaussians: ClassGaussians, label: int, n: int, temperature: float = 1.0,
                 seed: int = 0) -> np.ndarray:
    """n latent points of one class: float32 [n, d] from N(mean_c, temperature^2 cov_c)."""
    if not 0 <= label < len(gaussians.means):
        raise ValueError(f"class {label} is out of range 0..{len(gaussians.means) - 1}")
    chol = np.linalg.cholesky(gaussians.covs[label])
    eps = sample_prior(n, len(gaussians.means[label]), temperature, seed).astype(np.float64)
    return (gaussians.means[label] + eps @ chol.T).astype(np.float32)


def sample_posterior(mu, logvar, seed: int = 0) -> np.ndarray:
    """One z ~ N(mu, exp(logvar)) per row: float32 [N, d] (what a stochastic reconstruction decodes)."""
    mu, logvar = np.atleast_2d(np.asarray(mu, np.float32)), np.atleast_2d(np.asarray(logvar, np.float32))
    eps = sample_prior(len(mu), mu.shape[1], 1.0, seed)
    return (mu + np.exp(0.5 * logvar) * eps).astype(np.float32)


def nearest(points, z, k: int = 1) -> np.ndarray:
    """Indices of the k rows of ``points`` [N, d] closest to ``z`` (Euclidean), nearest first."""
    points = np.asarray(points, np.float32)
    d = np.sum((points - np.asarray(z, np.float32).ravel()[None, :]) ** 2, axis=1)
    k = min(k, len(points))
    idx = np.argpartition(d, k - 1)[:k]
    return idx[np.argsort(d[idx], kind="stable")]


@dataclass(frozen=True)
class EncodedImage:
    """A user's image as the model sees it, where it lands, and how typical it is."""

    image: np.ndarray  # uint8 [28, 28]: the MNIST-style input
    mu: np.ndarray  # float32 [latent_dim]
    logvar: np.ndarray  # float32 [latent_dim]
    reconstruction: np.ndarray  # uint8 [28, 28]: the decode of mu
    scores: dict[str, float]  # "neg_elbo", "recon_error" (nats; see typicality)
    nearest: np.ndarray | None  # indices of the nearest test codes, nearest first
    percentiles: dict[str, float] | None  # each score's percentile among the test set's

    @property
    def sigma(self) -> np.ndarray:
        return np.exp(0.5 * self.logvar)


def encode_image(model: VAE, source, z_mean=None, reference: dict | None = None, k: int = 5,
                 seed: int = 0) -> EncodedImage:
    """Prepare any image MNIST-style (bytes, file, PIL image or array), encode and reconstruct it.

    ``z_mean`` (the test set's codes) gives the k nearest test images; ``reference`` (the
    test set's per-image scores, typicality.score_images) gives the percentiles. Raises
    ImageError with one sentence when the image cannot be made into a digit.
    """
    image = prepare_image(source)
    mu, logvar = encode(model, image)
    scores = {name: float(v[0]) for name, v in score_images(model, image, seed=seed).items()}
    near = nearest(z_mean, mu[0], k) if z_mean is not None and len(z_mean) else None
    pcts = {name: percentile(reference[name], value) for name, value in scores.items()
            if reference is not None and reference.get(name) is not None}
    return EncodedImage(image, mu[0], logvar[0], decode(model, mu)[0], scores, near, pcts or None)
