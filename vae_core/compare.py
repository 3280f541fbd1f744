"""Comparing two latent spaces (a plain autoencoder's and a VAE's): the same random points
drawn for both, and how many of them land in holes, far from every code of real data.

A VAE's KL term pulls its codes into N(0, I) and keeps them overlapping, so a point drawn
from N(0, I) lies among codes and decodes to a plausible image. An autoencoder puts its
codes wherever reconstruction is easiest: on an arbitrary scale, with gaps between and
inside the clusters, and no distribution to draw new points from.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import torch

from .errors import ConfigError
from .inference import sample_prior

LatentSource = Literal["prior", "uniform"]
SOURCES: tuple[LatentSource, ...] = get_args(LatentSource)


def random_latents(n: int, latent_dim: int = 2, seed: int = 0, source: LatentSource = "prior",
                   extent: float = 3.0) -> np.ndarray:
    """n latent points, float32 [n, latent_dim]: from N(0, I) ("prior"), or uniform over the
    square [-extent, extent]^d ("uniform"). With the same seed, "uniform" points for two
    models differ only by their extent, so they sit at the same relative places."""
    if source == "prior":
        return sample_prior(n, latent_dim, 1.0, seed)
    if source != "uniform":
        raise ConfigError(f"unknown source of random points {source!r}; use one of: {', '.join(SOURCES)}")
    gen = torch.Generator().manual_seed(seed)
    return (extent * (2 * torch.rand(n, latent_dim, generator=gen) - 1)).numpy()


def nearest_distances(points, codes, chunk: int = 512) -> np.ndarray:
    """Distance from each point [N, d] to its nearest code [M, d]: float32 [N]."""
    p, c = torch.as_tensor(np.asarray(points, np.float32)), torch.as_tensor(np.asarray(codes, np.float32))
    if not len(p):
        return np.zeros(0, np.float32)
    return torch.cat([torch.cdist(part, c).min(1).values for part in p.split(chunk)]).numpy()


def hole_threshold(codes, quantile: float = 0.99, max_codes: int = 5000, seed: int = 0) -> float:
    """How far from its nearest neighbour a code can be and still be among the others: the
    ``quantile`` of the codes' nearest-neighbour distances (on a subsample of ``max_codes``
    for speed). The threshold scales with each model's own spacing of codes."""
    codes = np.asarray(codes, np.float32)
    if len(codes) < 2:
        raise ConfigError("measuring holes needs at least 2 codes")
    if len(codes) > max_codes:
        codes = codes[np.random.default_rng(seed).choice(len(codes), max_codes, replace=False)]
    c = torch.as_tensor(codes)
    nearest = []
    for start in range(0, len(c), 512):
        d = torch.cdist(c[start:start + 512], c)
        rows = torch.arange(len(d))
        d[rows, rows + start] = float("inf")  # a code is not its own neighbour
        nearest.append(d.min(1).values)
    return float(np.quantile(torch.cat(nearest).numpy(), quantile))


def in_holes(points, codes, quantile: float = 0.99) -> np.ndarray:
    """Which points [N, d] lie in a hole: farther from every code than ``quantile`` of the codes
    are from their own nearest neighbour. bool [N]."""
    return nearest_distances(points, codes) > hole_threshold(codes, quantile)


def class_variety(points, codes, labels, num_classes: int) -> float:
    """How varied the decodes of ``points`` are: exp(entropy) of the classes of their nearest
    codes, from 1 (every point next to the same class) to ``num_classes`` (all equally often)."""
    p, c = torch.as_tensor(np.asarray(points, np.float32)), torch.as_tensor(np.asarray(codes, np.float32))
    nearest = torch.cat([torch.cdist(part, c).argmin(1) for part in p.split(512)]).numpy()
    share = np.bincount(np.asarray(labels)[nearest], minlength=num_classes) / max(1, len(p))
    share = share[share > 0]
    return float(np.exp(-(share * np.log(share)).sum()))


def space_stats(codes, labels, num_classes: int, source: LatentSource = "prior", seed: int = 0, extent: float = 3.0,
                n: int = 2000) -> dict[str, float]:
    """For ``n`` random points drawn as ``random_latents`` does: the share that lands in holes
    ("holes", 0..1) and how varied their nearest codes' classes are ("variety", 1..num_classes)."""
    codes = np.asarray(codes, np.float32)
    points = random_latents(n, codes.shape[1], seed, source, extent)
    return {"holes": float(in_holes(points, codes).mean()),
            "variety": class_variety(points, codes, labels, num_classes)}


# N(0, I) in 2-D puts 1 - exp(-r^2 / 2) of its draws within r of the origin: 98.9 % within 3.
PRIOR_RADIUS = 3.0


def prior_reach(codes, labels, num_classes: int, radius: float = PRIOR_RADIUS) -> dict:
    """Which codes the prior's draws reach: the share of all codes ("all") and of each class's
    codes ("per_class", [num_classes], 0 for an absent class) within ``radius`` (also returned) of
    the origin.
    A VAE's codes are all there; an autoencoder's sit wherever, and whole classes may be out."""
    codes, labels = np.asarray(codes, np.float32), np.asarray(labels)
    inside = np.linalg.norm(codes, axis=1) <= radius
    totals = np.bincount(labels, minlength=num_classes)
    per_class = np.bincount(labels[inside], minlength=num_classes) / np.maximum(totals, 1)
    return {"all": float(inside.mean()) if len(codes) else 0.0, "per_class": per_class, "radius": radius}
